"""Slider figures of the σ chapter: how long a live-kernel slider update takes from the cache.

The σ slider renders one picture per grid σ once (``sigma_slider``), then every move of the
slider only swaps a precomputed picture and table (``FrameSlider.select``). This prints both
costs. Measurements, not tests: they never fail.
"""

from __future__ import annotations

import statistics
import time

import matplotlib

matplotlib.use("Agg")

from vaebook.experiment import run_sigma_sweep  # noqa: E402
from vaebook.plotting import sigma_frame, sigma_slider  # noqa: E402

UPDATE_TARGET_MS = 50.0


def row(name: str, value: str, target: str, ok: bool | None) -> str:
    verdict = "" if ok is None else ("meets target" if ok else "MISSES target")
    return f"{name:<44}{value:>14}   {target:<12}{verdict}"


def main() -> None:
    sweep = run_sigma_sweep()  # the chapter's sweep: loaded from the cache after the first run
    start = time.perf_counter()
    slider = sigma_slider(sweep)
    build_seconds = time.perf_counter() - start
    _ = slider.widget  # the live ipywidgets view, as in JupyterLab
    updates = []
    for _ in range(5):
        for index in range(len(sweep.sigmas)):
            start = time.perf_counter()
            slider.select(index)
            updates.append(1000 * (time.perf_counter() - start))
    renders = []
    for index in range(0, len(sweep.sigmas), 3):
        start = time.perf_counter()
        sigma_frame(sweep, index)
        renders.append(1000 * (time.perf_counter() - start))
    median_update = statistics.median(updates)
    print()
    print(f"{'figure':<44}{'measured':>14}   {'target':<12}")
    print(
        row(
            "σ slider update, live widget (median)",
            f"{median_update:.2f} ms",
            f"<= {UPDATE_TARGET_MS:.0f} ms",
            median_update <= UPDATE_TARGET_MS,
        )
    )
    print(row(f"rendering all {len(sweep.sigmas)} frames once", f"{build_seconds:.2f} s", "", None))
    print(row("rendering one frame (median)", f"{statistics.median(renders):.0f} ms", "", None))


if __name__ == "__main__":
    main()
