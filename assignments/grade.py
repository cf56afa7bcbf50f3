"""Grade a folder of submissions locally with ``otter run`` (no Docker) and write a score table.

Usage::

    python assignments/grade.py _build/assignments/01-derivation SUBMISSIONS [--out DIR]
        [--timeout SECONDS]

``_build/assignments/01-derivation`` is an assignment folder written by ``build.py`` (its
``questions.json`` names the autograder zip and the questions graded by hand). ``SUBMISSIONS``
is a folder of ``.ipynb`` files (or ``.zip`` files made by otter's export cell), one per student.
Every submission is graded by its own ``otter run`` process, which executes the notebook in a
fresh kernel and runs every test, public and hidden. Otter itself has no time limit outside
Docker, so this script gives each submission ``--timeout`` seconds (default 300) and then ends
``otter run`` and its kernel: the submission scores 0 with the status ``timeout``.

Writes into ``--out`` (default ``SUBMISSIONS/graded``):

* ``scores.csv``: one row per submission: ``submission, status, <question>..., total, possible,
  flags``, then one empty column per question graded by hand, to fill in;
* ``scores.json``: the same rows, plus otter's messages for every question not fully passed;
* ``<submission>/results.json``: otter's own results.

``status`` is ``ok``, ``timeout`` or ``error`` (otter could not grade the file; the row scores 0).
``flags`` lists what :func:`tamper_flags` found in the submission's code: words that a submission
needs to tamper with the grading. Otter runs the tests inside the student's own kernel, so such a
submission can score points it did not earn; check every flagged notebook by hand (see
``assignments/README.md``).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
DEFAULT_TIMEOUT = 300

# Code a submission needs to reach the grading machinery or the objects the tests use.
TAMPER_PATTERNS = {
    "otter": r"\botter\b(?!\.Notebook\()",
    "checker": r"\bChecker\b|\btest_files\b|\bGradingResults\b|\btest_case\b",
    "builtins": r"\bbuiltins\b|__builtins__|__import__",
    "sys.modules": r"\bsys\s*\.\s*modules\b|\bimportlib\b",
    "testing helpers": r"\btesting\s*\.\s*\w+\s*=|\bassert_\w+\s*=",
    "setattr": r"\bsetattr\s*\(|\bdelattr\s*\(",
    "introspection": r"__code__|__globals__|\bgc\s*\.\s*get_objects\b|\bsys\s*\.\s*settrace\b"
                     r"|\bsys\s*\._getframe\b|\binspect\b|\bctypes\b",
    "globals": r"\bglobals\s*\(\s*\)|\blocals\s*\(\s*\)",
    "process": r"\bos\s*\.\s*_?exit\b|\bsys\s*\.\s*exit\b|\bos\s*\.\s*kill\b|\bsubprocess\b"
               r"|\bpickle\b|\bdill\b",
}
INIT_CELL = re.compile(r"^# Initialize Otter\nimport otter\ngrader = otter\.Notebook\([^)]*\)\s*$")
CHECK_CALL = re.compile(r"^\s*grader\.check(_all)?\([^)]*\)\s*$", re.MULTILINE)


def submission_code(path: Path) -> str:
    """The code of a submission, without otter's init cell and ``grader.check`` calls."""
    if path.suffix != ".ipynb":
        return ""
    try:
        cells = json.loads(path.read_text()).get("cells", [])
    except (ValueError, OSError):
        return ""
    code = []
    for cell in cells:
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if INIT_CELL.match(source):
            continue
        code.append(CHECK_CALL.sub("", source))
    return "\n".join(code)


def tamper_flags(path: Path) -> list[str]:
    """Names of the :data:`TAMPER_PATTERNS` found in a submission's code (sorted)."""
    code = submission_code(path)
    return sorted(name for name, pattern in TAMPER_PATTERNS.items() if re.search(pattern, code))


def _end_process_tree(process: subprocess.Popen) -> None:
    """End ``otter run`` and every process it started (its kernel runs in its own session)."""
    try:
        parent = psutil.Process(process.pid)
        family = parent.children(recursive=True) + [parent]
    except psutil.NoSuchProcess:
        family = []
    for member in family:
        try:
            member.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(family, timeout=10)
    process.wait()


