"""What a VAE loss assumes, from its settings alone: the calculator of the website.

Introduced in chapter *What a loss assumes: its σ and its likelihood*. :func:`loss_assumptions` is
the maths; ``calculator.js`` (next to this file) is the same maths in JavaScript, so that the
calculator works on the static website without a kernel, and :func:`loss_calculator_html` is the
form that runs it (on the website and in a live JupyterLab alike). The tests compare the two
implementations on many inputs in a real browser.

A loss ``recon_weight * sum(rho) + kl_weight * kl_weight_of_reduction * sum(KL)`` (sums over the
batch, the pixels and the latents) is a multiple of the −ELBO of a decoder family:

* ``"mse"``: Gaussian, ``sigma^2 = kl_weight * w_k / (2 * w_r)``;
* ``"l1"``: Laplace, ``b = kl_weight * w_k / w_r``;
* ``"bce"``: Bernoulli, ``beta = kl_weight * w_k / w_r`` (targets must be in [0, 1]).

``w_r`` is 1, 1/B or 1/(B·D) for the reductions ``sum``, ``batchmean`` and ``mean`` of the
reconstruction term; ``w_k`` is 1, 1/B or 1/(B·L) for those of the KL term.
"""

from __future__ import annotations

import html
import json
import math
from pathlib import Path

from vaebook import data
from vaebook.likelihoods import RECON_REDUCTIONS, kl_to_recon_weight

__all__ = [
    "RECON_LOSSES",
    "REDUCTIONS",
    "PIXEL_RANGES",
    "loss_assumptions",
    "loss_calculator_html",
    "show_loss_calculator",
]

RECON_LOSSES = {
    "mse": "squared error (MSE)",
    "l1": "absolute error (L1)",
    "bce": "binary cross-entropy (BCE)",
}
REDUCTIONS = RECON_REDUCTIONS
# name -> width of the pixel range (pixels on [0, 1] have width 1)
PIXEL_RANGES = {name: high - low for name, (low, high) in data.PIXEL_RANGES.items()}


CALCULATOR_DEFAULTS = {"recon_reduction": "mean", "kl_reduction": "sum"}
"""The reductions the calculator starts with: those of ``F.mse_loss`` and a summed KL."""


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _choice(value, name: str, choices) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def loss_assumptions(
    recon_loss: str,
    recon_reduction: str,
    kl_reduction: str,
    kl_weight: float,
    image_shape,
    batch_size: int,
    latent_dim: int,
    pixel_range: str = "0..1",
) -> dict:
    """The decoder, scale, β and collapse risk that a loss's settings imply.

    Used behind the scenes in chapter *What a loss assumes: its σ and its likelihood*. Returns a
    dict with ``family`` (``"gaussian"``, ``"laplace"``, ``"bernoulli"``), ``scale`` (σ or b in the
    data's own units; None for Bernoulli), ``scale_01`` (the same on pixels rescaled to [0, 1]),
    ``beta`` (1 for Gaussian and Laplace), ``depends_on_batch_size``, ``depends_on_image_size``,
    ``depends_on_latent_dim``, ``collapse`` (Gaussian only: ``"all"`` when σ² on [0, 1] pixels is
    at least D/4, the largest variance such data can have in any direction, so the linear VAE keeps
    no latent; ``"some"`` otherwise, when latents whose principal variance is below σ² collapse;
    None for the other families) and ``formula`` (how the number was computed).
    """
    _choice(recon_loss, "recon_loss", tuple(RECON_LOSSES))
    _choice(recon_reduction, "recon_reduction", REDUCTIONS)
    _choice(kl_reduction, "kl_reduction", REDUCTIONS)
    _choice(pixel_range, "pixel_range", tuple(PIXEL_RANGES))
    if (
        isinstance(kl_weight, bool)
        or not isinstance(kl_weight, (int, float))
        or not (math.isfinite(kl_weight) and kl_weight > 0)
    ):
        raise ValueError(f"kl_weight must be a finite number > 0, got {kl_weight!r}")
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else (image_shape,)
    if not shape:
        raise ValueError("image_shape must have at least one dimension")
    for size in shape:
        _positive_int(size, "every entry of image_shape")
    batch = _positive_int(batch_size, "batch_size")
    latents = _positive_int(latent_dim, "latent_dim")
    if recon_loss == "bce" and pixel_range != "0..1":
        raise ValueError(
            "binary cross-entropy needs targets in [0, 1]: choose pixel_range "
            f"'0..1', not {pixel_range!r}"
        )
    dim, width = math.prod(shape), PIXEL_RANGES[pixel_range]
    ratio = kl_to_recon_weight(dim, batch, recon_reduction, kl_reduction, latents, kl_weight)
    names = {"sum": "1", "batchmean": "1/B", "mean": "1/(B·D)"}
    kl_names = {"sum": "1", "batchmean": "1/B", "mean": "1/(B·L)"}
    weights = (
        f"kl_weight·w_k/w_r = {kl_weight:g}·{kl_names[kl_reduction]}/({names[recon_reduction]})"
    )
    result = {
        "family": None,
        "scale": None,
        "scale_01": None,
        "beta": 1.0,
        "depends_on_batch_size": (recon_reduction == "sum") != (kl_reduction == "sum"),
        "depends_on_image_size": recon_reduction == "mean",
        "depends_on_latent_dim": kl_reduction == "mean",
        "collapse": None,
        "dim": dim,
        "ratio": ratio,
    }
    if recon_loss == "mse":
        sigma = math.sqrt(ratio / 2)
        result.update(
            family="gaussian",
            scale=sigma,
            scale_01=sigma / width,
            collapse="all" if (sigma / width) ** 2 >= dim / 4 else "some",
            formula=f"σ² = {weights} / 2 = {ratio / 2:.6g}",
        )
    elif recon_loss == "l1":
        result.update(
            family="laplace",
            scale=ratio,
            scale_01=ratio / width,
            formula=f"b = {weights} = {ratio:.6g}",
        )
    else:
        result.update(family="bernoulli", beta=ratio, formula=f"β = {weights} = {ratio:.6g}")
    return result


