"""The robustness study: every trained chapter, re-executed under many seeds and floating-point
paths, with every claim it checks tabulated.

Described in *Same claims on every machine*; ``make robust`` runs it. A *run* executes the
trained chapters from top to bottom (with nbclient, exactly as the book build does) in a fresh
process whose environment sets the seed (``VAEBOOK_SEED``), the floating-point path (``MKL_CBWR``,
``ATEN_CPU_CAPABILITY``, ``VAEBOOK_THREADS``, see :data:`PATHS`), an empty training cache and
``VAEBOOK_CLAIMS_LOG``, so that every :func:`vaebook.claims.check` of the chapters writes its
record instead of stopping the run. :func:`study` runs a grid of seeds × paths (two runs at a
time by default) and :func:`table` reports, for every registered claim, how many runs checked
it, the worst margin and the run it came from. A claim that failed anywhere, or that no run
checked, fails the study.

``make test`` calls :func:`run` once (another path, another seed) to guard the chapters cheaply.

Usage: ``python -m vaebook.robust [--seeds 0 1 2 3 4] [--paths default compatible ...]
[--jobs 2] [--chapters ...] [--output bench/robustness.md] [--records bench/robustness.json]``.
With ``--update``, only ``--chapters`` are re-run and their records replace theirs in the
existing ``--records`` file; the table then covers every chapter (a new claim in one chapter
needs that chapter's runs, not the whole hour).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import dataclasses
import datetime as _datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import vaebook
from vaebook import claims as _claims
from vaebook import settings

__all__ = [
    "PATHS",
    "SOURCES",
    "TRAINED_CHAPTERS",
    "CELL_TIMEOUT",
    "Run",
    "repository",
    "execute_chapter",
    "run",
    "study",
    "merge",
    "table",
    "main",
]

PATHS: dict[str, dict[str, str]] = {
    "default": {},
    "compatible": {"MKL_CBWR": "COMPATIBLE"},
    "aten-default": {"ATEN_CPU_CAPABILITY": "default"},
    "pinned": {"MKL_CBWR": "COMPATIBLE", "ATEN_CPU_CAPABILITY": "default"},
    "avx2": {"MKL_CBWR": "AVX2"},
    "two-threads": {"VAEBOOK_THREADS": "2"},
}
"""Floating-point paths by name: the environment variables each run sets. ``default`` uses
the kernels MKL and ATen pick for this CPU; ``compatible`` pins MKL to its CPU-independent
kernels, ``aten-default`` pins ATen's vectorised code to its plain C++ version, ``pinned``
does both (the same bits on any x86 CPU); ``avx2`` pins MKL to its AVX2 kernels (the default
on a CPU without AVX-512); ``two-threads`` trains with 2 threads."""

SOURCES = {
    "sigma-tradeoff": "book/sigma-tradeoff.md",
    "linear-vae": "book/linear-vae.md",
    "learned-sigma": "book/learned-sigma.md",
    "other-likelihoods": "book/other-likelihoods.md",
    "real-code": "book/real-code.md",
    "recipe": "book/recipe.md",
    "training-assignment": "assignments/02-training/training.md",
    "bug-zoo-assignment": "assignments/03-bug-zoo/bug-zoo.md",
}
"""Where each trained chapter is, relative to the repository. The last two are the masters of
the graded training and bug-zoo assignments: executed as notebooks they run the reference
solutions and their checks (the solutions' answers must not depend on the grading machine's
arithmetic)."""

TRAINED_CHAPTERS = tuple(SOURCES)
"""The chapters that train models, in the order the book builds them (later chapters reuse
the cached σ sweep of the first)."""

STUDY_PATHS = ("default", "compatible", "aten-default")
"""The paths of ``make robust``: three different floating-point paths on any x86 CPU."""

CELL_TIMEOUT = 600
"""Seconds a cell may run, as in the book build (``_config.yml``)."""


def repository() -> Path:
    """The repository that ``vaebook`` is installed from (in editable mode)."""
    folder = Path(vaebook.__file__).resolve().parents[2]
    if not (folder / "_toc.yml").is_file():
        raise RuntimeError(
            "the robustness study runs the book's chapters: install vaebook in "
            "editable mode from a clone of the repository (make book)"
        )
    return folder


def execute_chapter(chapter: str, *, timeout: int = CELL_TIMEOUT) -> dict:
    """Execute the chapter (see :data:`SOURCES`) top to bottom in a fresh kernel, in this
    process's environment. Returns ``{"seconds": ..., "slowest_cell": ..., "error": None |
    str}``."""
    import jupytext
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    path = repository() / SOURCES[chapter]
    notebook = jupytext.read(path)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start, error = time.perf_counter(), None
    try:
        client.execute()
    except CellExecutionError as failure:
        error = str(failure)[-3000:]
    except Exception as failure:  # a timeout or a dead kernel fails the run, it is not a crash
        error = f"{type(failure).__name__}: {failure}"[-3000:]
    slowest = 0.0
    for cell in notebook.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        began, ended = timing.get("iopub.status.busy"), timing.get("iopub.status.idle")
        if began and ended:
            seconds = _datetime.datetime.fromisoformat(
                ended.replace("Z", "+00:00")
            ) - _datetime.datetime.fromisoformat(began.replace("Z", "+00:00"))
            slowest = max(slowest, seconds.total_seconds())
    return {"seconds": time.perf_counter() - start, "slowest_cell": slowest, "error": error}


@dataclasses.dataclass
class Run:
    """One run of the study: its seed, path, the claim records, and per chapter the time, the
    slowest cell and the error (if a cell failed)."""

    seed: int
    path: str
    records: list[dict]
    chapters: dict[str, dict]

    @property
    def label(self) -> str:
        """``seed <n>, <path>``."""
        return f"seed {self.seed}, {self.path}"

    @property
    def errors(self) -> dict[str, str]:
        """The chapters whose execution failed, with the error."""
        return {name: item["error"] for name, item in self.chapters.items() if item["error"]}


def _environment(seed: int, path: str, folder: Path) -> dict[str, str]:
    if path not in PATHS:
        raise ValueError(f"unknown floating-point path {path!r}; known: {', '.join(PATHS)}")
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in (*settings.NUMERICS_ENV, settings.THREADS_ENV)
    }
    env.update(PATHS[path])
    source = str(folder / "snapshot" / "src")
    env.update(
        {
            settings.SEED_ENV: str(seed),
            "VAEBOOK_CACHE_DIR": str(folder / "cache"),
            _claims.LOG_ENV: str(folder / "claims.jsonl"),
            "MPLBACKEND": "Agg",
            "PYTHONPATH": os.pathsep.join(filter(None, [source, os.environ.get("PYTHONPATH")])),
        }
    )
    return env


def _snapshot(folder: Path) -> None:
    """Copy the chapters and the helper package into ``folder/snapshot``: a run reads its own
    copy, so editing the repository during a long study cannot mix two versions of the code,
    and nothing a run does (a kernel saving a notebook) touches the repository."""
    source, target = repository(), folder / "snapshot"
    ignore = shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.ipynb")
    for name in ("src/vaebook", *{str(Path(path).parent) for path in SOURCES.values()}):
        shutil.copytree(source / name, target / name, ignore=ignore)
    shutil.copy2(source / "_toc.yml", target / "_toc.yml")


def run(seed: int, path: str, chapters=TRAINED_CHAPTERS, *, timeout: int = CELL_TIMEOUT) -> Run:
    """Execute ``chapters`` with ``seed`` on the floating-point ``path`` (a key of
    :data:`PATHS`), in a fresh process with an empty training cache; return the :class:`Run`.

    Described in *Same claims on every machine*.
    """
    unknown = [name for name in chapters if name not in TRAINED_CHAPTERS]
    if unknown:
        raise ValueError(f"not a trained chapter: {unknown}; known: {TRAINED_CHAPTERS}")
    with tempfile.TemporaryDirectory(prefix="vaebook-robust-") as tmp:
        folder = Path(tmp)
        environment = _environment(seed, path, folder)
        _snapshot(folder)
        report = folder / "chapters.json"
        command = [
            sys.executable,
            "-m",
            "vaebook.robust",
            "_execute",
            "--report",
            str(report),
            "--timeout",
            str(timeout),
            *chapters,
        ]
        done = subprocess.run(command, env=environment, capture_output=True, text=True, cwd=folder)
        if done.returncode != 0 or not report.is_file():
            raise RuntimeError(
                f"the run (seed {seed}, {path}) crashed:\n{(done.stdout + done.stderr)[-3000:]}"
            )
        log = folder / "claims.jsonl"
        records = (
            [json.loads(line) for line in log.read_text().splitlines()] if (log.is_file()) else []
        )
        return Run(seed, path, records, json.loads(report.read_text()))


def study(seeds, paths, chapters=TRAINED_CHAPTERS, *, jobs: int = 2, progress=print) -> list[Run]:
    """:func:`run` for every seed × path, ``jobs`` at a time; the runs in grid order."""
    grid = [(seed, path) for seed in seeds for path in paths]
    for _, path in grid:
        if path not in PATHS:
            raise ValueError(f"unknown floating-point path {path!r}; known: {', '.join(PATHS)}")
    runs: dict[tuple, Run] = {}
    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run, seed, path, chapters): (seed, path) for seed, path in grid}
        for future in concurrent.futures.as_completed(futures):
            item = future.result()
            runs[futures[future]] = item
            failed = sum(not record["holds"] for record in item.records)
            progress(
                f"[{len(runs)}/{len(grid)}, {time.perf_counter() - start:.0f} s] "
                f"{item.label}: {len(item.records)} checks, {failed} failed, "
                f"{len(item.errors)} chapter error(s)"
            )
    return [runs[key] for key in grid]


def merge(old: list[Run], new: list[Run], chapters) -> list[Run]:
    """``old`` runs with the records and chapter reports of ``chapters`` taken from the ``new``
    run of the same seed and path (runs only in ``new`` are added at the end)."""
    chapters = set(chapters)
    fresh = {(item.seed, item.path): item for item in new}
    merged = []
    for item in old:
        update = fresh.pop((item.seed, item.path), None)
        if update is None:
            merged.append(item)
            continue
        records = [record for record in item.records if record["chapter"] not in chapters]
        reports = {name: report for name, report in item.chapters.items() if name not in chapters}
        merged.append(
            Run(
                item.seed,
                item.path,
                records + [r for r in update.records if r["chapter"] in chapters],
                {
                    **reports,
                    **{name: update.chapters[name] for name in chapters if name in update.chapters},
                },
            )
        )
    return merged + list(fresh.values())


def _margin(value, unit) -> str:
    return "—" if value is None else f"{value:.3g} {unit}".strip()


def table(runs: list[Run], chapters=TRAINED_CHAPTERS) -> tuple[str, bool]:
    """The study as a Markdown table and whether every claim held in every run.

    One row per registered claim of ``chapters``: how many runs checked it, how many failed,
    the worst (smallest) margin and the run it came from. A claim no run checked fails.
    """
    rows, ok = [], True
    for claim in (item for item in _claims.CLAIMS.values() if item.chapter in chapters):
        found = [
            (run_, record)
            for run_ in runs
            for record in run_.records
            if record["claim"] == claim.name
        ]
        failed = [pair for pair in found if not pair[1]["holds"]]
        margins = [pair for pair in found if pair[1]["margin"] is not None]
        worst = min(margins, key=lambda pair: pair[1]["margin"]) if margins else None
        if failed or not found or len(margins) < len(found):
            ok = False
        rows.append(
            f"| `{claim.name.split('/', 1)[1]}` | {claim.chapter} | {len(found)} | {len(failed)} | "
            + (
                f"{_margin(worst[1]['margin'], worst[1]['unit'])} | {worst[0].label} |"
                if worst
                else "— | — |"
            )
        )
    errors = [
        f"- {run_.label}, {name}: {error.splitlines()[-1] if error else ''}"
        for run_ in runs
        for name, error in run_.errors.items()
    ]
    if errors:
        ok = False
    header = (
        "| claim | chapter | runs | failed | worst margin | worst run |\n|---|---|---|---|---|---|"
    )
    slowest = max(
        (
            (item["slowest_cell"], run_.label, name)
            for run_ in runs
            for name, item in run_.chapters.items()
        ),
        default=(0.0, "", ""),
    )
    longest = max(
        (
            (item["seconds"], run_.label, name)
            for run_ in runs
            for name, item in run_.chapters.items()
        ),
        default=(0.0, "", ""),
    )
    lines = [header, *rows, ""]
    if errors:
        lines += ["Chapters that failed to execute:", *errors, ""]
    lines += [
        f"Slowest cell: {slowest[0]:.0f} s ({slowest[2]}, {slowest[1]}); longest chapter: "
        f"{longest[0]:.0f} s ({longest[2]}, {longest[1]}); cell limit {CELL_TIMEOUT} s."
    ]
    return "\n".join(lines), ok


def _execute_main(arguments) -> int:
    report = {name: execute_chapter(name, timeout=arguments.timeout) for name in arguments.chapters}
    Path(arguments.report).write_text(json.dumps(report, indent=1))
    return 0


def main(argv=None) -> int:
    """``make robust``: run the study, print and write its table; exit 1 if a claim failed."""
    if argv is None:
        argv = sys.argv[1:]
    if argv[:1] == ["_execute"]:
        parser = argparse.ArgumentParser(prog="vaebook.robust _execute")
        parser.add_argument("--report", required=True)
        parser.add_argument("--timeout", type=int, default=CELL_TIMEOUT)
        parser.add_argument("chapters", nargs="+")
        return _execute_main(parser.parse_args(argv[1:]))
    parser = argparse.ArgumentParser(
        prog="python -m vaebook.robust",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--paths", nargs="+", default=list(STUDY_PATHS), choices=list(PATHS))
    parser.add_argument(
        "--chapters", nargs="+", default=list(TRAINED_CHAPTERS), choices=list(TRAINED_CHAPTERS)
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--output", help="also write the table (Markdown) to this file")
    parser.add_argument("--records", help="also write every run's records (JSON) to this file")
    parser.add_argument(
        "--update",
        action="store_true",
        help="re-run only --chapters and merge them into the --records file",
    )
    arguments = parser.parse_args(argv)
    previous = None
    if arguments.update:
        if not arguments.records or not Path(arguments.records).is_file():
            parser.error("--update needs the --records file of an earlier study")
        previous = [Run(**item) for item in json.loads(Path(arguments.records).read_text())]
    start = time.perf_counter()
    runs = study(arguments.seeds, arguments.paths, arguments.chapters, jobs=arguments.jobs)
    minutes = (time.perf_counter() - start) / 60
    rerun = ""
    if previous is not None:
        runs = merge(previous, runs, arguments.chapters)
        rerun = (
            f" The chapter(s) {', '.join(arguments.chapters)} were re-run alone on "
            f"{_datetime.date.today().isoformat()} ({minutes:.0f} min) and merged into "
            "the earlier records."
        )
        arguments.chapters = TRAINED_CHAPTERS
    text, ok = table(runs, arguments.chapters)
    seeds = sorted({item.seed for item in runs})
    paths = list(dict.fromkeys(item.path for item in runs))
    summary = (
        f"{len(runs)} runs (seeds {' '.join(map(str, seeds))} × paths "
        f"{', '.join(paths)}), {arguments.jobs} at a time"
        + (f", {minutes:.0f} min" if previous is None else "")
        + "; every claim held "
        f"in every run: {'yes' if ok else 'NO'}.{rerun}"
    )
    print(text + "\n\n" + summary)
    if arguments.records:
        Path(arguments.records).write_text(
            json.dumps([dataclasses.asdict(item) for item in runs], indent=1, ensure_ascii=False)
        )
    if arguments.output:
        paths = "\n".join(
            f"- `{name}`: "
            + (" ".join(f"{k}={v}" for k, v in env.items()) or "the CPU's own kernels")
            for name, env in PATHS.items()
            if name in paths
        )
        Path(arguments.output).write_text(
            "# Robustness study (`make robust`)\n\n"
            f"Generated by `python -m vaebook.robust` on "
            f"{_datetime.date.today().isoformat()}. {summary}\n\n"
            "Floating-point paths:\n\n" + paths + "\n\n"
            "A margin is how far the worst run was from breaking the claim, in the claim's own "
            "unit (see `src/vaebook/claims.py`).\n\n" + text + "\n"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
