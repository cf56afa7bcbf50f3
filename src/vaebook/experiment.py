"""One experiment: a list of configs in, one batched model trained, evaluated and cached.

Every trained MLP VAE of the book comes from :func:`run`. A :class:`Config` is one VAE: its
likelihood and σ, the data it sees, its KL weight and KL tricks, and the training settings.
:func:`run` trains a list of them as the members of ONE
:class:`~vaebook.models.BatchedMLPVAE` with :func:`~vaebook.training.train_vae` (same initial
weights, same batches, same noise), measures every member with
:func:`~vaebook.training.evaluate` on the training and the test digits, and caches the
:class:`Result` under the configs themselves (:mod:`vaebook.cache`): the same list, the same
code and the same floating-point path load from disk. :func:`fine_tune` goes on training
copies of one trained member. A σ sweep is a list of Gaussian configs (:func:`sigma_configs`,
:func:`run_sigma_sweep`); chapters *Training with a learned σ* and *Training other likelihoods side
by side* run the lists of :mod:`vaebook.variants`. The linear VAE (:mod:`vaebook.linear`) is the one
deliberate exception: another model (float64, linear), measured against its closed form.
"""

from __future__ import annotations

import dataclasses
import math
import time
from numbers import Real

import numpy as np
import torch

from vaebook import cache as _cache
from vaebook import settings, training
from vaebook._checks import check_int, check_number
from vaebook.data import DATA_KINDS, load_digits_split, member_data
from vaebook.likelihoods import Likelihood, MemberLikelihoods, get_likelihood
from vaebook.models import DEFAULT_HIDDEN_DIM, BatchedMLPVAE
from vaebook.real_code import CODE_LOSSES, digits_loss, member_losses

__all__ = [
    "DEFAULT_STEPS",
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LR",
    "DEFAULT_HIDDEN_DIM",
    "TRAINING_FIELDS",
    "Config",
    "with_fields",
    "Result",
    "run",
    "fine_tune",
    "sigma_grid",
    "sigma_configs",
    "run_sigma_sweep",
    "train_single",
]

DEFAULT_STEPS = 5000
"""Adam steps of a config: ≈ 15 s for the 12 σ of the default sweep on 2 CPU cores.

Measured with ``bench/training.py`` against a run with 4× the steps: every σ ≥ 0.36 is
converged (training −ELBO within 0.5 nats), smaller σ are not. Their training −ELBO still
falls (by 107 nats at σ = 0.03, i.e. 0.003 in training MSE per pixel, while the KL moves by
< 1 nat), but their *test* −ELBO rises with longer training: the decoder starts to memorise the
1347 training digits. The σ trends the chapters show are already in place at 5000 steps.
"""

DEFAULT_BATCH_SIZE = 256
"""Images per step."""

DEFAULT_LR = 1e-2
"""Peak learning rate of the cosine schedule of :func:`~vaebook.training.train_vae`."""

TRAINING_FIELDS = ("latent_dim", "hidden_dim", "steps", "batch_size", "lr", "seed", "record_every")
"""The fields of a :class:`Config` that every config of one :func:`run` shares: its members
are one batched model, trained by one loop."""


