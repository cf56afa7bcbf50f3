"""σ sweeps: one Gaussian VAE per decoder σ, trained as one batched model and cached on disk.

A σ sweep is a list of Gaussian :class:`~vaebook.experiment.Config` (:func:`sigma_configs`)
handed to :func:`~vaebook.experiment.run`; :func:`run_sigma_sweep` does both, and is what the
chapters call. :func:`train_single` trains one σ alone with the same code: the tests and
``bench/training.py`` compare the two.
"""

from __future__ import annotations

import math
from numbers import Real

import numpy as np
import torch

from vaebook import training
from vaebook._checks import check_int
from vaebook.experiment import Config, Result, run, with_fields

__all__ = ["sigma_grid", "sigma_configs", "run_sigma_sweep", "train_single"]

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
    """One Gaussian :class:`~vaebook.experiment.Config` of fixed σ per entry of ``sigmas``.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. ``sigmas``
    defaults to :func:`sigma_grid`; ``kl_weight`` is one β for all or one per σ; ``fields``
    set any other field of every config (``latent_dim=8``, ``steps=...``). Labels read
    ``"σ = 0.3"`` (with ``", β = 2"`` where β ≠ 1, and ``" #k"`` to tell repeats apart).
    """
    sigmas = training.check_sigmas(sigma_grid() if sigmas is None else sigmas)
    weights = training.check_kl_weights(kl_weight, len(sigmas), torch.float64)
    labels = [f"σ = {sigma:.4g}" + ("" if weight == 1 else f", β = {weight:.4g}")
              for sigma, weight in zip(sigmas.tolist(), weights.tolist())]
    labels = [label if labels.count(label) == 1 else f"{label} #{k}"
              for k, label in enumerate(labels)]
    return with_fields([Config(label, "gaussian", sigma=sigma, kl_weight=weight)
                        for label, sigma, weight in zip(labels, sigmas.tolist(),
                                                        weights.tolist())], **fields)


def run_sigma_sweep(sigmas=None, *, kl_weight=1.0, cache: bool = True, progress="auto",
                    **fields) -> Result:
    """Train one VAE per σ (all as ONE batched model), evaluate them, cache the result.

    Introduced in chapter *σ trades reconstruction against KL*:
    ``run(sigma_configs(sigmas, kl_weight=kl_weight, **fields))`` (see
    :func:`sigma_configs` and :func:`~vaebook.experiment.run`). The default ``steps``,
    ``batch_size`` and ``lr`` of a config train every σ of the default grid to convergence
    (``bench/training.py`` measures it).
    """
    return run(sigma_configs(sigmas, kl_weight=kl_weight, **fields), cache=cache,
               progress=progress)


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
