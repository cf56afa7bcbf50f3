"""The lists of VAEs that differ in their decoder likelihood, and what one can do to them.

:data:`LEARNED_SIGMA_VARIANTS` (chapter *Training with a learned σ*) and :data:`LIKELIHOOD_VARIANTS`
(chapter
*Training other likelihoods side by side*) are lists of :class:`~vaebook.experiment.Config` for
:func:`~vaebook.experiment.run`; :func:`lower_floor` fine-tunes a trained per-pixel σ with a
lower floor (:func:`~vaebook.experiment.fine_tune`).
"""

from __future__ import annotations

import dataclasses
import math

from vaebook._checks import check_int, check_number
from vaebook.data import PIXEL_MAX
from vaebook.experiment import Config, Result, fine_tune

__all__ = [
    "QUANTISATION_SIGMA",
    "LEARNED_SIGMA_VARIANTS",
    "LIKELIHOOD_VARIANTS",
    "LOWER_FLOOR_STEPS",
    "LOWER_FLOOR_LR",
    "lower_floor",
]

QUANTISATION_SIGMA = 1 / (PIXEL_MAX * math.sqrt(12))
"""≈ 0.018: the standard deviation of a uniform error over one grey level (1/16) of the digits.

A σ below it claims more precision than the data have; chapter *Training with a learned σ* uses it
as the soft floor of a learned σ."""


LEARNED_SIGMA_VARIANTS = (
    Config("learned σ", "gaussian-learned", sigma=1.0),
    Config("σ-VAE", "gaussian-optimal"),
    Config("per-pixel σ, floor", "gaussian-per-pixel", scale_floor=QUANTISATION_SIGMA),
)
"""The variants of chapter *Training with a learned σ*. A per-pixel σ trained from scratch *without*
a floor is not among them: its outcome changes with the seed and with the CPU's rounding (measured
in the chapter's exercises); :func:`lower_floor` shows what the floor does instead."""

LIKELIHOOD_VARIANTS = (
    Config("Gaussian, σ = 0.1", "gaussian", sigma=0.1),
    Config("Gaussian, σ learned", "gaussian-learned", sigma=1.0),
    Config("Laplace, b learned", "laplace-learned", sigma=1.0),
    Config("BCE on grey", "bernoulli"),
    Config("continuous Bernoulli", "continuous-bernoulli"),
    Config("Bernoulli, binarised", "bernoulli", data="binary"),
    Config("Gaussian, σ learned, dequantised", "gaussian-learned", data="dequantised"),
    Config("Laplace, b learned, dequantised", "laplace-learned", data="dequantised"),
    Config("continuous Bernoulli, dequantised", "continuous-bernoulli", data="dequantised"),
)
"""The variants of chapter *Training other likelihoods side by side*."""


LOWER_FLOOR_STEPS = 1000
"""Adam steps of :func:`lower_floor`."""

LOWER_FLOOR_LR = 1e-3
"""Peak learning rate of :func:`lower_floor` (a tenth of the training's: a fine-tune)."""


def lower_floor(
    result: Result,
    label: str,
    *,
    factor: float = 10.0,
    steps: int = LOWER_FLOOR_STEPS,
    lr: float = LOWER_FLOOR_LR,
    cache: bool = True,
    progress="auto",
) -> Result:
    """Lower the soft floor of a trained per-pixel σ by ``factor``, with a control.

    Introduced in chapter *Training with a learned σ*. Member ``label`` of ``result`` must be a
    ``"gaussian-per-pixel"`` variant with a floor. Two copies of it are fine-tuned for
    ``steps`` Adam steps, side by side: the control keeps its floor, the other has its floor
    divided by ``factor``. Only the decoder's output layer (the per-pixel means and log σ)
    trains; the encoder and the decoder's hidden layer stay fixed. Every pixel's output is then
    its own small problem, untouched by the others, so what the lower floor changes shows
    cleanly, and the same way for every seed and floating-point path (chapter *Training with a
    learned σ* measures it; ``make robust`` checks it). Returns a
    :class:`~vaebook.experiment.Result` with the two members, labelled by their floors
    (:func:`~vaebook.experiment.fine_tune`).
    """
    if not isinstance(result, Result):
        raise ValueError(f"result must be a Result, got {type(result).__name__}")
    base = result.configs[result.index_of(label)]
    if base.likelihood != "gaussian-per-pixel" or base.scale_floor <= 0:
        raise ValueError(
            f"lower_floor needs a per-pixel σ with a floor; {label!r} is "
            f"{base.likelihood!r} with floor {base.scale_floor:g}"
        )
    factor = check_number(factor, "factor")
    if factor <= 1:
        raise ValueError(f"factor must be > 1 (it divides the floor), got {factor!r}")
    configs = [
        dataclasses.replace(
            base,
            label=f"floor {floor:.2g}",
            scale_floor=floor,
            steps=check_int(steps, "steps"),
            lr=check_number(lr, "lr"),
        )
        for floor in (base.scale_floor, base.scale_floor / factor)
    ]
    return fine_tune(result, label, configs, trainable=("dec_out",), cache=cache, progress=progress)