@dataclasses.dataclass(frozen=True)
class Config:
    """One VAE of an experiment: what :func:`run` trains as one member of a batched model.

    Introduced in chapter *Reading real VAE code* (the chapters before it build their configs
    with :func:`sigma_configs` or take the lists of :mod:`vaebook.variants`).
    Checked when built: a bad field is a ``ValueError`` that names it.

    * ``label`` names the member in tables and plots (unique within a run).
    * ``likelihood``: a name of :data:`vaebook.likelihoods.LIKELIHOOD_NAMES`; ``sigma`` is its
      fixed σ (or Laplace scale) or the starting value of a learned one (ignored otherwise);
      ``scale_floor`` the soft floor of a learned, optimal or per-pixel scale (0: none).
    * ``data``: one of :data:`vaebook.data.DATA_KINDS`, the grey, binarised or dequantised digits.
    * ``kl_weight`` (β; 1 is the ELBO), ``kl_warmup`` (KL annealing) and ``free_bits`` are those
      of :func:`~vaebook.training.train_vae` (chapter *A recipe for a sound VAE loss*).
    * ``code_loss`` names a loss of :data:`vaebook.real_code.CODE_LOSSES` that replaces the
      likelihood's in training (chapter *Reading real VAE code*); ``likelihood`` and ``sigma``
      then say how the trained VAE is measured.
    * :data:`TRAINING_FIELDS`: the architecture (``latent_dim``, ``hidden_dim``) and the
      training (``steps``, ``batch_size``, ``lr``, ``seed``; ``None`` is the book's seed,
      :func:`vaebook.settings.default_seed`; ``record_every`` steps a point of the history).
    """

    label: str
    likelihood: str = "gaussian"
    sigma: float = 1.0
    scale_floor: float = 0.0
    data: str = "grey"
    kl_weight: float = 1.0
    kl_warmup: int = 0
    free_bits: float = 0.0
    code_loss: str = ""
    latent_dim: int = 2
    hidden_dim: int = DEFAULT_HIDDEN_DIM
    steps: int = DEFAULT_STEPS
    batch_size: int = DEFAULT_BATCH_SIZE
    lr: float = DEFAULT_LR
    seed: int | None = None
    record_every: int = 50

    def __post_init__(self):
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"label must be a non-empty string, got {self.label!r}")
        check_number(self.sigma, "sigma")
        if self.data not in DATA_KINDS:
            raise ValueError(f"data must be one of {DATA_KINDS}, got {self.data!r}")
        check_number(self.kl_weight, "kl_weight", allow_zero=True)
        check_int(self.kl_warmup, "kl_warmup", minimum=0)
        check_number(self.free_bits, "free_bits", allow_zero=True)
        if self.code_loss and self.code_loss not in CODE_LOSSES:
            raise ValueError(
                f"code_loss must be one of {list(CODE_LOSSES)} or empty, got {self.code_loss!r}"
            )
        for name in ("latent_dim", "hidden_dim", "steps", "batch_size", "record_every"):
            check_int(getattr(self, name), name)
        check_number(self.lr, "lr")
        if self.seed is not None:
            check_int(self.seed, "seed", minimum=0)
        self.make_likelihood()  # raises a ValueError for an unknown name or a bad floor

    def make_likelihood(self) -> Likelihood:
        """The :class:`~vaebook.likelihoods.Likelihood` of this config."""
        return get_likelihood(self.likelihood, self.scale_floor)


def with_fields(configs, **fields) -> list[Config]:
    """A copy of every config with ``fields`` set, e.g. ``with_fields(configs, seed=3)``.

    Used behind the scenes in chapter *σ trades reconstruction against KL* (by
    :func:`run` and :func:`sigma_configs`). An unknown field name, or a value
    that a :class:`Config` refuses, is a ``ValueError``.
    """
    if (
        not isinstance(configs, (list, tuple))
        or not configs
        or not all(isinstance(item, Config) for item in configs)
    ):
        raise ValueError("configs must be a non-empty list of Config")
    unknown = sorted(set(fields) - {field.name for field in dataclasses.fields(Config)})
    if unknown:
        raise ValueError(f"unknown Config fields {unknown}")
    return [dataclasses.replace(item, **fields) for item in configs]


def _check_configs(configs, overrides: dict) -> list[Config]:
    """``configs`` as a list, with ``overrides`` applied and the seed resolved, checked to
    train as one model."""
    configs = with_fields(configs, **overrides)
    configs = [
        item if item.seed is not None else dataclasses.replace(item, seed=settings.default_seed())
        for item in configs
    ]
    labels = [item.label for item in configs]
    if len(set(labels)) != len(labels):
        raise ValueError(f"config labels must be unique, got {labels}")
    if len({bool(item.code_loss) for item in configs}) > 1:
        raise ValueError("either every config has a code_loss or none has")
    for name in TRAINING_FIELDS:
        values = [getattr(item, name) for item in configs]
        if len(set(values)) > 1:
            raise ValueError(
                f"the configs of one run train as one model and must share {name}, got {values}"
            )
    return configs


