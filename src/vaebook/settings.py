"""The book's run settings: the training seed, the torch threads and the floating-point path.

Described in *Same claims on every machine*. Every trained experiment of the book uses

* the seed :func:`default_seed`: 0, unless the environment variable ``VAEBOOK_SEED`` names
  another (``VAEBOOK_SEED=3 make book`` builds the whole book with seed 3: its claims still
  hold, because ``make robust`` checks them for several seeds);
* :func:`torch_threads` threads while it trains: 1, unless ``VAEBOOK_THREADS`` says otherwise.
  The book's models are tiny, so a second thread gains little on a quiet machine and costs a
  lot on a busy one (measured: 2 threads ran 10× slower than 1 when another process was
  using the second core).

:func:`numerics` describes the floating-point path a result was computed on (the CPU kernels
that MKL and ATen picked, and the thread count): the last bits of every trained number depend
on it, so the training cache keys on it.
"""

from __future__ import annotations

import contextlib
import os

import torch

__all__ = [
    "SEED_ENV",
    "THREADS_ENV",
    "NUMERICS_ENV",
    "default_seed",
    "torch_threads",
    "training_threads",
    "numerics",
]

SEED_ENV = "VAEBOOK_SEED"
"""Environment variable that sets the seed of every trained experiment (default 0)."""

THREADS_ENV = "VAEBOOK_THREADS"
"""Environment variable that sets the torch threads used for training (default 1)."""

NUMERICS_ENV = ("MKL_CBWR", "MKL_ENABLE_INSTRUCTIONS", "ATEN_CPU_CAPABILITY")
"""Environment variables that pin MKL's and ATen's CPU kernels: part of :func:`numerics`."""


def _env_int(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ValueError(
            f"the environment variable {name} must be an integer >= {minimum}, got {raw!r}"
        )
    return value


def default_seed() -> int:
    """The seed of the book's trained experiments: ``$VAEBOOK_SEED``, or 0.

    Introduced in chapter *σ trades reconstruction against KL*. Raises :class:`ValueError` if the
    variable is set to anything but an integer >= 0.
    """
    return _env_int(SEED_ENV, 0, 0)


def torch_threads() -> int:
    """The number of torch threads used for training: ``$VAEBOOK_THREADS``, or 1.

    Introduced in chapter *σ trades reconstruction against KL*, whose page VAE trains with as
    many threads as the package's trainer.
    """
    return _env_int(THREADS_ENV, 1, 1)


@contextlib.contextmanager
def training_threads():
    """Run the body with :func:`torch_threads` torch threads, then restore the old number.

    Used behind the scenes in chapter *σ trades reconstruction against KL* (every training and
    evaluation of :mod:`vaebook.training` runs inside it).
    """
    wanted, before = torch_threads(), torch.get_num_threads()
    if wanted != before:
        torch.set_num_threads(wanted)
    try:
        yield wanted
    finally:
        if torch.get_num_threads() != before:
            torch.set_num_threads(before)


def numerics() -> dict[str, str | int]:
    """The floating-point path of this process: torch version, ATen's CPU capability, the
    MKL/ATen pinning variables that are set, and the training threads.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. Two processes with the
    same :func:`numerics` compute the same bits; different ones may differ in the last bits.
    """
    path: dict[str, str | int] = {
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "threads": torch_threads(),
    }
    path.update({name: os.environ[name] for name in NUMERICS_ENV if os.environ.get(name)})
    return path
