"""VAEs that differ in their decoder likelihood, trained side by side as one batched model.

A :class:`Variant` names a likelihood (:data:`vaebook.likelihoods.LIKELIHOOD_NAMES`), its
σ (fixed, or the starting value of a learned σ), its soft floor and whether it sees binarised
digits. :func:`run_variants` trains one member of a :class:`~vaebook.models.BatchedMLPVAE`
per variant with :func:`~vaebook.training.train_vae` (same initial weights, same batches,
same noise), measures every member with :func:`~vaebook.training.evaluate` on the training
and the test digits, and caches the :class:`VariantResult` like :mod:`vaebook.sweeps` does.
Chapters *Learning σ* and *Other likelihoods side by side* use it.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch

from vaebook import cache as _cache
from vaebook import settings
from vaebook import training
from vaebook._checks import check_int, check_number, check_unit_interval
from vaebook.data import PIXEL_MAX, load_digits_split
from vaebook.likelihoods import Likelihood, get_likelihood
from vaebook.models import DEFAULT_HIDDEN_DIM, BatchedMLPVAE
from vaebook.real_code import CODE_LOSSES, digits_loss, member_losses
from vaebook.sweeps import DEFAULT_BATCH_SIZE, DEFAULT_LR, DEFAULT_STEPS

__all__ = ["QUANTISATION_SIGMA", "BINARY_THRESHOLD", "GREY_LEVELS", "DATA_KINDS", "Variant",
           "VariantResult", "LEARNED_SIGMA_VARIANTS", "LIKELIHOOD_VARIANTS", "binarise",
           "dequantise", "run_variants", "LOWER_FLOOR_STEPS", "LOWER_FLOOR_LR", "lower_floor"]

QUANTISATION_SIGMA = 1 / (PIXEL_MAX * math.sqrt(12))
"""≈ 0.018: the standard deviation of a uniform error over one grey level (1/16) of the digits.

A σ below it claims more precision than the data have; chapter *Learning σ* uses it as the
soft floor of a learned σ."""

BINARY_THRESHOLD = 0.5
"""Pixels above this grey value become 1 in :func:`binarise`, the others 0."""

GREY_LEVELS = int(PIXEL_MAX) + 1
"""The digits' pixels take 17 values, 0/16, 1/16, ..., 16/16."""

DATA_KINDS = ("grey", "binary", "dequantised")
"""What a variant trains and is tested on: the grey digits, binarised digits
(:func:`binarise`) or dequantised digits (:func:`dequantise`)."""

_DEQUANTISE_SEEDS = {"train": 1, "test": 2}