@dataclasses.dataclass
class Result(_cache.StoredResult):
    """Everything :func:`run` produced: one entry per config along the first axis.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. The test-set arrays
    are those of :func:`~vaebook.training.evaluate` (see there for shapes and units; its
    ``labels``, the digit of each of ``latent_means``, are ``latent_labels`` here);
    ``train_neg_elbo``, ``train_mse``, ``train_kl`` and ``train_pixel_scale`` are measured on
    the training digits (at small σ the test MSE is higher: the decoder memorises). ``scale``
    and ``fitted_scale`` (K,) come from :func:`~vaebook.training.train_vae` (NaN where there is
    no shared scale); ``history`` holds the training curves (``step`` and per-member ``loss``,
    ``nll``, ``kl``, ``min_scale``); ``weights`` rebuild the model (:meth:`model`).
    ``hyperparameters["configs"]`` lists the configs as dicts; :attr:`configs`, :attr:`labels`,
    :attr:`sigmas` and :attr:`likelihoods` read them. ``from_cache`` says whether this result
    was loaded from disk.
    """

    scale: np.ndarray
    fitted_scale: np.ndarray
    recon_sse: np.ndarray
    mse: np.ndarray
    kl: np.ndarray
    kl_per_latent: np.ndarray
    neg_elbo: np.ndarray
    objective: np.ndarray
    active_units: np.ndarray
    pixel_scale: np.ndarray
    reconstructions: np.ndarray
    recon_originals: np.ndarray
    recon_labels: np.ndarray
    prior_samples: np.ndarray
    latent_means: np.ndarray
    latent_labels: np.ndarray
    train_neg_elbo: np.ndarray
    train_mse: np.ndarray
    train_kl: np.ndarray
    train_pixel_scale: np.ndarray
    history: dict[str, np.ndarray]
    weights: dict[str, np.ndarray]
    hyperparameters: dict
    train_seconds: float
    from_cache: bool = False

    DICT_FIELDS = ("history", "weights")

    @property
    def configs(self) -> list[Config]:
        """The configs, in member order."""
        return [Config(**item) for item in self.hyperparameters["configs"]]

    @property
    def labels(self) -> list[str]:
        """The configs' labels, in member order."""
        return [item.label for item in self.configs]

    @property
    def sigmas(self) -> np.ndarray:
        """The configs' σ, in member order: the fixed σ, or where a learned one started."""
        return np.array([item.sigma for item in self.configs])

    @property
    def likelihoods(self) -> list[Likelihood]:
        """The configs' likelihoods, in member order."""
        return [item.make_likelihood() for item in self.configs]

    def trained_likelihoods(self) -> MemberLikelihoods:
        """Every member's likelihood held at the scale it trained to (``scale``)."""
        return _member_likelihoods(self.configs, self.reconstructions.shape[-1]).frozen(self.scale)

    def index_of(self, key) -> int:
        """The member labelled ``key`` (a string), or whose σ is nearest ``key`` (a number,
        nearest on a log scale).

        Introduced in chapter *σ trades reconstruction against KL*.
        """
        if isinstance(key, str):
            labels = self.labels
            if key not in labels:
                raise ValueError(f"no config is labelled {key!r}; the labels are {labels}")
            return labels.index(key)
        sigma = check_number(key, "sigma")
        return int(np.argmin(np.abs(np.log(self.sigmas) - math.log(sigma))))

    def model(self) -> BatchedMLPVAE:
        """The trained VAEs, one member per config, rebuilt from ``weights``."""
        first = self.configs[0]
        outputs = max(item.outputs_per_pixel for item in self.likelihoods)
        model = BatchedMLPVAE(
            len(self.labels),
            self.reconstructions.shape[-1],
            first.hidden_dim,
            first.latent_dim,
            outputs_per_pixel=outputs,
        )
        model.load_state_dict({k: torch.from_numpy(v) for k, v in self.weights.items()})
        return model.eval()

    def test_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x_test, y_test)`` as each member saw them: ``x_test`` is ``(K, N, D)``."""
        _, _, x_test, y_test = load_digits_split()
        return member_data(x_test, [item.data for item in self.configs], "test", stack=True), y_test

    @torch.no_grad()
    def per_pixel_nll(self, label: str) -> torch.Tensor:
        """``-log p(x_j | z)`` of every pixel of every test digit, shape ``(N, D)``, for the
        member ``label``, with ``z`` the posterior mean and the trained scale.

        Introduced in chapter *Training with a learned σ*. Summed over pixels it is the
        reconstruction term of the −ELBO at the posterior mean (no sampling), so it shows which
        pixels cost nats.
        """
        k = self.index_of(label)
        model, (x, _) = self.model(), self.test_data()
        likelihood = self.likelihoods[k].frozen()
        output = model.decode(model.encode(x)[0])[k]
        n_images, data_dim = x.shape[1:]
        # One pixel per row: the likelihood then returns one value per (image, pixel).
        columns = (
            output.reshape(n_images, -1, data_dim).transpose(1, 2).reshape(n_images * data_dim, -1)
        )
        if likelihood.outputs_per_pixel == 1:
            columns = columns[:, :1]
        scale = None if np.isnan(self.scale[k]) else float(self.scale[k])
        nll = likelihood.nll(columns, x[k].reshape(-1, 1), scale)
        return nll.reshape(n_images, data_dim)

    def neg_log_likelihood(self, samples: int = training.IWAE_SAMPLES) -> np.ndarray:
        """An importance-weighted estimate of ``-log p(x)``, nats per test image, shape (K,).

        Introduced in chapter *Training other likelihoods side by side*: the same test digits,
        scales and constants as ``neg_elbo``, with ``samples`` importance samples per image
        (:func:`~vaebook.training.importance_weighted_nll`). The −ELBO minus this estimate
        is the gap of each member's bound.
        """
        x, _ = self.test_data()
        return training.importance_weighted_nll(
            self.model(),
            x,
            likelihood=self.trained_likelihoods(),
            samples=samples,
            seed=self.configs[0].seed,
        ).mean(axis=1)


def _code_loss_fn(configs: list[Config], n_train: int, pixels: int):
    """The ``loss_fn`` that trains every config with its ``code_loss`` (None if none has)."""
    if not configs[0].code_loss:
        return None
    losses = [
        digits_loss(item.code_loss, batch_size=item.batch_size, pixels=pixels, n_train=n_train)
        for item in configs
    ]
    return member_losses(losses, [CODE_LOSSES[item.code_loss].sigmoid for item in configs])


def _member_likelihoods(configs: list[Config], data_dim: int) -> MemberLikelihoods:
    """The configs' likelihoods with their σ (float32, as the model): the one place a
    config's σ is read."""
    return MemberLikelihoods(
        [item.make_likelihood() for item in configs],
        torch.tensor([item.sigma for item in configs], dtype=torch.float32),
        data_dim,
    )


