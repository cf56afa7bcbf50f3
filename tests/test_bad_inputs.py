"""Bad input gets a clear error message: never a silent NaN, never a crash deep inside torch.

One table, ``CASES``: every row calls one public function of :mod:`vaebook` with one bad
argument (NaN, ±inf, a wrong shape or dtype, a non-positive size, ``True`` where a number is
expected, an unknown name, ...) and asserts the exception type and its *exact* message, which
names the argument. Every case is cheap: tiny tensors, no training step, no figure drawn.

:func:`test_every_public_callable_has_a_bad_input_case` keeps the table complete: a public
function or class of the modules below without a row here (or an entry in
``COVERED_ELSEWHERE``, naming the test that covers it) fails it.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import sympy as sp  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import vaebook  # noqa: E402
from vaebook import (
    audit,
    cache,
    calculator,
    data,
    experiment,
    explorer,
    likelihoods,
    linear,
    models,  # noqa: E402
    plotting,
    real_code,
    settings,
    symbolic,
    training,
    variants,
    widgets,
)

MODULES = (
    audit,
    cache,
    calculator,
    data,
    experiment,
    explorer,
    likelihoods,
    linear,
    models,
    plotting,
    real_code,
    settings,
    symbolic,
    training,
    variants,
    widgets,
)
"""The modules whose public callables need a bad-input case."""

STUDY_MACHINERY = {"lab_settings", "robust", "integrity", "claims", "plain"}
"""Modules that are no part of the book's API (the JupyterLab set-up, the robustness study,
the assignments' tamper check, the chapters' claims, and ``plain``, the page code of chapter
*σ trades reconstruction against KL* saved as a student writes it, without input checks but
for its training loop's NaN guard): they have their own tests."""

COVERED_ELSEWHERE = {
    # Exception and warning classes: they take no input of their own; the tests named here
    # provoke them and check their message.
    "vaebook.training.TrainingDiverged": "tests/test_training.py::test_diverging_training_names_the_step_the_loss_and_the_remedy",  # noqa: E501
    "vaebook.cache.CacheWarning": "tests/test_cache.py::test_a_damaged_entry_warns_once_is_recomputed_and_healed",  # noqa: E501
    # Takes no input at all.
    "vaebook.plotting.use_book_style": "tests/test_plotting.py::test_use_book_style_sets_the_shared_figure_settings",  # noqa: E501
    # A frozen record that only audit_loss builds; its bad inputs are audit_loss's (rows below).
    "vaebook.audit.LossAudit": "tests/test_audit.py::test_clear_errors",
    # A record that only the explorer's callbacks build (rows of LatentExplorer below).
    "vaebook.explorer.View": "tests/test_explorer.py::test_move_keeps_the_point_in_the_plane_and_select_switches_the_decoder",  # noqa: E501
}
"""Public callables without a row here, each with the existing test that covers it."""

MISSING_PATH = "/nonexistent/vaebook-entry"
KNOWN = (
    "gaussian, gaussian-learned, gaussian-optimal, gaussian-per-pixel, laplace, "
    "laplace-learned, bernoulli, continuous-bernoulli"
)
TOO_COARSE = (
    "{name} has dtype {dtype}, too coarse for log-likelihoods in nats: convert it "
    "with {name}.float() (float32) or {name}.double() (float64)"
)
OVERFLOW = (
    "{function} overflows torch.float32: {why}. Compute in float64 (.double()) or bring "
    "the inputs into a sensible range"
)
AUDIT_CALL = "audit_loss: loss(x_hat, x, mu, logvar)"


# --- the arguments the rows share ------------------------------------------------------------


def _uniform(*shape, seed=0):
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(shape, generator=generator)


def _with(tensor, value, index=(0, 0)):
    """A copy of ``tensor`` with ``value`` at ``index``."""
    tensor = tensor.clone()
    tensor[index] = value
    return tensor


X, Y = _uniform(2, 3, seed=1), _uniform(2, 3, seed=2)
"""Data and reconstruction (or logits) in [0, 1], shape (2, 3)."""
HUGE = torch.full((1, 3), 3e38)  # finite in float32, but its squares or sums are not
X4, Y5 = _uniform(5, 4, seed=3), torch.arange(5) % 2  # 5 images of 4 pixels, their labels
MLP = models.BatchedMLPVAE(2, data_dim=4, hidden_dim=3, latent_dim=2)


def _plain_vae(activation, hidden=3):
    """A plain VAE for 4 pixels and 2 latents, as chapter σ trades ... writes it."""
    vae = torch.nn.Module()
    vae.encoder = torch.nn.Sequential(
        torch.nn.Linear(4, hidden), activation(), torch.nn.Linear(hidden, 4)
    )
    vae.decoder = torch.nn.Sequential(
        torch.nn.Linear(2, hidden), activation(), torch.nn.Linear(hidden, 4)
    )
    return vae


LINEAR = models.BatchedLinearVAE(2, data_dim=4, latent_dim=2)
SPECTRUM = [3.0, 2.0, 0.5]
MEMBERS = likelihoods.MemberLikelihoods(
    ["gaussian", "gaussian-learned"], torch.tensor([0.3, 1.0]), 4
)
SHORT = dict(steps=1, batch_size=5, lr=1e-2, seed=0, progress=False)
SETTINGS = dict(
    recon_loss="mse",
    recon_reduction="mean",
    kl_reduction="sum",
    kl_weight=1.0,
    image_shape=(8, 8),
    batch_size=16,
    latent_dim=2,
)
PROBE = dict(image_shape=(2, 2), latent_dim=1, batch_size=2)
Z = sp.Symbol("z")


def _result(cls, **fields):
    """A result dataclass holding only ``fields`` (the rows never reach the others)."""
    values = {item.name: None for item in dataclasses.fields(cls) if item.name != "from_cache"}
    return cls(**{**values, **fields})


SWEEP = _result(
    experiment.Result,
    hyperparameters={
        "configs": [
            dataclasses.asdict(experiment.Config(f"σ = {sigma}", sigma=sigma))
            for sigma in (0.1, 0.3, 1.0)
        ]
    },
)
EMPTY_SWEEP = _result(experiment.Result, hyperparameters={"configs": []})
LINEAR_SWEEP = _result(linear.LinearSweepResult, sigmas=np.array([0.5, 0.9]))
VARIANTS = _result(
    experiment.Result,
    history={"step": np.arange(3), "min_scale": np.ones((3, 2))},
    hyperparameters={
        "configs": [
            dataclasses.asdict(
                experiment.Config(
                    label,
                    likelihood,
                    scale_floor=floor,
                    hidden_dim=3,
                    batch_size=5,
                    seed=0,
                    record_every=1,
                )
            )
            for label, likelihood, floor in (
                ("learned", "gaussian-learned", 0.0),
                ("per pixel", "gaussian-per-pixel", 0.03),
            )
        ]
    },
)
LABELS = "the labels are ['learned', 'per pixel']"
FRAME = widgets.Frame("0.1", b"\x89PNG", "a frame", "<table></table>")
SLIDER = widgets.FrameSlider([FRAME, FRAME], description="σ", aria_label="σ")
_GENERATOR = np.random.default_rng(0)
EXPLORER_PARTS = {
    "sigmas": np.array([0.1, 1.0]),
    "decoders": {
        "dec_hidden_weight": _GENERATOR.normal(size=(2, 2, 4)),
        "dec_hidden_bias": np.zeros((2, 1, 4)),
        "dec_out_weight": _GENERATOR.normal(size=(2, 4, 64)),
        "dec_out_bias": np.zeros((2, 1, 64)),
    },
    "codes": _GENERATOR.normal(size=(2, 5, 2)),
    "images": np.full((5, 64), 0.5),
    "labels": np.arange(5),
    "kl": np.array([3.0, 0.0]),
}
EXPLORER = explorer.LatentExplorer(**EXPLORER_PARTS)


def _explorer_with(**changes):
    """The arguments of ``EXPLORER`` with ``changes``."""
    return dict(EXPLORER_PARTS, **changes)


class Fresh:
    """An argument built anew for every call (a figure that the call closes)."""

    def __init__(self, make):
        self.make = make


def _figure():
    return plt.figure(figsize=(1, 1))


def _entered(factory):
    """Call a context-manager factory and enter it: its checks run on entry."""

    def call(*args, **kwargs):
        with factory(*args, **kwargs):
            pass

    call.target = factory
    return call


def _drawn(factory):
    """Call a generator function and draw from it: its checks run on the first draw."""

    def call(*args, **kwargs):
        list(factory(*args, **kwargs))

    call.target = factory
    return call


def _raises(x_hat, x, mu, logvar):
    raise RuntimeError("decoder exploded")


def _mse(x_hat, x, mu, logvar):
    return F.mse_loss(x_hat, x, reduction="sum")


def _target(function):
    """The public callable a row tests: a function, a class, or a bound method."""
    function = getattr(function, "target", function)
    return getattr(function, "__func__", function)


def _owner(function):
    """The class a method is bound to (``SweepResult`` for ``SweepResult.load``), or None."""
    bound = getattr(getattr(function, "target", function), "__self__", None)
    return None if bound is None else bound if inspect.isclass(bound) else type(bound)


def _name(function) -> str:
    target, owner = _target(function), _owner(function)
    name = target.__qualname__ if owner is None else f"{owner.__qualname__}.{target.__name__}"
    module = target.__module__ if owner is None else owner.__module__
    return f"{module.removeprefix('vaebook.')}.{name}"


def bad(function, fault, *args, says, error=ValueError, env=None, **kwargs):
    """A row: ``function(*args, **kwargs)`` raises ``error`` whose message is ``says``."""
    return pytest.param(
        function, args, kwargs, says, error, env or {}, id=f"{_name(function)}: {fault}"
    )


# --- the table -------------------------------------------------------------------------------

