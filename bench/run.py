"""`make bench`: the book's performance figures, printed side by side against their targets.

Figures: cold execute+build time of the whole book, cached rebuild time after an edit to one
page's prose, size of .venv, and the heaviest HTML page; then the training figures
(bench/training.py) and the slider figures (bench/slider.py) of the σ chapter, and the
training time of the later chapters. The book is built from a copy of the sources in a
temporary folder, so the repository is not touched.
These are measurements, not tests: they print numbers and never fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
BUILD_FLAGS = ["--warningiserror", "--keep-going"]


def copy_sources(target: Path) -> None:
    """Copy the files git knows about (tracked, or new and not ignored) into ``target``."""
    listing = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    for name in filter(None, listing):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def timed_build(source: Path, output: Path, training_cache: Path) -> float:
    """Build the book; trained models are cached in ``training_cache`` (empty when cold)."""
    env = dict(os.environ, VAEBOOK_CACHE_DIR=str(training_cache))
    start = time.perf_counter()
    result = subprocess.run(
        [str(JUPYTER_BOOK), "build", str(source), "--path-output", str(output), *BUILD_FLAGS],
        capture_output=True,
        text=True,
        env=env,
    )
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        print((result.stdout + result.stderr)[-3000:])
        raise SystemExit("the book build failed; no figures")
    return seconds


def edit_prose(page: Path) -> None:
    """Change one sentence of a page's prose (no code cell changes)."""
    text = page.read_text()
    marker = "This book answers the question completely"
    if marker not in text:
        raise SystemExit(f"cannot find the sentence to edit in {page}")
    page.write_text(text.replace(marker, "This book answers the question fully", 1))


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def page_weight(html: Path, root: Path) -> int:
    """Bytes of an HTML page plus the images it embeds from the build (not shared assets)."""
    total = html.stat().st_size
    for src in set(re.findall(r'<img[^>]+src="([^"]+)"', html.read_text(errors="ignore"))):
        if src.startswith("data:"):  # embedded in the page: already counted
            continue
        image = (html.parent / src).resolve()
        if image.is_file() and root in image.parents:
            total += image.stat().st_size
    return total


def row(name: str, value: str, target: str, ok: bool | None) -> str:
    verdict = "" if ok is None else ("meets target" if ok else "MISSES target")
    return f"{name:<44}{value:>14}   {target:<12}{verdict}"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="vaebook-bench-") as tmp:
        source, output = Path(tmp) / "src", Path(tmp) / "out"
        copy_sources(source)
        print(
            "Building the whole book from empty execution and training caches (cold)...", flush=True
        )
        training_cache = Path(tmp) / "training-cache"
        cold = timed_build(source, output, training_cache)
        edit_prose(source / "book" / "intro.md")
        print("Rebuilding after an edit to the introduction's prose (cached)...", flush=True)
        cached = timed_build(source, output, training_cache)
        html_root = output / "_build" / "html"
        pages = [p for p in html_root.rglob("*.html") if "_static" not in p.parts]
        weights = {p: page_weight(p, html_root) for p in pages}
        heaviest = max(weights, key=weights.get)
    venv = REPO / ".venv"
    venv_mb = folder_bytes(venv) / 1e6 if venv.exists() else float("nan")
    heavy_mb = weights[heaviest] / 1e6
    print()
    print(f"{'figure':<44}{'measured':>14}   {'target':<12}")
    print(row("cold execute + build of the whole book", f"{cold:.1f} s", "<= 180 s", cold <= 180))
    print(row("cached rebuild after a prose edit", f"{cached:.1f} s", "<= 15 s", cached <= 15))
    print(row(".venv size", f"{venv_mb:.0f} MB", "", None))
    print(
        row(
            f"heaviest page ({heaviest.relative_to(html_root)})",
            f"{heavy_mb:.2f} MB",
            "<= 3 MB",
            heavy_mb <= 3,
        )
    )


if __name__ == "__main__":
    main()
    # The training chapters' figures (bench/training.py, bench/slider.py).
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import slider
    import training

    print("\nTraining figures (σ chapter)")
    training.main()
    training.chapter_times()
    print("\nSlider figures (σ chapter)")
    slider.main()
