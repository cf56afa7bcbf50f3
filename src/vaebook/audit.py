"""Audit a VAE loss: which decoder likelihood, σ and β does it really implement?

Introduced in chapter *What a loss assumes: its σ and its likelihood*. :func:`audit_loss` calls a
loss ``loss(x_hat, x, mu, logvar)`` on probe inputs and writes it as
``L = a * sum rho(x, x_hat) + c * sum KL + const`` (sums over pixels, latents and batch). It
changes ``x_hat`` at fixed ``(mu, logvar)`` and vice versa to separate the two parts, fits ``c``
against the analytic KL and ``a`` against six candidate ``rho``: the squared error (Gaussian),
the absolute error (Laplace), the binary cross-entropy (Bernoulli) and the continuous
Bernoulli NLL, the last two on probabilities or on logits (as
``F.binary_cross_entropy_with_logits`` reads ``x_hat``). The residuals of the fits say whether
the loss has this form at all. It repeats this at twice the batch size and twice the last image
dimension, to see whether the implied σ (or β) moves with them.
"""

from __future__ import annotations

import inspect
import math
import textwrap
from dataclasses import dataclass
from numbers import Integral, Real

import torch

from vaebook.likelihoods import continuous_bernoulli_log_normalizer, kl_standard_normal

__all__ = ["audit_loss", "LossAudit"]

CALL = "loss(x_hat, x, mu, logvar)"
# family: (name of the decoder, name of its reconstruction term rho)
FAMILIES = {
    "gaussian": ("Gaussian", "squared error"),
    "laplace": ("Laplace", "absolute error"),
    "bernoulli": ("Bernoulli", "binary cross-entropy"),
    "continuous-bernoulli": ("continuous Bernoulli", "continuous Bernoulli NLL"),
}
# (family, x_hat read as logits): the reconstruction terms the auditor fits, in the order of
# _rho_totals. A Bernoulli-type loss on logits applies the sigmoid to x_hat itself.
CANDIDATES = [(family, False) for family in FAMILIES] + [
    ("bernoulli", True),
    ("continuous-bernoulli", True),
]