def _train_and_evaluate(
    configs: list[Config],
    progress,
    model: BatchedMLPVAE | None = None,
    trainable: tuple[str, ...] | None = None,
) -> Result:
    """Train one member per config (from ``model``'s weights if given, else from a fresh
    model), evaluate them all and return the :class:`Result`."""
    first, kinds = configs[0], [item.data for item in configs]
    x_train, y_train, x_test, y_test = load_digits_split()
    members = _member_likelihoods(configs, x_train.shape[-1])
    x_train = member_data(x_train, kinds, "train")
    x_test = member_data(x_test, kinds, "test")
    if model is None:
        model = BatchedMLPVAE(
            len(configs),
            x_train.shape[-1],
            first.hidden_dim,
            first.latent_dim,
            seed=first.seed,
            outputs_per_pixel=max(item.outputs_per_pixel for item in members.likelihoods),
        )
    kl_weight = [item.kl_weight for item in configs]
    start = time.perf_counter()
    trained = training.train_vae(
        model,
        x_train,
        likelihood=members,
        kl_weight=kl_weight,
        steps=first.steps,
        batch_size=first.batch_size,
        lr=first.lr,
        seed=first.seed,
        progress=progress,
        record_every=first.record_every,
        trainable=trainable,
        kl_warmup=[item.kl_warmup for item in configs],
        free_bits=[item.free_bits for item in configs],
        loss_fn=_code_loss_fn(configs, x_train.shape[-2], x_train.shape[-1]),
    )
    seconds = time.perf_counter() - start
    fixed = members.frozen(trained["scale"])
    test, train = (
        training.evaluate(model, x, y, likelihood=fixed, kl_weight=kl_weight, seed=first.seed)
        for x, y in ((x_test, y_test), (x_train, y_train))
    )
    latent_labels = test.pop("labels")
    return Result(
        scale=trained["scale"],
        fitted_scale=trained["fitted_scale"],
        **test,
        latent_labels=latent_labels,
        train_neg_elbo=train["neg_elbo"],
        train_mse=train["mse"],
        train_kl=train["kl"],
        train_pixel_scale=train["pixel_scale"],
        history=trained["history"],
        weights={k: v.detach().cpu().numpy() for k, v in model.state_dict().items()},
        hyperparameters={"configs": [dataclasses.asdict(item) for item in configs]},
        train_seconds=seconds,
    )


