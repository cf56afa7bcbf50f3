"""Training figures of the book: batched σ sweep vs a loop, converged-sweep time, convergence gap.

Run ``python bench/training.py`` (the lead wires :func:`main` into ``make bench``). These are
measurements, not tests: they print numbers side by side with their targets and never fail.
Wall times are the best of a few repeats, because other processes on a shared 2-core machine
inflate single measurements.

*Converged* means: for every σ of the default grid, the −ELBO on the training digits after the
default number of steps is within ``GAP_TARGET_NATS`` of a reference run with 4× the steps
(same recipe, same seed, same fixed-seed noise for the estimate). The reference sweep is cached
on disk, so only the first run of this script pays for it.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import torch

from vaebook.data import load_digits_split
from vaebook.experiment import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_HIDDEN_DIM,
    DEFAULT_LR,
    DEFAULT_STEPS,
    run,
    run_sigma_sweep,
    sigma_grid,
)
from vaebook.linear import run_linear_sweep
from vaebook.models import BatchedMLPVAE
from vaebook.training import train_vae
from vaebook.variants import LEARNED_SIGMA_VARIANTS, LIKELIHOOD_VARIANTS, lower_floor

SPEED_STEPS = 300
REPEATS = 3
REFERENCE_FACTOR = 4
GAP_TARGET_NATS = 0.5
SPEEDUP_TARGET = 4.0
SWEEP_SECONDS_TARGET = 20.0
PAGE_VAE_SECONDS_TARGET = 15.0
REPO = Path(__file__).resolve().parents[1]


def row(name: str, value: str, target: str, ok: bool | None) -> str:
    verdict = "" if ok is None else ("meets target" if ok else "MISSES target")
    return f"{name:<44}{value:>14}   {target:<12}{verdict}"


def best_seconds(run, repeats: int = REPEATS) -> float:
    """Fastest of ``repeats`` wall-clock timings of ``run()``."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def train_members(sigmas, x_train, batched: bool) -> None:
    """The default recipe for SPEED_STEPS steps: one batched model, or one model per σ."""
    groups = [sigmas] if batched else [[sigma] for sigma in sigmas]
    for group in groups:
        model = BatchedMLPVAE(len(group), hidden_dim=DEFAULT_HIDDEN_DIM)
        train_vae(
            model,
            x_train,
            group,
            steps=SPEED_STEPS,
            batch_size=DEFAULT_BATCH_SIZE,
            lr=DEFAULT_LR,
            seed=0,
            progress=False,
        )


def speed_table(x_train, sigmas) -> dict[int, tuple[float, float]]:
    """Seconds for the batched sweep and for the loop, for 1 and 2 torch threads."""
    default_threads = torch.get_num_threads()
    seconds = {}
    for threads in sorted({1, 2, default_threads}):
        torch.set_num_threads(threads)
        seconds[threads] = (
            best_seconds(lambda: train_members(sigmas, x_train, True)),
            best_seconds(lambda: train_members(sigmas, x_train, False)),
        )
    torch.set_num_threads(default_threads)
    return seconds