CASES = [
    # likelihoods.recon_sse
    bad(likelihoods.recon_sse, "NaN in x", Y, _with(X, math.nan), says="x contains NaN"),
    bad(
        likelihoods.recon_sse,
        "inf in x_hat",
        _with(Y, math.inf),
        X,
        says="x_hat contains an infinite value",
    ),
    bad(
        likelihoods.recon_sse,
        "-inf in x",
        Y,
        _with(X, -math.inf),
        says="x contains an infinite value",
    ),
    bad(
        likelihoods.recon_sse,
        "int x",
        Y,
        torch.ones(2, 3, dtype=torch.int64),
        says="x must have a floating-point dtype (e.g. torch.float32), got torch.int64",
    ),
    bad(
        likelihoods.recon_sse,
        "bool x_hat",
        torch.ones(2, 3, dtype=torch.bool),
        X,
        says="x_hat must have a floating-point dtype (e.g. torch.float32), got torch.bool",
    ),
    bad(
        likelihoods.recon_sse,
        "float16 x",
        Y.half(),
        X.half(),
        says=TOO_COARSE.format(name="x", dtype="torch.float16"),
    ),
    bad(
        likelihoods.recon_sse,
        "transposed x_hat",
        Y.T,
        X,
        says="x and x_hat must have the same shape, got x: (2, 3) and x_hat: (3, 2)",
    ),
    bad(
        likelihoods.recon_sse,
        "0-dim x",
        torch.tensor(1.0),
        torch.tensor(1.0),
        says="x must have at least 1 dimension(s) (the first one is the batch), got shape ()",
    ),
    bad(
        likelihoods.recon_sse,
        "list x",
        Y,
        [[0.0] * 3] * 2,
        says="x must be a torch.Tensor, got list",
    ),
    bad(
        likelihoods.recon_sse,
        "empty batch",
        torch.zeros(0, 3),
        torch.zeros(0, 3),
        says="x is empty (shape (0, 3)): a batch needs at least one sample with at least one "
        "element",
    ),
    bad(
        likelihoods.recon_sse,
        "overflow",
        torch.zeros(1, 2),
        torch.full((1, 2), 1e20),
        says=OVERFLOW.format(
            function="recon_sse", why="the squared errors exceed its largest number"
        ),
    ),
    # likelihoods.gaussian_nll
    bad(
        likelihoods.gaussian_nll,
        "sigma 0",
        Y,
        X,
        0.0,
        says="sigma must be positive and finite, got 0.0",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma < 0",
        Y,
        X,
        -1.0,
        says="sigma must be positive and finite, got -1.0",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma NaN",
        Y,
        X,
        math.nan,
        says="sigma must be positive and finite, got nan",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma inf",
        Y,
        X,
        math.inf,
        says="sigma must be positive and finite, got inf",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma True",
        Y,
        X,
        True,
        says="sigma must be a positive number or tensor, got True",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma str",
        Y,
        X,
        "0.1",
        says="sigma must be a positive number or tensor, got '0.1'",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma None",
        Y,
        X,
        None,
        says="sigma must be a positive number or tensor, got None",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma tensor with a 0",
        Y,
        X,
        torch.tensor([1.0, 0.0, 1.0]),
        says="sigma must be positive and finite everywhere",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma tensor with NaN",
        Y,
        X,
        torch.tensor([1.0, math.nan, 1.0]),
        says="sigma contains NaN",
    ),
    bad(
        likelihoods.gaussian_nll,
        "int sigma tensor",
        Y,
        X,
        torch.tensor(1),
        says="sigma must have a floating-point dtype, got torch.int64",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma of the wrong shape",
        Y,
        X,
        torch.ones(4),
        says="sigma of shape (4,) does not broadcast to the data's shape (2, 3)",
    ),
    bad(
        likelihoods.gaussian_nll,
        "sigma that grows the batch",
        Y,
        X,
        torch.ones(5, 2, 3),
        says="sigma of shape (5, 2, 3) does not broadcast to the data's shape (2, 3)",
    ),
    bad(
        likelihoods.gaussian_nll,
        "reduction batchmean",
        Y,
        X,
        0.5,
        reduction="batchmean",
        says="reduction must be one of ('none', 'sum', 'mean'), got 'batchmean'",
    ),
    bad(
        likelihoods.gaussian_nll,
        "reduction None",
        Y,
        X,
        0.5,
        reduction=None,
        says="reduction must be one of ('none', 'sum', 'mean'), got None",
    ),
    bad(
        likelihoods.gaussian_nll,
        "NaN in x_hat",
        _with(Y, math.nan),
        X,
        0.5,
        says="x_hat contains NaN",
    ),
    bad(
        likelihoods.gaussian_nll,
        "broadcastable x_hat",
        Y[:1],
        X,
        0.5,
        says="x and x_hat must have the same shape, got x: (2, 3) and x_hat: (1, 3)",
    ),
    bad(
        likelihoods.gaussian_nll,
        "bfloat16 x",
        Y.bfloat16(),
        X.bfloat16(),
        0.5,
        says=TOO_COARSE.format(name="x", dtype="torch.bfloat16"),
    ),
    bad(
        likelihoods.gaussian_nll,
        "overflow",
        Y,
        X,
        1e-30,
        says=OVERFLOW.format(
            function="gaussian_nll",
            why="the squared errors divided by sigma^2 exceed its largest number",
        ),
    ),
    # likelihoods.laplace_nll
    bad(
        likelihoods.laplace_nll,
        "scale 0",
        Y,
        X,
        0.0,
        says="scale must be positive and finite, got 0.0",
    ),
    bad(
        likelihoods.laplace_nll,
        "scale < 0",
        Y,
        X,
        -0.5,
        says="scale must be positive and finite, got -0.5",
    ),
    bad(
        likelihoods.laplace_nll,
        "scale NaN",
        Y,
        X,
        math.nan,
        says="scale must be positive and finite, got nan",
    ),
    bad(
        likelihoods.laplace_nll,
        "scale inf",
        Y,
        X,
        math.inf,
        says="scale must be positive and finite, got inf",
    ),
    bad(
        likelihoods.laplace_nll,
        "scale tensor with inf",
        Y,
        X,
        torch.tensor([1.0, math.inf, 1.0]),
        says="scale must be positive and finite everywhere",
    ),
    bad(
        likelihoods.laplace_nll,
        "reduction avg",
        Y,
        X,
        0.5,
        reduction="avg",
        says="reduction must be one of ('none', 'sum', 'mean'), got 'avg'",
    ),
    bad(likelihoods.laplace_nll, "NaN in x", Y, _with(X, math.nan), 0.5, says="x contains NaN"),
    bad(
        likelihoods.laplace_nll,
        "overflow: tiny scale",
        Y,
        X,
        1e-45,
        says=OVERFLOW.format(
            function="laplace_nll",
            why="the absolute errors divided by the "
            "scale, or log(2 * scale), exceed its largest number",
        ),
    ),
    bad(
        likelihoods.laplace_nll,
        "overflow: huge scale",
        Y,
        X,
        3e38,
        says=OVERFLOW.format(
            function="laplace_nll",
            why="the absolute errors divided by the "
            "scale, or log(2 * scale), exceed its largest number",
        ),
    ),
    # likelihoods.bernoulli_nll
    bad(
        likelihoods.bernoulli_nll,
        "x above 1",
        torch.zeros(1, 3),
        torch.tensor([[0.0, 0.5, 1.5]]),
        says="x must lie in [0, 1], got values in [0, 1.5]",
    ),
    bad(
        likelihoods.bernoulli_nll,
        "x below 0",
        torch.zeros(1, 3),
        torch.tensor([[-0.25, 0.5, 1.0]]),
        says="x must lie in [0, 1], got values in [-0.25, 1]",
    ),
    bad(likelihoods.bernoulli_nll, "NaN logits", _with(Y, math.nan), X, says="logits contains NaN"),
    bad(
        likelihoods.bernoulli_nll,
        "inf logits",
        _with(Y, math.inf),
        X,
        says="logits contains an infinite value",
    ),
    bad(
        likelihoods.bernoulli_nll,
        "bool x",
        Y,
        torch.ones(2, 3, dtype=torch.bool),
        says="x must have a floating-point dtype (e.g. torch.float32), got torch.bool",
    ),
    bad(
        likelihoods.bernoulli_nll,
        "logits of another shape",
        torch.zeros(2, 4),
        X,
        says="x and logits must have the same shape, got x: (2, 3) and logits: (2, 4)",
    ),
    bad(
        likelihoods.bernoulli_nll,
        "reduction elementwise",
        Y,
        X,
        reduction="elementwise",
        says="reduction must be one of ('none', 'sum', 'mean'), got 'elementwise'",
    ),
    bad(
        likelihoods.bernoulli_nll,
        "overflow",
        HUGE,
        torch.zeros(1, 3),
        says=OVERFLOW.format(
            function="bernoulli_nll",
            why="the cross-entropies of logits this large exceed its largest number",
        ),
    ),
    # likelihoods.continuous_bernoulli_log_normalizer
    bad(
        likelihoods.continuous_bernoulli_log_normalizer,
        "int logits",
        torch.tensor([1, 2]),
        says="logits must have a floating-point dtype (e.g. torch.float32), got torch.int64",
    ),
    bad(
        likelihoods.continuous_bernoulli_log_normalizer,
        "NaN logits",
        torch.tensor([0.0, math.nan]),
        says="logits contains NaN",
    ),
    bad(
        likelihoods.continuous_bernoulli_log_normalizer,
        "inf logits",
        torch.tensor([math.inf]),
        says="logits contains an infinite value",
    ),
    bad(
        likelihoods.continuous_bernoulli_log_normalizer,
        "list logits",
        [0.0, 1.0],
        says="logits must be a torch.Tensor, got list",
    ),
    # likelihoods.continuous_bernoulli_nll
    bad(
        likelihoods.continuous_bernoulli_nll,
        "x above 1",
        torch.zeros(1, 3),
        torch.tensor([[0.0, 0.5, 1.5]]),
        says="x must lie in [0, 1], got values in [0, 1.5]",
    ),
    bad(
        likelihoods.continuous_bernoulli_nll,
        "NaN logits",
        _with(Y, math.nan),
        X,
        says="logits contains NaN",
    ),
    bad(
        likelihoods.continuous_bernoulli_nll,
        "logits of another shape",
        Y.T,
        X,
        says="x and logits must have the same shape, got x: (2, 3) and logits: (3, 2)",
    ),
    bad(
        likelihoods.continuous_bernoulli_nll,
        "reduction total",
        Y,
        X,
        reduction="total",
        says="reduction must be one of ('none', 'sum', 'mean'), got 'total'",
    ),
    bad(
        likelihoods.continuous_bernoulli_nll,
        "overflow",
        HUGE,
        torch.zeros(1, 3),
        says=OVERFLOW.format(
            function="continuous_bernoulli_nll",
            why="the cross-entropies of logits this large exceed its largest number",
        ),
    ),
    # likelihoods.kl_standard_normal
    bad(likelihoods.kl_standard_normal, "NaN in mu", _with(X, math.nan), Y, says="mu contains NaN"),
    bad(
        likelihoods.kl_standard_normal,
        "-inf logvar",
        X,
        _with(Y, -math.inf),
        says="logvar contains an infinite value",
    ),
    bad(
        likelihoods.kl_standard_normal,
        "int mu",
        torch.zeros(2, 3, dtype=torch.int32),
        Y,
        says="mu must have a floating-point dtype (e.g. torch.float32), got torch.int32",
    ),
    bad(
        likelihoods.kl_standard_normal,
        "shapes differ",
        torch.zeros(2, 4),
        torch.zeros(2, 5),
        says="mu and logvar must have the same shape, got mu: (2, 4) and logvar: (2, 5)",
    ),
    bad(
        likelihoods.kl_standard_normal,
        "0-dim mu",
        torch.tensor(0.0),
        torch.tensor(0.0),
        says="mu must have at least 1 dimension(s) (the first one is the batch), got shape ()",
    ),
    bad(
        likelihoods.kl_standard_normal,
        "list logvar",
        X,
        [[0.0] * 3] * 2,
        says="logvar must be a torch.Tensor, got list",
    ),
    bad(
        likelihoods.kl_standard_normal,
        "overflow from mu",
        torch.full((1, 2), 1e20),
        torch.zeros(1, 2),
        says=OVERFLOW.format(
            function="kl_standard_normal",
            why="logvar reaches 0, mu reaches "
            "1e+20, and exp(logvar) + mu^2 exceeds its largest number "
            "(3.4e+38); an encoder usually clamps logvar, e.g. to [-30, 20]",
        ),
    ),
    # likelihoods.optimal_sigma
    bad(
        likelihoods.optimal_sigma, "NaN in x_hat", _with(Y, math.nan), X, says="x_hat contains NaN"
    ),
    bad(
        likelihoods.optimal_sigma,
        "shapes differ",
        torch.zeros(2, 4),
        X,
        says="x and x_hat must have the same shape, got x: (2, 3) and x_hat: (2, 4)",
    ),
    bad(
        likelihoods.optimal_sigma,
        "int x",
        Y,
        torch.zeros(2, 3, dtype=torch.int64),
        says="x must have a floating-point dtype (e.g. torch.float32), got torch.int64",
    ),
    bad(
        likelihoods.optimal_sigma,
        "overflow",
        torch.zeros(1, 2),
        torch.full((1, 2), 1e20),
        says=OVERFLOW.format(
            function="optimal_sigma", why="the squared errors exceed its largest number"
        ),
    ),
    # likelihoods.kl_to_recon_weight (effective_sigma's checks are its checks)
    bad(
        likelihoods.kl_to_recon_weight,
        "data_dim 0",
        0,
        says="data_dim must be an integer >= 1, got 0",
    ),
    bad(
        likelihoods.kl_to_recon_weight,
        "kl_reduction none",
        64,
        kl_reduction="none",
        says="kl_reduction must be one of ('sum', 'batchmean', 'mean'), got 'none'",
    ),
    bad(
        likelihoods.kl_to_recon_weight,
        "no latent_dim for a mean KL",
        64,
        kl_reduction="mean",
        says='latent_dim is needed when kl_reduction="mean"',
    ),
    # likelihoods.effective_sigma
    bad(
        likelihoods.effective_sigma, "data_dim 0", 0, says="data_dim must be an integer >= 1, got 0"
    ),
    bad(
        likelihoods.effective_sigma,
        "data_dim True",
        True,
        says="data_dim must be an integer >= 1, got True",
    ),
    bad(
        likelihoods.effective_sigma,
        "data_dim 2.5",
        2.5,
        says="data_dim must be an integer >= 1, got 2.5",
    ),
    bad(
        likelihoods.effective_sigma,
        "batch_size 0",
        64,
        0,
        says="batch_size must be an integer >= 1, got 0",
    ),
    bad(
        likelihoods.effective_sigma,
        "batch_size str",
        64,
        "8",
        says="batch_size must be an integer >= 1, got '8'",
    ),
    bad(
        likelihoods.effective_sigma,
        "recon_reduction elementwise",
        64,
        recon_reduction="elementwise",
        says="recon_reduction must be one of ('sum', 'batchmean', 'mean'), got 'elementwise'",
    ),
    bad(
        likelihoods.effective_sigma,
        "kl_reduction none",
        64,
        kl_reduction="none",
        says="kl_reduction must be one of ('sum', 'batchmean', 'mean'), got 'none'",
    ),
    bad(
        likelihoods.effective_sigma,
        "kl_weight 0",
        64,
        kl_weight=0.0,
        says="kl_weight must be finite and > 0, got 0.0",
    ),
    bad(
        likelihoods.effective_sigma,
        "kl_weight NaN",
        64,
        kl_weight=math.nan,
        says="kl_weight must be a number, got nan",
    ),
    bad(
        likelihoods.effective_sigma,
        "kl_weight str",
        64,
        kl_weight="1",
        says="kl_weight must be a number, got '1'",
    ),
    bad(
        likelihoods.effective_sigma,
        "no latent_dim for a mean KL",
        64,
        kl_reduction="mean",
        says='latent_dim is needed when kl_reduction="mean"',
    ),
    bad(
        likelihoods.effective_sigma,
        "latent_dim 0",
        64,
        kl_reduction="mean",
        latent_dim=0,
        says="latent_dim must be an integer >= 1, got 0",
    ),
    bad(
        likelihoods.effective_sigma,
        "latent_dim True",
        64,
        kl_reduction="mean",
        latent_dim=True,
        says="latent_dim must be an integer >= 1, got True",
    ),
    # likelihoods.soft_floor
    bad(
        likelihoods.soft_floor,
        "floor < 0",
        torch.zeros(3),
        -1,
        says="floor must be a number >= 0 (0 means no floor), got -1",
    ),
    bad(
        likelihoods.soft_floor,
        "floor NaN",
        torch.zeros(3),
        math.nan,
        says="floor must be a number >= 0 (0 means no floor), got nan",
    ),
    bad(
        likelihoods.soft_floor,
        "floor str",
        torch.zeros(3),
        "0.1",
        says="floor must be a number >= 0 (0 means no floor), got '0.1'",
    ),
    bad(
        likelihoods.soft_floor,
        "float log_scale",
        0.5,
        0.1,
        says="log_scale must be a torch.Tensor, got float",
    ),
    bad(
        likelihoods.soft_floor,
        "list log_scale",
        [0.5],
        0.0,
        says="log_scale must be a torch.Tensor, got list",
    ),
    # likelihoods.Likelihood and its methods
    bad(
        likelihoods.get_likelihood,
        "unknown name",
        "mse",
        says=f"unknown likelihood 'mse'; known likelihoods: {KNOWN}",
    ),
    bad(
        likelihoods.Likelihood,
        "the base class",
        says="Likelihood is the base class: use get_likelihood(name) or a family class such "
        "as GaussianLikelihood",
    ),
    bad(
        likelihoods.LaplaceLikelihood,
        "an optimal scale",
        "optimal",
        says="the laplace likelihood's scale is one of fixed, learned, got 'optimal'",
    ),
    bad(
        likelihoods.BernoulliLikelihood,
        "a learned scale",
        "learned",
        says="the bernoulli likelihood's scale is one of none, got 'learned'",
    ),
    bad(
        likelihoods.GaussianLikelihood,
        "scale kind None-like",
        "none",
        says="the gaussian likelihood's scale is one of fixed, learned, optimal, per-pixel, "
        "got 'none'",
    ),
    bad(
        likelihoods.ContinuousBernoulliLikelihood,
        "a floor without a scale",
        None,
        0.1,
        says="scale_floor applies to a learned, optimal or per-pixel scale; the likelihood "
        "'continuous-bernoulli' has none",
    ),
    bad(
        likelihoods.get_likelihood,
        "scale_floor < 0",
        "gaussian-learned",
        -1.0,
        says="scale_floor must be a finite number >= 0, got -1.0",
    ),
    bad(
        likelihoods.get_likelihood,
        "scale_floor NaN",
        "gaussian-learned",
        math.nan,
        says="scale_floor must be a finite number >= 0, got nan",
    ),
    bad(
        likelihoods.get_likelihood,
        "scale_floor inf",
        "gaussian-per-pixel",
        math.inf,
        says="scale_floor must be a finite number >= 0, got inf",
    ),
    bad(
        likelihoods.get_likelihood,
        "scale_floor True",
        "gaussian-learned",
        True,
        says="scale_floor must be a finite number >= 0, got True",
    ),
    bad(
        likelihoods.get_likelihood,
        "scale_floor of a fixed scale",
        "gaussian",
        0.1,
        says="scale_floor applies to a learned, optimal or per-pixel scale; the likelihood "
        "'gaussian' has none",
    ),
    bad(
        likelihoods.get_likelihood("gaussian").nll,
        "no scale",
        Y,
        X,
        says="scale is needed for the 'gaussian' likelihood",
    ),
    bad(
        likelihoods.get_likelihood("gaussian").nll,
        "scale 0",
        Y,
        X,
        0.0,
        says="sigma must be positive and finite, got 0.0",
    ),
    bad(
        likelihoods.get_likelihood("laplace").nll,
        "scale < 0",
        Y,
        X,
        -1.0,
        says="scale must be positive and finite, got -1.0",
    ),
    bad(
        likelihoods.get_likelihood("gaussian-optimal").nll,
        "a perfect reconstruction",
        X.clone(),
        X,
        says="the 'gaussian-optimal' likelihood needs a reconstruction error > 0: its optimal "
        "scale is 0 and its likelihood unbounded",
    ),
    bad(
        likelihoods.get_likelihood("bernoulli").nll,
        "NaN logits",
        _with(Y, math.nan),
        X,
        says="logits contains NaN",
    ),
    bad(
        likelihoods.get_likelihood("gaussian-per-pixel").nll,
        "one output per pixel",
        Y,
        X,
        says="x and x_hat must have the same shape, got x: (2, 3) and x_hat: (2, 2)",
    ),
    bad(
        likelihoods.get_likelihood("bernoulli").check_data,
        "x above 1",
        torch.tensor([[0.5, 1.2]]),
        says="x must lie in [0, 1], got values in [0.5, 1.2] (the 'bernoulli' likelihood)",
    ),
    bad(
        likelihoods.get_likelihood("bernoulli").check_data,
        "NaN",
        torch.tensor([[0.5, math.nan]]),
        says="x contains NaN (the 'bernoulli' likelihood)",
    ),
    bad(
        likelihoods.get_likelihood("continuous-bernoulli").check_data,
        "list",
        [[0.5]],
        says="x must be a torch.Tensor, got list (the 'continuous-bernoulli' likelihood)",
    ),
    # likelihoods.get_likelihood
    bad(
        likelihoods.get_likelihood,
        "a number",
        3,
        says=f"likelihood must be a name (one of {KNOWN}) or a Likelihood, got 3",
    ),
    # likelihoods.MemberLikelihoods
    bad(
        likelihoods.MemberLikelihoods,
        "one sigma too few",
        ["gaussian"] * 2,
        torch.tensor([1.0]),
        64,
        says="sigmas must hold one positive number per likelihood (2), got [1.0]",
    ),
    bad(
        likelihoods.MemberLikelihoods,
        "sigma 0",
        ["laplace"],
        torch.tensor([0.0]),
        64,
        says="sigmas must hold one positive number per likelihood (1), got [0.0]",
    ),
    bad(
        likelihoods.MemberLikelihoods,
        "sigmas a list",
        ["gaussian"],
        [1.0],
        64,
        says="sigmas must be a torch.Tensor, got list",
    ),
    bad(
        likelihoods.MemberLikelihoods,
        "an unknown likelihood",
        ["l2"],
        torch.tensor([1.0]),
        64,
        says=f"unknown likelihood 'l2'; known likelihoods: {KNOWN}",
    ),
    bad(
        likelihoods.MemberLikelihoods,
        "data_dim 0",
        ["gaussian"],
        torch.tensor([1.0]),
        0,
        says="data_dim must be an integer >= 1, got 0",
    ),
    bad(
        MEMBERS.frozen,
        "one scale too few",
        [0.3],
        says="scale must hold one number per member (2), got 1",
    ),
    bad(
        MEMBERS.frozen,
        "NaN for a learned σ",
        [0.3, math.nan],
        says="scale must be finite and > 0 for every member with a shared scale, got [0.3, nan]",
    ),
    bad(
        MEMBERS.frozen,
        "σ 0",
        [0.0, 0.5],
        says="scale must be finite and > 0 for every member with a shared scale, got [0.0, 0.5]",
    ),
    # likelihoods.continuous_bernoulli_mean
    bad(
        likelihoods.continuous_bernoulli_mean,
        "NaN logits",
        torch.tensor([math.nan]),
        says="logits contains NaN",
    ),
    bad(
        likelihoods.continuous_bernoulli_mean,
        "inf logits",
        torch.tensor([-math.inf]),
        says="logits contains an infinite value",
    ),
    bad(
        likelihoods.continuous_bernoulli_mean,
        "int logits",
        torch.tensor([1]),
        says="logits must have a floating-point dtype (e.g. torch.float32), got torch.int64",
    ),
    bad(
        likelihoods.continuous_bernoulli_mean,
        "list logits",
        [0.5],
        says="logits must be a torch.Tensor, got list",
    ),
    # likelihoods.continuous_bernoulli_logit_for_mean
    bad(
        likelihoods.continuous_bernoulli_logit_for_mean,
        "mean 0",
        0.0,
        says="mean must lie strictly between 0 and 1, got 0.0",
    ),
    bad(
        likelihoods.continuous_bernoulli_logit_for_mean,
        "mean above 1",
        1.5,
        says="mean must lie strictly between 0 and 1, got 1.5",
    ),
    bad(
        likelihoods.continuous_bernoulli_logit_for_mean,
        "mean NaN",
        math.nan,
        says="mean must lie strictly between 0 and 1, got nan",
    ),
    bad(
        likelihoods.continuous_bernoulli_logit_for_mean,
        "one mean of two above 1",
        [0.5, 2.0],
        says="mean must lie strictly between 0 and 1, got [0.5, 2.0]",
    ),
    bad(
        likelihoods.continuous_bernoulli_logit_for_mean,
        "mean below float64's range",
        1e-310,
        says="mean must be at least 1e-300: its logit -1/mean is below the float64 range, got "
        "1e-310",
    ),
    bad(
        likelihoods.continuous_bernoulli_logit_for_mean,
        "str",
        "0.5",
        says="mean must be a number or a tensor of numbers, got '0.5'",
    ),
    bad(
        likelihoods.continuous_bernoulli_logit_for_mean,
        "None",
        None,
        says="mean must be a number or a tensor of numbers, got None",
    ),
    bad(
        likelihoods.continuous_bernoulli_logit_for_mean,
        "empty",
        [],
        says="mean is empty: give at least one mean",
    ),
    # training.free_bits_kl
    bad(
        training.free_bits_kl,
        "2-D mu",
        torch.zeros(5, 2),
        torch.zeros(5, 2),
        torch.tensor([0.5]),
        says="mu and logvar must be tensors of one shape (K, B, L), got torch.Size([5, 2]) "
        "and torch.Size([5, 2])",
    ),
    bad(
        training.free_bits_kl,
        "a floor per latent",
        torch.zeros(1, 5, 2),
        torch.zeros(1, 5, 2),
        torch.tensor([0.5, 0.5]),
        says="floor must hold one λ per member, shape (1,), got torch.Size([2])",
    ),
    # training.minibatches
    bad(
        _drawn(training.minibatches),
        "x a list",
        [[0.0]],
        2,
        3,
        torch.Generator(),
        says="x must be a torch.Tensor of images, shape (N, D) or (K, N, D)",
    ),
    bad(
        _drawn(training.minibatches),
        "batch_size 0",
        X4,
        0,
        3,
        torch.Generator(),
        says="batch_size must be an integer >= 1, got 0",
    ),
    bad(
        _drawn(training.minibatches),
        "no generator",
        X4,
        2,
        3,
        0,
        says="generator must be a torch.Generator, got int",
    ),
    # training.check_sigmas
    bad(
        training.check_sigmas,
        "empty",
        [],
        says="sigmas must hold at least one σ, got an empty sequence",
    ),
    bad(
        training.check_sigmas,
        "a 0",
        [0.1, 0.0],
        says="sigmas must be positive and finite, got [0.1, 0.0]",
    ),
    bad(training.check_sigmas, "NaN", [math.nan], says="sigmas contains NaN: [nan]"),
    bad(
        training.check_sigmas,
        "inf",
        [math.inf],
        says="sigmas must be positive and finite, got [inf]",
    ),
    bad(
        training.check_sigmas,
        "negative tensor",
        torch.tensor([0.1, -0.2], dtype=torch.float64),
        says="sigmas must be positive and finite, got [0.1, -0.2]",
    ),
    bad(
        training.check_sigmas,
        "str",
        "0.1",
        says="sigmas must be a sequence of positive numbers, got '0.1'",
    ),
    bad(
        training.check_sigmas,
        "None",
        None,
        says="sigmas must be a sequence of positive numbers, got None",
    ),
    bad(
        training.check_sigmas,
        "True",
        True,
        says="sigmas must be a sequence of positive numbers, got True",
    ),
    bad(
        training.check_sigmas,
        "True in a list",
        [0.1, True],
        says="sigmas must be a sequence of positive numbers, got [0.1, True]",
    ),
    bad(
        training.check_sigmas,
        "named σ < 0",
        -1.0,
        "sigma",
        says="sigma must be positive and finite, got [-1.0]",
    ),
    # training.check_likelihoods
    bad(
        training.check_likelihoods,
        "unknown name",
        "l2",
        MLP,
        says=f"unknown likelihood 'l2'; known likelihoods: {KNOWN}",
    ),
    bad(
        training.check_likelihoods,
        "one per member, too many",
        ["gaussian"] * 3,
        MLP,
        says="likelihood must be one name or 2 (one per member), got 3",
    ),
    bad(
        training.check_likelihoods,
        "a number",
        3,
        MLP,
        says="likelihood must be a name, a Likelihood or a list of them, got 3",
    ),
    bad(
        training.check_likelihoods,
        "per-pixel σ, one output",
        "gaussian-per-pixel",
        MLP,
        says="a per-pixel σ needs a decoder with two outputs per pixel: build the model with "
        "outputs_per_pixel=2",
    ),
    bad(
        training.check_likelihoods,
        "no model",
        "gaussian",
        None,
        says="model must be a BatchedMLPVAE or BatchedLinearVAE (a BatchedVAE), got NoneType",
    ),
    # training.check_kl_weights
    bad(
        training.check_kl_weights,
        "too few",
        [1.0, 2.0],
        3,
        says="kl_weight must be one number or 3 numbers (one per member), got 2",
    ),
    bad(
        training.check_kl_weights,
        "a weight < 0",
        [1.0, -2.0],
        2,
        says="kl_weight must be finite and >= 0, got -2.0",
    ),
    bad(training.check_kl_weights, "NaN", math.nan, 2, says="kl_weight must be a number, got nan"),
    bad(
        training.check_kl_weights,
        "inf",
        math.inf,
        2,
        says="kl_weight must be finite and >= 0, got inf",
    ),
    bad(training.check_kl_weights, "True", True, 2, says="kl_weight must be a number, got True"),
    bad(
        training.check_kl_weights,
        "strings",
        ["a", "b"],
        2,
        says="kl_weight must be one number or a sequence of numbers, got ['a', 'b']",
    ),
    bad(
        training.check_kl_weights,
        "nested lists",
        [[1.0], [2.0]],
        2,
        says="kl_weight must be one number or a sequence of numbers, got [[1.0], [2.0]]",
    ),
    bad(
        training.check_kl_weights,
        "n_models 0",
        1.0,
        0,
        says="n_models must be an integer >= 1, got 0",
    ),
    bad(
        training.check_kl_weights,
        "n_models str",
        1.0,
        "2",
        says="n_models must be an integer >= 1, got '2'",
    ),
    bad(
        training.check_kl_weights,
        "int dtype",
        1.5,
        2,
        torch.int64,
        says="dtype must be a floating-point torch dtype, got torch.int64",
    ),
    # training.train_vae
    bad(
        training.train_vae,
        "no model",
        None,
        X4,
        [0.1, 0.2],
        **SHORT,
        says="model must be a BatchedMLPVAE or BatchedLinearVAE (a BatchedVAE), got NoneType",
    ),
    bad(
        training.train_vae,
        "one σ too many",
        MLP,
        X4,
        [0.1, 0.2, 0.3],
        **SHORT,
        says="sigmas must hold one σ per member: the model has 2 members, got 3 σ values",
    ),
    bad(
        training.train_vae,
        "σ 0",
        MLP,
        X4,
        [0.1, 0.0],
        **SHORT,
        says="sigmas must be positive and finite, got [0.1, 0.0]",
    ),
    bad(
        training.train_vae,
        "x_train of 3 pixels",
        MLP,
        torch.rand(5, 3),
        [0.1, 0.2],
        **SHORT,
        says="x_train must have shape (N, 4) or (2, N, 4) with N >= 1, got (5, 3)",
    ),
    bad(
        training.train_vae,
        "int x_train",
        MLP,
        torch.ones(5, 4, dtype=torch.int64),
        [0.1, 0.2],
        **SHORT,
        says="x_train must have a floating-point dtype, got torch.int64",
    ),
    bad(
        training.train_vae,
        "NaN in x_train",
        MLP,
        _with(X4, math.nan),
        [0.1, 0.2],
        **SHORT,
        says="x_train contains NaN or infinite values",
    ),
    bad(
        training.train_vae,
        "list x_train",
        MLP,
        [[0.0] * 4] * 5,
        [0.1, 0.2],
        **SHORT,
        says="x_train must be a torch.Tensor, got list",
    ),
    bad(
        training.train_vae,
        "empty x_train",
        MLP,
        torch.zeros(0, 4),
        [0.1, 0.2],
        **SHORT,
        says="x_train must have shape (N, 4) or (2, N, 4) with N >= 1, got (0, 4)",
    ),
    bad(
        training.train_vae,
        "x_train for 3 members",
        MLP,
        X4.expand(3, 5, 4),
        [0.1, 0.2],
        **SHORT,
        says="x_train must have shape (N, 4) or (2, N, 4) with N >= 1, got (3, 5, 4)",
    ),
    bad(
        training.train_vae,
        "steps 0",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, steps=0),
        says="steps must be an integer >= 1, got 0",
    ),
    bad(
        training.train_vae,
        "steps True",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, steps=True),
        says="steps must be an integer >= 1, got True",
    ),
    bad(
        training.train_vae,
        "steps 1.0",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, steps=1.0),
        says="steps must be an integer >= 1, got 1.0",
    ),
    bad(
        training.train_vae,
        "batch_size 0",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, batch_size=0),
        says="batch_size must be an integer >= 1, got 0",
    ),
    bad(
        training.train_vae,
        "lr < 0",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, lr=-1.0),
        says="lr must be finite and > 0, got -1.0",
    ),
    bad(
        training.train_vae,
        "lr NaN",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, lr=math.nan),
        says="lr must be a number, got nan",
    ),
    bad(
        training.train_vae,
        "lr inf",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, lr=math.inf),
        says="lr must be finite and > 0, got inf",
    ),
    bad(
        training.train_vae,
        "seed < 0",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, seed=-1),
        says="seed must be an integer >= 0, got -1",
    ),
    bad(
        training.train_vae,
        "seed str",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, seed="0"),
        says="seed must be an integer >= 0, got '0'",
    ),
    bad(
        training.train_vae,
        "kl_weight NaN",
        MLP,
        X4,
        [0.1, 0.2],
        kl_weight=math.nan,
        **SHORT,
        says="kl_weight must be a number, got nan",
    ),
    bad(
        training.train_vae,
        "kl_weight for 3 members",
        MLP,
        X4,
        [0.1, 0.2],
        kl_weight=[1, 1, 1],
        **SHORT,
        says="kl_weight must be one number or 2 numbers (one per member), got 3",
    ),
    bad(
        training.train_vae,
        "kl_warmup < 0",
        MLP,
        X4,
        [0.1, 0.2],
        kl_warmup=-5,
        **SHORT,
        says="kl_warmup must be an integer >= 0, got -5",
    ),
    bad(
        training.train_vae,
        "kl_warmup 2.5",
        MLP,
        X4,
        [0.1, 0.2],
        kl_warmup=[0, 2.5],
        **SHORT,
        says="kl_warmup must be an integer >= 0, got 2.5",
    ),
    bad(
        training.train_vae,
        "kl_warmup for 3 members",
        MLP,
        X4,
        [0.1, 0.2],
        kl_warmup=[1, 1, 1],
        **SHORT,
        says="kl_warmup must be one integer or 2 integers (one per member), got 3",
    ),
    bad(
        training.train_vae,
        "free_bits for 3 members",
        MLP,
        X4,
        [0.1, 0.2],
        free_bits=[0.5, 0.5, 0.5],
        **SHORT,
        says="free_bits must be one number or 2 numbers (one per member), got 3",
    ),
    bad(
        training.train_vae,
        "free_bits NaN",
        MLP,
        X4,
        [0.1, 0.2],
        free_bits=math.nan,
        **SHORT,
        says="free_bits must be a number, got nan",
    ),
    # training.warmup_weight
    bad(
        training.warmup_weight,
        "negative step",
        -1,
        10,
        says="step must be a number >= 0 or an array of them, got -1",
    ),
    bad(
        training.warmup_weight,
        "NaN step",
        np.array([0.0, math.nan]),
        10,
        says="step must be a number >= 0 or an array of them, got array([ 0., nan])",
    ),
    bad(
        training.warmup_weight,
        "kl_warmup < 0",
        3,
        -1,
        says="kl_warmup must be an integer >= 0, got -1",
    ),
    bad(
        training.train_vae,
        "unknown likelihood",
        MLP,
        X4,
        [0.1, 0.2],
        likelihood="l2",
        **SHORT,
        says=f"unknown likelihood 'l2'; known likelihoods: {KNOWN}",
    ),
    bad(
        training.train_vae,
        "Bernoulli member on x above 1",
        MLP,
        _with(torch.full((5, 4), 0.5), 1.5),
        [0.1, 0.2],
        likelihood=["gaussian", "bernoulli"],
        **SHORT,
        says="x_train of member 1 must lie in [0, 1], got values in [0.5, 1.5] (the "
        "'bernoulli' likelihood)",
    ),
    bad(
        training.train_vae,
        "lr_schedule linear",
        MLP,
        X4,
        [0.1, 0.2],
        lr_schedule="linear",
        **SHORT,
        says='lr_schedule must be "cosine" or "constant", got \'linear\'',
    ),
    bad(
        training.train_vae,
        "loss_fn not callable",
        MLP,
        X4,
        [0.1, 0.2],
        loss_fn=3,
        **SHORT,
        says="loss_fn must be callable or None, got 3",
    ),
    bad(
        training.train_vae,
        "loss_fn returns a scalar",
        MLP,
        X4,
        [0.1, 0.2],
        loss_fn=lambda x_hat, x, mu, logvar: x_hat.sum(),
        **SHORT,
        says="loss_fn must return a tensor of shape (2,), one loss per member, got torch.Size([])",
    ),
    bad(
        training.train_vae,
        "loss_fn returns NaN",
        MLP,
        X4,
        [0.1, 0.2],
        loss_fn=lambda x_hat, x, mu, logvar: torch.full((2,), math.nan),
        **SHORT,
        says="loss_fn returned a NaN or infinite loss",
    ),
    bad(
        training.train_vae,
        "record_every 0",
        MLP,
        X4,
        [0.1, 0.2],
        record_every=0,
        **SHORT,
        says="record_every must be an integer >= 1, got 0",
    ),
    bad(
        training.train_vae,
        "trainable str",
        MLP,
        X4,
        [0.1, 0.2],
        trainable="dec_out",
        **SHORT,
        says="trainable must be None or a non-empty tuple of parameter-name prefixes, got "
        "'dec_out'",
    ),
    bad(
        training.train_vae,
        "trainable names nothing",
        MLP,
        X4,
        [0.1, 0.2],
        trainable=("nothing",),
        **SHORT,
        says="trainable=('nothing',) matches no parameter of the model; its parameters "
        "are enc_hidden_weight, enc_hidden_bias, enc_out_weight, enc_out_bias, "
        "dec_hidden_weight, dec_hidden_bias, dec_out_weight, dec_out_bias",
    ),
    bad(
        training.train_vae,
        "progress yes",
        MLP,
        X4,
        [0.1, 0.2],
        **dict(SHORT, progress="yes"),
        says="progress must be True, False or \"auto\", got 'yes'",
    ),
    # training.evaluate
    bad(
        training.train_vae,
        "σ given twice",
        MLP,
        X4,
        [0.1, 0.2],
        likelihood=MEMBERS,
        **SHORT,
        says="sigmas must be None when likelihood is a MemberLikelihoods (it holds the σ of "
        "every member)",
    ),
    bad(
        training.train_vae,
        "members of another size",
        MLP,
        X4,
        likelihood=likelihoods.MemberLikelihoods(["gaussian"] * 2, torch.tensor([0.1, 0.2]), 64),
        **SHORT,
        says="likelihood must be built for 4 pixels and torch.float32, got 64 and torch.float32",
    ),
    bad(
        training.train_vae,
        "members of another count",
        MLP,
        X4,
        likelihood=likelihoods.MemberLikelihoods(["gaussian"], torch.tensor([0.1]), 4),
        **SHORT,
        says="likelihood must be one name or 2 (one per member), got 1",
    ),
    bad(
        training.evaluate,
        "learned members",
        MLP,
        X4,
        Y5,
        likelihood=MEMBERS,
        says="evaluation needs fixed scales: pass likelihood.frozen(scale) with the scales "
        "the training returned",
    ),
    bad(
        training.importance_weighted_nll,
        "learned members",
        MLP,
        X4,
        likelihood=MEMBERS,
        says="evaluation needs fixed scales: pass likelihood.frozen(scale) with the scales "
        "the training returned",
    ),
    bad(
        training.evaluate,
        "y of another length",
        MLP,
        X4,
        torch.arange(4),
        [0.1, 0.2],
        says="y must be a tensor of shape (5,), one label per image",
    ),
    bad(
        training.evaluate,
        "list y",
        MLP,
        X4,
        [0, 1, 0, 1, 0],
        [0.1, 0.2],
        says="y must be a tensor of shape (5,), one label per image",
    ),
    bad(
        training.evaluate,
        "n_recon above N",
        MLP,
        X4,
        Y5,
        [0.1, 0.2],
        n_recon=6,
        says="n_recon must be at most the number of images, 5",
    ),
    bad(
        training.evaluate,
        "n_recon 0",
        MLP,
        X4,
        Y5,
        [0.1, 0.2],
        n_recon=0,
        says="n_recon must be an integer >= 1, got 0",
    ),
    bad(
        training.evaluate,
        "n_samples 0",
        MLP,
        X4,
        Y5,
        [0.1, 0.2],
        n_recon=2,
        n_samples=0,
        says="n_samples must be an integer >= 1, got 0",
    ),
    bad(
        training.evaluate,
        "seed str",
        MLP,
        X4,
        Y5,
        [0.1, 0.2],
        seed="a",
        says="seed must be an integer >= 0, got 'a'",
    ),
    bad(
        training.evaluate,
        "inf in x",
        MLP,
        _with(X4, math.inf),
        Y5,
        [0.1, 0.2],
        says="x contains NaN or infinite values",
    ),
    bad(
        training.evaluate,
        "one σ",
        MLP,
        X4,
        Y5,
        [0.1],
        says="sigmas must hold one σ per member: the model has 2 members, got 1 σ values",
    ),
    bad(
        training.evaluate,
        "a str for a model",
        "model",
        X4,
        Y5,
        [0.1, 0.2],
        says="model must be a BatchedMLPVAE or BatchedLinearVAE (a BatchedVAE), got str",
    ),
    bad(
        training.evaluate,
        "kl_weight < 0",
        MLP,
        X4,
        Y5,
        [0.1, 0.2],
        kl_weight=-1.0,
        says="kl_weight must be finite and >= 0, got -1.0",
    ),
    # training.importance_weighted_nll
    bad(
        training.importance_weighted_nll,
        "samples 0",
        MLP,
        X4,
        [0.1, 0.2],
        samples=0,
        says="samples must be an integer >= 1, got 0",
    ),
    bad(
        training.importance_weighted_nll,
        "samples True",
        MLP,
        X4,
        [0.1, 0.2],
        samples=True,
        says="samples must be an integer >= 1, got True",
    ),
    bad(
        training.importance_weighted_nll,
        "NaN in x",
        MLP,
        _with(X4, math.nan),
        [0.1, 0.2],
        says="x contains NaN or infinite values",
    ),
    bad(
        training.importance_weighted_nll,
        "one σ",
        MLP,
        X4,
        [0.1],
        says="sigmas must hold one σ per member: the model has 2 members, got 1 σ values",
    ),
    bad(
        training.importance_weighted_nll,
        "2 for a Bernoulli",
        MLP,
        _with(X4, 2.0),
        [0.1, 0.2],
        likelihood="bernoulli",
        says="x of member 0 must lie in [0, 1], got values in "
        "[0.0269548, 2] (the 'bernoulli' likelihood)",
    ),
    # models.BatchedMLPVAE and its methods
    bad(models.BatchedMLPVAE, "n_models 0", 0, says="n_models must be an integer >= 1, got 0"),
    bad(
        models.BatchedMLPVAE,
        "n_models True",
        True,
        says="n_models must be an integer >= 1, got True",
    ),
    bad(
        models.BatchedMLPVAE, "n_models 2.0", 2.0, says="n_models must be an integer >= 1, got 2.0"
    ),
    bad(models.BatchedMLPVAE, "data_dim 0", 1, 0, says="data_dim must be an integer >= 1, got 0"),
    bad(
        models.BatchedMLPVAE,
        "hidden_dim < 0",
        1,
        4,
        -1,
        says="hidden_dim must be an integer >= 1, got -1",
    ),
    bad(
        models.BatchedMLPVAE,
        "latent_dim str",
        1,
        4,
        3,
        "2",
        says="latent_dim must be an integer >= 1, got '2'",
    ),
    bad(
        models.BatchedMLPVAE,
        "outputs_per_pixel 3",
        1,
        outputs_per_pixel=3,
        says="outputs_per_pixel must be 1 or 2, got 3",
    ),
    bad(
        models.BatchedMLPVAE,
        "outputs_per_pixel True",
        1,
        outputs_per_pixel=True,
        says="outputs_per_pixel must be 1 or 2, got True",
    ),
    bad(
        models.BatchedMLPVAE,
        "int dtype",
        1,
        dtype=torch.int64,
        says="dtype must be a floating-point torch dtype, got torch.int64",
    ),
    bad(
        models.BatchedMLPVAE,
        "dtype str",
        1,
        dtype="float32",
        says="dtype must be a floating-point torch dtype, got 'float32'",
    ),
    bad(
        models.BatchedMLPVAE, "seed str", 1, seed="a", says="seed must be an integer >= 0, got 'a'"
    ),
    bad(
        models.BatchedMLPVAE, "seed 1.5", 1, seed=1.5, says="seed must be an integer >= 0, got 1.5"
    ),
    bad(models.BatchedMLPVAE, "seed < 0", 1, seed=-1, says="seed must be an integer >= 0, got -1"),
    bad(
        models.BatchedMLPVAE,
        "seed True",
        1,
        seed=True,
        says="seed must be an integer >= 0, got True",
    ),
    bad(
        MLP.encode,
        "3 pixels",
        torch.rand(5, 3),
        says="x must have shape (B, 4) or (2, B, 4), got (5, 3)",
    ),
    bad(
        MLP.encode,
        "x for 3 members",
        torch.rand(3, 5, 4),
        says="x must have shape (B, 4) or (2, B, 4), got (3, 5, 4)",
    ),
    bad(
        MLP.encode,
        "int x",
        torch.ones(5, 4, dtype=torch.int64),
        says="x must be a floating-point torch.Tensor",
    ),
    bad(MLP.encode, "list x", [[0.0] * 4], says="x must be a floating-point torch.Tensor"),
    bad(
        MLP.encode,
        "float64 x, float32 model",
        X4.double(),
        says="x has dtype torch.float64 but the model's parameters have torch.float32: convert "
        "it with x.to(model.dtype)",
    ),
    bad(MLP.encode, "NaN in x", _with(X4, math.nan), says="x contains NaN or infinite values"),
    bad(
        MLP.decode,
        "3 latents",
        torch.zeros(5, 3),
        says="z must have shape (B, 2) or (2, B, 2), got (5, 3)",
    ),
    bad(
        MLP.decode,
        "int z",
        torch.zeros(5, 2, dtype=torch.int64),
        says="z must be a floating-point torch.Tensor",
    ),
    bad(
        MLP.decode,
        "float64 z",
        torch.zeros(5, 2, dtype=torch.float64),
        says="z has dtype torch.float64 but the model's parameters have torch.float32: convert "
        "it with z.to(model.dtype)",
    ),
    bad(
        MLP.forward,
        "generator str",
        X4,
        "gen",
        says="generator must be a torch.Generator or None, got str",
    ),
    bad(
        MLP.forward,
        "generator int",
        X4,
        3,
        says="generator must be a torch.Generator or None, got int",
    ),
    bad(
        MLP.load_plain,
        "no encoder",
        0,
        torch.nn.Module(),
        says="vae.encoder must be nn.Sequential(nn.Linear, nn.Tanh(), nn.Linear), got None",
    ),
    bad(
        MLP.load_plain,
        "a ReLU encoder",
        0,
        _plain_vae(torch.nn.ReLU),
        says="vae.encoder must be nn.Sequential(nn.Linear, nn.Tanh(), nn.Linear), got "
        "Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=True)\n  (1): ReLU()\n"
        "  (2): Linear(in_features=3, out_features=4, bias=True)\n)",
    ),
    bad(
        MLP.load_plain,
        "another size",
        0,
        _plain_vae(torch.nn.Tanh, hidden=5),
        says="the plain VAE's enc_hidden layer has weight shape (5, 4), member 0 needs (3, 4)",
    ),
    bad(
        MLP.load_plain,
        "index 2",
        2,
        _plain_vae(torch.nn.Tanh),
        says="index must be in [0, 2), got 2",
    ),
    bad(
        MLP.copy_member_from, "no source", None, says="source must be a BatchedMLPVAE, got NoneType"
    ),
    bad(
        MLP.copy_member_from,
        "a linear source",
        LINEAR,
        says="source must be a BatchedMLPVAE, got BatchedLinearVAE",
    ),
    bad(
        MLP.copy_member_from,
        "another architecture",
        models.BatchedMLPVAE(1, 4, 5, 2),
        says="source must have the same data_dim, hidden_dim, latent_dim and outputs_per_pixel",
    ),
    bad(
        MLP.copy_member_from, "source_index 5", MLP, 5, says="source_index must be in [0, 2), got 5"
    ),
    bad(
        MLP.copy_member_from,
        "source_index str",
        MLP,
        "a",
        says="source_index must be in [0, 2), got 'a'",
    ),
    bad(
        MLP.copy_member_from,
        "source_index True",
        MLP,
        True,
        says="source_index must be in [0, 2), got True",
    ),
    bad(
        MLP.copy_member_from,
        "target_index 1.5",
        MLP,
        0,
        1.5,
        says="target_index must be in [0, 2), got 1.5",
    ),
    bad(
        MLP.copy_member_from,
        "target_index 2",
        MLP,
        0,
        2,
        says="target_index must be in [0, 2), got 2",
    ),
    bad(MLP.member, "index 5", 5, says="index must be in [0, 2), got 5"),
    bad(MLP.member, "index 1.0", 1.0, says="index must be in [0, 2), got 1.0"),
    bad(MLP.member, "index str", "a", says="index must be in [0, 2), got 'a'"),
    # models.BatchedLinearVAE and its methods, models.BatchedVAE
    bad(models.BatchedLinearVAE, "n_models 0", 0, says="n_models must be an integer >= 1, got 0"),
    bad(
        models.BatchedLinearVAE,
        "data_dim 1.5",
        1,
        1.5,
        says="data_dim must be an integer >= 1, got 1.5",
    ),
    bad(
        models.BatchedLinearVAE,
        "latent_dim 0",
        1,
        latent_dim=0,
        says="latent_dim must be an integer >= 1, got 0",
    ),
    bad(
        models.BatchedLinearVAE,
        "int dtype",
        1,
        dtype=torch.int32,
        says="dtype must be a floating-point torch dtype, got torch.int32",
    ),
    bad(
        models.BatchedLinearVAE,
        "seed str",
        1,
        seed="a",
        says="seed must be an integer >= 0, got 'a'",
    ),
    bad(
        LINEAR.encode,
        "float32 x, float64 model",
        X4,
        says="x has dtype torch.float32 but the model's parameters have torch.float64: convert "
        "it with x.to(model.dtype)",
    ),
    bad(
        LINEAR.decode,
        "3 latents",
        torch.zeros(5, 3, dtype=torch.float64),
        says="z must have shape (B, 2) or (2, B, 2), got (5, 3)",
    ),
    bad(
        models.BatchedVAE().encode,
        "the abstract base",
        X4,
        says="BatchedVAE is the shared base class: build a BatchedMLPVAE or a BatchedLinearVAE",
        error=NotImplementedError,
    ),
    bad(
        models.BatchedVAE().decode,
        "the abstract base",
        torch.zeros(5, 2),
        says="BatchedVAE is the shared base class: build a BatchedMLPVAE or a BatchedLinearVAE",
        error=NotImplementedError,
    ),
    # linear.covariance_eigenvalues
    bad(
        linear.covariance_eigenvalues,
        "1-D x",
        np.ones(5),
        says="x must have shape (N, D) with N >= 2, got (5,)",
    ),
    bad(
        linear.covariance_eigenvalues,
        "one row",
        np.ones((1, 3)),
        says="x must have shape (N, D) with N >= 2, got (1, 3)",
    ),
    bad(
        linear.covariance_eigenvalues,
        "no column",
        np.ones((3, 0)),
        says="x must have shape (N, D) with N >= 2, got (3, 0)",
    ),
    bad(
        linear.covariance_eigenvalues,
        "NaN",
        np.array([[1.0, math.nan], [0.0, 1.0]]),
        says="x contains NaN or infinite values",
    ),
    bad(
        linear.covariance_eigenvalues,
        "inf",
        np.array([[1.0, math.inf], [0.0, 1.0]]),
        says="x contains NaN or infinite values",
    ),
    bad(
        linear.covariance_eigenvalues,
        "str",
        "abc",
        says="x must be a numeric array of shape (N, D)",
    ),
    bad(
        linear.covariance_eigenvalues,
        "ragged rows",
        [[1.0, 2.0], [1.0]],
        says="x must be a numeric array of shape (N, D)",
    ),
    bad(
        linear.covariance_eigenvalues,
        "None",
        None,
        says="x must have shape (N, D) with N >= 2, got ()",
    ),
    # linear.ppca_active_dims, ppca_column_norms_sq, ppca_kl_per_latent
    bad(
        linear.ppca_active_dims,
        "no eigenvalue",
        [],
        0.5,
        says="eigenvalues must be a non-empty list of finite numbers >= 0",
    ),
    bad(
        linear.ppca_active_dims,
        "NaN eigenvalue",
        [1.0, math.nan],
        0.5,
        says="eigenvalues must be a non-empty list of finite numbers >= 0",
    ),
    bad(
        linear.ppca_active_dims,
        "negative eigenvalue",
        [1.0, -1.0],
        0.5,
        says="eigenvalues must be a non-empty list of finite numbers >= 0",
    ),
    bad(
        linear.ppca_active_dims,
        "eigenvalues str",
        "abc",
        0.5,
        says="eigenvalues must be a non-empty list of finite numbers >= 0",
    ),
    bad(
        linear.ppca_active_dims,
        "ragged eigenvalues",
        [[1.0], [1.0, 2.0]],
        0.5,
        says="eigenvalues must be a non-empty list of finite numbers >= 0",
    ),
    bad(
        linear.ppca_active_dims,
        "sigma 0",
        SPECTRUM,
        0.0,
        says="sigma must be positive and finite, got [0.0]",
    ),
    bad(linear.ppca_active_dims, "sigma NaN", SPECTRUM, math.nan, says="sigma contains NaN: [nan]"),
    bad(
        linear.ppca_active_dims,
        "two sigmas",
        SPECTRUM,
        [0.5, 0.6],
        says="sigma must be one positive number, got [0.5, 0.6]",
    ),
    bad(
        linear.ppca_active_dims,
        "sigma True",
        SPECTRUM,
        True,
        says="sigma must be a sequence of positive numbers, got True",
    ),
    bad(
        linear.ppca_active_dims,
        "sigma str",
        SPECTRUM,
        "a",
        says="sigma must be a sequence of positive numbers, got 'a'",
    ),
    bad(
        linear.ppca_active_dims,
        "latent_dim 0",
        SPECTRUM,
        0.5,
        0,
        says="latent_dim must be an integer >= 1, got 0",
    ),
    bad(
        linear.ppca_active_dims,
        "latent_dim True",
        SPECTRUM,
        0.5,
        True,
        says="latent_dim must be an integer >= 1, got True",
    ),
    bad(
        linear.ppca_column_norms_sq,
        "latent_dim 0",
        SPECTRUM,
        0.5,
        0,
        says="latent_dim must be an integer >= 1, got 0",
    ),
    bad(
        linear.ppca_column_norms_sq,
        "latent_dim 2.5",
        SPECTRUM,
        0.5,
        2.5,
        says="latent_dim must be an integer >= 1, got 2.5",
    ),
    bad(
        linear.ppca_column_norms_sq,
        "sigma < 0",
        SPECTRUM,
        -1.0,
        2,
        says="sigma must be positive and finite, got [-1.0]",
    ),
    bad(
        linear.ppca_column_norms_sq,
        "eigenvalues None",
        None,
        0.5,
        2,
        says="eigenvalues must be a non-empty list of finite numbers >= 0",
    ),
    bad(
        linear.ppca_kl_per_latent,
        "latent_dim None",
        SPECTRUM,
        0.5,
        None,
        says="latent_dim must be an integer >= 1, got None",
    ),
    bad(
        linear.ppca_kl_per_latent,
        "sigma inf",
        SPECTRUM,
        math.inf,
        2,
        says="sigma must be positive and finite, got [inf]",
    ),
    bad(
        linear.ppca_kl_per_latent,
        "inf eigenvalue",
        [math.inf],
        0.5,
        2,
        says="eigenvalues must be a non-empty list of finite numbers >= 0",
    ),
    # linear.ppca_neg_log_likelihood
    bad(
        linear.ppca_neg_log_likelihood,
        "1-D x",
        np.ones(5),
        0.5,
        2,
        says="x must have shape (N, D) with N >= 2, got (5,)",
    ),
    bad(
        linear.ppca_neg_log_likelihood,
        "sigma 0",
        np.eye(3),
        0.0,
        2,
        says="sigma must be positive and finite, got [0.0]",
    ),
    bad(
        linear.ppca_neg_log_likelihood,
        "latent_dim 2.5",
        np.eye(3),
        0.5,
        2.5,
        says="latent_dim must be an integer >= 1, got 2.5",
    ),
    bad(
        linear.ppca_neg_log_likelihood,
        "NaN in x",
        _with(torch.eye(3), math.nan),
        0.5,
        2,
        says="x contains NaN or infinite values",
    ),
    # linear.linear_vae_neg_elbo
    bad(
        linear.linear_vae_neg_elbo,
        "an MLP",
        MLP,
        X4,
        [0.5, 0.6],
        says="model must be a BatchedLinearVAE, got BatchedMLPVAE",
    ),
    bad(
        linear.linear_vae_neg_elbo,
        "one σ",
        LINEAR,
        X4.double(),
        [0.5],
        says="sigmas must hold one σ per member (2), got 1",
    ),
    bad(
        linear.linear_vae_neg_elbo,
        "σ 0",
        LINEAR,
        X4.double(),
        [0.5, 0.0],
        says="sigmas must be positive and finite, got [0.5, 0.0]",
    ),
    bad(
        linear.linear_vae_neg_elbo,
        "3 pixels",
        LINEAR,
        torch.rand(5, 3, dtype=torch.float64),
        [0.5, 0.6],
        says="x must have shape (N, 4) or (2, N, 4) with N >= 1, got (5, 3)",
    ),
    bad(
        linear.linear_vae_neg_elbo,
        "NaN in x",
        LINEAR,
        _with(X4.double(), math.nan),
        [0.5, 0.6],
        says="x contains NaN or infinite values",
    ),
    # linear.run_linear_sweep (every check runs before the data are loaded)
    bad(
        linear.run_linear_sweep,
        "no σ",
        [],
        says="sigmas must hold at least one σ, got an empty sequence",
    ),
    bad(linear.run_linear_sweep, "σ NaN", [math.nan], says="sigmas contains NaN: [nan]"),
    bad(
        linear.run_linear_sweep,
        "latent_dim 0",
        [0.5],
        latent_dim=0,
        says="latent_dim must be an integer >= 1, got 0",
    ),
    bad(
        linear.run_linear_sweep,
        "steps 0",
        [0.5],
        steps=0,
        says="steps must be an integer >= 1, got 0",
    ),
    bad(
        linear.run_linear_sweep,
        "batch_size 0",
        [0.5],
        batch_size=0,
        says="batch_size must be an integer >= 1, got 0",
    ),
    bad(
        linear.run_linear_sweep,
        "lr < 0",
        [0.5],
        lr=-1.0,
        says="lr must be finite and > 0, got -1.0",
    ),
    bad(
        linear.run_linear_sweep,
        "seed < 0",
        [0.5],
        seed=-1,
        says="seed must be an integer >= 0, got -1",
    ),
    bad(
        linear.run_linear_sweep,
        "n_recon 0",
        [0.5],
        n_recon=0,
        says="n_recon must be an integer >= 1, got 0",
    ),
    bad(
        linear.run_linear_sweep,
        "pixel_range 16 bit",
        [0.5],
        pixel_range="0..65535",
        says="pixel_range must be one of '0..1', '-1..1', '0..255', got '0..65535'",
    ),
    bad(
        linear.PixelRangeLinearVAE,
        "pixel_range 255",
        2,
        4,
        2,
        pixel_range=255,
        says="pixel_range must be one of '0..1', '-1..1', '0..255', got 255",
    ),
    bad(
        linear.LinearSweepResult.load,
        "nothing stored",
        MISSING_PATH,
        says=f"path '{MISSING_PATH}' holds no saved LinearSweepResult",
    ),
    # experiment.sigma_grid
    bad(experiment.sigma_grid, "n 0", 0, says="n must be an integer >= 1, got 0"),
    bad(experiment.sigma_grid, "n True", True, says="n must be an integer >= 1, got True"),
    bad(experiment.sigma_grid, "n 2.0", 2.0, says="n must be an integer >= 1, got 2.0"),
    bad(experiment.sigma_grid, "low 0", 3, 0.0, says="low must be > 0, got 0.0"),
    bad(experiment.sigma_grid, "low < 0", 3, -1.0, says="low must be > 0, got -1.0"),
    bad(experiment.sigma_grid, "high = low", 3, 0.5, 0.5, says="high must be > low = 0.5, got 0.5"),
    bad(
        experiment.sigma_grid,
        "high NaN",
        3,
        0.1,
        math.nan,
        says="high must be a finite number, got nan",
    ),
    bad(experiment.sigma_grid, "low str", 3, "a", says="low must be a finite number, got 'a'"),
    # experiment.Result
    bad(SWEEP.index_of, "σ 0", 0.0, says="sigma must be finite and > 0, got 0.0"),
    bad(SWEEP.index_of, "σ NaN", math.nan, says="sigma must be a number, got nan"),
    bad(
        SWEEP.index_of,
        "a σ as a string",
        "0.1",
        says="no config is labelled '0.1'; the labels are ['σ = 0.1', 'σ = 0.3', 'σ = 1.0']",
    ),
    bad(SWEEP.index_of, "σ True", True, says="sigma must be a number, got True"),
    bad(
        experiment.Result.load,
        "nothing stored",
        MISSING_PATH,
        says=f"path '{MISSING_PATH}' holds no saved Result",
    ),
    bad(
        experiment.Result.load, "None", None, says="path must be a str or os.PathLike, got NoneType"
    ),
    bad(SWEEP.save, "None", None, says="path must be a str or os.PathLike, got NoneType"),
    # experiment.run_sigma_sweep, train_single (checked before training; some after loading data)
    bad(
        experiment.run_sigma_sweep,
        "no σ",
        [],
        cache=False,
        says="sigmas must hold at least one σ, got an empty sequence",
    ),
    bad(
        experiment.run_sigma_sweep,
        "σ < 0",
        [0.3, -1.0],
        cache=False,
        says="sigmas must be positive and finite, got [0.3, -1.0]",
    ),
    bad(
        experiment.run_sigma_sweep,
        "two kl_weights for one σ",
        [0.3],
        kl_weight=[1.0, 2.0],
        cache=False,
        says="kl_weight must be one number or 1 numbers (one per member), got 2",
    ),
    bad(
        experiment.run_sigma_sweep,
        "kl_weight str in a list",
        [0.3],
        kl_weight=["a"],
        cache=False,
        says="kl_weight must be one number or a sequence of numbers, got ['a']",
    ),
    bad(
        experiment.run_sigma_sweep,
        "seed < 0",
        [0.3],
        seed=-1,
        cache=False,
        says="seed must be an integer >= 0, got -1",
    ),
    bad(
        experiment.run_sigma_sweep,
        "latent_dim 0",
        [0.3],
        latent_dim=0,
        cache=False,
        says="latent_dim must be an integer >= 1, got 0",
    ),
    bad(
        experiment.run_sigma_sweep,
        "hidden_dim 0",
        [0.3],
        hidden_dim=0,
        cache=False,
        says="hidden_dim must be an integer >= 1, got 0",
    ),
    bad(
        experiment.run_sigma_sweep,
        "steps 0",
        [0.3],
        steps=0,
        cache=False,
        says="steps must be an integer >= 1, got 0",
    ),
    bad(
        experiment.run_sigma_sweep,
        "lr NaN",
        [0.3],
        lr=math.nan,
        cache=False,
        says="lr must be a number, got nan",
    ),
    bad(
        experiment.train_single,
        "two σ",
        [0.1, 0.2],
        says="sigma must be one number, got [0.1, 0.2]",
    ),
    bad(experiment.train_single, "σ 0", 0.0, says="sigma must be positive and finite, got [0.0]"),
    bad(experiment.train_single, "σ NaN", math.nan, says="sigma contains NaN: [nan]"),
    bad(
        experiment.train_single,
        "σ str",
        "0.1",
        says="sigma must be a sequence of positive numbers, got '0.1'",
    ),
    bad(
        experiment.train_single,
        "steps 0",
        0.3,
        steps=0,
        says="steps must be an integer >= 1, got 0",
    ),
    # data.dequantise, binarise
    bad(
        data.dequantise,
        "x above 1",
        torch.tensor([[0.5, 1.5]]),
        0,
        says="x must lie in [0, 1], got values in [0.5, 1.5]",
    ),
    bad(data.dequantise, "NaN", torch.tensor([[0.5, math.nan]]), 0, says="x contains NaN"),
    bad(
        data.dequantise,
        "int x",
        torch.tensor([1, 0]),
        0,
        says="x must be a floating-point torch.Tensor",
    ),
    bad(data.dequantise, "list x", [0.5], 0, says="x must be a floating-point torch.Tensor"),
    bad(data.dequantise, "seed str", X, "a", says="seed must be an integer >= 0, got 'a'"),
    bad(data.dequantise, "seed < 0", X, -1, says="seed must be an integer >= 0, got -1"),
    bad(data.dequantise, "seed 1.5", X, 1.5, says="seed must be an integer >= 0, got 1.5"),
    bad(data.binarise, "NaN", torch.tensor([math.nan, 0.7]), says="x contains NaN"),
    bad(
        data.binarise, "int x", torch.tensor([1, 0]), says="x must be a floating-point torch.Tensor"
    ),
    bad(data.binarise, "list x", [0.5], says="x must be a floating-point torch.Tensor"),
    # experiment.Config
    bad(
        experiment.Config,
        "empty label",
        "",
        "gaussian",
        says="label must be a non-empty string, got ''",
    ),
    bad(
        experiment.Config, "label 3", 3, "gaussian", says="label must be a non-empty string, got 3"
    ),
    bad(
        experiment.Config,
        "unknown likelihood",
        "a",
        "gauss",
        says=f"unknown likelihood 'gauss'; known likelihoods: {KNOWN}",
    ),
    bad(
        experiment.Config,
        "a list for a likelihood",
        "a",
        ["gaussian"],
        says=f"likelihood must be a name (one of {KNOWN}) or a Likelihood, got ['gaussian']",
    ),
    bad(
        experiment.Config,
        "kl_warmup 1.5",
        "a",
        "gaussian",
        kl_warmup=1.5,
        says="kl_warmup must be an integer >= 0, got 1.5",
    ),
    bad(
        experiment.Config,
        "free_bits < 0",
        "a",
        "gaussian",
        free_bits=-0.5,
        says="free_bits must be finite and >= 0, got -0.5",
    ),
    bad(
        experiment.Config,
        "sigma < 0",
        "a",
        "gaussian",
        sigma=-1.0,
        says="sigma must be finite and > 0, got -1.0",
    ),
    bad(
        experiment.Config,
        "sigma True",
        "a",
        "gaussian",
        sigma=True,
        says="sigma must be a number, got True",
    ),
    bad(
        experiment.Config,
        "sigma NaN",
        "a",
        "gaussian",
        sigma=math.nan,
        says="sigma must be a number, got nan",
    ),
    bad(
        experiment.Config,
        "sigma str",
        "a",
        "gaussian",
        sigma="1",
        says="sigma must be a number, got '1'",
    ),
    bad(
        experiment.Config,
        "unknown data",
        "a",
        "gaussian",
        data="noisy",
        says="data must be one of ('grey', 'binary', 'dequantised'), got 'noisy'",
    ),
    bad(
        experiment.Config,
        "scale_floor of a fixed scale",
        "a",
        "gaussian",
        scale_floor=0.1,
        says="scale_floor applies to a learned, optimal or per-pixel scale; the likelihood "
        "'gaussian' has none",
    ),
    bad(
        experiment.Config,
        "scale_floor < 0",
        "a",
        "gaussian-learned",
        scale_floor=-0.1,
        says="scale_floor must be a finite number >= 0, got -0.1",
    ),
    bad(
        experiment.Config,
        "unknown code_loss",
        "a",
        "gaussian",
        code_loss="keras",
        says=f"code_loss must be one of {list(real_code.CODE_LOSSES)} or empty, got 'keras'",
    ),
    # real_code
    bad(
        real_code.digits_loss,
        "unknown key",
        "keras",
        batch_size=8,
        pixels=4,
        n_train=10,
        says=f"unknown code loss 'keras'; the keys are {list(real_code.CODE_LOSSES)}",
    ),
    bad(
        real_code.digits_loss,
        "batch_size 0",
        "keras-io",
        batch_size=0,
        pixels=4,
        n_train=10,
        says="batch_size must be a positive int, got 0",
    ),
    bad(
        real_code.digits_loss,
        "pixels True",
        "keras-io",
        batch_size=8,
        pixels=True,
        n_train=10,
        says="pixels must be a positive int, got True",
    ),
    bad(
        real_code.digits_loss,
        "n_train 2.5",
        "keras-io",
        batch_size=8,
        pixels=4,
        n_train=2.5,
        says="n_train must be a positive int, got 2.5",
    ),
    bad(
        real_code.member_losses,
        "one flag for two losses",
        [real_code.pytorch_vae(1.0), real_code.pytorch_vae(2.0)],
        [True],
        says="losses must be a non-empty list of callables, one sigmoid flag each",
    ),
    bad(
        real_code.member_losses,
        "not callable",
        [3],
        [True],
        says="losses must be a non-empty list of callables, one sigmoid flag each",
    ),
    bad(
        real_code.train_loss,
        "loss not callable",
        3,
        steps=1,
        says="loss must be a callable loss(x_hat, x, mu, logvar), got 3",
    ),
    bad(
        real_code.train_loss,
        "sigmoid 'yes'",
        real_code.pytorch_vae(1.0),
        sigmoid="yes",
        steps=1,
        says="sigmoid must be True or False, got 'yes'",
    ),
    bad(
        real_code.train_loss,
        "a loss that returns one value per image",
        lambda x_hat, x, mu, logvar: ((x - x_hat) ** 2).sum(dim=1),
        steps=1,
        says="loss 0 must return a scalar tensor (one number for the batch), got torch.Size([256])",
    ),
    bad(real_code.pytorch_vae, "NaN weight", math.nan, says="kld_weight must be a number, got nan"),
    bad(
        real_code.pytorch_vae, "zero weight", 0.0, says="kld_weight must be finite and > 0, got 0.0"
    ),
    bad(
        real_code.sigma_vae,
        "inf log_sigma",
        math.inf,
        says="log_sigma must be a finite number, got inf",
    ),
    bad(
        real_code.sigma_vae, "str log_sigma", "0", says="log_sigma must be a finite number, got '0'"
    ),
    bad(
        real_code.CodeLoss,
        "unknown likelihood",
        "t",
        "s",
        "c",
        False,
        "gauss",
        says=f"unknown likelihood 'gauss'; known likelihoods: {KNOWN}",
    ),
    bad(
        real_code.CodeLoss,
        "sigma 0",
        "t",
        "s",
        "c",
        False,
        "gaussian",
        0.0,
        says="sigma must be finite and > 0, got 0.0",
    ),
    # experiment.Result
    bad(VARIANTS.index_of, "unknown label", "nope", says=f"no config is labelled 'nope'; {LABELS}"),
    bad(
        VARIANTS.per_pixel_nll,
        "unknown label",
        "nope",
        says=f"no config is labelled 'nope'; {LABELS}",
    ),
    # experiment.run (every check runs before the data are loaded)
    bad(experiment.run, "no config", [], says="configs must be a non-empty list of Config"),
    bad(
        experiment.run,
        "code_loss on one variant only",
        [
            experiment.Config("a", "gaussian"),
            experiment.Config("b", "gaussian", code_loss="keras-example-mse"),
        ],
        says="either every config has a code_loss or none has",
    ),
    bad(
        experiment.run,
        "one bare Config",
        experiment.Config("a", "gaussian"),
        says="configs must be a non-empty list of Config",
    ),
    bad(
        experiment.run,
        "a str for a config",
        ["a"],
        says="configs must be a non-empty list of Config",
    ),
    bad(
        experiment.run,
        "a label twice",
        [experiment.Config("a", "gaussian"), experiment.Config("a", "laplace")],
        says="config labels must be unique, got ['a', 'a']",
    ),
    bad(
        experiment.run,
        "latent_dim 0",
        [experiment.Config("a", "gaussian")],
        latent_dim=0,
        says="latent_dim must be an integer >= 1, got 0",
    ),
    bad(
        experiment.run,
        "hidden_dim 0",
        [experiment.Config("a", "gaussian")],
        hidden_dim=0,
        says="hidden_dim must be an integer >= 1, got 0",
    ),
    bad(
        experiment.run,
        "steps 0",
        [experiment.Config("a", "gaussian")],
        steps=0,
        says="steps must be an integer >= 1, got 0",
    ),
    bad(
        experiment.run,
        "batch_size 0",
        [experiment.Config("a", "gaussian")],
        batch_size=0,
        says="batch_size must be an integer >= 1, got 0",
    ),
    bad(
        experiment.run,
        "lr 0",
        [experiment.Config("a", "gaussian")],
        lr=0,
        says="lr must be finite and > 0, got 0",
    ),
    bad(
        experiment.run,
        "seed str",
        [experiment.Config("a", "gaussian")],
        seed="a",
        says="seed must be an integer >= 0, got 'a'",
    ),
    bad(
        experiment.run,
        "record_every 0",
        [experiment.Config("a", "gaussian")],
        record_every=0,
        says="record_every must be an integer >= 1, got 0",
    ),
    bad(
        experiment.run,
        "an unknown override",
        [experiment.Config("a")],
        sigmas=[0.1],
        says="unknown Config fields ['sigmas']",
    ),
    bad(
        experiment.run,
        "configs that cannot be one model",
        [experiment.Config("a"), experiment.Config("b", latent_dim=3)],
        says="the configs of one run train as one model and must share latent_dim, got [2, 3]",
    ),
    bad(
        experiment.Config,
        "kl_weight < 0",
        "a",
        kl_weight=-1.0,
        says="kl_weight must be finite and >= 0, got -1.0",
    ),
    bad(
        experiment.Config,
        "latent_dim 0",
        "a",
        latent_dim=0,
        says="latent_dim must be an integer >= 1, got 0",
    ),
    bad(experiment.Config, "seed -1", "a", seed=-1, says="seed must be an integer >= 0, got -1"),
    bad(
        experiment.with_fields,
        "one bare Config",
        experiment.Config("a"),
        seed=1,
        says="configs must be a non-empty list of Config",
    ),
    bad(
        experiment.with_fields,
        "an unknown field",
        [experiment.Config("a")],
        beta=2.0,
        says="unknown Config fields ['beta']",
    ),
    bad(
        experiment.with_fields,
        "a bad value",
        [experiment.Config("a")],
        steps=0,
        says="steps must be an integer >= 1, got 0",
    ),
    # experiment.fine_tune (every check runs before anything is trained)
    bad(
        experiment.fine_tune,
        "no result",
        None,
        "a",
        [experiment.Config("a")],
        says="result must be a Result, got NoneType",
    ),
    bad(
        experiment.fine_tune,
        "a σ for a label",
        VARIANTS,
        0.1,
        [experiment.Config("a")],
        says="label must be a string, got 0.1",
    ),
    bad(
        experiment.fine_tune,
        "no configs",
        VARIANTS,
        "learned",
        [],
        says="configs must be a non-empty list of Config",
    ),
    bad(
        experiment.fine_tune,
        "trainable str",
        VARIANTS,
        "learned",
        [experiment.Config("a")],
        trainable="dec_out",
        says="trainable must be a tuple of parameter-name prefixes, got 'dec_out'",
    ),
    # data.member_data
    bad(
        data.member_data,
        "unknown kind",
        X,
        ["grey", "noisy"],
        "train",
        says="kinds must be a non-empty list of ('grey', 'binary', 'dequantised'), got "
        "['grey', 'noisy']",
    ),
    bad(
        data.member_data,
        "no kinds",
        X,
        [],
        "train",
        says="kinds must be a non-empty list of ('grey', 'binary', 'dequantised'), got []",
    ),
    bad(
        data.member_data,
        "unknown split",
        X,
        ["grey"],
        "valid",
        says='split must be "train" or "test", got \'valid\'',
    ),
    bad(
        data.member_data,
        "NaN",
        torch.tensor([[math.nan]]),
        ["grey"],
        "train",
        says="x contains NaN",
    ),
    # experiment.sigma_configs
    bad(
        experiment.sigma_configs, "σ 0", [0.0], says="sigmas must be positive and finite, got [0.0]"
    ),
    bad(
        experiment.sigma_configs,
        "two β for one σ",
        [0.3],
        kl_weight=[1.0, 2.0],
        says="kl_weight must be one number or 1 numbers (one per member), got 2",
    ),
    bad(
        experiment.sigma_configs,
        "an unknown field",
        [0.3],
        sigma_floor=0.1,
        says="unknown Config fields ['sigma_floor']",
    ),
    # variants.lower_floor (every check runs before anything is trained)
    bad(variants.lower_floor, "no result", None, "a", says="result must be a Result, got NoneType"),
    bad(
        variants.lower_floor,
        "not a per-pixel σ",
        VARIANTS,
        "learned",
        says="lower_floor needs a per-pixel σ with a floor; 'learned' is 'gaussian-learned' with "
        "floor 0",
    ),
    bad(
        variants.lower_floor,
        "unknown label",
        VARIANTS,
        "nothing",
        says=f"no config is labelled 'nothing'; {LABELS}",
    ),
    bad(
        variants.lower_floor,
        "factor below 1",
        VARIANTS,
        "per pixel",
        factor=0.5,
        says="factor must be > 1 (it divides the floor), got 0.5",
    ),
    bad(
        variants.lower_floor,
        "factor NaN",
        VARIANTS,
        "per pixel",
        factor=math.nan,
        says="factor must be a number, got nan",
    ),
    bad(
        variants.lower_floor,
        "factor True",
        VARIANTS,
        "per pixel",
        factor=True,
        says="factor must be a number, got True",
    ),
    bad(
        variants.lower_floor,
        "steps 0",
        VARIANTS,
        "per pixel",
        steps=0,
        says="steps must be an integer >= 1, got 0",
    ),
    bad(
        variants.lower_floor,
        "lr < 0",
        VARIANTS,
        "per pixel",
        lr=-1.0,
        says="lr must be finite and > 0, got -1.0",
    ),
    # data.pixel_range_bounds, data.to_pixel_range
    bad(
        data.pixel_range_bounds,
        "[0, 1] spelled otherwise",
        "[0, 1]",
        says="pixel_range must be one of '0..1', '-1..1', '0..255', got '[0, 1]'",
    ),
    bad(
        data.to_pixel_range,
        "None",
        np.ones(3),
        None,
        says="pixel_range must be one of '0..1', '-1..1', '0..255', got None",
    ),
    # data.load_digits_split
    bad(
        data.load_digits_split,
        "test_fraction 0",
        0,
        says="test_fraction must be a number in (0, 1), got 0",
    ),
    bad(
        data.load_digits_split,
        "test_fraction 1",
        1.0,
        says="test_fraction must be a number in (0, 1), got 1.0",
    ),
    bad(
        data.load_digits_split,
        "test_fraction NaN",
        math.nan,
        says="test_fraction must be a number in (0, 1), got nan",
    ),
    bad(
        data.load_digits_split,
        "test_fraction str",
        "0.25",
        says="test_fraction must be a number in (0, 1), got '0.25'",
    ),
    bad(
        data.load_digits_split,
        "test_fraction True",
        True,
        says="test_fraction must be a number in (0, 1), got True",
    ),
    bad(
        data.load_digits_split,
        "2 test images",
        0.001,
        says="test_fraction 0.001 leaves 2 test and 1795 training images: a stratified split "
        "needs at least 10 (one per digit) in each",
    ),
    bad(
        data.load_digits_split,
        "1 training image",
        0.9995,
        says="test_fraction 0.9995 leaves 1797 test and 0 training images: a stratified split "
        "needs at least 10 (one per digit) in each",
    ),
    bad(
        data.load_digits_split,
        "seed < 0",
        0.25,
        -1,
        says="seed must be in [0, 2**32) (scikit-learn's range), got -1",
    ),
    bad(
        data.load_digits_split,
        "seed 2**32",
        0.25,
        2**32,
        says="seed must be in [0, 2**32) (scikit-learn's range), got 4294967296",
    ),
    bad(data.load_digits_split, "seed 1.5", 0.25, 1.5, says="seed must be an integer, got 1.5"),
    bad(
        data.load_digits_split,
        "int dtype",
        dtype=torch.int64,
        says="dtype must be a floating-point torch dtype, got torch.int64",
    ),
    bad(
        data.load_digits_split,
        "dtype str",
        dtype="float32",
        says="dtype must be a floating-point torch dtype, got 'float32'",
    ),
    # settings: the environment variables are their input
    bad(
        settings.default_seed,
        "VAEBOOK_SEED two",
        env={"VAEBOOK_SEED": "two"},
        says="the environment variable VAEBOOK_SEED must be an integer >= 0, got 'two'",
    ),
    bad(
        settings.default_seed,
        "VAEBOOK_SEED -1",
        env={"VAEBOOK_SEED": "-1"},
        says="the environment variable VAEBOOK_SEED must be an integer >= 0, got '-1'",
    ),
    bad(
        settings.default_seed,
        "VAEBOOK_SEED 1.5",
        env={"VAEBOOK_SEED": "1.5"},
        says="the environment variable VAEBOOK_SEED must be an integer >= 0, got '1.5'",
    ),
    bad(
        settings.torch_threads,
        "VAEBOOK_THREADS 0",
        env={"VAEBOOK_THREADS": "0"},
        says="the environment variable VAEBOOK_THREADS must be an integer >= 1, got '0'",
    ),
    bad(
        settings.torch_threads,
        "VAEBOOK_THREADS many",
        env={"VAEBOOK_THREADS": "many"},
        says="the environment variable VAEBOOK_THREADS must be an integer >= 1, got 'many'",
    ),
    bad(
        _entered(settings.training_threads),
        "VAEBOOK_THREADS 0",
        env={"VAEBOOK_THREADS": "0"},
        says="the environment variable VAEBOOK_THREADS must be an integer >= 1, got '0'",
    ),
    bad(
        settings.numerics,
        "VAEBOOK_THREADS -2",
        env={"VAEBOOK_THREADS": "-2"},
        says="the environment variable VAEBOOK_THREADS must be an integer >= 1, got '-2'",
    ),
    # cache
    bad(
        cache.cache_dir,
        "a folder inside a file",
        env={"VAEBOOK_CACHE_DIR": "/dev/null/cache"},
        says="[Errno 20] Not a directory: '/dev/null/cache'",
        error=NotADirectoryError,
    ),
    bad(
        cache.environment,
        "VAEBOOK_THREADS x",
        env={"VAEBOOK_THREADS": "x"},
        says="the environment variable VAEBOOK_THREADS must be an integer >= 1, got 'x'",
    ),
    bad(
        cache.source_fingerprint,
        "one str",
        "vaebook.data",
        says="modules must be a tuple of module names, got 'vaebook.data'",
    ),
    bad(
        cache.source_fingerprint,
        "a number",
        (3,),
        says="modules must be a tuple of module names, got (3,)",
    ),
    bad(
        cache.source_fingerprint,
        "unknown module",
        ("vaebook.nope",),
        says="modules: cannot find the source of 'vaebook.nope'",
    ),
    bad(
        cache.source_fingerprint,
        "unknown package",
        ("nopkg.sub",),
        says="modules: cannot find the source of 'nopkg.sub'",
    ),
    bad(
        cache.source_fingerprint,
        "a built-in module",
        ("sys",),
        says="modules: cannot find the source of 'sys'",
    ),
    bad(cache.cache_key, "kind 3", 3, {}, says="kind must be a non-empty string, got 3"),
    bad(cache.cache_key, "empty kind", "", {}, says="kind must be a non-empty string, got ''"),
    bad(
        cache.cache_key,
        "hyperparameters list",
        "k",
        [1],
        says="hyperparameters must be a dict, got list",
    ),
    bad(
        cache.cache_key,
        "an object",
        "k",
        {"a": object()},
        says="hyperparameters: cannot hash a value of type object",
    ),
    bad(
        cache.cache_key,
        "a set",
        "k",
        {"a": {1}},
        says="hyperparameters: cannot hash a value of type set",
    ),
    bad(cache.cache_path, "kind None", None, {}, says="kind must be a non-empty string, got None"),
    bad(
        cache.cache_path,
        "hyperparameters None",
        "k",
        None,
        says="hyperparameters must be a dict, got NoneType",
    ),
    bad(
        cache.store,
        "write not callable",
        MISSING_PATH,
        3,
        says="write must be callable as write(folder), got int",
    ),
    bad(
        cache.store,
        "path None",
        None,
        print,
        says="path must be a str or os.PathLike, got NoneType",
    ),
    bad(cache.verify, "no folder", MISSING_PATH, says="not a folder", error=cache.CacheDamaged),
    bad(cache.verify, "path None", None, says="path must be a str or os.PathLike, got NoneType"),
    bad(
        cache.load_or_compute,
        "compute not callable",
        "k",
        {},
        experiment.Result.load,
        3,
        says="compute must be callable as compute(), got int",
    ),
    bad(
        cache.load_or_compute,
        "load None",
        "k",
        {},
        None,
        dict,
        says="load must be callable as load(folder), got NoneType",
    ),
    bad(
        cache.load_or_compute,
        "empty kind",
        "",
        {},
        experiment.Result.load,
        dict,
        says="kind must be a non-empty string, got ''",
    ),
    bad(
        cache.load_or_compute,
        "key list",
        "k",
        [1],
        experiment.Result.load,
        dict,
        says="hyperparameters must be a dict, got list",
    ),
    bad(
        cache.load_or_compute,
        "modules str",
        "k",
        {},
        experiment.Result.load,
        dict,
        modules="vaebook.data",
        says="modules must be a tuple of module names, got 'vaebook.data'",
    ),
    bad(
        cache.StoredResult.load,
        "nothing stored",
        MISSING_PATH,
        says=f"path '{MISSING_PATH}' holds no saved StoredResult",
    ),
    bad(cache.StoredResult.load, "path 3", 3, says="path must be a str or os.PathLike, got int"),
    # calculator
    bad(
        calculator.loss_assumptions,
        "recon_loss huber",
        **dict(SETTINGS, recon_loss="huber"),
        says="recon_loss must be one of 'mse', 'l1', 'bce', got 'huber'",
    ),
    bad(
        calculator.loss_assumptions,
        "recon_loss list",
        **dict(SETTINGS, recon_loss=["mse"]),
        says="recon_loss must be one of 'mse', 'l1', 'bce', got ['mse']",
    ),
    bad(
        calculator.loss_assumptions,
        "recon_reduction none",
        **dict(SETTINGS, recon_reduction="none"),
        says="recon_reduction must be one of 'sum', 'batchmean', 'mean', got 'none'",
    ),
    bad(
        calculator.loss_assumptions,
        "kl_reduction None",
        **dict(SETTINGS, kl_reduction=None),
        says="kl_reduction must be one of 'sum', 'batchmean', 'mean', got None",
    ),
    bad(
        calculator.loss_assumptions,
        "pixel_range 16 bit",
        **dict(SETTINGS, pixel_range="0..65535"),
        says="pixel_range must be one of '0..1', '-1..1', '0..255', got '0..65535'",
    ),
    bad(
        calculator.loss_assumptions,
        "kl_weight 0",
        **dict(SETTINGS, kl_weight=0.0),
        says="kl_weight must be a finite number > 0, got 0.0",
    ),
    bad(
        calculator.loss_assumptions,
        "kl_weight inf",
        **dict(SETTINGS, kl_weight=math.inf),
        says="kl_weight must be a finite number > 0, got inf",
    ),
    bad(
        calculator.loss_assumptions,
        "kl_weight str",
        **dict(SETTINGS, kl_weight="1"),
        says="kl_weight must be a finite number > 0, got '1'",
    ),
    bad(
        calculator.loss_assumptions,
        "kl_weight True",
        **dict(SETTINGS, kl_weight=True),
        says="kl_weight must be a finite number > 0, got True",
    ),
    bad(
        calculator.loss_assumptions,
        "no image dimension",
        **dict(SETTINGS, image_shape=()),
        says="image_shape must have at least one dimension",
    ),
    bad(
        calculator.loss_assumptions,
        "a 0 in image_shape",
        **dict(SETTINGS, image_shape=(28, 0)),
        says="every entry of image_shape must be a positive integer, got 0",
    ),
    bad(
        calculator.loss_assumptions,
        "image_shape None",
        **dict(SETTINGS, image_shape=None),
        says="every entry of image_shape must be a positive integer, got None",
    ),
    bad(
        calculator.loss_assumptions,
        "image_shape str",
        **dict(SETTINGS, image_shape="28x28"),
        says="every entry of image_shape must be a positive integer, got '28x28'",
    ),
    bad(
        calculator.loss_assumptions,
        "batch_size 0",
        **dict(SETTINGS, batch_size=0),
        says="batch_size must be a positive integer, got 0",
    ),
    bad(
        calculator.loss_assumptions,
        "batch_size 2.0",
        **dict(SETTINGS, batch_size=2.0),
        says="batch_size must be a positive integer, got 2.0",
    ),
    bad(
        calculator.loss_assumptions,
        "latent_dim < 0",
        **dict(SETTINGS, latent_dim=-3),
        says="latent_dim must be a positive integer, got -3",
    ),
    bad(
        calculator.loss_assumptions,
        "BCE on [-1, 1]",
        **dict(SETTINGS, recon_loss="bce", pixel_range="-1..1"),
        says="binary cross-entropy needs targets in [0, 1]: choose pixel_range '0..1', not '-1..1'",
    ),
    bad(
        calculator.loss_calculator_html,
        "element_id 3",
        3,
        says="element_id must be a non-empty string, got 3",
    ),
    bad(
        calculator.loss_calculator_html,
        "empty element_id",
        "",
        says="element_id must be a non-empty string, got ''",
    ),
    bad(
        calculator.show_loss_calculator,
        "element_id None",
        None,
        says="element_id must be a non-empty string, got None",
    ),
    # audit.audit_loss
    bad(
        audit.audit_loss,
        "loss None",
        None,
        **PROBE,
        says="audit_loss: loss must be a callable loss(x_hat, x, mu, logvar); got NoneType",
    ),
    bad(
        audit.audit_loss,
        "two arguments",
        lambda x_hat, x: F.mse_loss(x_hat, x),
        **PROBE,
        says="audit_loss: loss must accept four positional arguments loss(x_hat, x, mu, "
        "logvar); its signature is (x_hat, x)",
    ),
    bad(
        audit.audit_loss,
        "image_shape None",
        _mse,
        **dict(PROBE, image_shape=None),
        says="audit_loss: image_shape must be a non-empty tuple of positive ints (the shape of "
        "one image, e.g. (28, 28)); got None",
    ),
    bad(
        audit.audit_loss,
        "image_shape str",
        _mse,
        **dict(PROBE, image_shape="8x8"),
        says="audit_loss: image_shape must be a non-empty tuple of positive ints (the shape of "
        "one image, e.g. (28, 28)); got '8x8'",
    ),
    bad(
        audit.audit_loss,
        "a negative size in image_shape",
        _mse,
        **dict(PROBE, image_shape=(8, -1)),
        says="audit_loss: image_shape must be a non-empty tuple of positive ints (the shape of "
        "one image, e.g. (28, 28)); got (8, -1)",
    ),
    bad(
        audit.audit_loss,
        "pixel_range reversed",
        _mse,
        **dict(PROBE, pixel_range=(255, 0)),
        says="audit_loss: pixel_range must be two finite numbers (low, high) with low < high, "
        "the range of the data's pixels, e.g. (-1, 1); got (255, 0)",
    ),
    bad(
        audit.audit_loss,
        "largest_variance negative",
        _mse,
        **dict(PROBE, largest_variance=-0.7),
        says="audit_loss: largest_variance must be None or a finite number > 0 (the data's "
        "largest principal variance, in the units of pixel_range); got -0.7",
    ),
    bad(
        audit.audit_loss,
        "latent_dim str",
        _mse,
        **dict(PROBE, latent_dim="2"),
        says="audit_loss: latent_dim must be a positive int; got '2'",
    ),
    bad(
        audit.audit_loss,
        "batch_size 0",
        _mse,
        **dict(PROBE, batch_size=0),
        says="audit_loss: batch_size must be a positive int; got 0",
    ),
    bad(
        audit.audit_loss,
        "loss returns None",
        lambda x_hat, x, mu, logvar: None,
        **PROBE,
        says=f"{AUDIT_CALL} must return a scalar tensor; got NoneType",
    ),
    bad(
        audit.audit_loss,
        "loss returns a vector",
        lambda x_hat, x, mu, logvar: x.sum(dim=(1, 2)),
        **PROBE,
        says=f"{AUDIT_CALL} must return a scalar tensor; got shape (2,)",
    ),
    bad(
        audit.audit_loss,
        "loss returns NaN",
        lambda x_hat, x, mu, logvar: x.sum() * math.nan,
        **PROBE,
        says=f"{AUDIT_CALL} returned nan on the probe inputs; it must be finite for "
        "x_hat in [0.05, 0.95], x in [0, 1] and moderate mu and logvar",
    ),
    bad(
        audit.audit_loss,
        "loss returns float16",
        lambda x_hat, x, mu, logvar: x.sum().half(),
        **PROBE,
        says=f"{AUDIT_CALL} returns torch.float16, too coarse to audit; compute it in "
        "float32 or float64",
    ),
    bad(
        audit.audit_loss,
        "loss raises",
        _raises,
        **PROBE,
        says=f"{AUDIT_CALL} raised RuntimeError: decoder exploded on x_hat and x of shape "
        "(2, 2, 2) (values in [0, 1]) and mu and logvar of shape (2, 1), dtype float32 (it "
        "also fails on float64 inputs)",
    ),
    # symbolic
    bad(
        symbolic.proved_difference,
        "str lhs",
        "z",
        "z",
        says="lhs must be a SymPy expression or a number, got str",
    ),
    bad(
        symbolic.proved_difference,
        "rhs None",
        Z,
        None,
        says="rhs must be a SymPy expression or a number, got NoneType",
    ),
    bad(
        symbolic.show_equation,
        "name 3",
        Z,
        Z,
        3,
        says="name must be a LaTeX string or None, got int",
    ),
    bad(
        symbolic.show_equation,
        "list lhs",
        [Z],
        Z,
        says="lhs must be a SymPy expression or a number, got list",
    ),
    bad(
        symbolic.show_equation,
        "a wrong step",
        Z + 1,
        Z,
        error=AssertionError,
        says="SymPy could not prove the step: lhs - rhs = 1",
    ),
    bad(
        symbolic.show_equation,
        "assuming a string",
        Z,
        Z,
        assuming="z > 0",
        says="assuming must be a SymPy condition such as j <= D, or None, got str",
    ),
    bad(
        symbolic.proved_difference,
        "assuming a number",
        Z,
        Z,
        1,
        says="assuming must be a SymPy condition such as j <= D, or None, got int",
    ),
    bad(
        symbolic.show_equation,
        "a step that needs its assumption",
        sp.Piecewise((Z, sp.Symbol("j") <= sp.Symbol("D")), (0, True)),
        Z,
        error=AssertionError,
        says="SymPy could not prove the step: lhs - rhs = Piecewise((0, D >= j), (-z, True))",
    ),
    bad(
        symbolic.book_latex,
        "a string",
        "x - mu",
        says="expr must be a SymPy expression or a number, got str",
    ),
    bad(
        symbolic.book_latex,
        "True",
        True,
        says="expr must be a SymPy expression or a number, got bool",
    ),
    bad(
        symbolic.show_check,
        "an empty statement",
        " ",
        True,
        "1e-12",
        says="statement must be a non-empty string, got ' '",
    ),
    bad(
        symbolic.show_check,
        "holds a float",
        "agree",
        1e-12,
        "1e-12",
        says="holds must be True or False, got float",
    ),
    bad(
        symbolic.show_check,
        "holds a tensor of two",
        "agree",
        torch.tensor([True, True]),
        "1e-12",
        says="holds must be True or False, got Tensor",
    ),
    bad(
        symbolic.show_check,
        "numbers a float",
        "agree",
        True,
        1e-12,
        says="numbers must be a string, got float",
    ),
    bad(
        symbolic.show_check,
        "details None",
        "agree",
        True,
        "1e-12",
        None,
        says="details must be a string, got NoneType",
    ),
    bad(
        symbolic.show_check,
        "a check that fails",
        "All agree",
        False,
        "largest difference 0.1",
        error=AssertionError,
        says="the check does not hold: All agree (largest difference 0.1)",
    ),
    # explorer
    bad(
        explorer.LatentExplorer,
        "a negative sigma",
        **_explorer_with(sigmas=np.array([0.1, -1.0])),
        says="sigmas must be positive, got [0.1, -1.0]",
    ),
    bad(
        explorer.LatentExplorer,
        "NaN in codes",
        **_explorer_with(codes=np.full((2, 5, 2), math.nan)),
        says="codes: contains NaN or infinite values",
    ),
    bad(
        explorer.LatentExplorer,
        "codes of 3 latents",
        **_explorer_with(codes=np.zeros((2, 5, 3))),
        says="codes: expected shape (2, N, 2), got (2, 5, 3)",
    ),
    bad(
        explorer.LatentExplorer,
        "a decoder layer missing",
        **_explorer_with(decoders={"dec_out_bias": np.zeros((2, 1, 64))}),
        says="decoders: expected the layers ['dec_hidden_weight', 'dec_hidden_bias', "
        "'dec_out_weight', 'dec_out_bias'], got ['dec_out_bias']",
    ),
    bad(
        explorer.LatentExplorer,
        "a decoder for 8 latents",
        **_explorer_with(
            decoders=dict(EXPLORER_PARTS["decoders"], dec_hidden_weight=np.zeros((2, 8, 4)))
        ),
        says="decoders['dec_hidden_weight']: expected shape (2, 2, 4) (K = 2 σ, 2 latents), "
        "got (2, 8, 4)",
    ),
    bad(
        explorer.LatentExplorer,
        "images above 1",
        **_explorer_with(images=np.full((5, 64), 2.0)),
        says="images: pixel values must lie in [0, 1]",
    ),
    bad(
        explorer.LatentExplorer,
        "a label 10",
        **_explorer_with(labels=np.array([0, 1, 2, 3, 10])),
        says="labels: expected 5 digits 0–9, got shape (5,)",
    ),
    bad(
        explorer.LatentExplorer,
        "kl of the wrong length",
        **_explorer_with(kl=np.array([1.0])),
        says="kl: expected shape (2,), got (1,)",
    ),
    bad(
        explorer.LatentExplorer,
        "start outside the grid",
        **_explorer_with(start=2),
        says="index: 2 is outside 0..1",
    ),
    bad(
        EXPLORER.decode, "index True", True, (0.0, 0.0), says="index: expected an integer, got True"
    ),
    bad(
        EXPLORER.decode,
        "a point of 3 coordinates",
        0,
        (0.0, 0.0, 1.0),
        says="z: expected a point (z1, z2) of the plane, got (0.0, 0.0, 1.0)",
    ),
    bad(
        EXPLORER.decode,
        "NaN in the point",
        0,
        (math.nan, 0.0),
        says="z: expected finite coordinates, got (nan, 0.0)",
    ),
    bad(EXPLORER.nearest, "index -1", -1, (0.0, 0.0), says="index: -1 is outside 0..1"),
    bad(EXPLORER.move, "z1 a string", "1", 0.0, says="z1: expected a number, got '1'"),
    bad(
        EXPLORER.move,
        "z2 infinite",
        0.0,
        math.inf,
        says="z: expected finite coordinates, got (0.0, inf)",
    ),
    bad(EXPLORER.select, "index 1.0", 1.0, says="index: expected an integer, got 1.0"),
    bad(
        explorer.latent_explorer,
        "not a sweep",
        "sweep",
        says="result: expected a sweep result, got str",
    ),
    bad(
        explorer.decoded_pixel_range,
        "not a sweep",
        None,
        says="result: expected a sweep result, got NoneType",
    ),
    # widgets
    bad(widgets.Frame, "label 3", 3, b"", "alt", "html", says="label: expected str, got int"),
    bad(widgets.Frame, "png str", "a", "png", "alt", "html", says="png: expected bytes, got str"),
    bad(widgets.Frame, "alt None", "a", b"", None, "html", says="alt: expected str, got NoneType"),
    bad(
        widgets.Frame,
        "numbers_html 4",
        "a",
        b"",
        "alt",
        4,
        says="numbers_html: expected str, got int",
    ),
    bad(
        widgets.figure_to_png,
        "fig None",
        None,
        says="fig: expected a matplotlib figure, got NoneType",
    ),
    bad(
        widgets.figure_to_png,
        "dpi 0",
        Fresh(_figure),
        0,
        says="dpi: expected a positive number, got 0",
    ),
    bad(
        widgets.figure_to_png,
        "dpi str",
        Fresh(_figure),
        "80",
        says="dpi: expected a positive number, got '80'",
    ),
    bad(
        widgets.figure_to_png,
        "dpi NaN",
        Fresh(_figure),
        math.nan,
        says="dpi: expected a positive number, got nan",
    ),
    bad(
        widgets.figure_to_png,
        "density 1.5",
        Fresh(_figure),
        70,
        1.5,
        says="density: expected 1, 2 or 3, got 1.5",
    ),
    bad(
        widgets.Frame,
        "width 0",
        "a",
        b"",
        "alt",
        "html",
        0,
        says="width: expected a positive integer or None, got 0",
    ),
    bad(
        widgets.Frame,
        "width 58.8",
        "a",
        b"",
        "alt",
        "html",
        58.8,
        says="width: expected a positive integer or None, got 58.8",
    ),
    bad(
        widgets.FrameSlider,
        "frames of two widths",
        [widgets.Frame("a", b"", "alt", "html", 10), widgets.Frame("b", b"", "alt", "html")],
        "σ",
        "σ",
        says="frames: every frame must have the same width, got ['10', 'None']",
    ),
    bad(
        plotting.slider_frame,
        "fig None",
        None,
        "0.1",
        "alt",
        {"a": "1"},
        says="fig: expected a matplotlib figure, got NoneType",
    ),
    bad(
        widgets.numbers_table,
        "a list",
        [("a", "1")],
        says="numbers: expected a dict of names and formatted strings, got list",
    ),
    bad(
        widgets.numbers_table,
        "an unformatted number",
        {"a": 0.5},
        says="numbers: expected names and already formatted strings, got 'a': 0.5",
    ),
    bad(
        widgets.numbers_table,
        "None",
        None,
        says="numbers: expected a dict of names and formatted strings, got NoneType",
    ),
    bad(
        widgets.FrameSlider,
        "no frame",
        [],
        "σ",
        "σ",
        says="frames: a slider needs at least one frame",
    ),
    bad(
        widgets.FrameSlider,
        "frames None",
        None,
        "σ",
        "σ",
        says="frames: expected a list of frames, got NoneType",
    ),
    bad(
        widgets.FrameSlider,
        "a str for a frame",
        ["x"],
        "σ",
        "σ",
        says="frames: every item must be a vaebook.widgets.Frame",
    ),
    bad(widgets.FrameSlider, "start 5", [FRAME], "σ", "σ", 5, says="index: 5 is outside 0..0"),
    bad(
        widgets.FrameSlider,
        "start True",
        [FRAME],
        "σ",
        "σ",
        True,
        says="index: expected an integer, got True",
    ),
    bad(
        widgets.FrameSlider,
        "description 3",
        [FRAME],
        3,
        "σ",
        says="description: expected a non-empty string, got 3",
    ),
    bad(
        widgets.FrameSlider,
        "empty aria_label",
        [FRAME],
        "σ",
        "",
        says="aria_label: expected a non-empty string, got ''",
    ),
    bad(SLIDER.select, "index -1", -1, says="index: -1 is outside 0..1"),
    bad(SLIDER.select, "index 1.5", 1.5, says="index: expected an integer, got 1.5"),
    bad(SLIDER.select, "index None", None, says="index: expected an integer, got None"),
    # plotting (each refuses before it draws: no figure is left open)
    bad(
        plotting.image_strip,
        "63 pixels",
        np.zeros((5, 63)),
        3,
        says="images: expected shape (N, 64), got (5, 63)",
    ),
    bad(
        plotting.image_strip,
        "n_cols 0",
        np.zeros((5, 64)),
        0,
        says="n_cols must be an integer >= 1, got 0",
    ),
    bad(
        plotting.image_strip,
        "n_cols 2.5",
        np.zeros((5, 64)),
        2.5,
        says="n_cols must be an integer >= 1, got 2.5",
    ),
    bad(
        plotting.image_strip,
        "gap < 0",
        np.zeros((5, 64)),
        3,
        gap=-1,
        says="gap must be an integer >= 0, got -1",
    ),
    bad(
        plotting.image_strip,
        "NaN",
        np.full((2, 64), math.nan),
        2,
        says="images: contain NaN or infinite values",
    ),
    bad(
        plotting.image_strip,
        "str",
        "abc",
        2,
        says="images: expected numbers of shape (N, 64), got str",
    ),
    bad(
        plotting.image_strip,
        "1-D shape",
        np.zeros((5, 8)),
        3,
        shape=(8,),
        says="shape: expected (height, width), got (8,)",
    ),
    bad(
        plotting.image_strip,
        "a 0 in shape",
        np.zeros((5, 8)),
        3,
        shape=(8, 0),
        says="shape must be an integer >= 1, got 0",
    ),
    bad(
        plotting.sigma_numbers,
        "index 3 of 3",
        SWEEP,
        3,
        says="index: expected an integer in 0..2, got 3",
    ),
    bad(
        plotting.sigma_numbers,
        "index -1",
        SWEEP,
        -1,
        says="index: expected an integer in 0..2, got -1",
    ),
    bad(
        plotting.sigma_numbers,
        "index 0.5",
        SWEEP,
        0.5,
        says="index: expected an integer in 0..2, got 0.5",
    ),
    bad(
        plotting.sigma_numbers,
        "index True",
        SWEEP,
        True,
        says="index: expected an integer in 0..2, got True",
    ),
    bad(
        plotting.sigma_numbers,
        "empty grid",
        EMPTY_SWEEP,
        0,
        says="result: the sweep has an empty σ grid",
    ),
    bad(
        plotting.sigma_numbers,
        "no result",
        None,
        0,
        says="result: expected a sweep result (with sigmas), got NoneType",
    ),
    bad(
        plotting.sigma_figure,
        "index 3 of 3",
        SWEEP,
        3,
        says="index: expected an integer in 0..2, got 3",
    ),
    bad(
        plotting.sigma_frame,
        "index None",
        SWEEP,
        None,
        says="index: expected an integer in 0..2, got None",
    ),
    bad(
        plotting.sigma_slider,
        "empty grid",
        EMPTY_SWEEP,
        says="result: the sweep has an empty σ grid",
    ),
    bad(
        plotting.sigma_slider, "start 7", SWEEP, 7, says="index: expected an integer in 0..2, got 7"
    ),
    bad(
        plotting.linear_figure,
        "index 2 of 2",
        LINEAR_SWEEP,
        2,
        says="index: expected an integer in 0..1, got 2",
    ),
    bad(
        plotting.linear_figure,
        "n_eigen 0",
        LINEAR_SWEEP,
        0,
        n_eigen=0,
        says="n_eigen must be an integer >= 1, got 0",
    ),
    bad(
        plotting.linear_numbers,
        "index str",
        LINEAR_SWEEP,
        "0",
        says="index: expected an integer in 0..1, got '0'",
    ),
    bad(
        plotting.linear_slider,
        "empty grid",
        EMPTY_SWEEP,
        says="result: the sweep has an empty σ grid",
    ),
    bad(
        plotting.linear_slider,
        "start -1",
        LINEAR_SWEEP,
        -1,
        says="index: expected an integer in 0..1, got -1",
    ),
    bad(
        plotting.history_figure,
        "unknown label",
        VARIANTS,
        ["nope"],
        says=f"no config is labelled 'nope'; {LABELS}",
    ),
    bad(
        plotting.history_figure,
        "quantity step",
        VARIANTS,
        ["learned"],
        quantity="step",
        says="quantity must be one of loss, nll, kl, min_scale, got 'step'",
    ),
    bad(
        plotting.history_figure,
        "one str for the labels",
        VARIANTS,
        "learned",
        says="labels: expected a non-empty list of variant labels, got 'learned'",
    ),
    bad(
        plotting.history_figure,
        "no label",
        VARIANTS,
        [],
        says="labels: expected a non-empty list of variant labels, got []",
    ),
    bad(
        plotting.rate_distortion_figure,
        "unknown label",
        SWEEP,
        VARIANTS,
        ["nope"],
        says=f"no config is labelled 'nope'; {LABELS}",
    ),
    bad(
        plotting.rate_distortion_figure,
        "one str for the labels",
        SWEEP,
        VARIANTS,
        "learned",
        says="labels: expected a non-empty list of variant labels, got 'learned'",
    ),
    bad(plotting.pixel_maps_figure, "no map", {}, says="maps must hold at least one image"),
    bad(
        plotting.pixel_maps_figure,
        "NaN",
        {"σ": np.full(64, math.nan)},
        says="maps contain NaN or infinite values",
    ),
    bad(
        plotting.pixel_maps_figure,
        "63 values",
        {"σ": np.zeros(63)},
        says="maps: 'σ' must be 64 numbers (an 8×8 image), got 63 values",
    ),
    bad(
        plotting.pixel_maps_figure,
        "a list of maps",
        [np.zeros(64)],
        says="maps: expected a dict of title: 64 values, got list",
    ),
    bad(
        plotting.variant_images_figure,
        "unknown label",
        VARIANTS,
        ["nope"],
        says=f"no config is labelled 'nope'; {LABELS}",
    ),
    bad(
        plotting.variant_images_figure,
        "n_samples 0",
        VARIANTS,
        n_samples=0,
        says="n_samples must be an integer >= 1, got 0",
    ),
    bad(
        plotting.pixel_densities,
        "mean 0",
        0.0,
        0.2,
        0.1,
        says="mean must be finite and > 0, got 0.0",
    ),
    bad(
        plotting.pixel_densities,
        "mean 1",
        1.0,
        0.2,
        0.1,
        says="mean must lie strictly between 0 and 1, got 1.0",
    ),
    bad(
        plotting.pixel_densities,
        "mean NaN",
        math.nan,
        0.2,
        0.1,
        says="mean must be a number, got nan",
    ),
    bad(
        plotting.pixel_densities,
        "mean str",
        "0.5",
        0.2,
        0.1,
        says="mean must be a number, got '0.5'",
    ),
    bad(
        plotting.pixel_densities,
        "sigma 0",
        0.5,
        0.0,
        0.1,
        says="sigma must be finite and > 0, got 0.0",
    ),
    bad(
        plotting.pixel_densities, "b < 0", 0.5, 0.2, -1.0, says="b must be finite and > 0, got -1.0"
    ),
    bad(
        plotting.pixel_densities,
        "n_grid 1",
        0.5,
        0.2,
        0.1,
        1,
        says="n_grid must be an integer >= 2, got 1",
    ),
    bad(
        plotting.pixel_densities,
        "n_grid 2.5",
        0.5,
        0.2,
        0.1,
        2.5,
        says="n_grid must be an integer >= 2, got 2.5",
    ),
    bad(
        plotting.pixel_likelihood_numbers,
        "sigma inf",
        0.5,
        math.inf,
        0.1,
        says="sigma must be finite and > 0, got inf",
    ),
    bad(
        plotting.pixel_likelihood_figure,
        "b True",
        0.5,
        0.2,
        True,
        says="b must be a number, got True",
    ),
    bad(
        plotting.pixel_likelihood_slider,
        "no prediction",
        0.2,
        0.1,
        means=(),
        says="means must hold at least one prediction",
    ),
    bad(
        plotting.pixel_likelihood_slider,
        "a str for a prediction",
        0.2,
        0.1,
        means=["a"],
        says="means: expected a list of predictions in (0, 1), got ['a']",
    ),
    bad(
        plotting.pixel_likelihood_slider,
        "a prediction above 1",
        0.2,
        0.1,
        means=(0.5, 1.5),
        says="mean must lie strictly between 0 and 1, got 1.5",
    ),
    bad(
        plotting.pixel_likelihood_slider,
        "sigma 0",
        0.0,
        0.1,
        means=(0.5,),
        says="sigma must be finite and > 0, got 0.0",
    ),
    bad(
        plotting.pixel_likelihood_slider,
        "start 5",
        0.2,
        0.1,
        means=(0.5,),
        start=5,
        says="start: expected an integer in 0..0, got 5",
    ),
    # pictures for every screen (issue 28, item 3: phones)
    bad(
        widgets.png_size,
        "GIF bytes",
        b"GIF89a" + bytes(30),
        says="png: expected the bytes of a PNG image",
    ),
    bad(widgets.Picture, "png str", "png", 10, 10, says="png: expected the bytes of a PNG image"),
    bad(
        widgets.Picture,
        "width 0",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02",
        0,
        10,
        says="width: expected a positive integer, got 0",
    ),
    bad(
        widgets.Picture,
        "height True",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02",
        10,
        True,
        says="height: expected a positive integer, got True",
    ),
    bad(
        widgets.Picture,
        "data a list",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02",
        10,
        10,
        [],
        says="data: expected a dict, got list",
    ),
    bad(
        widgets.Picture,
        "data name with capitals",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02",
        10,
        10,
        {"tickPx": "1"},
        says="data: 'tickPx' is not a data attribute name (a-z, 0-9, -)",
    ),
    bad(
        widgets.Picture,
        "data value a number",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02",
        10,
        10,
        {"tick-px": 1.5},
        says="data: 'tick-px' must be a string, got 1.5",
    ),
    bad(
        widgets.picture_html,
        "no picture",
        None,
        "alt",
        says="wide, narrow: expected vaebook.widgets.Picture objects",
    ),
    bad(
        widgets.picture_html,
        "empty alt",
        widgets.Picture(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02", 10, 10
        ),
        " ",
        says="alt: expected a non-empty description, got ' '",
    ),
    bad(
        widgets.Frame,
        "narrow a str",
        "a",
        b"",
        "alt",
        "html",
        10,
        "narrow.png",
        says="narrow: expected a vaebook.widgets.Picture or None, got str",
    ),
    bad(
        widgets.Frame,
        "narrow without a width",
        "a",
        b"",
        "alt",
        "html",
        None,
        widgets.Picture(
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02", 10, 10
        ),
        says="narrow: needs the width of the wide picture",
    ),
    bad(
        widgets.FrameSlider,
        "frames with and without a narrow picture",
        [
            widgets.Frame(
                "a",
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02",
                "alt",
                "html",
                10,
                widgets.Picture(
                    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02", 5, 5
                ),
            ),
            widgets.Frame(
                "b",
                b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x02\x00\x00\x00\x02",
                "alt",
                "html",
                10,
            ),
        ],
        "σ",
        "σ",
        says="frames: either every frame has a narrow picture or none has",
    ),
    bad(
        plotting.text_sizes,
        "no figure",
        None,
        says="fig: expected a matplotlib figure, got NoneType",
    ),
    bad(
        plotting.figure_picture,
        "no figure",
        "fig",
        says="fig: expected a matplotlib figure, got str",
    ),
    bad(
        plotting.figure_picture,
        "dpi 0",
        Fresh(_figure),
        0,
        says="dpi must be finite and > 0, got 0",
    ),
    bad(
        plotting.stack_panels,
        "no figure",
        None,
        says="fig: expected a matplotlib figure, got NoneType",
    ),
    bad(
        plotting.stack_panels,
        "a figure without panels",
        Fresh(_figure),
        says="fig: has no panels (axes of a subplot grid) to stack",
    ),
    bad(
        plotting.stack_panels,
        "an index twice in order",
        Fresh(lambda: plt.subplots(1, 2)[0]),
        [0, 0],
        says="order: expected each of the 2 panel indices 0..1 once, got [0, 0]",
    ),
    bad(
        plotting.stack_panels,
        "one height for two panels",
        Fresh(lambda: plt.subplots(1, 2)[0]),
        heights=[2.0],
        says="heights: expected 2 heights in inches, got [2.0]",
    ),
    bad(
        plotting.stack_panels,
        "width NaN",
        Fresh(lambda: plt.subplots(1, 2)[0]),
        width=math.nan,
        says="width must be a number, got nan",
    ),
    bad(
        plotting.ResponsiveFigure,
        "no picture",
        b"png",
        "alt",
        says="wide, narrow: expected vaebook.widgets.Picture objects",
    ),
    bad(
        plotting.responsive_figure,
        "no figure",
        None,
        "alt",
        says="fig: expected a matplotlib figure, got NoneType",
    ),
    bad(
        plotting.responsive_figure,
        "no alt text",
        Fresh(_figure),
        "",
        says="alt: expected a non-empty description, got ''",
    ),
    bad(
        plotting.responsive_figure,
        "narrow a str",
        Fresh(_figure),
        "alt",
        narrow="phone",
        says="narrow: expected a matplotlib figure or None, got str",
    ),
    bad(
        plotting.responsive_figure,
        "order with a narrow figure",
        Fresh(_figure),
        "alt",
        narrow="phone",
        order=[0],
        says="order, heights: only for stacking fig, not with a narrow figure",
    ),
    bad(
        plotting.variant_images_figure,
        "narrow a str",
        VARIANTS,
        narrow="yes",
        says="narrow: expected True or False, got 'yes'",
    ),
]