@dataclass(frozen=True)
class LossAudit:
    """What :func:`audit_loss` found out about a VAE loss; ``str()`` gives the verdict.

    Used behind the scenes in chapter *What a loss assumes: its σ and its likelihood*. ``family`` is
    one of ``FAMILIES`` or ``"unknown"`` (then ``reason`` says why). ``scale`` is the Gaussian σ or
    Laplace ``b`` for which the loss is a multiple of the −ELBO (``beta`` is then 1); for the
    Bernoulli families ``scale`` is None and ``beta`` is the KL weight relative to the summed
    cross-entropy. ``sigma_per_pixel`` is the decoder's noise standard deviation per pixel in the
    data's units (σ, or ``sqrt(2) b``). ``recon_weight`` and ``kl_weight`` are ``a`` and ``c``,
    and ``factor`` describes the multiple of the −ELBO (e.g. ``"1/B (= 0.125)"``). The
    ``depends_on_*`` flags say whether σ, ``b`` or β changes at twice the batch size or twice the
    last image dimension; None if that could not be probed (see ``notes``). ``on_logits`` says
    that a Bernoulli-type loss reads ``x_hat`` as logits. ``pixel_range`` and
    ``largest_variance`` are the arguments of :func:`audit_loss` that the verdict uses.
    """

    family: str
    scale: float | None
    beta: float | None
    sigma_per_pixel: float | None
    depends_on_batch_size: bool | None
    depends_on_image_size: bool | None
    recon_weight: float | None
    kl_weight: float | None
    image_shape: tuple[int, ...]
    latent_dim: int
    batch_size: int
    dtype: str
    reason: str = ""
    notes: tuple[str, ...] = ()
    factor: str = ""
    on_logits: bool = False
    pixel_range: tuple[float, float] = (0.0, 1.0)
    largest_variance: float | None = None

    @property
    def collapse_variance(self) -> float | None:
        """σ²: in the linear VAE a latent is used only for a principal variance above it."""
        return self.scale**2 if self.family == "gaussian" else None

    def __str__(self) -> str:
        lines = (
            [f"Unknown loss: {self.reason}."]
            if self.family == "unknown"
            else [self._verdict(), self._dependence()]
        )
        lines += [f"Note: {note}." for note in self.notes]
        # Wrapped to the width of a code block on the website (vaebook.claims.PRINT_WIDTH).
        return "\n".join(textwrap.fill(line, width=88, subsequent_indent="  ") for line in lines)

    def _verdict(self) -> str:
        name, term = FAMILIES[self.family]
        if not self.kl_weight:
            return f"No KL term: a plain autoencoder with a {term} loss (zero decoder noise)."
        if self.family == "laplace":
            return (
                f"This is the −ELBO of a Laplace decoder with b = {self.scale:.4g} (standard "
                f"deviation √2·b = {self.sigma_per_pixel:.4g}, {self._pixels}), times "
                f"{self.factor}, plus a constant."
            )
        if self.family != "gaussian":
            text = (
                f"This is the −ELBO of a {name} decoder with β = {self.beta:.4g}, times "
                f"{self.factor}, plus a constant."
            )
            if self.on_logits:
                text += (
                    " It reads x_hat as logits and applies the sigmoid itself (as "
                    "binary_cross_entropy_with_logits does): pass the decoder's output before "
                    "any sigmoid."
                )
            if self.family == "bernoulli":
                text += (
                    " On grey pixels binary cross-entropy is no normalised density (the "
                    "continuous Bernoulli adds log C)."
                )
            if self.beta > 1 + 1e-6:
                text += (
                    f" The KL weighs {self.beta:.4g} times more than in the ELBO, which "
                    "pushes latents towards posterior collapse."
                )
            return text
        variance, pixels = self.collapse_variance, math.prod(self.image_shape)
        low, high = self.pixel_range
        ceiling = pixels * (high - low) ** 2 / 4
        text = (
            f"This is the −ELBO of a Gaussian decoder with σ = {self.scale:.4g} "
            f"({self._pixels}), times {self.factor}, plus a constant. Expect posterior "
            f"collapse on data whose largest principal variance is below σ² = {variance:.4g} "
            "(linear-VAE theory, Lucas et al. 2019)."
        )
        if variance >= ceiling:
            text += (
                f" σ² is at least D·(width)²/4 = {ceiling:.4g}, the largest variance data on "
                f"{_interval(low, high)}^D can have in any direction: every latent will collapse."
            )
        elif self.largest_variance is not None:
            ratio = variance / self.largest_variance
            text += (
                f" On data with largest principal variance λ₁ = {self.largest_variance:.4g}, "
                + (
                    f"σ² is {ratio:.3g} λ₁: every latent will collapse."
                    if ratio >= 1
                    else f"σ² is {ratio:.3g} λ₁: the direction of λ₁ (and every direction "
                    "whose variance exceeds σ²) can keep a code."
                )
            )
        return text

    @property
    def _pixels(self) -> str:
        """The pixel range in words, with the scale on [0, 1] when the range is another."""
        text = f"pixels on {_interval(*self.pixel_range)}"
        if self.pixel_range != (0.0, 1.0) and self.scale is not None:
            low, high = self.pixel_range
            text += f"; {self.scale / (high - low):.4g} on {_interval(0, 1)}"
        return text

    def _dependence(self) -> str:
        what = {"gaussian": "σ", "laplace": "b"}.get(self.family, "β")
        flags = {
            "the batch size": self.depends_on_batch_size,
            "the number of pixels": self.depends_on_image_size,
        }
        group = {
            state: [name for name, flag in flags.items() if flag is state]
            for state in (True, False, None)
        }
        text = []
        if group[True]:
            text.append(
                f"The implied {what} changes with {' and '.join(group[True])}: the "
                "same code is a different model at other sizes."
            )
        if group[False]:
            text.append(f"The implied {what} does not change with {' or '.join(group[False])}.")
        if group[None]:
            text.append(f"Its dependence on {' and '.join(group[None])} could not be probed.")
        return " ".join(text)


