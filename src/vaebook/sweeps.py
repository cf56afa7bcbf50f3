"""σ sweeps: many VAEs, one per decoder σ, trained as one batched model and cached on disk.

:func:`run_sigma_sweep` is what the chapters call. It trains one
:class:`~vaebook.models.BatchedMLPVAE` member per σ with :func:`~vaebook.training.train_vae`,
measures every member with :func:`~vaebook.training.evaluate` on the test digits and returns a
:class:`SweepResult`, stored in the cache of :mod:`vaebook.cache` so that the next call (or the
next build of the book) loads it in milliseconds. :func:`train_single` trains one σ alone with
the same code: the tests and ``bench/training.py`` compare the two.
"""

from __future__ import annotations

import dataclasses
import math
import time
from numbers import Real

import numpy as np
import torch

from vaebook import cache as _cache
from vaebook import settings
from vaebook import training
from vaebook._checks import check_int, check_number
from vaebook.data import load_digits_split
from vaebook.models import DEFAULT_HIDDEN_DIM, BatchedMLPVAE

__all__ = ["DEFAULT_STEPS", "DEFAULT_BATCH_SIZE", "DEFAULT_LR", "DEFAULT_HIDDEN_DIM",
           "sigma_grid", "SweepResult", "run_sigma_sweep", "train_single"]

DEFAULT_STEPS = 5000
"""Adam steps of the default sweep: ≈ 15 s for 12 σ on 2 CPU cores.

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


@dataclasses.dataclass
class SweepResult(_cache.StoredResult):
    """Everything a σ sweep produced: one entry per σ along the first axis of every array.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. The arrays are those of
    :func:`~vaebook.training.evaluate` on the test digits (see there for shapes and units),
    plus ``train_neg_elbo``, ``train_mse`` and ``train_kl`` (the same measures on the training
    digits: at small σ the test MSE is higher, the decoder memorises), the trained ``weights`` (so
    :meth:`model` can rebuild the VAEs), the ``hyperparameters`` and the training time.
    ``from_cache`` says whether this result was loaded from disk (not saved).
    """

    sigmas: np.ndarray
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
    labels: np.ndarray
    train_neg_elbo: np.ndarray
    train_mse: np.ndarray
    train_kl: np.ndarray
    weights: dict[str, np.ndarray]
    hyperparameters: dict
    train_seconds: float
    from_cache: bool = False

    DICT_FIELDS = ("weights",)

    def index_of(self, sigma: float) -> int:
        """Index of the grid σ nearest to ``sigma`` (nearest on a log scale).

        Introduced in chapter *σ trades reconstruction against KL*.
        """
        sigma = check_number(sigma, "sigma")
        return int(np.argmin(np.abs(np.log(self.sigmas) - math.log(sigma))))

    def model(self) -> BatchedMLPVAE:
        """The trained VAEs, one member per σ, rebuilt from ``weights``.

        Introduced in chapter *σ trades reconstruction against KL*.
        """
        params = self.hyperparameters
        model = BatchedMLPVAE(len(self.sigmas), self.recon_originals.shape[1],
                              params["hidden_dim"], params["latent_dim"])
        model.load_state_dict({k: torch.from_numpy(v) for k, v in self.weights.items()})
        return model.eval()


def _hyperparameters(sigmas, *, latent_dim, hidden_dim, steps, batch_size, lr, seed,
                     kl_weight) -> dict:
    return {"sigmas": [float(s) for s in training.check_sigmas(sigmas)],
            "latent_dim": latent_dim, "hidden_dim": hidden_dim, "steps": steps,
            "batch_size": batch_size, "lr": lr,
            "seed": check_int(settings.default_seed() if seed is None else seed,
                                        "seed", minimum=0),
            "kl_weight": [float(w) for w in
                          training.check_kl_weights(kl_weight, len(sigmas), torch.float64)]}


def _train_and_evaluate(params: dict, progress) -> SweepResult:
    """Train one member per σ of ``params["sigmas"]`` and evaluate them all."""
    sigmas = np.asarray(params["sigmas"])
    x_train, y_train, x_test, y_test = load_digits_split()
    model = BatchedMLPVAE(len(sigmas), x_train.shape[1], params["hidden_dim"],
                          params["latent_dim"], seed=params["seed"])
    start = time.perf_counter()
    training.train_vae(model, x_train, sigmas, kl_weight=params["kl_weight"],
                       steps=params["steps"], batch_size=params["batch_size"], lr=params["lr"],
                       seed=params["seed"], progress=progress)
    seconds = time.perf_counter() - start
    test = training.evaluate(model, x_test, y_test, sigmas, kl_weight=params["kl_weight"],
                             seed=params["seed"])
    train = training.evaluate(model, x_train, y_train, sigmas, kl_weight=params["kl_weight"],
                              seed=params["seed"])
    weights = {k: v.detach().cpu().numpy() for k, v in model.state_dict().items()}
    return SweepResult(sigmas=sigmas, **test, train_neg_elbo=train["neg_elbo"],
                       train_mse=train["mse"], train_kl=train["kl"], weights=weights,
                       hyperparameters=params, train_seconds=seconds)


def run_sigma_sweep(sigmas=None, *, latent_dim: int = 2,
                    hidden_dim: int = DEFAULT_HIDDEN_DIM, steps: int = DEFAULT_STEPS,
                    batch_size: int = DEFAULT_BATCH_SIZE, lr: float = DEFAULT_LR,
                    seed: int | None = None, kl_weight: float = 1.0, cache: bool = True,
                    progress="auto") -> SweepResult:
    """Train one VAE per σ (all as ONE batched model), evaluate them, cache the result.

    Introduced in chapter *σ trades reconstruction against KL*. ``sigmas`` defaults to
    :func:`sigma_grid`. The defaults of ``steps``, ``batch_size`` and ``lr`` train every σ of
    the default grid to convergence (``bench/training.py`` measures it). With ``cache=True``
    a result with the same hyperparameters and the same code is loaded from disk instead
    of retrained (see :mod:`vaebook.cache`).
    """
    params = _hyperparameters(sigma_grid() if sigmas is None else sigmas,
                              latent_dim=latent_dim, hidden_dim=hidden_dim, steps=steps,
                              batch_size=batch_size, lr=lr, seed=seed, kl_weight=kl_weight)
    return _cache.load_or_compute("sigma-sweep", params, SweepResult.load,
                                  lambda: _train_and_evaluate(params, progress), enabled=cache)


def train_single(sigma: float, *, latent_dim: int = 2,
                 hidden_dim: int = DEFAULT_HIDDEN_DIM, steps: int = DEFAULT_STEPS,
                 batch_size: int = DEFAULT_BATCH_SIZE, lr: float = DEFAULT_LR,
                 seed: int | None = None, kl_weight: float = 1.0, cache: bool = False,
                 progress="auto") -> SweepResult:
    """Train ONE VAE with decoder ``sigma`` alone: a one-member :func:`run_sigma_sweep`.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. Same code, data, seed
    and initial weights as the batched sweep, so its numbers match the sweep's member for ``sigma``
    (up to floating-point rounding).
    """
    if isinstance(sigma, (list, tuple, np.ndarray, torch.Tensor)) and np.size(sigma) != 1:
        raise ValueError(f"sigma must be one number, got {sigma!r}")
    training.check_sigmas(sigma, "sigma")
    return run_sigma_sweep([sigma], latent_dim=latent_dim, hidden_dim=hidden_dim, steps=steps,
                           batch_size=batch_size, lr=lr, seed=seed, kl_weight=kl_weight,
                           cache=cache, progress=progress)