@pytest.fixture(autouse=True)
def clean_environment(tmp_path, monkeypatch):
    """A private cache, and no seed or thread setting from the caller's environment."""
    monkeypatch.setenv(cache.ENV_VAR, str(tmp_path / "cache"))
    for name in (settings.SEED_ENV, settings.THREADS_ENV):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("function, args, kwargs, message, error, env", CASES)
def test_bad_input_gets_a_clear_message(function, args, kwargs, message, error, env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    args = [item.make() if isinstance(item, Fresh) else item for item in args]
    open_figures = set(plt.get_fignums())
    with pytest.raises(error, match=f"^{re.escape(message)}$") as caught:
        function(*args, **kwargs)
    assert type(caught.value) is error, f"raised {type(caught.value).__name__}, not {error}"
    assert set(plt.get_fignums()) <= open_figures, "a refused call left a figure open"


# --- the inventory ---------------------------------------------------------------------------


def public_callables(module) -> set[str]:
    """The public functions and classes of ``module``: the names in ``__all__`` and every
    public name defined in the module itself."""
    names = set(getattr(module, "__all__", ())) | {
        name
        for name, item in vars(module).items()
        if not name.startswith("_") and getattr(item, "__module__", None) == module.__name__
    }
    return {
        f"{module.__name__}.{name}"
        for name in names
        if (inspect.isfunction(getattr(module, name)) or inspect.isclass(getattr(module, name)))
        and getattr(module, name).__module__ == module.__name__
    }


def covered_by_the_table() -> set[str]:
    """What the rows call (a method counts for its class too) and the errors they expect."""
    covered = set()
    for case in CASES:
        function, error = _target(case.values[0]), case.values[4]
        owners = [item for item in (_owner(case.values[0]),) if item is not None]
        if "." in function.__qualname__:  # a method: its defining class
            owners.append(
                getattr(
                    importlib.import_module(function.__module__),
                    function.__qualname__.split(".")[0],
                )
            )
        covered |= {f"{item.__module__}.{item.__qualname__}" for item in (function, error, *owners)}
    return covered


def test_every_public_callable_has_a_bad_input_case():
    package = {info.name for info in pkgutil.iter_modules(vaebook.__path__)}
    listed = {module.__name__.removeprefix("vaebook.") for module in MODULES}
    private = {name for name in package if name.startswith("_")}
    unlisted = package - listed - STUDY_MACHINERY - private
    assert not unlisted, f"modules without bad-input cases: add them to MODULES: {unlisted}"
    public = set().union(*(public_callables(module) for module in MODULES))
    assert len(public) >= 80, "the inventory lost most of the package"
    missing = public - covered_by_the_table() - set(COVERED_ELSEWHERE)
    assert not missing, f"public callables without a bad-input case: {sorted(missing)}"
    stale = set(COVERED_ELSEWHERE) - public
    assert not stale, f"COVERED_ELSEWHERE names what is not public: {sorted(stale)}"
    for name, test in COVERED_ELSEWHERE.items():
        path, function = test.split("::")
        source = (Path(__file__).resolve().parents[1] / path).read_text()
        assert f"def {function}(" in source, f"{name}: {test} does not exist"


def test_the_table_is_large_and_every_case_is_distinct():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "two rows share an id"
    assert len(CASES) >= 200