def _interval(low: float, high: float) -> str:
    """``[low, high]`` with a no-break space, so that the verdict never wraps inside it."""
    return f"[{low:g},\N{NO-BREAK SPACE}{high:g}]"


def audit_loss(
    loss,
    *,
    image_shape,
    latent_dim,
    batch_size,
    pixel_range=(0.0, 1.0),
    largest_variance=None,
) -> LossAudit:
    """Probe ``loss(x_hat, x, mu, logvar)`` and report the likelihood, σ and β it implies.

    Introduced in chapter *What a loss assumes: its σ and its likelihood*. ``x`` and ``x_hat`` get
    shape ``(batch_size, *image_shape)``, ``x`` in [0, 1] and ``x_hat`` in [0.05, 0.95] (a
    probability for the Bernoulli families, or their logits); ``mu`` and ``logvar`` get shape
    ``(batch_size, latent_dim)``. The loss must return a scalar tensor. Inputs are float64, or
    float32 if the loss fails on float64 (then σ and β are exact to about 1e-6, not 1e-12).
    σ and ``b`` are in the units of the data the loss is used on: ``pixel_range`` ``(low,
    high)`` (default ``(0, 1)``) names them in the verdict, with the scale on [0, 1] beside it,
    and sets the collapse ceiling ``D (high − low)² / 4``; ``largest_variance``, the data's
    largest principal variance λ₁ in the same units (optional), lets the verdict say whether
    the code collapses on those data. Returns a :class:`LossAudit`; a loss of another form gets
    family ``"unknown"`` and a reason. Bad arguments, or a loss that raises, returns a
    non-scalar or a non-finite value on the probe inputs, raise a ValueError.
    """
    shape, latent_dim, batch_size = _check_arguments(loss, image_shape, latent_dim, batch_size)
    pixel_range, largest_variance = _check_data_scale(pixel_range, largest_variance)
    dtype, notes = torch.float64, []
    try:
        base = _fit(loss, batch_size, shape, latent_dim, dtype)
    except _LossRaised as error64:
        dtype = torch.float32
        try:
            base = _fit(loss, batch_size, shape, latent_dim, dtype)
        except _LossRaised as error32:
            raise ValueError(f"{error32} (it also fails on float64 inputs)") from None
        notes.append(f"the loss fails on float64 inputs ({error64.cause}); probed in float32")
    if base.get("misfit", 0) > 1e-9 and dtype == torch.float64:
        notes.append(
            f"the loss has this form only to a relative {base['misfit']:.1g} (float32 "
            "arithmetic inside?), so the values are exact to about that"
        )
    flags, powers = [], []
    for name, size, other_shape in [
        ("batch size", 2 * batch_size, shape),
        ("image size", batch_size, (*shape[:-1], 2 * shape[-1])),
    ]:
        flag, power = _dependence(loss, base, size, other_shape, latent_dim, dtype, name, notes)
        flags.append(flag)
        powers.append(power)
    return LossAudit(
        base["family"],
        *_implied(base),
        *flags,
        base.get("a"),
        base.get("c"),
        shape,
        latent_dim,
        batch_size,
        str(dtype).removeprefix("torch."),
        base["reason"],
        tuple(notes),
        _factor_text(base, batch_size, math.prod(shape), latent_dim, powers),
        base.get("on_logits", False),
        pixel_range,
        largest_variance,
    )


def _finite_real(value) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def _check_data_scale(pixel_range, largest_variance):
    if (
        not isinstance(pixel_range, (tuple, list))
        or len(pixel_range) != 2
        or not all(_finite_real(bound) for bound in pixel_range)
        or not pixel_range[0] < pixel_range[1]
    ):
        raise ValueError(
            "audit_loss: pixel_range must be two finite numbers (low, high) with low < high, "
            f"the range of the data's pixels, e.g. (-1, 1); got {pixel_range!r}"
        )
    if largest_variance is not None and not (
        _finite_real(largest_variance) and largest_variance > 0
    ):
        raise ValueError(
            "audit_loss: largest_variance must be None or a finite number > 0 (the data's "
            f"largest principal variance, in the units of pixel_range); got {largest_variance!r}"
        )
    low, high = pixel_range
    return (float(low), float(high)), (
        None if largest_variance is None else float(largest_variance)
    )