def dequantise(x: torch.Tensor, seed: int) -> torch.Tensor:
    """Spread each grey level ``k / 16`` uniformly over its own bin ``[k, k + 1) / 17``.

    Introduced in chapter *Scaling, learned σ and other likelihoods*. Returns ``(16 x + u) / 17``
    with ``u ~ U(0, 1)`` drawn from ``seed``: continuous data in [0, 1) without repeated values.
    For a density ``p`` of the result, ``-log p + D log 17`` estimates an upper bound on the
    ``-log`` probability of the discrete digits (Theis et al., 2016). ``x`` must lie in [0, 1]
    (``ValueError`` otherwise).
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError("x must be a floating-point torch.Tensor")
    if torch.isnan(x).any():
        raise ValueError("x contains NaN")
    check_unit_interval(x, "x")
    check_int(seed, "seed", minimum=0)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.rand(x.shape, generator=generator, dtype=torch.float64).to(x.dtype)
    return (x * PIXEL_MAX + noise) / GREY_LEVELS


def binarise(x: torch.Tensor) -> torch.Tensor:
    """``1.0`` where ``x > BINARY_THRESHOLD``, else ``0.0`` (same dtype as ``x``).

    Used behind the scenes in chapter *Other likelihoods side by side* (Bernoulli on binarised
    digits).
    """
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError("x must be a floating-point torch.Tensor")
    if torch.isnan(x).any():
        raise ValueError("x contains NaN")
    return (x > BINARY_THRESHOLD).to(x.dtype)


@dataclasses.dataclass(frozen=True)
class Variant:
    """One member of a :func:`run_variants` comparison.

    Introduced in chapter *Reading real VAE code* (the earlier chapters use the lists below). ``label`` names it in tables and plots;
    ``likelihood`` is a name of :data:`vaebook.likelihoods.LIKELIHOOD_NAMES`; ``sigma`` is the
    fixed σ (or Laplace scale) or the starting value of a learned one (ignored otherwise);
    ``scale_floor`` is the soft floor of a learned, optimal or per-pixel scale (0: none);
    ``data`` is one of :data:`DATA_KINDS`: the grey digits, or binarised or dequantised ones.
    ``kl_warmup`` (KL annealing) and ``free_bits`` are those of
    :func:`~vaebook.training.train_vae` (chapter *A recipe for a sound VAE loss*).
    ``code_loss`` names a loss of :data:`vaebook.real_code.CODE_LOSSES` that replaces the
    likelihood's in training (chapter *Reading real VAE code*); ``likelihood`` and ``sigma``
    then say how the trained VAE is measured.
    """

    label: str
    likelihood: str
    sigma: float = 1.0
    scale_floor: float = 0.0
    data: str = "grey"
    kl_warmup: int = 0
    free_bits: float = 0.0
    code_loss: str = ""

    def __post_init__(self):
        if not isinstance(self.label, str) or not self.label:
            raise ValueError(f"label must be a non-empty string, got {self.label!r}")
        check_number(self.sigma, "sigma")
        if self.data not in DATA_KINDS:
            raise ValueError(f"data must be one of {DATA_KINDS}, got {self.data!r}")
        check_int(self.kl_warmup, "kl_warmup", minimum=0)
        check_number(self.free_bits, "free_bits", allow_zero=True)
        if self.code_loss and self.code_loss not in CODE_LOSSES:
            raise ValueError(f"code_loss must be one of {list(CODE_LOSSES)} or empty, got "
                             f"{self.code_loss!r}")
        self.make_likelihood()  # raises a ValueError for an unknown name or a bad floor

    def make_likelihood(self) -> Likelihood:
        """The :class:`~vaebook.likelihoods.Likelihood` of this variant."""
        return get_likelihood(self.likelihood, self.scale_floor)


LEARNED_SIGMA_VARIANTS = (
    Variant("learned σ", "gaussian-learned", sigma=1.0),
    Variant("σ-VAE", "gaussian-optimal"),
    Variant("per-pixel σ, floor", "gaussian-per-pixel", scale_floor=QUANTISATION_SIGMA),
)
"""The variants of chapter *Learning σ*. A per-pixel σ trained from scratch *without* a floor
is not among them: its outcome changes with the seed and with the CPU's rounding (measured in
the chapter's exercises); :func:`lower_floor` shows what the floor does instead."""

LIKELIHOOD_VARIANTS = (
    Variant("Gaussian, σ = 0.1", "gaussian", sigma=0.1),
    Variant("Gaussian, σ learned", "gaussian-learned", sigma=1.0),
    Variant("Laplace, b learned", "laplace-learned", sigma=1.0),
    Variant("BCE on grey", "bernoulli"),
    Variant("continuous Bernoulli", "continuous-bernoulli"),
    Variant("Bernoulli, binarised", "bernoulli", data="binary"),
    Variant("Gaussian, σ learned, dequantised", "gaussian-learned", data="dequantised"),
    Variant("Laplace, b learned, dequantised", "laplace-learned", data="dequantised"),
    Variant("continuous Bernoulli, dequantised", "continuous-bernoulli", data="dequantised"),
)
"""The variants of chapter *Other likelihoods side by side*."""