def run_otter(submission: Path, autograder_zip: Path, out: Path, timeout: float) -> dict:
    """Grade one submission with ``otter run``; return status, otter's results and the log."""
    out.mkdir(parents=True, exist_ok=True)
    results_file = out / "results.json"
    results_file.unlink(missing_ok=True)
    command = [str(BIN / "otter"), "run", "--no-logo", "-a", str(autograder_zip.resolve()),
               "-o", str(out.resolve()), str(submission.resolve())]
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    start = time.monotonic()
    with open(out / "otter-run.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                   cwd=out, start_new_session=True)
        try:
            process.wait(timeout=timeout)
            status = "ok" if process.returncode == 0 and results_file.is_file() else "error"
        except subprocess.TimeoutExpired:
            _end_process_tree(process)
            status = "timeout"
    results = json.loads(results_file.read_text()) if status == "ok" else None
    return {"status": status, "seconds": round(time.monotonic() - start, 1), "results": results,
            "log": (out / "otter-run.log").read_text(errors="replace")[-4000:]}


def question_scores(results: dict | None, questions: list[dict]) -> dict[str, dict]:
    """Score, possible points and otter's message per autograded question.

    ``results`` is otter's ``results.json`` (Gradescope's format: one entry per question with
    ``score``, ``max_score`` and an ``output`` that holds the failure messages).
    """
    by_name = {test["name"]: test for test in (results or {}).get("tests", [])}
    scores = {}
    for question in questions:
        if question["manual"]:
            continue
        test = by_name.get(question["name"])
        if test is None:
            scores[question["name"]] = {"score": 0, "possible": question["points"],
                                        "output": "not graded"}
            continue
        scores[question["name"]] = {"score": test["score"], "possible": test["max_score"],
                                    "output": test.get("output", "")}
    return scores


def grade_folder(assignment: Path, submissions: Path, out: Path,
                 timeout: float = DEFAULT_TIMEOUT) -> list[dict]:
    """Grade every ``.ipynb``/``.zip`` in ``submissions``; write scores.csv and scores.json."""
    meta = json.loads((assignment / "questions.json").read_text())
    autograder_zip = assignment / meta["autograder_zip"]
    questions = meta["questions"]
    auto = [q["name"] for q in questions if not q["manual"]]
    manual = [q for q in questions if q["manual"]]
    files = sorted(p for p in submissions.iterdir() if p.suffix in (".ipynb", ".zip"))
    if not files:
        raise SystemExit(f"{submissions}: no .ipynb or .zip submission")
    rows = []
    for path in files:
        run = run_otter(path, autograder_zip, out / path.stem, timeout)
        scores = question_scores(run["results"], questions)
        rows.append({
            "submission": path.name,
            "status": run["status"],
            "scores": {name: scores[name]["score"] for name in auto},
            "total": sum(scores[name]["score"] for name in auto),
            "possible": sum(q["points"] for q in questions if not q["manual"]),
            "flags": tamper_flags(path),
            "failures": {name: scores[name]["output"] for name in auto
                         if scores[name]["score"] < scores[name]["possible"]},
            "seconds": run["seconds"],
            "log": run["log"] if run["status"] != "ok" else "",
        })
        print(f"{path.name}: {run['status']}, {rows[-1]['total']}/{rows[-1]['possible']}"
              f"{' flags: ' + ', '.join(rows[-1]['flags']) if rows[-1]['flags'] else ''}")
    out.mkdir(parents=True, exist_ok=True)
    with open(out / "scores.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["submission", "status", *auto, "total", "possible", "flags",
                         *(f"{q['name']} (by hand, /{q['points']})" for q in manual)])
        for row in rows:
            writer.writerow([row["submission"], row["status"],
                             *(row["scores"][name] for name in auto), row["total"],
                             row["possible"], " ".join(row["flags"]), *([""] * len(manual))])
    (out / "scores.json").write_text(json.dumps(rows, indent=1))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", type=Path, help="a folder written by build.py")
    parser.add_argument("submissions", type=Path, help="a folder of .ipynb or .zip files")
    parser.add_argument("--out", type=Path, help="default: SUBMISSIONS/graded")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per submission (default {DEFAULT_TIMEOUT})")
    args = parser.parse_args(argv)
    out = args.out or args.submissions / "graded"
    grade_folder(args.assignment, args.submissions, out, args.timeout)
    print(f"score table: {out / 'scores.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