class _LossRaised(ValueError):
    """The loss raised on the probe inputs (then float32 inputs are tried)."""

    def __init__(self, message: str, cause: str):
        super().__init__(message)
        self.cause = cause


def _positive_int(value) -> bool:
    return isinstance(value, Integral) and not isinstance(value, bool) and value > 0


def _check_arguments(loss, image_shape, latent_dim, batch_size):
    if not callable(loss):
        raise ValueError(f"audit_loss: loss must be a callable {CALL}; got {type(loss).__name__}")
    try:
        inspect.signature(loss).bind(None, None, None, None)
    except TypeError:
        raise ValueError(
            f"audit_loss: loss must accept four positional arguments {CALL}; its "
            f"signature is {inspect.signature(loss)}"
        ) from None
    except ValueError:
        pass  # no signature available (some builtins): the probe call will tell
    if (
        not isinstance(image_shape, (tuple, list, torch.Size))
        or not image_shape
        or not all(_positive_int(size) for size in image_shape)
    ):
        raise ValueError(
            "audit_loss: image_shape must be a non-empty tuple of positive ints "
            f"(the shape of one image, e.g. (28, 28)); got {image_shape!r}"
        )
    for name, value in [("latent_dim", latent_dim), ("batch_size", batch_size)]:
        if not _positive_int(value):
            raise ValueError(f"audit_loss: {name} must be a positive int; got {value!r}")
    return tuple(int(size) for size in image_shape), int(latent_dim), int(batch_size)


def _probes(batch, shape, latent_dim, dtype):
    """Seeded probe inputs, rounded to ``dtype`` and held in float64: one ``x``, six
    ``x_hat`` (near ``x``, far from it, at the edges, constant) and five ``(mu, logvar)``."""
    gen = torch.Generator().manual_seed(0)
    image, latent = (batch, *shape), (batch, latent_dim)
    uniform = lambda size: torch.rand(size, generator=gen, dtype=torch.float64)
    normal = lambda size: torch.randn(size, generator=gen, dtype=torch.float64)
    x = uniform(image)
    near, zeros = 0.05 + 0.9 * x, torch.zeros(latent, dtype=torch.float64)
    x_hats = [
        uniform(image),
        near + 0.03 * normal(image),
        near + 0.3 * normal(image),
        uniform(image),
        (uniform(image) < 0.5) * 1.0,
        zeros.new_full(image, 0.5),
    ]
    latents = [
        (normal(latent), 0.5 * normal(latent)),
        (normal(latent) + 1, 0.5 * normal(latent)),
        (0.3 * normal(latent), 0.5 * normal(latent) - 2),
        (2 * normal(latent), normal(latent) + 1),
        (zeros, zeros),
    ]
    rounded = lambda tensor: tensor.to(dtype).to(torch.float64)  # what the loss really sees
    return (
        rounded(x),
        [rounded(x_hat.clamp(0.05, 0.95)) for x_hat in x_hats],
        [(rounded(mu), rounded(logvar)) for mu, logvar in latents],
    )


def _call(loss, x_hat, x, mu, logvar, dtype):
    """One loss value as a float64 tensor, and the machine epsilon it was computed with."""
    inputs = [tensor.to(dtype, copy=True) for tensor in (x_hat, x, mu, logvar)]
    try:
        with torch.no_grad():
            value = loss(*inputs)
    except Exception as error:  # noqa: BLE001 - any failure of the user's code is reported
        cause = f"{type(error).__name__}: {error}"
        raise _LossRaised(
            f"audit_loss: {CALL} raised {cause} on x_hat and x of shape {tuple(x.shape)} "
            f"(values in [0, 1]) and mu and logvar of shape {tuple(mu.shape)}, dtype "
            f"{str(dtype).removeprefix('torch.')}",
            cause,
        ) from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = torch.tensor(float(value), dtype=torch.float64)
    if not isinstance(value, torch.Tensor) or value.numel() != 1:
        got = (
            f"shape {tuple(value.shape)}"
            if isinstance(value, torch.Tensor)
            else type(value).__name__
        )
        raise ValueError(f"audit_loss: {CALL} must return a scalar tensor; got {got}")
    if not torch.isfinite(value).all():
        raise ValueError(
            f"audit_loss: {CALL} returned {value.item()} on the probe inputs; it "
            "must be finite for x_hat in [0.05, 0.95], x in [0, 1] and moderate "
            "mu and logvar"
        )
    eps = torch.finfo(value.dtype).eps if value.is_floating_point() else 0.0
    if eps > 1e-6:
        raise ValueError(
            f"audit_loss: {CALL} returns {value.dtype}, too coarse to audit; "
            "compute it in float32 or float64"
        )
    return value.detach().reshape(()).to(torch.float64), max(eps, torch.finfo(dtype).eps)


