"""The data set of the book: scikit-learn's 8×8 handwritten digits, scaled to [0, 1].

The digits (1797 images, 64 pixels, grey values 0–16) ship inside scikit-learn, so nothing is
downloaded. Every chapter uses the same fixed, stratified train/test split.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from vaebook._checks import check_dtype, check_int, check_unit_interval

__all__ = [
    "PIXEL_MAX",
    "IMAGE_SHAPE",
    "PIXEL_RANGES",
    "GREY_LEVELS",
    "BINARY_THRESHOLD",
    "DATA_KINDS",
    "load_digits_split",
    "pixel_range_bounds",
    "to_pixel_range",
    "binarise",
    "dequantise",
    "member_data",
]

PIXEL_MAX = 16.0
"""Largest grey value of the raw digits; dividing by it maps the pixels to [0, 1]."""

IMAGE_SHAPE = (8, 8)
"""Height and width of one digit; a flattened image has 64 pixels."""

PIXEL_RANGES = {"0..1": (0.0, 1.0), "-1..1": (-1.0, 1.0), "0..255": (0.0, 255.0)}
"""The pixel ranges VAE code commonly trains on: name -> (darkest, brightest) value."""

GREY_LEVELS = int(PIXEL_MAX) + 1
"""The digits' pixels take 17 values, 0/16, 1/16, ..., 16/16."""

BINARY_THRESHOLD = 0.5
"""Pixels above this grey value become 1 in :func:`binarise`, the others 0."""

DATA_KINDS = ("grey", "binary", "dequantised")
"""What a VAE trains and is tested on: the grey digits, binarised digits (:func:`binarise`)
or dequantised digits (:func:`dequantise`)."""

_DEQUANTISE_SEEDS = {"train": 1, "test": 2}


