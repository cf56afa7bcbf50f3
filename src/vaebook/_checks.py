"""Input checks shared by the modules of :mod:`vaebook`: one function per kind of argument.

Every check raises a :class:`ValueError` whose message starts with the name of the offending
argument, so that a wrong call says which argument is wrong, and returns the value in the type
the caller works with. The checks run on detached values: they never take part in autograd.
``tests/test_checks.py`` tests each message once; ``tests/test_bad_inputs.py`` checks that
every public function reaches them.
"""

from __future__ import annotations

import math
from numbers import Integral, Real

import torch

REDUCTIONS = ("none", "sum", "mean")


HALF_DTYPES = (torch.float16, torch.bfloat16)


def check_tensor(value, name: str, *, min_ndim: int = 1) -> torch.Tensor:
    """Check that ``value`` is a finite float32/float64 tensor with at least ``min_ndim`` dims.

    With ``min_ndim >= 1`` the first dimension is the batch, which must not be empty. Half
    precision is refused: its largest number is 65504 (float16), and a log-likelihood in nats
    of one image overflows or rounds away long before that.
    """
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if not value.is_floating_point():
        raise ValueError(
            f"{name} must have a floating-point dtype (e.g. torch.float32), got {value.dtype}"
        )
    if value.dtype in HALF_DTYPES:
        raise ValueError(
            f"{name} has dtype {value.dtype}, too coarse for log-likelihoods in nats: "
            f"convert it with {name}.float() (float32) or {name}.double() (float64)"
        )
    if value.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s) (the first one is the batch), "
            f"got shape {tuple(value.shape)}"
        )
    if min_ndim >= 1 and value.numel() == 0:
        raise ValueError(
            f"{name} is empty (shape {tuple(value.shape)}): a batch needs at least one sample "
            "with at least one element"
        )
    detached = value.detach()
    if not torch.isfinite(detached).all():  # one pass in the common, all-finite case
        if torch.isnan(detached).any():
            raise ValueError(f"{name} contains NaN")
        raise ValueError(f"{name} contains an infinite value")
    return value


def check_same_shape(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    """Check that two tensors have exactly the same shape (no broadcasting)."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, "
            f"got {name_a}: {tuple(a.shape)} and {name_b}: {tuple(b.shape)}"
        )


def check_unit_interval(x: torch.Tensor, name: str) -> None:
    """Check that ``x`` is a tensor whose every element lies in the closed interval [0, 1]."""
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    detached = x.detach()
    if detached.is_floating_point() and torch.isnan(detached).any():
        raise ValueError(f"{name} contains NaN")
    if (detached < 0).any() or (detached > 1).any():
        low, high = detached.min().item(), detached.max().item()
        raise ValueError(f"{name} must lie in [0, 1], got values in [{low:g}, {high:g}]")


def check_positive_scale(value, name: str, like: torch.Tensor) -> torch.Tensor:
    """Check a positive, finite scale (a number or a tensor broadcastable to ``like``).

    Returns the scale as a tensor with the dtype and device of ``like``.
    """
    if isinstance(value, torch.Tensor):
        if not value.is_floating_point():
            raise ValueError(f"{name} must have a floating-point dtype, got {value.dtype}")
        detached = value.detach()
        if torch.isnan(detached).any():
            raise ValueError(f"{name} contains NaN")
        if not (detached > 0).all() or torch.isinf(detached).any():
            raise ValueError(f"{name} must be positive and finite everywhere")
        try:
            shape = torch.broadcast_shapes(value.shape, like.shape)
        except RuntimeError:
            shape = None
        if shape != like.shape:
            raise ValueError(
                f"{name} of shape {tuple(value.shape)} does not broadcast to the data's shape "
                f"{tuple(like.shape)}"
            )
        return value.to(device=like.device, dtype=torch.promote_types(value.dtype, like.dtype))
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a positive number or tensor, got {value!r}")
    value = float(value)
    if math.isnan(value) or not 0 < value < math.inf:
        raise ValueError(f"{name} must be positive and finite, got {value!r}")
    return torch.tensor(value, dtype=like.dtype, device=like.device)


def check_reduction(reduction) -> str:
    """Check that ``reduction`` is one of ``"none"``, ``"sum"`` or ``"mean"``."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_choice(value, name: str, choices: tuple[str, ...]) -> str:
    """Check that ``value`` is one of the strings in ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {choices}, got {value!r}")
    return value


def check_int(value, name: str, minimum: int = 1) -> int:
    """Check that ``value`` is an integer of at least ``minimum`` (``bool`` is refused)."""
    if isinstance(value, bool) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def check_seed(value, name: str = "seed") -> int:
    """Check that ``value`` is a random seed: an integer >= 0 (``bool`` is refused)."""
    return check_int(value, name, minimum=0)


def check_number(value, name: str, *, allow_zero: bool = False) -> float:
    """Check that ``value`` is a finite real number, > 0 (or >= 0 with ``allow_zero``)."""
    if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(value):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if not (value >= 0 if allow_zero else value > 0) or math.isinf(value):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return float(value)


def check_dtype(dtype) -> torch.dtype:
    """Check that ``dtype`` is a floating-point torch dtype."""
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise ValueError(f"dtype must be a floating-point torch dtype, got {dtype!r}")
    return dtype


def reduce_batch(per_sample: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply ``reduction`` to a vector of per-sample values of shape ``(B,)``."""
    if reduction == "none":
        return per_sample
    if reduction == "sum":
        return per_sample.sum()
    return per_sample.mean()