def _fit(loss, batch, shape, latent_dim, dtype) -> dict:
    """Write the loss at this size as ``a * sum rho + c * sum KL + const``, or say why not."""
    x, x_hats, latents = _probes(batch, shape, latent_dim, dtype)
    values, epsilons = {}, []

    def value(k, j):  # the loss at x_hats[k] and latents[j]
        if (k, j) not in values:
            values[k, j], eps = _call(loss, x_hats[k], x, *latents[j], dtype)
            epsilons.append(eps)
        return values[k, j]

    recon = torch.stack([value(k, 0) - value(0, 0) for k in range(1, len(x_hats))])
    kl_part = torch.stack([value(0, j) - value(0, 0) for j in range(1, len(latents))])
    mixed = torch.stack(
        [
            value(k, j) - value(k, 0) - value(0, j) + value(0, 0)
            for k, j in [(1, 1), (3, 3), (4, 2), (5, 4)]
        ]
    )
    eps = max(epsilons)
    rtol, noise = max(1e-5, 1e4 * eps), 64 * eps * max(v.abs() for v in values.values()).item()
    unknown = lambda reason: {"family": "unknown", "reason": reason}
    if mixed.abs().max() > rtol * max(recon.abs().max(), kl_part.abs().max()) + 4 * noise:
        return unknown(
            "its reconstruction and KL parts do not add up: how much a change of "
            "x_hat changes the loss depends on mu and logvar (or the loss is not "
            "deterministic), so it is no likelihood term plus a KL term"
        )
    kl = torch.stack([kl_standard_normal(mu, logvar).sum() for mu, logvar in latents])
    c, kl_error = _least_squares(kl_part, kl[1:] - kl[0])
    if kl_part.norm() <= 2 * noise:
        c = 0.0
    elif kl_error > rtol * kl_part.norm() + 2 * noise or c < 0:
        return unknown(
            "its KL part is not a positive multiple of KL(N(mu, exp(logvar)) || "
            f"N(0, I)) summed over latents and batch (relative mismatch "
            f"{kl_error / kl_part.norm():.2g}, weight {c:.3g})"
        )
    if recon.norm() <= 3 * noise:
        return unknown("the loss does not depend on x_hat")
    totals = torch.stack([_rho_totals(x, x_hat) for x_hat in x_hats])  # (probe, candidate)
    fits = {
        candidate: _least_squares(recon, totals[1:, i] - totals[0, i])
        for i, candidate in enumerate(CANDIDATES)
    }
    (family, on_logits) = min(fits, key=lambda candidate: fits[candidate][1])
    a, error = fits[family, on_logits]
    term = FAMILIES[family][1] + " on logits" * on_logits
    if error > rtol * recon.norm() + 3 * noise:
        return unknown(
            "its reconstruction part matches none of squared error, absolute error, "
            "binary cross-entropy and the continuous Bernoulli NLL, on probabilities or on "
            f"logits (closest: {term}, relative mismatch {error / recon.norm():.2g})"
        )
    if a <= 0:
        return unknown(f"its reconstruction part decreases as the {term} grows")
    misfit = max(error / recon.norm().item(), kl_error / kl_part.norm().item() if c else 0)
    return {
        "family": family,
        "on_logits": on_logits,
        "a": a,
        "c": c,
        "reason": "",
        "rtol": rtol,
        "misfit": misfit,
    }