def run(configs, *, cache: bool = True, progress="auto", **overrides) -> Result:
    """Train one VAE per :class:`Config` (all as ONE batched model), evaluate, cache.

    Introduced in chapter *Training with a learned σ*. ``overrides`` set a field of every config,
    e.g. ``run(configs, latent_dim=8)`` or ``seed=3``. The configs must share
    :data:`TRAINING_FIELDS`. With ``cache=True`` a result of the same configs and the same
    code is loaded from disk instead of retrained (:mod:`vaebook.cache`); ``progress`` is
    that of :func:`~vaebook.training.train_vae`.
    """
    configs = _check_configs(configs, overrides)
    return _cache.load_or_compute(
        "run",
        {"configs": [dataclasses.asdict(item) for item in configs]},
        Result.load,
        lambda: _train_and_evaluate(configs, progress),
        enabled=cache,
        modules=(__name__,),
    )


def fine_tune(
    result: Result,
    label: str,
    configs,
    *,
    trainable=("dec_out",),
    cache: bool = True,
    progress="auto",
) -> Result:
    """Train copies of the trained member ``label`` of ``result``, one per config.

    Used behind the scenes in chapter *Training with a learned σ*
    (:func:`vaebook.variants.lower_floor`). Every member of the new model starts from that member's
    weights; only the parameters whose names start with one of ``trainable`` train (the default: the
    decoder's output layer). The configs must build the same network as ``result`` (same likelihood
    outputs, ``latent_dim`` and ``hidden_dim``). Cached like :func:`run`, under the configs, the
    starting member and ``trainable``.
    """
    if not isinstance(result, Result):
        raise ValueError(f"result must be a Result, got {type(result).__name__}")
    if not isinstance(label, str):
        raise ValueError(f"label must be a string, got {label!r}")
    index = result.index_of(label)
    configs = _check_configs(configs, {})
    if (
        isinstance(trainable, str)
        or not isinstance(trainable, (list, tuple))
        or not all(isinstance(name, str) for name in trainable)
    ):
        raise ValueError(f"trainable must be a tuple of parameter-name prefixes, got {trainable!r}")

    def compute() -> Result:
        source = result.model()
        model = BatchedMLPVAE(
            len(configs),
            source.data_dim,
            configs[0].hidden_dim,
            configs[0].latent_dim,
            outputs_per_pixel=max(item.make_likelihood().outputs_per_pixel for item in configs),
        )
        model.copy_member_from(source, index)
        return _train_and_evaluate(configs, progress, model=model, trainable=tuple(trainable))

    key = {
        "configs": [dataclasses.asdict(item) for item in configs],
        "start": {"configs": result.hyperparameters["configs"], "member": label},
        "trainable": list(trainable),
    }
    return _cache.load_or_compute(
        "fine-tune", key, Result.load, compute, enabled=cache, modules=(__name__,)
    )