def page_vae_seconds(x_train) -> float:
    """Best of two: the VAE written on the page of chapter *σ trades reconstruction against
    KL*, its loss and its loop (the chapter's own cells, tests/page_code.py), trained for
    the book's 5000 steps at σ = 0.2 on the book's one thread."""
    sys.path.insert(0, str(REPO / "tests"))
    from page_code import page_namespace

    page = page_namespace(REPO / "book" / "sigma-tradeoff.md", ("VAE", "train", "neg_elbo"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return best_seconds(
            lambda: page["train"](
                page["VAE"](), x_train, lambda *out: page["neg_elbo"](*out, sigma=0.2)
            ),
            repeats=2,
        )
    finally:
        torch.set_num_threads(threads)


def main() -> None:
    sigmas = sigma_grid()
    x_train = load_digits_split()[0]
    print(
        f"σ sweep of {len(sigmas)} VAEs (64→{DEFAULT_HIDDEN_DIM}→2), batch "
        f"{DEFAULT_BATCH_SIZE}, {SPEED_STEPS} steps each way, best of {REPEATS}...",
        flush=True,
    )
    speed = speed_table(x_train, sigmas)
    threads = torch.get_num_threads()
    batched, loop = speed[threads]

    print(f"The page's VAE ({DEFAULT_STEPS} steps, one σ), best of 2...", flush=True)
    page_seconds = page_vae_seconds(x_train)
    print(f"Full converged sweep ({DEFAULT_STEPS} steps, no cache), best of 2...", flush=True)
    sweep_seconds = best_seconds(
        lambda: run_sigma_sweep(sigmas, cache=False, progress=False), repeats=2
    )
    sweep = run_sigma_sweep(sigmas, cache=True, progress=False)
    print(f"Reference sweep ({REFERENCE_FACTOR}× steps, cached after the first run)...", flush=True)
    reference = run_sigma_sweep(
        sigmas, steps=REFERENCE_FACTOR * DEFAULT_STEPS, cache=True, progress=True
    )
    gap = sweep.train_neg_elbo - reference.train_neg_elbo
    test_gap = sweep.neg_elbo - reference.neg_elbo
    worst = float(np.max(np.abs(gap)))
    converged = np.abs(gap) <= GAP_TARGET_NATS
    unconverged = np.flatnonzero(~converged)
    first_converged = 0 if unconverged.size == 0 else unconverged[-1] + 1

    print()
    print(f"{'figure':<44}{'measured':>14}   {'target':<12}")
    for n, (b, lp) in sorted(speed.items()):
        print(
            row(
                f"batched vs loop, {n} thread(s) ({b:.1f} s vs {lp:.1f} s)",
                f"×{lp / b:.1f}",
                f">= ×{SPEEDUP_TARGET:g}",
                lp / b >= SPEEDUP_TARGET,
            )
        )
    print(
        row(
            f"full converged {len(sigmas)}-σ sweep, {threads} threads",
            f"{sweep_seconds:.1f} s",
            f"<= {SWEEP_SECONDS_TARGET:g} s",
            sweep_seconds <= SWEEP_SECONDS_TARGET,
        )
    )
    print(
        row(
            "the page's VAE, one σ, 1 thread",
            f"{page_seconds:.1f} s",
            f"<= {PAGE_VAE_SECONDS_TARGET:g} s",
            page_seconds <= PAGE_VAE_SECONDS_TARGET,
        )
    )
    print(
        row(
            f"max |−ELBO gap| to {REFERENCE_FACTOR}× steps (train)",
            f"{worst:.2f} nats",
            f"<= {GAP_TARGET_NATS} nats",
            worst <= GAP_TARGET_NATS,
        )
    )
    converged_from = (
        "none" if first_converged == len(sigmas) else f"σ >= {sigmas[first_converged]:.2f}"
    )
    print(row("σ converged by that definition", converged_from, "all σ", first_converged == 0))
    print()
    print(
        f"{'σ':>6} {'train MSE':>9} {'test MSE':>8} {'KL':>6} {'act.':>4} {'−ELBO train':>11} "
        f"{f'{REFERENCE_FACTOR}× steps':>10} {'gap':>7} {'−ELBO test':>10} {'test gap':>8}"
    )
    for k, sigma in enumerate(sigmas):
        print(
            f"{sigma:6.3f} {sweep.train_mse[k]:9.4f} {sweep.mse[k]:8.4f} {sweep.kl[k]:6.2f} "
            f"{sweep.active_units[k]:4d} {sweep.train_neg_elbo[k]:11.2f} "
            f"{reference.train_neg_elbo[k]:10.2f} {gap[k]:7.2f} {sweep.neg_elbo[k]:10.2f} "
            f"{test_gap[k]:8.2f}"
        )
    print(
        f"MSE per pixel; KL (test), −ELBO and gaps in nats per image. gap = −ELBO after "
        f"{DEFAULT_STEPS} steps − −ELBO after {REFERENCE_FACTOR}× steps:\npositive = still "
        "improving; a negative test gap means longer training overfits the training digits."
    )


def timed(run):
    start = time.perf_counter()
    result = run()
    return result, time.perf_counter() - start


def chapter_times() -> None:
    """Wall time of the training of the later chapters (no cache), and what they measure."""
    print("\nTraining of the later chapters (no cache, one run each)...", flush=True)
    linear, linear_s = timed(lambda: run_linear_sweep(cache=False, progress=False))
    learned, learned_s = timed(lambda: run(LEARNED_SIGMA_VARIANTS, cache=False, progress=False))
    _, lowered_s = timed(
        lambda: lower_floor(learned, "per-pixel σ, floor", cache=False, progress=False)
    )
    others, others_s = timed(lambda: run(LIKELIHOOD_VARIANTS, cache=False, progress=False))
    print(f"{'chapter':<44}{'seconds':>14}")
    for name, seconds in (
        ("Posterior collapse in the linear VAE", linear_s),
        ("Training with a learned σ (3 VAEs)", learned_s),
        ("Training with a learned σ, lowering the floor (fine-tune)", lowered_s),
        ("Training other likelihoods side by side (9 VAEs)", others_s),
    ):
        print(f"{name:<44}{seconds:>14.1f}")
    print("\nLinear VAE vs pPCA closed form (training digits):")
    print(f"{'σ':>5} {'active':>6} {'predicted':>9} {'max |‖W‖²−(λ−σ²)|':>19} {'−ELBO gap':>10}")
    norm_error = np.abs(linear.column_norms_sq - linear.predicted_norms_sq).max(axis=1)
    for k, sigma in enumerate(linear.sigmas):
        print(
            f"{sigma:5.2f} {linear.active_units[k]:6d} {linear.predicted_active[k]:9d} "
            f"{norm_error[k]:19.4f} {linear.elbo_gap[k]:10.4f}"
        )
    for result in (learned, others):
        print(
            f"\n{'variant':<36}{'σ or b':>8}{'fitted':>8}{'MSE':>8}{'KL':>6}"
            f"{'−ELBO train':>12}{'test':>8}"
        )
        for k, label in enumerate(result.labels):
            print(
                f"{label:<36}{result.scale[k]:8.4f}{result.fitted_scale[k]:8.4f}"
                f"{result.mse[k]:8.4f}{result.kl[k]:6.2f}{result.train_neg_elbo[k]:12.1f}"
                f"{result.neg_elbo[k]:8.1f}"
            )


if __name__ == "__main__":
    main()
    chapter_times()
