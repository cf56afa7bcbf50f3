"""Reconstruction likelihoods and the KL term of a VAE: the one definition the book uses.

Every chapter and every training loop of the book imports its losses from here. The functions
take torch tensors whose first dimension is the batch and return torch tensors, so they work
with autograd. Every value is a *negative log-likelihood* in nats, with all its constants kept,
so it can be compared with ``torch.distributions`` and with the formulas in the text.

Argument order: every −log p takes the decoder's output first and the data second,
``gaussian_nll(x_hat, x, sigma)``, ``bernoulli_nll(logits, x)``, ``Likelihood.nll(output, x)``,
as PyTorch's losses take ``(input, target)`` (``F.mse_loss(x_hat, x)``) and as every loss of the
book is written, ``loss(x_hat, x, mu, logvar)``.

Shapes: ``x`` and its reconstruction have shape ``(B, ...)``. "Per sample" means summed over
every dimension but the first, giving shape ``(B,)``. The argument ``reduction`` then acts on
the batch: ``"none"`` keeps shape ``(B,)``, ``"sum"`` adds the samples, ``"mean"`` averages them.

Bad input (NaN, a non-positive scale, mismatched shapes, an integer tensor, an unknown
reduction, ...) raises a :class:`ValueError` that names the argument.

A decoder likelihood is one small class per family (:class:`GaussianLikelihood`, ...), built by
name with :func:`get_likelihood`; :class:`MemberLikelihoods` holds the likelihoods and scales
(fixed or learned σ) of the members of a batched model. To add a family, write one subclass of
:class:`Likelihood` and add it to ``_FAMILIES``: the training loop needs no change.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch
import torch.nn.functional as F

from vaebook._checks import (
    check_choice,
    check_int,
    check_number,
    check_positive_scale,
    check_reduction,
    check_same_shape,
    check_tensor,
    check_unit_interval,
    reduce_batch,
)

__all__ = [
    "recon_sse",
    "gaussian_nll",
    "laplace_nll",
    "bernoulli_nll",
    "continuous_bernoulli_log_normalizer",
    "continuous_bernoulli_nll",
    "kl_standard_normal",
    "optimal_sigma",
    "effective_sigma",
    "kl_to_recon_weight",
    "LIKELIHOOD_NAMES",
    "soft_floor",
    "Likelihood",
    "GaussianLikelihood",
    "LaplaceLikelihood",
    "BernoulliLikelihood",
    "ContinuousBernoulliLikelihood",
    "get_likelihood",
    "MemberLikelihoods",
    "continuous_bernoulli_mean",
    "continuous_bernoulli_logit_for_mean",
]

RECON_REDUCTIONS = ("sum", "batchmean", "mean")
KL_REDUCTIONS = ("sum", "batchmean", "mean")


def _per_sample(values: torch.Tensor) -> torch.Tensor:
    """Sum a ``(B, ...)`` tensor over every dimension but the first: shape ``(B,)``."""
    return values.reshape(values.shape[0], -1).sum(dim=1)


def _check_pair(x, other, other_name: str) -> None:
    check_tensor(x, "x")
    check_tensor(other, other_name)
    check_same_shape(x, other, "x", other_name)


def recon_sse(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Sum of squared errors per sample, ``||x - x_hat||^2``, shape ``(B,)``.

    Introduced in chapter *From the Gaussian likelihood to the MSE*. The sum runs over every
    dimension but the first (pixels and channels); ``x_hat`` is the decoder's mean.
    """
    _check_pair(x, x_hat, "x_hat")
    per_sample = _per_sample((x - x_hat) ** 2)
    _check_finite_result(per_sample, "recon_sse", x, "the squared errors exceed its largest number")
    return per_sample


def gaussian_nll(x_hat: torch.Tensor, x: torch.Tensor, sigma, reduction: str = "sum"):
    """Negative log-density ``-log N(x; x_hat, sigma^2 I)``, constants included.

    Introduced in chapter *From the Gaussian likelihood to the MSE*. Per sample this is
    ``||x - x_hat||^2 / (2 sigma^2) + (D/2) log(2 pi sigma^2)`` for a shared ``sigma``; with a
    per-pixel ``sigma`` each pixel contributes its own ``(x_j - x_hat_j)^2 / (2 sigma_j^2)
    + log(2 pi sigma_j^2) / 2``.

    Args:
        x_hat: decoder mean, shape ``(B, ...)``: first, as in ``F.mse_loss(input, target)``.
        x: data, same shape as ``x_hat``.
        sigma: positive float, or positive tensor broadcastable to ``x`` (e.g. one ``sigma``
            per pixel, shape ``x.shape[1:]``).
        reduction: ``"none"`` (shape ``(B,)``), ``"sum"`` or ``"mean"`` over the batch.
    """
    _check_pair(x, x_hat, "x_hat")
    sigma = check_positive_scale(sigma, "sigma", x)
    reduction = check_reduction(reduction)
    tiny, huge = torch.finfo(sigma.dtype).tiny, torch.finfo(sigma.dtype).max
    var = sigma.detach() ** 2
    if (var < tiny).any() or (var > huge / 8).any():
        # 2 pi sigma^2 leaves the normal range of the dtype: work with z = (x - x_hat) / sigma
        # and log sigma instead, which stay representable for every finite sigma > 0.
        z = (x - x_hat) / sigma
        per_sample = _per_sample(z**2 / 2 + torch.log(sigma) + 0.5 * math.log(2 * math.pi))
    else:
        per_sample = _gaussian_nll(x, x_hat, sigma)
    _check_finite_result(
        per_sample,
        "gaussian_nll",
        x,
        "the squared errors divided by sigma^2 exceed its largest number",
    )
    return reduce_batch(per_sample, reduction)