@dataclasses.dataclass
class VariantResult(_cache.StoredResult):
    """Everything :func:`run_variants` produced: one entry per variant along the first axis.

    Used behind the scenes in chapter *Learning σ*. The test-set arrays are those of
    :func:`~vaebook.training.evaluate` (see there for shapes and units); ``train_neg_elbo``,
    ``train_mse``, ``train_kl`` and ``train_pixel_scale`` are measured on the training digits.
    ``scale`` and ``fitted_scale`` (K,) come from :func:`~vaebook.training.train_vae` (NaN where
    there is no shared scale); ``history`` holds the training curves (``step`` and per-member
    ``loss``, ``nll``, ``kl``, ``min_scale``). ``hyperparameters["variants"]`` lists the
    variants as dicts; :attr:`labels` and :attr:`likelihoods` read them.
    """

    scale: np.ndarray
    fitted_scale: np.ndarray
    mse: np.ndarray
    kl: np.ndarray
    kl_per_latent: np.ndarray
    neg_elbo: np.ndarray
    active_units: np.ndarray
    pixel_scale: np.ndarray
    reconstructions: np.ndarray
    recon_originals: np.ndarray
    recon_labels: np.ndarray
    prior_samples: np.ndarray
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
    def variants(self) -> list[Variant]:
        """The variants, in member order."""
        return [Variant(**item) for item in self.hyperparameters["variants"]]

    @property
    def labels(self) -> list[str]:
        """The variants' labels, in member order."""
        return [item.label for item in self.variants]

    @property
    def likelihoods(self) -> list[Likelihood]:
        """The variants' likelihoods, in member order."""
        return [item.make_likelihood() for item in self.variants]

    def model(self) -> BatchedMLPVAE:
        """The trained VAEs, one member per variant, rebuilt from ``weights``."""
        params = self.hyperparameters
        outputs = max(item.outputs_per_pixel for item in self.likelihoods)
        model = BatchedMLPVAE(len(self.labels), self.reconstructions.shape[-1],
                              params["hidden_dim"], params["latent_dim"],
                              outputs_per_pixel=outputs)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in self.weights.items()})
        return model.eval()

    def test_data(self) -> tuple[torch.Tensor, torch.Tensor]:
        """``(x_test, y_test)`` as each member saw them: ``x_test`` is ``(K, N, D)``."""
        _, _, x_test, y_test = load_digits_split()
        return _member_data(x_test, self.variants, "test", stack=True), y_test

    @torch.no_grad()
    def per_pixel_nll(self, label: str) -> torch.Tensor:
        """``-log p(x_j | z)`` of every pixel of every test digit, shape ``(N, D)``, for the
        variant ``label``, with ``z`` the posterior mean and the trained scale.

        Introduced in chapter *Learning σ*. Summed over pixels it is the reconstruction term
        of the −ELBO at the posterior mean (no sampling), so it shows which pixels cost nats.
        """
        k = self.index_of(label)
        model, (x, _) = self.model(), self.test_data()
        likelihood = self.likelihoods[k].frozen()
        output = model.decode(model.encode(x)[0])[k]
        n_images, data_dim = x.shape[1:]
        # One pixel per row: the likelihood then returns one value per (image, pixel).
        columns = output.reshape(n_images, -1, data_dim).transpose(1, 2).reshape(
            n_images * data_dim, -1)
        if likelihood.outputs_per_pixel == 1:
            columns = columns[:, :1]
        scale = None if np.isnan(self.scale[k]) else float(self.scale[k])
        nll = likelihood.nll(x[k].reshape(-1, 1), columns, scale)
        return nll.reshape(n_images, data_dim)

    def neg_log_likelihood(self, samples: int = training.IWAE_SAMPLES) -> np.ndarray:
        """An importance-weighted estimate of ``-log p(x)``, nats per test image, shape (K,).

        Introduced in chapter *Other likelihoods side by side*: the same test digits, scales
        and constants as ``neg_elbo``, with ``samples`` importance samples per image
        (:func:`~vaebook.training.importance_weighted_nll`). The −ELBO minus this estimate
        is the gap of each member's bound.
        """
        x, _ = self.test_data()
        return training.importance_weighted_nll(
            self.model(), x, _evaluation_scales(self.scale), likelihood=self.likelihoods,
            samples=samples, seed=self.hyperparameters["seed"]).mean(axis=1)

    def index_of(self, label: str) -> int:
        """The member index of the variant called ``label``."""
        labels = self.labels
        if label not in labels:
            raise ValueError(f"no variant is labelled {label!r}; the labels are {labels}")
        return labels.index(label)


def _check_variants(variants) -> list[Variant]:
    if isinstance(variants, Variant) or not isinstance(variants, (list, tuple)) or not variants:
        raise ValueError("variants must be a non-empty list of Variant")
    if not all(isinstance(item, Variant) for item in variants):
        raise ValueError("variants must be a non-empty list of Variant")
    labels = [item.label for item in variants]
    if len(set(labels)) != len(labels):
        raise ValueError(f"variant labels must be unique, got {labels}")
    if len({bool(item.code_loss) for item in variants}) > 1:
        raise ValueError("either every variant has a code_loss or none has")
    return list(variants)