def loss_calculator_html(element_id: str = "loss-calculator") -> str:
    """The calculator as a self-contained HTML form with its script (no kernel, no CDN).

    Used behind the scenes in chapter *What a loss assumes: its σ and its likelihood*.
    """
    if not isinstance(element_id, str) or not element_id:
        raise ValueError(f"element_id must be a non-empty string, got {element_id!r}")
    script = (Path(__file__).with_name("calculator.js")).read_text()
    options = {
        "recon_loss": RECON_LOSSES,
        "recon_reduction": {r: r for r in REDUCTIONS},
        "kl_reduction": {r: r for r in REDUCTIONS},
        "pixel_range": {p: p for p in PIXEL_RANGES},
    }
    labels = {
        "recon_loss": "reconstruction loss",
        "recon_reduction": "its reduction",
        "kl_reduction": "reduction of the KL",
        "pixel_range": "pixel range",
    }
    fields = []
    for name, choices in options.items():
        items = "".join(
            f'<option value="{html.escape(k)}">{html.escape(v)}</option>'
            for k, v in choices.items()
        )
        fields.append(f'<label>{labels[name]} <select name="{name}">{items}</select></label>')
    for name, label, value in (
        ("kl_weight", "KL weight", "1"),
        ("image_shape", "image shape", "28,28"),
        ("batch_size", "batch size", "128"),
        ("latent_dim", "latents", "20"),
    ):
        fields.append(f'<label>{label} <input name="{name}" value="{value}" size="8"></label>')
    element = html.escape(element_id)
    return (
        f'<form class="vaebook-loss-calculator" id="{element}" '
        f'data-defaults="{html.escape(json.dumps(CALCULATOR_DEFAULTS))}" '
        f'style="display:flex;flex-wrap:wrap;gap:0.4em 1em">{"".join(fields)}</form>'
        f'<div class="vaebook-loss-calculator-result" aria-live="polite" '
        f'id="{element}-result"></div>\n<script>{script}</script>'
    )


def show_loss_calculator(element_id: str = "loss-calculator") -> None:
    """Display :func:`loss_calculator_html` in a notebook (the website shows the same output).

    Introduced in chapter *What a loss assumes: its σ and its likelihood*.
    """
    from IPython.display import HTML, display

    display(HTML(loss_calculator_html(element_id)))