def _check_finite_result(values: torch.Tensor, function: str, like: torch.Tensor, why: str) -> None:
    """Raise a ValueError naming the overflow when finite inputs gave an infinite result."""
    if not torch.isfinite(values.detach()).all():
        raise ValueError(
            f"{function} overflows {like.dtype}: {why}. Compute in float64 "
            "(.double()) or bring the inputs into a sensible range"
        )


def _gaussian_nll(x: torch.Tensor, x_hat: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """:func:`gaussian_nll` per sample without input checks (the training loop's hot path)."""
    var = sigma**2
    return _per_sample((x - x_hat) ** 2 / (2 * var) + 0.5 * torch.log(2 * math.pi * var))


def laplace_nll(x_hat: torch.Tensor, x: torch.Tensor, scale, reduction: str = "sum"):
    """Negative log-density of a Laplace decoder, ``|x - x_hat| / b + log(2 b)`` per pixel.

    Introduced in chapter *What a loss assumes: its σ and its likelihood*. Summed over pixels it is
    the L1 error divided by the scale ``b`` plus ``D log(2 b)``. ``scale`` is a positive float
    or a positive tensor broadcastable to ``x``; ``reduction`` is as in :func:`gaussian_nll`.
    """
    _check_pair(x, x_hat, "x_hat")
    scale = check_positive_scale(scale, "scale", x)
    reduction = check_reduction(reduction)
    per_sample = _laplace_nll(x, x_hat, scale)
    _check_finite_result(
        per_sample,
        "laplace_nll",
        x,
        "the absolute errors divided by the scale, or log(2 * scale), exceed its largest number",
    )
    return reduce_batch(per_sample, reduction)


def _laplace_nll(x: torch.Tensor, x_hat: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """:func:`laplace_nll` per sample without input checks."""
    return _per_sample((x - x_hat).abs() / scale + torch.log(2 * scale))


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor, reduction: str = "sum"):
    """Binary cross-entropy with logits, summed over pixels: ``-log Bernoulli(x; sigmoid(logits))``.

    Introduced in chapter *What a loss assumes: its σ and its likelihood*. ``x`` must lie in [0, 1].
    For ``x`` in {0, 1} this is a negative log-probability; for grey values in between it is
    *not* a normalised density (see :func:`continuous_bernoulli_nll`).
    """
    return _checked_unit_interval_nll("bernoulli_nll", _bernoulli_nll, x, logits, reduction)


def _checked_unit_interval_nll(name: str, nll, x, logits, reduction: str):
    """``nll(x, logits)`` per sample of a Bernoulli type, its inputs and result checked, then
    reduced: the body of :func:`bernoulli_nll` and :func:`continuous_bernoulli_nll`."""
    _check_pair(x, logits, "logits")
    check_unit_interval(x, "x")
    reduction = check_reduction(reduction)
    per_sample = nll(x, logits)
    _check_finite_result(
        per_sample, name, x, "the cross-entropies of logits this large exceed its largest number"
    )
    return reduce_batch(per_sample, reduction)


def _bernoulli_nll(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """:func:`bernoulli_nll` per sample without input checks."""
    return _per_sample(F.binary_cross_entropy_with_logits(logits, x, reduction="none"))


# Below this |logits / 2| the series of log(u / tanh u) replaces the closed form.
_CB_SERIES_CUTOFF = 0.05


def continuous_bernoulli_log_normalizer(logits: torch.Tensor) -> torch.Tensor:
    """Elementwise ``log C(lambda)`` of the continuous Bernoulli, ``lambda = sigmoid(logits)``.

    Introduced in chapter *What a loss assumes: its σ and its likelihood*.
    ``C(lambda) = 2 artanh(1 - 2 lambda) / (1 - 2 lambda)``, with ``C(1/2) = 2``. In terms of
    the logit ``eta`` this is ``C = eta / tanh(eta / 2)``. Writing ``u = eta / 2``,
    ``log C = log 2 + log(u / tanh u)``; near ``u = 0`` (``lambda`` near 1/2) the closed form
    is 0/0, so a Taylor series ``u^2/3 - 7u^4/90 + 62u^6/2835 - 127u^8/18900`` is used instead.
    The result has the shape of ``logits`` (no batch sum).
    """
    check_tensor(logits, "logits", min_ndim=0)
    return _cb_log_normalizer(logits)


def _cb_log_normalizer(logits: torch.Tensor) -> torch.Tensor:
    """:func:`continuous_bernoulli_log_normalizer` without input checks."""
    u = logits / 2
    small = u.abs() < _CB_SERIES_CUTOFF
    u_safe = torch.where(small, torch.ones_like(u), u)  # keeps the unused branch finite
    closed = torch.log(u_safe / torch.tanh(u_safe))
    u2 = u * u
    series = u2 * (1 / 3 + u2 * (-7 / 90 + u2 * (62 / 2835 + u2 * (-127 / 18900))))
    return math.log(2.0) + torch.where(small, series, closed)


def continuous_bernoulli_nll(logits: torch.Tensor, x: torch.Tensor, reduction: str = "sum"):
    """Negative log-density of the continuous Bernoulli on [0, 1]^D.

    Used behind the scenes in chapter *What a loss assumes: its σ and its likelihood*. Per pixel it
    is the binary cross-entropy minus ``log C(lambda)``, so it integrates to one over [0, 1]
    (Loaiza-Ganem and Cunningham, 2019). ``reduction`` is as in :func:`gaussian_nll`.
    """
    return _checked_unit_interval_nll(
        "continuous_bernoulli_nll", _continuous_bernoulli_nll, x, logits, reduction
    )


def _continuous_bernoulli_nll(x: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """:func:`continuous_bernoulli_nll` per sample without input checks."""
    bce = F.binary_cross_entropy_with_logits(logits, x, reduction="none")
    return _per_sample(bce - _cb_log_normalizer(logits))


def kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag(exp(logvar))) || N(0, I))`` per sample, shape ``(B,)``.

    Introduced in chapter *From the Gaussian likelihood to the MSE*. Per latent dimension the
    KL is ``(exp(logvar) + mu^2 - 1 - logvar) / 2``; it is summed over every dimension but
    the first.
    """
    check_tensor(mu, "mu")
    check_tensor(logvar, "logvar")
    check_same_shape(mu, logvar, "mu", "logvar")
    kl = _kl_standard_normal(mu, logvar)
    _check_finite_result(
        kl,
        "kl_standard_normal",
        mu,
        f"logvar reaches {logvar.detach().max().item():g}, mu reaches "
        f"{mu.detach().abs().max().item():g}, and exp(logvar) + mu^2 exceeds its largest "
        f"number ({torch.finfo(mu.dtype).max:.3g}); an encoder usually clamps logvar, "
        "e.g. to [-30, 20]",
    )
    return kl


def _kl_standard_normal(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """:func:`kl_standard_normal` without input checks (the training loop's hot path)."""
    return _per_sample(0.5 * (torch.exp(logvar) + mu**2 - 1 - logvar))


def optimal_sigma(x_hat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """The shared ``sigma`` that maximises the Gaussian likelihood: ``sqrt(MSE)``.

    Introduced in chapter *What a loss assumes: its σ and its likelihood*. The mean of the squared
    errors runs over all elements of the batch (the sigma-VAE of Rybkin et al., 2021). Returns a
    0-dim tensor; it is 0 when ``x_hat == x``, where the likelihood is unbounded.
    """
    _check_pair(x, x_hat, "x_hat")
    sigma = torch.sqrt(torch.mean((x - x_hat) ** 2))
    _check_finite_result(sigma, "optimal_sigma", x, "the squared errors exceed its largest number")
    return sigma


def kl_to_recon_weight(
    data_dim: int,
    batch_size: int = 1,
    recon_reduction: str = "mean",
    kl_reduction: str = "batchmean",
    latent_dim: int | None = None,
    kl_weight: float = 1.0,
) -> float:
    """``kl_weight * w_k / w_r``: what one nat of the batch's total KL costs in units of its
    total reconstruction loss, for the given reductions.

    Used behind the scenes in chapter *What a loss assumes: its σ and its likelihood* (by
    :func:`effective_sigma` and the loss calculator). A loss that reduces the batch's
    reconstruction terms with ``recon_reduction`` weighs their total by ``w_r`` (1 for
    ``"sum"``, ``1/B`` for ``"batchmean"``, ``1/(B * D)`` for ``"mean"``), and its KL term by
    ``w_k`` (1, ``1/B`` or ``1/(B * latent_dim)``). Arguments as in :func:`effective_sigma`.
    """
    data_dim = check_int(data_dim, "data_dim")
    batch_size = check_int(batch_size, "batch_size")
    check_choice(recon_reduction, "recon_reduction", RECON_REDUCTIONS)
    check_choice(kl_reduction, "kl_reduction", KL_REDUCTIONS)
    kl_weight = check_number(kl_weight, "kl_weight")
    if latent_dim is not None:
        latent_dim = check_int(latent_dim, "latent_dim")
    elif kl_reduction == "mean":
        raise ValueError('latent_dim is needed when kl_reduction="mean"')

    w_recon = {"sum": 1.0, "batchmean": 1.0 / batch_size, "mean": 1.0 / (batch_size * data_dim)}
    if kl_reduction == "mean":
        w_kl = 1.0 / (batch_size * latent_dim)
    else:
        w_kl = {"sum": 1.0, "batchmean": 1.0 / batch_size}[kl_reduction]
    return kl_weight * w_kl / w_recon[recon_reduction]


def effective_sigma(
    data_dim: int,
    batch_size: int = 1,
    recon_reduction: str = "mean",
    kl_reduction: str = "batchmean",
    latent_dim: int | None = None,
    kl_weight: float = 1.0,
) -> float:
    """The ``sigma`` of the Gaussian decoder that a squared-error VAE loss implies.

    Introduced in chapter *What a loss assumes: its σ and its likelihood*. The loss is
    ``recon_term + kl_weight * kl_term``, where the reconstruction term reduces the squared
    errors of a batch and the KL term reduces the KL divergences:

    * ``recon_reduction``: ``"sum"`` (over pixels and batch), ``"batchmean"`` (sum over
      pixels, mean over the batch) or ``"mean"`` (mean over all ``B * D`` elements, the
      default of ``F.mse_loss``);
    * ``kl_reduction``: ``"sum"`` (over latents and batch), ``"batchmean"`` (sum over latents,
      mean over the batch) or ``"mean"`` (mean over ``B * latent_dim`` elements; needs
      ``latent_dim``).

    If the loss weighs the batch's total SSE by ``w_r`` and its total KL by ``w_k``, it is
    proportional to the Gaussian ``-ELBO`` (up to constants) for ``sigma^2 = kl_weight * w_k /
    (2 * w_r)`` (:func:`kl_to_recon_weight`). For example ``F.mse_loss`` plus a KL summed over
    latents and batch gives ``sigma^2 = B * D / 2``.
    """
    return math.sqrt(
        kl_to_recon_weight(
            data_dim, batch_size, recon_reduction, kl_reduction, latent_dim, kl_weight
        )
        / 2.0
    )


def continuous_bernoulli_mean(logits: torch.Tensor) -> torch.Tensor:
    """Elementwise mean of the continuous Bernoulli with ``lambda = sigmoid(logits)``.

    Introduced in chapter *Training other likelihoods side by side*. The mean is
    ``lambda / (2 lambda - 1) + 1 / (2 artanh(1 - 2 lambda))``; in terms of ``eta = logits``
    it is ``1 / (1 - exp(-eta)) - 1 / eta``, which tends to 1/2 at ``eta = 0``, where a
    Taylor series ``1/2 + eta/12 - eta^3/720`` replaces the 0/0 form.
    """
    check_tensor(logits, "logits", min_ndim=0)
    small = logits.abs() < 1e-2
    safe = torch.where(small, torch.ones_like(logits), logits)
    closed = -1 / torch.expm1(-safe) - 1 / safe
    series = 0.5 + logits / 12 - logits**3 / 720
    return torch.where(small, series, closed)


def continuous_bernoulli_logit_for_mean(mean) -> torch.Tensor:
    """The logit ``eta`` whose continuous Bernoulli has the given mean (elementwise, float64).

    Used behind the scenes in chapter *Training other likelihoods side by side*. The mean
    (:func:`continuous_bernoulli_mean`) rises strictly from 0 to 1 as ``eta`` goes from −∞ to
    ∞, so 80 bisection steps on [−200, 200] find ``eta`` to about 1e-22 relative to the
    interval. Near 0 the mean behaves like ``-1/eta`` (near 1 like ``1 - 1/eta``), so there the
    interval widens to ``[-2/mean, 2/(1 - mean)]`` and the number of steps grows with it.
    ``mean`` must lie strictly between 0 and 1, at least 1e-300 from either end.
    """
    try:
        mean = torch.as_tensor(mean, dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"mean must be a number or a tensor of numbers, got {mean!r}") from None
    if mean.numel() == 0:
        raise ValueError("mean is empty: give at least one mean")
    if torch.isnan(mean).any() or not ((mean > 0) & (mean < 1)).all():
        raise ValueError(f"mean must lie strictly between 0 and 1, got {mean.tolist()}")
    if (mean < 1e-300).any():
        raise ValueError(
            "mean must be at least 1e-300: its logit -1/mean is below the "
            f"float64 range, got {mean.min().item():g}"
        )
    low = torch.minimum(torch.full_like(mean, -200.0), -2 / mean)
    high = torch.maximum(torch.full_like(mean, 200.0), 2 / (1 - mean))
    width = float((high - low).max())
    for _ in range(80 + max(0, math.ceil(math.log2(width / 400)))):
        middle = (low + high) / 2
        above = continuous_bernoulli_mean(middle) > mean
        high, low = torch.where(above, middle, high), torch.where(above, low, middle)
    return (low + high) / 2


# ---------------------------------------------------------------------------------------------
# Decoder likelihoods: one class per family. What the training loop of the book trains with.
# ---------------------------------------------------------------------------------------------


def soft_floor(log_scale: torch.Tensor, floor: float) -> torch.Tensor:
    """``log(floor) + softplus(log_scale - log(floor))``: a smooth ``max(log_scale, log floor)``.

    Used behind the scenes in chapter *Training with a learned σ*. Far above the floor it returns
    ``log_scale`` unchanged; far below it returns ``log(floor)``, so ``exp`` of the result never
    drops below ``floor``. This is the "soft clip" of the σ-VAE code (Rybkin et al., 2021). ``floor
    = 0`` means no floor: ``log_scale`` is returned as it is. A negative, infinite or NaN floor is a
    ``ValueError``.
    """
    if isinstance(floor, bool) or not isinstance(floor, Real) or not (0 <= floor < math.inf):
        raise ValueError(f"floor must be a number >= 0 (0 means no floor), got {floor!r}")
    if not isinstance(log_scale, torch.Tensor):
        raise ValueError(f"log_scale must be a torch.Tensor, got {type(log_scale).__name__}")
    if floor == 0:
        return log_scale
    log_floor = math.log(floor)
    return log_floor + F.softplus(log_scale - log_floor)


class Likelihood:
    """A decoder likelihood: how the decoder's output becomes ``p(x | z)``, and where its scale
    (σ, or the Laplace ``b``) comes from.

    Used behind the scenes in chapter *Training with a learned σ*; build one by name with
    :func:`get_likelihood`. Each family is a subclass (:class:`GaussianLikelihood`,
    :class:`LaplaceLikelihood`, :class:`BernoulliLikelihood`,
    :class:`ContinuousBernoulliLikelihood`) with the same four parts:
    :attr:`outputs_per_pixel`, :meth:`mean`, :meth:`nll` and :meth:`scale`.

    ``scale_kind`` is one of the family's :attr:`scale_kinds` (the first is the default):
    ``"fixed"`` (a given number), ``"learned"`` (one shared scale trained with the weights),
    ``"optimal"`` (one shared scale set to its optimum on every batch), ``"per-pixel"`` (output
    by the decoder) or ``"none"`` (the Bernoulli types). ``scale_floor`` (≥ 0) is a soft lower
    bound (:func:`soft_floor`) on a learned, optimal or per-pixel scale; 0 means none.
    """

    family = ""
    scale_kinds: tuple[str, ...] = ("none",)
    needs_unit_interval = False
    """Whether the data must lie in [0, 1] (the Bernoulli types)."""
    # The family's -log p per sample, checked and unchecked, of (x, location[, scale]); and
    # the map from the location to the mean image (None: the location is the mean).
    _checked_nll = _fast_nll = _mean_of = None

    def __init__(self, scale_kind: str | None = None, scale_floor: float = 0.0):
        if type(self) is Likelihood:
            raise ValueError(
                "Likelihood is the base class: use get_likelihood(name) or a "
                "family class such as GaussianLikelihood"
            )
        kind = self.scale_kinds[0] if scale_kind is None else scale_kind
        if kind not in self.scale_kinds:
            raise ValueError(
                f"the {self.family} likelihood's scale is one of "
                f"{', '.join(self.scale_kinds)}, got {scale_kind!r}"
            )
        if (
            isinstance(scale_floor, bool)
            or not isinstance(scale_floor, (int, float))
            or (math.isnan(scale_floor) or not 0 <= scale_floor < math.inf)
        ):
            raise ValueError(f"scale_floor must be a finite number >= 0, got {scale_floor!r}")
        if scale_floor and kind in ("fixed", "none"):
            raise ValueError(
                f"scale_floor applies to a learned, optimal or per-pixel scale; "
                f"the likelihood {_name(self.family, kind)!r} has none"
            )
        self.scale_kind, self.scale_floor = kind, float(scale_floor)

    @property
    def name(self) -> str:
        """The likelihood's name in :data:`LIKELIHOOD_NAMES`, e.g. ``"gaussian-learned"``."""
        return _name(self.family, self.scale_kind)

    def __repr__(self) -> str:
        floor = f", scale_floor={self.scale_floor:g}" if self.scale_floor else ""
        return f"get_likelihood({self.name!r}{floor})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Likelihood) and (self.name, self.scale_floor) == (
            other.name,
            other.scale_floor,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.scale_floor))

    @property
    def outputs_per_pixel(self) -> int:
        """How many numbers the decoder outputs per pixel: 2 for a per-pixel σ, else 1."""
        return 2 if self.scale_kind == "per-pixel" else 1

    @property
    def learns_scale(self) -> bool:
        """Whether training learns one shared scale by gradient descent (``"learned"``)."""
        return self.scale_kind == "learned"

    @property
    def has_shared_scale(self) -> bool:
        """Whether one scale serves every pixel (fixed, learned or optimal)."""
        return self.scale_kind in ("fixed", "learned", "optimal")

    def frozen(self) -> Likelihood:
        """The same likelihood with its shared scale held fixed (for evaluation after training).

        A learned or optimal shared scale becomes a fixed one; the others are returned as they
        are. Introduced in chapter *Training with a learned σ*.
        """
        return type(self)() if self.scale_kind in ("learned", "optimal") else self

    def check_data(self, x: torch.Tensor, name: str = "x") -> None:
        """Raise a ValueError if ``x`` is outside [0, 1] for a Bernoulli-type likelihood."""
        if self.needs_unit_interval:
            try:
                check_unit_interval(x, name)
            except ValueError as error:
                raise ValueError(f"{error} (the {self.name!r} likelihood)") from None

    def split(self, output: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The decoder output ``(..., outputs_per_pixel * D)`` as ``(location, log_scale)``.

        ``location`` is the mean (Gaussian, Laplace) or the logits (Bernoulli types);
        ``log_scale`` is the per-pixel ``log sigma`` after the floor, or None.
        """
        if self.scale_kind != "per-pixel":
            return output, None
        location, raw = output.chunk(2, dim=-1)
        return location, soft_floor(raw, self.scale_floor)

    def mean(self, output: torch.Tensor) -> torch.Tensor:
        """The mean image of ``p(x | z)`` for a decoder output (what reconstructions show).

        Gaussian and Laplace: the location. Bernoulli: ``sigmoid(logits)``. Continuous
        Bernoulli: its mean ``lambda / (2 lambda - 1) + 1 / (2 artanh(1 - 2 lambda))``, which
        is *not* ``lambda`` (Loaiza-Ganem and Cunningham, 2019).
        """
        location = self.split(output)[0]
        return location if self._mean_of is None else self._mean_of(location)

    def fitted_scale(self, x: torch.Tensor, location: torch.Tensor, dims) -> torch.Tensor:
        """The maximum-likelihood shared scale for errors ``x - location`` over ``dims``."""
        raise ValueError(f"the {self.name!r} likelihood has no scale")

    def scale(self, x: torch.Tensor, output: torch.Tensor, scale=None) -> torch.Tensor | None:
        """The scale of ``p(x | z)`` for a decoder ``output``: σ (or ``b``) for every pixel
        where it varies, else the shared one; None for the Bernoulli types.

        Introduced in chapter *Training with a learned σ*. A fixed or learned scale is the given
        ``scale`` (a number or a tensor broadcastable to ``x``); an optimal one is
        :meth:`fitted_scale` over all but the first dimension, softly floored; a per-pixel one comes
        from the output.
        """
        return self._location_and_scale(x, output, scale)[1]

    def _location_and_scale(self, x: torch.Tensor, output: torch.Tensor, scale=None):
        location, log_scale = self.split(output)
        kind = self.scale_kind
        if kind == "optimal":
            fitted = self.fitted_scale(x, location, tuple(range(1, x.ndim)))
            if not (fitted.detach() > 0).all():
                raise ValueError(
                    f"the {self.name!r} likelihood needs a reconstruction error "
                    "> 0: its optimal scale is 0 and its likelihood unbounded"
                )
            return location, torch.exp(soft_floor(torch.log(fitted), self.scale_floor))
        if kind == "per-pixel":
            return location, torch.exp(log_scale)
        if kind == "none":
            return location, None
        if scale is None:
            raise ValueError(f"scale is needed for the {self.name!r} likelihood")
        return location, scale

    def nll(self, output: torch.Tensor, x: torch.Tensor, scale=None) -> torch.Tensor:
        """``-log p(x | z)`` summed over every dimension but the first, shape ``(B,)``.

        Introduced in chapter *Training with a learned σ*. ``output`` is the decoder's output (the
        location and, for ``"gaussian-per-pixel"``, the raw ``log sigma``); ``scale`` is the shared
        ``sigma`` or ``b`` of a ``fixed`` or ``learned`` likelihood (see :meth:`scale`) and is
        ignored otherwise.

        For ``"bernoulli"`` the value is a negative log-*probability* when ``x`` is in
        {0, 1}; on grey values it is the binary cross-entropy, which is not the negative log
        of any normalised density (chapter *Training other likelihoods side by side*).
        """
        return self._nll_at(x, *self._location_and_scale(x, output, scale), checked=True)

    def _nll(self, output: torch.Tensor, x: torch.Tensor, scale=None) -> torch.Tensor:
        """:meth:`nll` without input checks, for the training loop, whose inputs were checked
        once before the first step (and whose loss is checked for NaN at every step)."""
        return self._nll_at(x, *self._location_and_scale(x, output, scale), checked=False)

    def _nll_at(self, x, location, scale, checked: bool) -> torch.Tensor:
        extra = () if scale is None else (scale,)
        if checked:  # the public functions take the decoder's output first
            return self._checked_nll(location, x, *extra, reduction="none")
        return self._fast_nll(x, location, *extra)


class GaussianLikelihood(Likelihood):
    """A Gaussian decoder (:func:`gaussian_nll`): mean ``x_hat`` and a fixed, learned, optimal
    (``sqrt(MSE)`` of every batch, the σ-VAE of Rybkin et al., 2021) or per-pixel σ (Kingma and
    Welling, 2014, appendix C.2). Used behind the scenes in chapter *Training with a learned σ*."""

    family, scale_kinds = "gaussian", ("fixed", "learned", "optimal", "per-pixel")
    _checked_nll, _fast_nll = staticmethod(gaussian_nll), staticmethod(_gaussian_nll)

    def fitted_scale(self, x: torch.Tensor, location: torch.Tensor, dims) -> torch.Tensor:
        """The maximum-likelihood σ of the errors ``x - location`` over ``dims``: their RMS."""
        return ((x - location) ** 2).mean(dim=dims, keepdim=True).sqrt()


class LaplaceLikelihood(Likelihood):
    """A Laplace decoder (:func:`laplace_nll`): mean ``x_hat`` and a fixed or learned shared
    scale ``b``. Used behind the scenes in chapter *Training with a learned σ*."""

    family, scale_kinds = "laplace", ("fixed", "learned")
    _checked_nll, _fast_nll = staticmethod(laplace_nll), staticmethod(_laplace_nll)

    def fitted_scale(self, x: torch.Tensor, location: torch.Tensor, dims) -> torch.Tensor:
        """The maximum-likelihood ``b`` of the errors ``x - location`` over ``dims``: their mean
        absolute value."""
        return (x - location).abs().mean(dim=dims, keepdim=True)


class BernoulliLikelihood(Likelihood):
    """A Bernoulli decoder (:func:`bernoulli_nll`, the BCE): one logit per pixel, data in [0, 1].
    Used behind the scenes in chapter *Training other likelihoods side by side*."""

    family, needs_unit_interval = "bernoulli", True
    _checked_nll, _fast_nll = staticmethod(bernoulli_nll), staticmethod(_bernoulli_nll)
    _mean_of = staticmethod(torch.sigmoid)


class ContinuousBernoulliLikelihood(Likelihood):
    """The continuous Bernoulli (:func:`continuous_bernoulli_nll`): the Bernoulli's logits with
    the normaliser that makes it a density on [0, 1]. Used behind the scenes in chapter
    *Training other likelihoods side by side*."""

    family, needs_unit_interval = "continuous-bernoulli", True
    _checked_nll = staticmethod(continuous_bernoulli_nll)
    _fast_nll = staticmethod(_continuous_bernoulli_nll)
    _mean_of = staticmethod(continuous_bernoulli_mean)


def _name(family: str, kind: str) -> str:
    return family if kind in ("fixed", "none") else f"{family}-{kind}"


_FAMILIES = (
    GaussianLikelihood,
    LaplaceLikelihood,
    BernoulliLikelihood,
    ContinuousBernoulliLikelihood,
)
_BY_NAME = {
    _name(family.family, kind): (family, kind)
    for family in _FAMILIES
    for kind in family.scale_kinds
}
LIKELIHOOD_NAMES = tuple(_BY_NAME)
"""The likelihood names that :func:`get_likelihood` and :func:`vaebook.training.train_vae` know."""


def get_likelihood(likelihood, scale_floor: float = 0.0) -> Likelihood:
    """A :class:`Likelihood` from its name (or the same :class:`Likelihood` back).

    Introduced in chapter *Training other likelihoods side by side*. The names are
    :data:`LIKELIHOOD_NAMES`: a family (``"gaussian"``, ``"laplace"``, ``"bernoulli"``,
    ``"continuous-bernoulli"``), followed by ``-learned``, ``-optimal`` or ``-per-pixel`` for a
    scale that is not fixed. An unknown name raises a :class:`ValueError` that lists the known ones.
    """
    if isinstance(likelihood, Likelihood):
        return likelihood
    if not isinstance(likelihood, str):
        raise ValueError(
            f"likelihood must be a name (one of {', '.join(LIKELIHOOD_NAMES)}) or "
            f"a Likelihood, got {likelihood!r}"
        )
    if likelihood not in _BY_NAME:
        raise ValueError(
            f"unknown likelihood {likelihood!r}; known likelihoods: {', '.join(LIKELIHOOD_NAMES)}"
        )
    family, kind = _BY_NAME[likelihood]
    return family(kind, scale_floor)


class MemberLikelihoods:
    """The likelihoods of the ``K`` members of a batched VAE, with their scales: everything the
    training loop and the evaluation ask about ``p(x | z)``.

    Used behind the scenes in chapter *Training with a learned σ*. ``likelihoods`` holds one
    :class:`Likelihood` per member and ``sigmas`` one number per member: the σ (or Laplace
    ``b``) of a fixed scale, the starting value of a learned one, only a label otherwise. A
    learned scale is trained as ``log σ`` (:attr:`log_scale`, a parameter for the optimiser),
    softly floored. Data ``x`` is ``(B, D)`` for every member or ``(K, B, D)``, one set per
    member; decoder outputs are ``(K, B, outputs_per_pixel * D)``.
    """

    def __init__(self, likelihoods, sigmas: torch.Tensor, data_dim: int):
        likelihoods = [get_likelihood(item) for item in likelihoods]
        check_tensor(sigmas, "sigmas", min_ndim=1)
        if sigmas.numel() != len(likelihoods) or not (sigmas > 0).all():
            raise ValueError(
                f"sigmas must hold one positive number per likelihood "
                f"({len(likelihoods)}), got {sigmas.tolist()}"
            )
        self.likelihoods, self.data_dim = likelihoods, check_int(data_dim, "data_dim")
        self.sigma = sigmas.reshape(-1, 1, 1)
        self.learned = [item.learns_scale for item in likelihoods]
        self.log_scale = torch.nn.Parameter(torch.log(self.sigma.detach().clone()))
        if all(item == likelihoods[0] for item in likelihoods):
            self.groups = [(likelihoods[0], None)]
        else:  # members grouped by likelihood: (likelihood, member indices)
            groups: dict[Likelihood, list[int]] = {}
            for k, item in enumerate(likelihoods):
                groups.setdefault(item, []).append(k)
            self.groups = [(item, torch.tensor(members)) for item, members in groups.items()]

    def frozen(self, scale) -> MemberLikelihoods:
        """The same members with every scale held fixed at ``scale`` (one number per member,
        NaN where a member has no shared scale), for evaluation after training.

        ``scale`` is what :func:`~vaebook.training.train_vae` returns: the fixed σ, the
        learned one, or the optimal one fitted over the training set. Learned and optimal
        scales become fixed (:meth:`Likelihood.frozen`); members without a shared scale ignore
        their number, so NaN stands for any.
        """
        values = np.asarray(scale, dtype=np.float64).reshape(-1)
        if values.size != len(self.likelihoods):
            raise ValueError(
                f"scale must hold one number per member ({len(self.likelihoods)}),"
                f" got {values.size}"
            )
        shared = np.array([item.has_shared_scale for item in self.likelihoods])
        if not (np.isfinite(values[shared]) & (values[shared] > 0)).all():
            raise ValueError(
                f"scale must be finite and > 0 for every member with a shared "
                f"scale, got {values.tolist()}"
            )
        values = np.where(np.isnan(values), 1.0, values)
        return MemberLikelihoods(
            [item.frozen() for item in self.likelihoods],
            torch.tensor(values, dtype=self.sigma.dtype),
            self.data_dim,
        )

    def scales(self) -> torch.Tensor:
        """``(K, 1, 1)``: the given σ, or ``exp(soft_floor(log σ))`` for a learned scale."""
        if not any(self.learned):
            return self.sigma
        return torch.stack(
            [
                torch.exp(soft_floor(self.log_scale[k], item.scale_floor))
                if learned
                else self.sigma[k]
                for k, (item, learned) in enumerate(zip(self.likelihoods, self.learned))
            ]
        )

    def _by_group(self, compute) -> torch.Tensor:
        """``compute(likelihood, members)`` per group, reassembled in member order."""
        if len(self.groups) == 1 and self.groups[0][1] is None:
            return compute(*self.groups[0])
        parts = [compute(item, members) for item, members in self.groups]
        order = torch.argsort(torch.cat([members for _, members in self.groups]))
        return torch.cat(parts)[order]

    def _output_of(self, item: Likelihood, output: torch.Tensor) -> torch.Tensor:
        """The decoder outputs ``item`` reads: the first ``D`` unless it has a per-pixel σ."""
        if item.outputs_per_pixel * self.data_dim == output.shape[-1]:
            return output
        return output[..., : self.data_dim]

    def _parts(self, x, output, scale, item, members):
        """The group's data ``(K_g, B, D)``, decoder outputs and scales."""
        if x.ndim == 2:
            count = len(self.likelihoods) if members is None else members.numel()
            x = x.expand(count, *x.shape)
        elif members is not None:
            x = x[members]
        if members is not None:
            output, scale = output[members], scale[members]
        return x, self._output_of(item, output), scale

    def nll(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Each member's ``-log p(x | z)`` summed over its batch: shape ``(K,)`` (unchecked
        inputs: the training loop checks them once, and its loss at every step)."""
        scale = self.scales()

        def compute(item, members):
            member_x, member_output, member_scale = self._parts(x, output, scale, item, members)
            return item._nll(member_output, member_x, member_scale)

        return self._by_group(compute)

    def nll_per_image(self, output: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Each member's ``-log p(x | z)`` of every image, shape ``(K, N)``."""
        n_images = x.shape[-2]
        scale = self.scales().expand(len(self.likelihoods), n_images, 1)

        def compute(item, members):
            member_x, member_output, member_scale = self._parts(x, output, scale, item, members)
            rows = member_x.shape[0] * n_images
            return item._nll(
                member_output.reshape(rows, -1),
                member_x.reshape(rows, self.data_dim),
                member_scale.reshape(rows, 1),
            ).reshape(-1, n_images)

        return self._by_group(compute)

    @torch.no_grad()
    def pixel_scales(self, x: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
        """The σ (or ``b``) of every pixel of every image, ``(K, B, D)``; NaN for the
        Bernoulli types."""
        scale = self.scales()

        def compute(item, members):
            member_x, member_output, member_scale = self._parts(x, output, scale, item, members)
            value = item.scale(member_x, member_output, member_scale)
            return (
                torch.full_like(member_x, math.nan) if value is None else value.expand_as(member_x)
            )

        return self._by_group(compute)

    def means(self, output: torch.Tensor) -> torch.Tensor:
        """The mean image of every member's ``p(x | z)``, ``(K, B, D)``."""
        return self._by_group(
            lambda item, members: item.mean(
                self._output_of(item, output if members is None else output[members])
            )
        )

    @torch.no_grad()
    def final_scales(self, x: torch.Tensor, output: torch.Tensor) -> dict[str, np.ndarray]:
        """``scale`` and ``fitted_scale`` of every member over the whole of ``x`` (NaN where a
        member has no shared scale): the scale it trained with (for an optimal one, fitted
        over all of ``x``) and the maximum-likelihood one of its errors."""
        current = self.scales().reshape(-1)
        scale, fitted = [], []
        for k, item in enumerate(self.likelihoods):
            if not item.has_shared_scale:
                scale.append(math.nan)
                fitted.append(math.nan)
                continue
            # Member-first (1, N, D): an "optimal" scale is then fitted over the whole set.
            member_x = (x if x.ndim == 2 else x[k]).unsqueeze(0)
            member_output = output[k : k + 1, :, : self.data_dim]
            location = item.split(member_output)[0]
            fitted.append(item.fitted_scale(member_x, location, (1, 2)).item())
            scale.append(float(item.scale(member_x, member_output, current[k]).reshape(-1)[0]))
        return {"scale": np.array(scale), "fitted_scale": np.array(fitted)}