def _code_loss_fn(variants: list[Variant], params: dict, x_train: torch.Tensor):
    """The ``loss_fn`` that trains every variant with its ``code_loss`` (None if none has)."""
    if not variants[0].code_loss:
        return None
    losses = [digits_loss(item.code_loss, batch_size=params["batch_size"],
                          pixels=x_train.shape[-1], n_train=x_train.shape[-2])
              for item in variants]
    return member_losses(losses, [CODE_LOSSES[item.code_loss].sigmoid for item in variants])


def _member_data(x: torch.Tensor, variants: list[Variant], split: str,
                 stack: bool = False) -> torch.Tensor:
    """``(N, D)`` if every variant sees the grey digits (and not ``stack``), else
    ``(K, N, D)`` with each variant's own version of the ``split`` ("train" or "test")."""
    if not stack and all(item.data == "grey" for item in variants):
        return x
    versions = {"grey": x, "binary": binarise(x),
                "dequantised": dequantise(x, _DEQUANTISE_SEEDS[split])}
    return torch.stack([versions[item.data] for item in variants])


def _evaluation_scales(scale: np.ndarray) -> np.ndarray:
    """The trained scales as the σ of :func:`~vaebook.training.evaluate`: members without a
    shared scale (NaN) ignore theirs, so any positive number stands in."""
    return np.where(np.isnan(scale), 1.0, scale)


def _train_and_evaluate(params: dict, progress, model: BatchedMLPVAE | None = None,
                        trainable: tuple[str, ...] | None = None) -> VariantResult:
    """Train one member per variant of ``params`` (from ``model``'s weights if given, else
    from a fresh model), evaluate them all and return the :class:`VariantResult`."""
    variants = [Variant(**item) for item in params["variants"]]
    likelihoods = [item.make_likelihood() for item in variants]
    x_train, y_train, x_test, y_test = load_digits_split()
    x_train = _member_data(x_train, variants, "train")
    x_test = _member_data(x_test, variants, "test")
    if model is None:
        model = BatchedMLPVAE(len(variants), x_train.shape[-1], params["hidden_dim"],
                              params["latent_dim"], seed=params["seed"],
                              outputs_per_pixel=max(item.outputs_per_pixel
                                                    for item in likelihoods))
    start = time.perf_counter()
    trained = training.train_vae(
        model, x_train, [item.sigma for item in variants], likelihood=likelihoods,
        steps=params["steps"], batch_size=params["batch_size"], lr=params["lr"],
        seed=params["seed"], progress=progress, record_every=params["record_every"],
        trainable=trainable, kl_warmup=[item.kl_warmup for item in variants],
        free_bits=[item.free_bits for item in variants],
        loss_fn=_code_loss_fn(variants, params, x_train))
    seconds = time.perf_counter() - start
    scales = _evaluation_scales(trained["scale"])
    test = training.evaluate(model, x_test, y_test, scales, likelihood=likelihoods,
                             seed=params["seed"])
    train = training.evaluate(model, x_train, y_train, scales, likelihood=likelihoods,
                              seed=params["seed"])
    fields = {name: test[name] for name in (
        "mse", "kl", "kl_per_latent", "neg_elbo", "active_units", "pixel_scale",
        "reconstructions", "recon_originals", "recon_labels", "prior_samples")}
    return VariantResult(
        scale=trained["scale"], fitted_scale=trained["fitted_scale"], **fields,
        train_neg_elbo=train["neg_elbo"], train_mse=train["mse"], train_kl=train["kl"],
        train_pixel_scale=train["pixel_scale"], history=trained["history"],
        weights={k: v.detach().cpu().numpy() for k, v in model.state_dict().items()},
        hyperparameters=params, train_seconds=seconds)