def _bernoulli_totals(x, probability):
    """The summed binary cross-entropy and continuous Bernoulli NLL at ``probability``."""
    bce = -(x * probability.log() + (1 - x) * torch.log1p(-probability)).sum()
    log_c = continuous_bernoulli_log_normalizer(probability.logit()).sum()
    return bce, bce - log_c


def _rho_totals(x, x_hat):
    """Each candidate's ``rho(x, x_hat)`` summed over pixels and batch, in ``CANDIDATES``
    order."""
    on_probabilities = _bernoulli_totals(x, x_hat)
    on_logits = _bernoulli_totals(x, torch.sigmoid(x_hat))
    return torch.stack(
        [((x - x_hat) ** 2).sum(), (x - x_hat).abs().sum(), *on_probabilities, *on_logits]
    )


def _least_squares(observed, predictor):
    """The weight ``w`` of ``observed ≈ w * predictor`` and the norm of the residual."""
    weight = (observed @ predictor / (predictor @ predictor)).item()
    return weight, (observed - weight * predictor).norm().item()


def _implied(fit):
    """``(scale, beta, sigma_per_pixel)`` of a fit."""
    family, a, c = fit["family"], fit.get("a"), fit.get("c")
    if family == "gaussian":
        return math.sqrt(c / (2 * a)), 1.0, math.sqrt(c / (2 * a))
    if family == "laplace":
        return c / a, 1.0, math.sqrt(2) * c / a
    return (None, None, None) if family == "unknown" else (None, c / a, None)


def _dependence(loss, base, batch, shape, latent_dim, dtype, name, notes):
    """Whether σ, b or β changes at this other size, and the power of the −ELBO's factor."""
    if base["family"] == "unknown":
        return None, None
    try:
        other = _fit(loss, batch, shape, latent_dim, dtype)
    except ValueError as error:
        notes.append(f"the {name} could not be probed: at x of shape {(batch, *shape)}, {error}")
        return None, None
    if (other["family"], other.get("on_logits")) != (base["family"], base.get("on_logits")):
        notes.append(
            f"the {name} could not be probed: at x of shape {(batch, *shape)} the "
            f"loss is {other['family']} ({other['reason'] or 'not ' + base['family']})"
        )
        return None, None
    key, weight = (0, "c") if base["family"] in ("gaussian", "laplace") else (1, "a")
    now, then = _implied(base)[key], _implied(other)[key]
    power = math.log2(other[weight] / base[weight]) if base[weight] and other[weight] else None
    return not math.isclose(now, then, rel_tol=10 * base["rtol"], abs_tol=1e-300), power


def _factor_text(fit, batch, pixels, latent_dim, powers) -> str:
    """The multiple of the −ELBO in the loss, e.g. ``"1/B (= 0.125)"``."""
    if fit["family"] == "unknown":
        return ""
    factor = fit["c"] if fit["family"] in ("gaussian", "laplace") else fit["a"]
    if any(power is None or abs(power - round(power)) > 1e-6 for power in powers):
        return f"{factor:.4g}"
    (p_batch, p_pixels), top, bottom = [round(power) for power in powers], [], []
    sizes = float(batch) ** p_batch * float(pixels) ** p_pixels
    rest = factor / sizes
    for symbol, power in [("B", p_batch), ("D", p_pixels)]:
        (top if power > 0 else bottom).extend([symbol] * abs(power))
    if latent_dim > 1 and math.isclose(rest * latent_dim, 1, rel_tol=1e-6):
        bottom.append("L")
        factor = sizes / latent_dim  # the exact value of the symbols, not the fitted one
    elif math.isclose(rest, 1, rel_tol=1e-6):
        factor = sizes  # printed from the symbols: the last bits of a fit cannot move it
    else:
        top.insert(0, f"{rest:.4g}")
    text = "·".join(top) or "1"
    if bottom:
        text += "/" + (bottom[0] if len(bottom) == 1 else f"({'·'.join(bottom)})")
    return text if text == f"{factor:.4g}" else f"{text} (= {factor:.4g})"
