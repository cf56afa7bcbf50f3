"""The linear VAE and its closed form, probabilistic PCA.

Introduced in chapter *Posterior collapse in the linear VAE*. A linear VAE with decoder
``p(x | z) = N(W z + b, σ² I)``, a linear Gaussian encoder and a fixed σ has the same optimum
as probabilistic PCA (Tipping & Bishop, 1999; Lucas et al., 2019): with ``λ_1 ≥ λ_2 ≥ ...``
the eigenvalues of the data covariance, latent direction ``i`` keeps a decoder column of
squared norm ``max(λ_i − σ², 0)``, carries ``max(0, ½ log(λ_i / σ²))`` nats of KL, and
collapses exactly when ``λ_i ≤ σ²``. At the optimum the ELBO is tight: the −ELBO equals the
exact −log p(x) of probabilistic PCA.

The closed form (:func:`covariance_eigenvalues`, :func:`ppca_active_dims`,
:func:`ppca_column_norms_sq`, :func:`ppca_kl_per_latent`, :func:`ppca_neg_log_likelihood`) uses
the *maximum-likelihood* covariance of the data (divided by N, not N − 1), which is what the
likelihood of the training set sees. :func:`run_linear_sweep` trains one
:class:`~vaebook.models.BatchedLinearVAE` member per σ with
:func:`~vaebook.training.train_vae` and measures it; the result is cached with
:mod:`vaebook.cache`.

This is the one experiment that does not go through :func:`vaebook.experiment.run`, on
purpose: its model is another (linear, float64, full-batch, on any pixel range), and what it
measures is what the closed form predicts (decoder column norms, the exact −ELBO, the optimal
−log p(x)), not the test-set measures of an MLP VAE.
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np
import torch

from vaebook import cache as _cache
from vaebook import settings, training
from vaebook._checks import check_int, check_number
from vaebook.data import load_digits_split, pixel_range_bounds, to_pixel_range
from vaebook.models import BatchedLinearVAE

__all__ = [
    "LINEAR_SIGMAS",
    "LINEAR_STEPS",
    "LINEAR_LR",
    "covariance_eigenvalues",
    "ppca_active_dims",
    "ppca_column_norms_sq",
    "ppca_kl_per_latent",
    "ppca_neg_log_likelihood",
    "linear_vae_neg_elbo",
    "PixelRangeLinearVAE",
    "LinearSweepResult",
    "run_linear_sweep",
]

LINEAR_SIGMAS = (0.5, 0.55, 0.65, 0.7, 0.9)
"""The σ grid of the chapter, chosen so that its claims hold for every seed and floating-point
path (``make robust``). A direction whose eigenvalue λ lies close to σ² converges slowly: its
KL at the optimum, ½ log(λ/σ²), is tiny if λ is just above σ², and its decay to 0 is slow if
λ is just below. Near the 0.01-nat threshold that counts a latent as active, the count then
depends on the seed. Each σ here keeps its eigenvalues at least 9 % away from σ² (σ = 0.4 was
3 % from λ₉ and σ = 0.6 had λ₄ only 7 % above σ²: both flipped with the seed in the study).
Smaller σ also converge slowly (σ = 0.3 is still ≈ 0.1 nats away after 2000 steps)."""

LINEAR_STEPS = 3000
"""Full-batch Adam steps of :func:`run_linear_sweep`. Measured over 5 seeds: after 1200 steps
the squared column norms of some runs were still 0.08 from the closed form; after 3000 every
one is within 0.03."""

LINEAR_LR = 0.02
"""Peak learning rate of the cosine schedule of :func:`~vaebook.training.train_vae`."""


def _as_data(x, name: str = "x") -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    try:
        x = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a numeric array of shape (N, D)") from error
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise ValueError(f"{name} must have shape (N, D) with N >= 2, got {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return x


def _as_sigma(sigma) -> float:
    if np.ndim(sigma) != 0:
        raise ValueError(f"sigma must be one positive number, got {sigma!r}")
    return float(training.check_sigmas(sigma, "sigma")[0])


def _as_eigenvalues(eigenvalues) -> np.ndarray:
    try:
        values = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        values = np.array([])  # not numbers (a string, a ragged list): refused below
    if values.size == 0 or not np.isfinite(values).all() or (values < -1e-12).any():
        raise ValueError("eigenvalues must be a non-empty list of finite numbers >= 0")
    return np.sort(np.clip(values, 0.0, None))[::-1]


def covariance_eigenvalues(x) -> np.ndarray:
    """Eigenvalues of the maximum-likelihood covariance of ``x`` ``(N, D)``, largest first.

    Introduced in chapter *σ trades reconstruction against KL*; the book's one eigenvalue
    helper, so every chapter and claim uses one convention. The covariance is the
    maximum-likelihood one, ``(1/N) Σ (x_n − x̄)(x_n − x̄)ᵀ`` (probabilistic PCA's; ``np.cov``
    divides by N − 1 and gives eigenvalues larger by N/(N − 1)); tiny negative rounding errors
    are clipped to 0.
    """
    x = _as_data(x)
    centred = x - x.mean(axis=0)
    covariance = centred.T @ centred / x.shape[0]
    return np.clip(np.linalg.eigvalsh(covariance)[::-1], 0.0, None)


def ppca_active_dims(eigenvalues, sigma, latent_dim: int | None = None) -> int:
    """Number of latent directions that survive at σ: ``#{λ_i > σ²}``, at most ``latent_dim``.

    Introduced in chapter *Posterior collapse in the linear VAE*.
    """
    values = _as_eigenvalues(eigenvalues)
    count = int((values > _as_sigma(sigma) ** 2).sum())
    return count if latent_dim is None else min(count, check_int(latent_dim, "latent_dim"))


def ppca_column_norms_sq(eigenvalues, sigma, latent_dim: int) -> np.ndarray:
    """Optimal squared decoder column norms ``max(λ_i − σ², 0)`` for the top ``latent_dim``.

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*. Largest first; padded
    with zeros when ``latent_dim`` exceeds the number of eigenvalues.
    """
    values = _as_eigenvalues(eigenvalues)
    latent_dim = check_int(latent_dim, "latent_dim")
    top = np.zeros(latent_dim)
    top[: min(latent_dim, values.size)] = values[:latent_dim]
    return np.maximum(top - _as_sigma(sigma) ** 2, 0.0)


def ppca_kl_per_latent(eigenvalues, sigma, latent_dim: int) -> np.ndarray:
    """KL of each latent at the optimum, ``max(0, ½ log(λ_i / σ²))`` nats, largest first.

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*. At the optimum the
    encoder of latent ``i`` has variance ``σ² / λ_i`` and means of variance ``1 − σ² / λ_i`` over
    the data, which gives this KL; a collapsed latent has KL 0.
    """
    values = _as_eigenvalues(eigenvalues)
    latent_dim = check_int(latent_dim, "latent_dim")
    top = np.zeros(latent_dim)
    top[: min(latent_dim, values.size)] = values[:latent_dim]
    sigma_sq = _as_sigma(sigma) ** 2
    with np.errstate(divide="ignore"):
        return np.where(top > sigma_sq, 0.5 * np.log(np.maximum(top, sigma_sq) / sigma_sq), 0.0)


def ppca_neg_log_likelihood(x, sigma, latent_dim: int) -> float:
    """Exact optimal −log p(x) per data point (nats) of probabilistic PCA with σ fixed.

    Introduced in chapter *Posterior collapse in the linear VAE*. The model is
    ``x ~ N(μ, C)`` with ``C = W Wᵀ + σ² I`` and ``W`` of ``latent_dim`` columns, at its
    maximum-likelihood ``μ`` (the data mean) and ``W``. With ``S`` the ML covariance of ``x``,
    the value is ``½ [D log 2π + log|C| + tr(C⁻¹ S)]``; at the optimum ``C`` has the
    eigenvalues ``max(λ_i, σ²)`` for the top ``latent_dim`` directions and ``σ²`` for the
    rest, with the eigenvectors of ``S``.
    """
    x = _as_data(x)
    sigma_sq = _as_sigma(sigma) ** 2
    latent_dim = check_int(latent_dim, "latent_dim")
    values = covariance_eigenvalues(x)
    c = np.full(values.size, sigma_sq)
    k = min(latent_dim, values.size)
    c[:k] = np.maximum(values[:k], sigma_sq)
    return float(0.5 * (values.size * math.log(2 * math.pi) + np.log(c).sum() + (values / c).sum()))


@torch.no_grad()
def linear_vae_neg_elbo(model: BatchedLinearVAE, x: torch.Tensor, sigmas) -> np.ndarray:
    """The exact −ELBO per data point (nats) of each member of a linear VAE, no sampling.

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*. For a linear decoder
    the expectation over ``q(z | x) = N(mu, diag(v))`` is exact:
    ``E ||x − W z − b||² = ||x − W mu − b||² + Σ_j ||W_j||² v_j``, so the −ELBO is
    ``(D/2) log(2πσ²) + E||x − W z − b||² / (2σ²) + KL``, averaged over the rows of ``x``.
    """
    if not isinstance(model, BatchedLinearVAE):
        raise ValueError(f"model must be a BatchedLinearVAE, got {type(model).__name__}")
    sigmas = training.check_sigmas(sigmas)
    if sigmas.numel() != model.n_models:
        raise ValueError(
            f"sigmas must hold one σ per member ({model.n_models}), got {sigmas.numel()}"
        )
    x = training._check_data(x, model, "x")
    mu, logvar = model.encode(x)
    sse = ((x - model.decode(mu)) ** 2).sum(dim=2).mean(dim=1)
    variance = logvar[:, 0].exp()
    trace = (model.column_norms_sq() * variance).sum(dim=1)
    sigma_sq = sigmas.to(model.dtype) ** 2
    nll = 0.5 * model.data_dim * torch.log(2 * math.pi * sigma_sq) + (sse + trace) / (2 * sigma_sq)
    kl = 0.5 * (mu**2 + variance[:, None, :] - logvar - 1).sum(dim=2).mean(dim=1)
    return (nll + kl).cpu().numpy()


class PixelRangeLinearVAE(BatchedLinearVAE):
    """A :class:`~vaebook.models.BatchedLinearVAE` that reads and writes pixels on another range.

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*. Its encoder reads
    ``(x − low) / width`` and its decoder outputs ``low + width · (W z + b)``: the layers work
    in [0, 1] units, as a ``Normalize`` layer would make them, so that the same learning rate
    suits every range (Adam's steps are in parameter units). It is still a linear VAE on the
    pixels it reads, with decoder columns ``width · W_j``; :meth:`column_norms_sq` reports
    those. With ``pixel_range="0..1"`` it computes exactly what the plain model computes.
    """

    def __init__(
        self,
        n_models: int,
        data_dim: int = 64,
        latent_dim: int = 16,
        *,
        pixel_range: str = "0..1",
        seed: int = 0,
        dtype: torch.dtype = torch.float64,
    ):
        super().__init__(n_models, data_dim, latent_dim, seed=seed, dtype=dtype)
        self.low, high = pixel_range_bounds(pixel_range)
        self.pixel_range = pixel_range
        self.width = high - self.low

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior mean and log-variance of pixels ``x`` on the model's range."""
        return super().encode((x - self.low) / self.width)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder mean on the model's pixel range, ``(K, B, D)``."""
        return self.low + self.width * super().decode(z)

    def column_norms_sq(self) -> torch.Tensor:
        """``||width · W_j||²`` of every decoder column on the pixel range, ``(K, latent_dim)``."""
        return self.width**2 * super().column_norms_sq()


@dataclasses.dataclass
class LinearSweepResult(_cache.StoredResult):
    """A trained linear-VAE σ sweep next to its closed form: one row per σ.

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*. Measured on the
    training digits (the data the closed form is computed on):

    * ``kl_per_latent`` (K, L): KL of each latent (nats), as trained; ``active_units`` (K,):
      latents with KL above :data:`~vaebook.training.ACTIVE_UNIT_THRESHOLD` (0.01 nats);
    * ``column_norms_sq`` (K, L): squared decoder column norms ``||W_j||²``, sorted largest
      first;
    * ``train_neg_elbo`` (K,): the exact −ELBO per digit (:func:`linear_vae_neg_elbo`);
    * the closed form: ``eigenvalues`` (D,), ``predicted_active`` (K,),
      ``predicted_norms_sq`` (K, L), ``predicted_kl_per_latent`` (K, L) and
      ``optimal_nll`` (K,), the exact optimal −log p(x) per digit;
    * ``reconstructions`` (K, n, D) of the test digits ``recon_originals`` (n, D), decoded
      from the posterior means.

    Everything is in the units of ``hyperparameters["pixel_range"]`` (eigenvalues and squared
    norms scale with the square of the range's width, −log p(x) shifts by D·log(width)).
    """

    sigmas: np.ndarray
    kl_per_latent: np.ndarray
    active_units: np.ndarray
    column_norms_sq: np.ndarray
    train_neg_elbo: np.ndarray
    eigenvalues: np.ndarray
    predicted_active: np.ndarray
    predicted_norms_sq: np.ndarray
    predicted_kl_per_latent: np.ndarray
    optimal_nll: np.ndarray
    reconstructions: np.ndarray
    recon_originals: np.ndarray
    hyperparameters: dict
    train_seconds: float
    from_cache: bool = False

    @property
    def elbo_gap(self) -> np.ndarray:
        """Trained −ELBO minus the closed-form optimum, nats per digit (≥ 0 up to noise)."""
        return self.train_neg_elbo - self.optimal_nll

    @property
    def pixel_width(self) -> float:
        """Width of the pixel range the sweep was trained on (1 for [0, 1] pixels)."""
        low, high = pixel_range_bounds(self.hyperparameters.get("pixel_range", "0..1"))
        return high - low


def _train_and_measure(params: dict, progress) -> LinearSweepResult:
    sigmas = np.asarray(params["sigmas"])
    latent_dim = params["latent_dim"]
    x_train, y_train, x_test, y_test = (
        to_pixel_range(x, params["pixel_range"]) if x.is_floating_point() else x
        for x in load_digits_split(dtype=torch.float64)
    )
    model = PixelRangeLinearVAE(
        len(sigmas),
        x_train.shape[1],
        latent_dim,
        pixel_range=params["pixel_range"],
        seed=params["seed"],
    )
    start = time.perf_counter()
    training.train_vae(
        model,
        x_train,
        sigmas,
        steps=params["steps"],
        batch_size=params["batch_size"],
        lr=params["lr"],
        seed=params["seed"],
        progress=progress,
    )
    seconds = time.perf_counter() - start
    train = training.evaluate(model, x_train, y_train, sigmas, seed=params["seed"])
    test = training.evaluate(
        model, x_test, y_test, sigmas, seed=params["seed"], n_recon=params["n_recon"]
    )
    eigenvalues = covariance_eigenvalues(x_train)
    return LinearSweepResult(
        sigmas=sigmas,
        kl_per_latent=train["kl_per_latent"],
        active_units=train["active_units"],
        column_norms_sq=-np.sort(-model.column_norms_sq().numpy(), axis=1),
        train_neg_elbo=linear_vae_neg_elbo(model, x_train, sigmas),
        eigenvalues=eigenvalues,
        predicted_active=np.array([ppca_active_dims(eigenvalues, s, latent_dim) for s in sigmas]),
        predicted_norms_sq=np.stack(
            [ppca_column_norms_sq(eigenvalues, s, latent_dim) for s in sigmas]
        ),
        predicted_kl_per_latent=np.stack(
            [ppca_kl_per_latent(eigenvalues, s, latent_dim) for s in sigmas]
        ),
        optimal_nll=np.array([ppca_neg_log_likelihood(x_train, s, latent_dim) for s in sigmas]),
        reconstructions=test["reconstructions"],
        recon_originals=test["recon_originals"],
        hyperparameters=params,
        train_seconds=seconds,
    )


def run_linear_sweep(
    sigmas=LINEAR_SIGMAS,
    *,
    latent_dim: int = 16,
    steps: int = LINEAR_STEPS,
    batch_size: int = 4096,
    lr: float = LINEAR_LR,
    seed: int | None = None,
    n_recon: int = 8,
    pixel_range: str = "0..1",
    cache: bool = True,
    progress="auto",
) -> LinearSweepResult:
    """Train one linear VAE per σ on the training digits (ONE float64 batched model), cached.

    Introduced in chapter *Posterior collapse in the linear VAE*. Trains a
    :class:`~vaebook.models.BatchedLinearVAE` with :func:`~vaebook.training.train_vae`
    (``batch_size`` ≥ 1347 means full-batch steps, the default) and returns a
    :class:`LinearSweepResult` holding the trained measurements next to the closed form.
    ``pixel_range`` (a key of :data:`vaebook.data.PIXEL_RANGES`) trains on the digits mapped
    onto that range, with σ in its units, through a :class:`PixelRangeLinearVAE`.
    With ``cache=True`` a result with the same arguments and the same code (this module
    included) is loaded from disk instead of retrained.
    """
    pixel_range_bounds(pixel_range)
    sigma_values = training.check_sigmas(sigmas)
    params = {
        "sigmas": [float(s) for s in sigma_values],
        "latent_dim": check_int(latent_dim, "latent_dim"),
        "steps": check_int(steps, "steps"),
        "batch_size": check_int(batch_size, "batch_size"),
        "lr": check_number(lr, "lr"),
        "seed": check_int(settings.default_seed() if seed is None else seed, "seed", minimum=0),
        "n_recon": check_int(n_recon, "n_recon"),
        "pixel_range": pixel_range,
    }
    return _cache.load_or_compute(
        "linear-sweep",
        params,
        LinearSweepResult.load,
        lambda: _train_and_measure(params, progress),
        enabled=cache,
        modules=(__name__,),
    )