def sigma_grid(n: int = 12, low: float = 0.03, high: float = 1.5) -> np.ndarray:
    """``n`` decoder σ values, log-spaced from ``low`` to ``high`` (both included).

    Introduced in chapter *σ trades reconstruction against KL*. ``n=1`` gives ``[low]``.
    """
    n = check_int(n, "n")
    for name, value in (("low", low), ("high", high)):
        if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
    if low <= 0:
        raise ValueError(f"low must be > 0, got {low!r}")
    if high <= low:
        raise ValueError(f"high must be > low = {low!r}, got {high!r}")
    return np.geomspace(low, high, n) if n > 1 else np.array([float(low)])


def sigma_configs(sigmas=None, *, kl_weight=1.0, **fields) -> list[Config]:
    """One Gaussian :class:`Config` of fixed σ per entry of ``sigmas``.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. ``sigmas``
    defaults to :func:`sigma_grid`; ``kl_weight`` is one β for all or one per σ; ``fields``
    set any other field of every config (``latent_dim=8``, ``steps=...``). Labels read
    ``"σ = 0.3"`` (with ``", β = 2"`` where β ≠ 1, and ``" #k"`` to tell repeats apart).
    """
    sigmas = training.check_sigmas(sigma_grid() if sigmas is None else sigmas)
    weights = training.check_kl_weights(kl_weight, len(sigmas), torch.float64)
    labels = [
        f"σ = {sigma:.4g}" + ("" if weight == 1 else f", β = {weight:.4g}")
        for sigma, weight in zip(sigmas.tolist(), weights.tolist())
    ]
    labels = [
        label if labels.count(label) == 1 else f"{label} #{k}" for k, label in enumerate(labels)
    ]
    return with_fields(
        [
            Config(label, "gaussian", sigma=sigma, kl_weight=weight)
            for label, sigma, weight in zip(labels, sigmas.tolist(), weights.tolist())
        ],
        **fields,
    )


def run_sigma_sweep(
    sigmas=None, *, kl_weight=1.0, cache: bool = True, progress="auto", **fields
) -> Result:
    """Train one VAE per σ (all as ONE batched model), evaluate them, cache the result.

    Introduced in chapter *σ trades reconstruction against KL*:
    ``run(sigma_configs(sigmas, kl_weight=kl_weight, **fields))`` (see
    :func:`sigma_configs` and :func:`run`). The default ``steps``,
    ``batch_size`` and ``lr`` of a config train every σ of the default grid to convergence
    (``bench/training.py`` measures it).
    """
    return run(sigma_configs(sigmas, kl_weight=kl_weight, **fields), cache=cache, progress=progress)


def train_single(sigma: float, *, cache: bool = False, progress="auto", **fields) -> Result:
    """Train ONE VAE with decoder ``sigma`` alone: a one-member :func:`run_sigma_sweep`.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. Same code, data, seed
    and initial weights as the batched sweep, so its numbers match the sweep's member for ``sigma``
    (up to floating-point rounding).
    """
    if isinstance(sigma, (list, tuple, np.ndarray, torch.Tensor)) and np.size(sigma) != 1:
        raise ValueError(f"sigma must be one number, got {sigma!r}")
    training.check_sigmas(sigma, "sigma")
    return run_sigma_sweep([sigma], cache=cache, progress=progress, **fields)