def run_variants(variants, *, latent_dim: int = 2, hidden_dim: int = DEFAULT_HIDDEN_DIM,
                 steps: int = DEFAULT_STEPS, batch_size: int = DEFAULT_BATCH_SIZE,
                 lr: float = DEFAULT_LR, seed: int | None = None, record_every: int = 50,
                 cache: bool = True, progress="auto") -> VariantResult:
    """Train one VAE per :class:`Variant` (all as ONE batched model), evaluate, cache.

    Introduced in chapter *Learning σ*. The defaults are those of
    :func:`~vaebook.sweeps.run_sigma_sweep`, so a ``"gaussian"`` variant with σ on the sweep's
    grid trains exactly like that member of the sweep. With ``cache=True`` a result with the
    same arguments and the same code is loaded from disk instead of retrained.
    """
    variants = _check_variants(variants)
    params = {"variants": [dataclasses.asdict(item) for item in variants],
              "latent_dim": check_int(latent_dim, "latent_dim"),
              "hidden_dim": check_int(hidden_dim, "hidden_dim"),
              "steps": check_int(steps, "steps"),
              "batch_size": check_int(batch_size, "batch_size"),
              "lr": check_number(lr, "lr"),
              "seed": check_int(settings.default_seed() if seed is None else seed,
                                          "seed", minimum=0),
              "record_every": check_int(record_every, "record_every")}
    return _cache.load_or_compute("variants", params, VariantResult.load,
                                  lambda: _train_and_evaluate(params, progress),
                                  enabled=cache, modules=("vaebook.variants",
                                                          "vaebook.real_code"))


LOWER_FLOOR_STEPS = 1000
"""Adam steps of :func:`lower_floor`."""

LOWER_FLOOR_LR = 1e-3
"""Peak learning rate of :func:`lower_floor` (a tenth of the training's: a fine-tune)."""


def lower_floor(result: VariantResult, label: str, *, factor: float = 10.0,
                steps: int = LOWER_FLOOR_STEPS, lr: float = LOWER_FLOOR_LR,
                cache: bool = True, progress="auto") -> VariantResult:
    """Lower the soft floor of a trained per-pixel σ by ``factor``, with a control.

    Introduced in chapter *Learning σ*. Member ``label`` of ``result`` must be a
    ``"gaussian-per-pixel"`` variant with a floor. Two copies of it are fine-tuned for
    ``steps`` Adam steps, side by side: the control keeps its floor, the other has its floor
    divided by ``factor``. Only the decoder's output layer (the per-pixel means and log σ)
    trains; the encoder and the decoder's hidden layer stay fixed. Every pixel's output is then
    its own small problem, untouched by the others, so what the lower floor changes shows
    cleanly, and the same way for every seed and floating-point path (chapter *Learning σ*
    measures it; ``make robust`` checks it). Returns a :class:`VariantResult` with the two
    members, labelled by their floors, cached like :func:`run_variants`.
    """
    if not isinstance(result, VariantResult):
        raise ValueError(f"result must be a VariantResult, got {type(result).__name__}")
    base = result.variants[result.index_of(label)]
    if base.likelihood != "gaussian-per-pixel" or base.scale_floor <= 0:
        raise ValueError(f"lower_floor needs a per-pixel σ with a floor; {label!r} is "
                         f"{base.likelihood!r} with floor {base.scale_floor:g}")
    factor = check_number(factor, "factor")
    if factor <= 1:
        raise ValueError(f"factor must be > 1 (it divides the floor), got {factor!r}")
    floors = (base.scale_floor, base.scale_floor / factor)
    variants = [dataclasses.replace(base, label=f"floor {floor:.2g}", scale_floor=floor)
                for floor in floors]
    params = {key: result.hyperparameters[key] for key in (
        "latent_dim", "hidden_dim", "batch_size", "seed", "record_every")}
    params.update({"variants": [dataclasses.asdict(item) for item in variants],
                   "steps": check_int(steps, "steps"),
                   "lr": check_number(lr, "lr"),
                   "start": {"hyperparameters": result.hyperparameters, "member": label},
                   "trainable": ["dec_out"]})

    def compute() -> VariantResult:
        source = result.model()
        model = BatchedMLPVAE(2, source.data_dim, source.hidden_dim, source.latent_dim,
                              outputs_per_pixel=source.outputs_per_pixel)
        model.copy_member_from(source, result.index_of(label))
        return _train_and_evaluate(params, progress, model=model, trainable=("dec_out",))

    return _cache.load_or_compute("lower-floor", params, VariantResult.load, compute,
                                  enabled=cache)