def load_digits_split(test_fraction: float = 0.25, seed: int = 0, dtype=torch.float32):
    """The digits as ``(x_train, y_train, x_test, y_test)`` torch tensors.

    Introduced in chapter *What a loss assumes: its σ and its likelihood*. ``x_*`` have shape
    ``(N, 64)`` and values in [0, 1] (raw grey value / 16) with the floating-point ``dtype``;
    ``y_*`` are the digit labels (``torch.int64``, shape ``(N,)``). The split is stratified by
    label and fixed by ``seed``: the default gives 1347 training and 450 test images.
    """
    if (
        isinstance(test_fraction, bool)
        or not isinstance(test_fraction, (int, float))
        or not (0 < test_fraction < 1)
    ):
        raise ValueError(f"test_fraction must be a number in (0, 1), got {test_fraction!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    if not 0 <= seed < 2**32:
        raise ValueError(f"seed must be in [0, 2**32) (scikit-learn's range), got {seed!r}")
    check_dtype(dtype)
    digits = load_digits()
    n_images, n_digits = len(digits.target), len(np.unique(digits.target))
    n_test = math.ceil(test_fraction * n_images)  # as scikit-learn rounds it
    if min(n_test, n_images - n_test) < n_digits:
        raise ValueError(
            f"test_fraction {test_fraction!r} leaves {n_test} test and "
            f"{n_images - n_test} training images: a stratified split needs at "
            f"least {n_digits} (one per digit) in each"
        )
    pixels = digits.data.astype(np.float64) / PIXEL_MAX
    x_train, x_test, y_train, y_test = train_test_split(
        pixels,
        digits.target,
        test_size=test_fraction,
        random_state=seed,
        stratify=digits.target,
    )

    def as_tensors(x, y):
        return torch.as_tensor(x, dtype=dtype), torch.as_tensor(y, dtype=torch.int64)

    return (*as_tensors(x_train, y_train), *as_tensors(x_test, y_test))


def pixel_range_bounds(pixel_range: str) -> tuple[float, float]:
    """``(darkest, brightest)`` pixel value of ``pixel_range``, a key of :data:`PIXEL_RANGES`.

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*; a clear error for
    any other name.
    """
    if not isinstance(pixel_range, str) or pixel_range not in PIXEL_RANGES:
        raise ValueError(
            f"pixel_range must be one of {', '.join(map(repr, PIXEL_RANGES))}, got {pixel_range!r}"
        )
    return PIXEL_RANGES[pixel_range]


def to_pixel_range(x, pixel_range: str):
    """Pixels ``x`` on [0, 1] mapped linearly onto ``pixel_range`` (a key of
    :data:`PIXEL_RANGES`).

    Used behind the scenes in chapter *Posterior collapse in the linear VAE*. ``"-1..1"``
    gives ``2x − 1`` and ``"0..255"`` gives ``255x``; ``"0..1"`` returns ``x`` unchanged. Works
    on tensors and numpy arrays alike.
    """
    low, high = pixel_range_bounds(pixel_range)
    return x if (low, high) == (0.0, 1.0) else low + (high - low) * x


def _check_images(x) -> None:
    if not isinstance(x, torch.Tensor) or not x.is_floating_point():
        raise ValueError("x must be a floating-point torch.Tensor")
    if torch.isnan(x).any():
        raise ValueError("x contains NaN")


def dequantise(x: torch.Tensor, seed: int) -> torch.Tensor:
    """Spread each grey level ``k / 16`` uniformly over its own bin ``[k, k + 1) / 17``.

    Introduced in chapter *What a loss assumes: its σ and its likelihood*. Returns ``(16 x + u) /
    17`` with ``u ~ U(0, 1)`` drawn from ``seed``: continuous data in [0, 1) without repeated
    values. For a density ``p`` of the result, ``-log p + D log 17`` estimates an upper bound on the
    ``-log`` probability of the discrete digits (Theis et al., 2016). ``x`` must lie in [0, 1]
    (``ValueError`` otherwise).
    """
    _check_images(x)
    check_unit_interval(x, "x")
    check_int(seed, "seed", minimum=0)
    generator = torch.Generator().manual_seed(seed)
    noise = torch.rand(x.shape, generator=generator, dtype=torch.float64).to(x.dtype)
    return (x * PIXEL_MAX + noise) / GREY_LEVELS


def binarise(x: torch.Tensor) -> torch.Tensor:
    """``1.0`` where ``x > BINARY_THRESHOLD``, else ``0.0`` (same dtype as ``x``).

    Used behind the scenes in chapter *Training other likelihoods side by side* (Bernoulli on
    binarised digits).
    """
    _check_images(x)
    return (x > BINARY_THRESHOLD).to(x.dtype)


def member_data(x: torch.Tensor, kinds, split: str, stack: bool = False) -> torch.Tensor:
    """The images ``x`` as each member of a batched model sees them.

    Used behind the scenes in chapter *Training with a learned σ*. ``kinds`` holds one of
    :data:`DATA_KINDS` per member and ``split`` is ``"train"`` or ``"test"`` (it picks the
    dequantisation noise). Returns ``x`` itself ``(N, D)`` if every member sees the grey digits (and
    not ``stack``), else ``(K, N, D)`` with each member's own version.
    """
    _check_images(x)
    kinds = list(kinds) if isinstance(kinds, (list, tuple)) else kinds
    if not isinstance(kinds, list) or not kinds or any(kind not in DATA_KINDS for kind in kinds):
        raise ValueError(f"kinds must be a non-empty list of {DATA_KINDS}, got {kinds!r}")
    if split not in _DEQUANTISE_SEEDS:
        raise ValueError(f'split must be "train" or "test", got {split!r}')
    if not stack and all(kind == "grey" for kind in kinds):
        return x
    versions = {
        "grey": x,
        "binary": binarise(x),
        "dequantised": dequantise(x, _DEQUANTISE_SEEDS[split]),
    }
    return torch.stack([versions[kind] for kind in kinds])
