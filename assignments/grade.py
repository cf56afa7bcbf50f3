"""Grade a folder of submissions locally with ``otter run`` (no Docker) and write a score table.

Usage::

    python assignments/grade.py _build/assignments/01-derivation SUBMISSIONS [--out DIR]
        [--timeout SECONDS] [--memory GB] [--unsafe] [--merge-only]

``_build/assignments/01-derivation`` is an assignment folder written by ``build.py`` (its
``questions.json`` names the autograder zip and the questions graded by hand, with their points).
``SUBMISSIONS`` is a folder of ``.ipynb`` files (or ``.zip`` files made by otter's export cell),
one per student, named by the student (``s1234567.ipynb``). Every submission is graded by its
own ``otter run`` process, which executes the notebook in a fresh kernel and runs every test,
public and hidden. Otter itself has no time limit outside Docker, so this script gives each
submission ``--timeout`` seconds (default 300) and then ends ``otter run`` and its kernel: the
submission scores 0 with the status ``timeout``.

Each ``otter run`` runs in a sandbox (bubblewrap, ``bwrap``; see :func:`sandbox_command`): a
fresh private folder holding a copy of the submission and of the autograder zip only, the
system and the Python environment read-only, no network, its own process tree (the grader is
not visible from inside, and everything the submission started ends with its run), a private
``/tmp`` that disappears with it, at most ``--memory`` GB of address space per process and a
limit on processes. When run as root, the sandbox runs as the user ``nobody``. Without a
working ``bwrap`` the script refuses to grade unless ``--unsafe`` is given.

A submission is identified by the SHA-256 of its file. Rows are written as each submission
finishes; a re-run with the same ``--out`` skips the files that did not change, grades a changed
file again (a resubmission under the same name: its earlier result goes to the row's
``history``, its hand marks stay and the row says ``regraded`` until they are re-checked) and
keeps the rows of files no longer in ``SUBMISSIONS``. Before and after grading, it merges the
marks typed into the hand-mark columns of ``scores.csv`` into the totals
(:func:`merge_records`); ``--merge-only`` does only that, grading nothing. A hand mark that is
not a number from 0 to the question's points stops the run with exit status 2 and a message
naming the file, the submission and the column, before anything is graded or written.

Writes into ``--out`` (default ``SUBMISSIONS/graded``):

* ``scores.csv``: one row per submission: ``submission, status, <question>..., auto_total,
  hand_total, total, possible, unmarked, flags, regraded``, then one column per question graded
  by hand, to fill in. ``total`` is the autograded points plus the hand marks typed in so far,
  out of ``possible``: the points of the autograded questions and of the marked ones (every
  point of the assignment once all are marked; ``unmarked`` names the questions still to mark);
* ``scores.json``: the same rows, plus each file's ``sha256``, when it was graded
  (``graded_at``, UTC), the ``history`` of its earlier gradings, and otter's messages for every
  question not fully passed (the hidden tests' included: for the instructor only);
* ``roster.csv``: ``student, total, possible``, one line per student (the file name without its
  suffix), the total and every point of the assignment, for a grade book's import;
* ``feedback/<student>.md``: the points of every question and, for each autograded question not
  fully passed, otter's report of its *public* tests and the names of the hidden tests that
  failed; nothing else of a hidden test (:func:`feedback_text`);
* ``<submission>/results.json``: otter's own results.

``status`` is ``ok``, ``timeout`` or ``error`` (otter could not grade the file; the row scores 0).
``flags`` lists what :func:`tamper_flags` found in the submission's code: words that a submission
needs to tamper with the grading. Otter runs the tests inside the student's own kernel, so such a
submission can score points it did not earn; check every flagged notebook by hand (see
``assignments/README.md``).
"""

from __future__ import annotations

import argparse
import ast
import csv
import hashlib
import importlib.util
import io
import json
import math
import os
import pwd
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import psutil

BIN = Path(sys.executable).parent
DEFAULT_TIMEOUT = 300
DEFAULT_MEMORY_GB = 4.0
MAX_PROCESSES = 64  # threads included, per sandbox, on top of what its user already runs
MAX_FILE_BYTES = 1 << 30  # no single file written inside the sandbox may exceed 1 GiB
MAX_RESULTS_BYTES = 10 << 20
SANDBOX_USER = "nobody"
INSIDE = Path("/grading")  # the private folder, as the sandbox sees it

# Code a submission needs to reach the grading machinery or the objects the tests use.
TAMPER_PATTERNS = {
    "otter": r"\botter\b(?!\.Notebook\()",
    "checker": r"\bChecker\b|\btest_files\b|\bGradingResults\b|\btest_case\b",
    "builtins": r"\bbuiltins\b|__builtins__|__import__",
    "sys.modules": r"\bsys\s*\.\s*modules\b|\bimportlib\b",
    "testing-helpers": r"\btesting\s*\.\s*\w+\s*=|\bassert_\w+\s*=",
    "setattr": r"\bsetattr\s*\(|\bdelattr\s*\(",
    "introspection": r"__code__|__globals__|\bgc\s*\.\s*get_objects\b|\bsys\s*\.\s*settrace\b"
    r"|\bsys\s*\._getframe\b|\binspect\b|\bctypes\b",
    "globals": r"\bglobals\s*\(\s*\)|\blocals\s*\(\s*\)",
    "process": r"\bos\s*\.\s*_?exit\b|\bsys\s*\.\s*exit\b|\bos\s*\.\s*kill\b|\bsubprocess\b"
    r"|\bpickle\b|\bdill\b|\bos\s*\.\s*(system|popen|fork|exec\w*|spawn\w*)\b"
    r"|\bsignal\b|\bmultiprocessing\b",
    "files": r"results\.json|/proc\b|\.zip\b|\bshutil\b|\bos\s*\.\s*(remove|unlink|rename|"
    r"replace|chdir|walk|listdir|scandir)\b|\bglob\b|\.\.[/\\\\]",
    "fake-output": r"test cases passed|\bresults:",
    "patching": r"\b(sp|sympy|np|numpy|torch|F|nn|vaebook|math|marshal|hashlib|importlib)"
    r"(\s*\.\s*\w+)+\s*=(?!=)",
}
INIT_CELL = re.compile(r"^# Initialize Otter\nimport otter\ngrader = otter\.Notebook\([^)]*\)\s*$")
CHECK_CALL = re.compile(r"^\s*grader\.check(_all)?\([^)]*\)\s*$", re.MULTILINE)


def submission_code(path: Path, trusted: tuple[str, ...] = ()) -> str:
    """The code of a submission, without otter's init cell, ``grader.check`` calls and the
    cells that are exactly one of ``trusted`` (the edition's own set-up cell, which installs
    packages where they are missing and so names ``subprocess`` and ``sys.modules``)."""
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
        if INIT_CELL.match(source) or source in trusted:
            continue
        code.append(CHECK_CALL.sub("", source))
    return "\n".join(code)


def tamper_flags(path: Path, trusted: tuple[str, ...] = ()) -> list[str]:
    """Names of the :data:`TAMPER_PATTERNS` found in a submission's code (sorted); cells that
    are exactly one of ``trusted`` are not read (:func:`submission_code`)."""
    code = submission_code(path, trusted)
    return sorted(name for name, pattern in TAMPER_PATTERNS.items() if re.search(pattern, code))


class SandboxUnavailable(RuntimeError):
    """No working sandbox on this machine (see :func:`sandbox_command`)."""


def _package_root() -> Path | None:
    """The folder that holds the ``vaebook`` package this grader imports."""
    spec = importlib.util.find_spec("vaebook")
    return Path(spec.origin).resolve().parents[1] if spec is not None and spec.origin else None


def _readonly_binds() -> list[str]:
    """bwrap arguments that show the system and this Python environment read-only.

    The folders above a bound folder (e.g. ``/root`` above a pyenv Python) are created in
    the sandbox with mode 0755, whatever their mode outside: the sandbox user can reach the
    bound folder and sees nothing else in them.
    """
    arguments = []
    for name in ("bin", "lib", "lib32", "lib64", "sbin"):
        path = Path("/") / name
        if path.is_symlink():
            arguments += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            arguments += ["--ro-bind", str(path), str(path)]
    roots = {
        Path("/usr"),
        Path("/etc"),
        Path(sys.prefix).resolve(),
        Path(sys.base_prefix).resolve(),
        Path(sys.executable).resolve().parents[1],
    }
    package = _package_root()
    if package is not None:
        roots.add(package)
    # only the outermost of nested folders; parents before children
    roots = sorted(
        (
            root
            for root in roots
            if root.is_dir() and not any(other != root and other in root.parents for other in roots)
        ),
        key=str,
    )
    made = set()
    for root in roots:
        for parent in reversed(root.parents[:-1]):  # /a, /a/b, ... (not / itself)
            if parent not in made and parent not in roots and parent != Path("/tmp"):
                arguments += ["--perms", "0755", "--dir", str(parent)]
                made.add(parent)
        arguments += ["--ro-bind", str(root), str(root)]
    return arguments


def sandbox_command(private: Path, memory_gb: float = DEFAULT_MEMORY_GB) -> tuple[list, dict]:
    """The command prefix and ``Popen`` keywords that run a command in the grading sandbox.

    ``private`` becomes ``/grading`` inside, the only writable folder besides a private
    ``/tmp``; everything else visible is the system and this Python environment, read-only.
    There is no network, no view of other processes (own PID namespace; ``--die-with-parent``
    ends everything when the sandbox ends), no controlling terminal (``--new-session``).
    Limits (``setrlimit``, inherited by every process inside): ``memory_gb`` of address space
    per process, :data:`MAX_PROCESSES` processes, files of at most :data:`MAX_FILE_BYTES`.
    As root, bwrap sets the sandbox up and ``setpriv`` then runs the command as
    :data:`SANDBOX_USER` without any capability, so that the process limit applies and
    nothing root-only is readable; as another user, bwrap uses a user namespace.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed: install the package 'bubblewrap' "
            "(apt-get install bubblewrap), or grade with --unsafe (no isolation)"
        )
    uid = os.getuid()
    if uid == 0:
        user = pwd.getpwnam(SANDBOX_USER)
        uid = user.pw_uid
        unshare = [
            "--unshare-ipc",
            "--unshare-pid",
            "--unshare-net",
            "--unshare-uts",
            "--unshare-cgroup-try",
        ]
        drop = [
            "--",
            "setpriv",
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]
    else:
        unshare, drop = ["--unshare-all"], ["--"]
    home, package = INSIDE / "home", _package_root()
    path = f"{BIN}:/usr/local/bin:/usr/bin:/bin"
    # /tmp first: the environment may live below /tmp (a clone in /tmp), and a later tmpfs
    # on /tmp would hide its bind
    prefix = [
        bwrap,
        *unshare,
        "--die-with-parent",
        "--new-session",
        "--perms",
        "1777",
        "--tmpfs",
        "/tmp",
        *_readonly_binds(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--bind",
        str(private),
        str(INSIDE),
        "--chdir",
        str(INSIDE),
        "--clearenv",
        "--setenv",
        "PATH",
        path,
        "--setenv",
        "HOME",
        str(home),
        "--setenv",
        "TMPDIR",
        "/tmp",
        "--setenv",
        "LANG",
        "C.UTF-8",
        "--setenv",
        "OMP_NUM_THREADS",
        "1",
        "--setenv",
        "MKL_NUM_THREADS",
        "1",
        # glibc reserves 64 MB of address space per thread arena, which counts against
        # the address-space limit: two arenas keep a many-core machine under it
        "--setenv",
        "MALLOC_ARENA_MAX",
        "2",
        "--setenv",
        "PYTHONUNBUFFERED",
        "1",
        "--setenv",
        "MPLBACKEND",
        "Agg",
        "--setenv",
        "MPLCONFIGDIR",
        "/tmp/matplotlib",
        "--setenv",
        "VAEBOOK_CACHE_DIR",
        "/tmp/vaebook-cache",
        *(["--setenv", "PYTHONPATH", str(package)] if package else []),
        *drop,
    ]
    # RLIMIT_NPROC counts threads, not processes: count what the user already runs the same way
    running = sum(
        process.info["num_threads"] or 1
        for process in psutil.process_iter(["uids", "num_threads"])
        if process.info["uids"] and process.info["uids"].real == uid
    )
    memory = int(memory_gb * (1 << 30))

    def limits() -> None:  # runs in the child, before bwrap starts; inherited by all inside
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_NPROC, (running + MAX_PROCESSES,) * 2)
        resource.setrlimit(resource.RLIMIT_FSIZE, (MAX_FILE_BYTES, MAX_FILE_BYTES))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return prefix, {"preexec_fn": limits, "start_new_session": True}


def check_sandbox() -> None:
    """Raise :class:`SandboxUnavailable`, saying why, unless the sandbox works here."""
    with tempfile.TemporaryDirectory(prefix="vaebook-sandbox-probe-") as folder:
        private = Path(folder) / "private"
        private.mkdir()
        _hand_over(private)
        prefix, keywords = sandbox_command(private)
        probe = [
            str(BIN / "python"),
            "-c",
            "import os, pathlib; pathlib.Path('probe').write_text(str(os.getpid()))",
        ]
        result = subprocess.run(
            prefix + probe, capture_output=True, text=True, timeout=60, **keywords
        )
        if result.returncode != 0 or (private / "probe").read_text() != "2":
            raise SandboxUnavailable(
                "the bubblewrap sandbox does not work on this machine (user namespaces may be "
                f"disabled): {result.stderr.strip()[-500:]}. Grade in a throw-away VM or "
                "container with --unsafe, or use otter's Docker mode (otter grade)"
            )


def _hand_over(folder: Path) -> None:
    """Give the sandbox user the private folder (as root) or keep it the caller's (0700)."""
    if os.getuid() == 0:
        user = pwd.getpwnam(SANDBOX_USER)
        for path in [folder, *folder.rglob("*")]:
            os.lchown(path, user.pw_uid, user.pw_gid)
    folder.chmod(0o700)


def _read_result_file(path: Path, limit: int = MAX_RESULTS_BYTES) -> str | None:
    """The text of a regular file the sandbox wrote, or None: never follows a link, never
    blocks on a pipe, never reads more than ``limit`` bytes."""
    try:
        descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(descriptor, "rb") as stream:
        if not stat.S_ISREG(os.fstat(descriptor).st_mode):
            return None
        data = stream.read(limit + 1)
    return None if len(data) > limit else data.decode("utf-8", errors="replace")


_PRIVATE_PREFIX = "vaebook-grade-"


def remove_stale_private_folders() -> list[Path]:
    """Delete the private folders that a crashed grader left in the temporary folder.

    Each run's folder is named ``vaebook-grade-<grader pid>-...``; a folder whose grader is no
    longer running holds a copy of a submission and of the autograder zip (hidden tests), so
    it goes. Returns the folders removed.
    """
    removed = []
    for folder in Path(tempfile.gettempdir()).glob(f"{_PRIVATE_PREFIX}*"):
        pid = folder.name[len(_PRIVATE_PREFIX) :].split("-")[0]
        if (
            folder.is_dir()
            and not folder.is_symlink()
            and pid.isdigit()
            and not (psutil.pid_exists(int(pid)) and int(pid) != 0)
        ):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def _remove_private(folder: Path, attempts: int = 10) -> None:
    """Delete a private folder; retry while the sandbox's last processes are still exiting."""
    for _ in range(attempts):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.lexists(folder):
            return
        time.sleep(0.5)


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


def run_otter(
    submission: Path,
    autograder_zip: Path,
    out: Path,
    timeout: float,
    sandbox: bool = True,
    memory_gb: float = DEFAULT_MEMORY_GB,
) -> dict:
    """Grade one submission with ``otter run``; return status, otter's results and the log.

    With ``sandbox`` (the default) otter runs in :func:`sandbox_command`'s sandbox, on copies
    of the submission and the zip in a private folder that is deleted afterwards; ``out`` gets
    ``results.json`` and ``otter-run.log``. Without it, otter runs with this user's rights.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").unlink(missing_ok=True)
    start = time.monotonic()
    folder = Path(tempfile.mkdtemp(prefix=f"{_PRIVATE_PREFIX}{os.getpid()}-"))
    try:
        if sandbox:
            private = folder / "private"
            (private / "out").mkdir(parents=True)
            (private / "home").mkdir()
            shutil.copyfile(submission, private / submission.name)
            shutil.copyfile(autograder_zip, private / "autograder.zip")
            _hand_over(private)
            prefix, keywords = sandbox_command(private, memory_gb)
            where, results_dir = INSIDE, private / "out"
            env = None
        else:
            prefix, keywords = [], {"start_new_session": True, "cwd": out}
            where, results_dir = None, out
            env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
        command = [
            str(BIN / "otter"),
            "run",
            "--no-logo",
            "-a",
            str(where / "autograder.zip" if sandbox else autograder_zip.resolve()),
            "-o",
            str(where / "out" if sandbox else out.resolve()),
            str(where / submission.name if sandbox else submission.resolve()),
        ]
        with open(folder / "otter-run.log", "wb") as log:
            process = subprocess.Popen(
                prefix + command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                **keywords,
            )
            try:
                process.wait(timeout=timeout)
                status = "ok" if process.returncode == 0 else "error"
            except subprocess.TimeoutExpired:
                status = "timeout"
            _end_process_tree(process)  # whatever is left, also after a normal exit
        text = _read_result_file(results_dir / "results.json") if status == "ok" else None
        try:
            results = json.loads(text) if text is not None else None
        except ValueError:
            results = None
        if status == "ok" and not isinstance(results, dict):
            status, results = "error", None
        log_text = (folder / "otter-run.log").read_bytes()[-4000:].decode(errors="replace")
    finally:
        _remove_private(folder)
    (out / "otter-run.log").write_text(log_text)
    if results is not None:
        (out / "results.json").write_text(json.dumps(results))
    return {
        "status": status,
        "seconds": round(time.monotonic() - start, 1),
        "results": results,
        "log": log_text,
    }


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
            scores[question["name"]] = {
                "score": 0,
                "possible": question["points"],
                "output": "not graded",
            }
            continue
        scores[question["name"]] = {
            "score": test["score"],
            "possible": test["max_score"],
            "output": test.get("output", ""),
        }
    return scores


# --- Records: what identifies a submission, regrades, hand marks, roster, feedback -----------
#
# Plain functions on rows (the dicts of scores.json), tested without otter in
# tests/test_grade_records.py; grade_folder and merge_records put them together.

REGRADED_NOTE = "hand marks from an earlier version: re-check them, then clear this cell"
# What the history of a regraded submission keeps of each earlier grading.
HISTORY_KEYS = (
    "sha256",
    "graded_at",
    "status",
    "scores",
    "auto_total",
    "hand",
    "hand_total",
    "total",
    "possible",
    "flags",
)
ROSTER_HEADER = ["student", "total", "possible"]
REMOVED_LINE = "[a line of a hidden test, removed]"
STATUS_TEXT = {
    "timeout": "it ran longer than the time limit",
    "error": "otter could not run it",
}


class RecordError(ValueError):
    """The records in ``--out`` hold what the grader must not guess about: a hand mark that is
    not a number of points, a submission with two lines in scores.csv, two submissions of one
    student."""


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes (64 hex digits): what identifies a submission."""
    with open(path, "rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()


def utc_now() -> str:
    """The time now in UTC, ISO 8601 to the second: ``2025-01-31T14:05:09Z``."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_grading(rows: list[dict], hashes: dict[str, str]) -> dict[str, str]:
    """What a run does with each submission: ``{file name: action}``.

    ``rows`` are the rows of scores.json, ``hashes`` maps the name of every file in the
    submissions folder to its SHA-256 (:func:`file_sha256`). The actions:

    * ``new``: no row yet; grade it;
    * ``unchanged``: its row has this hash; skip it;
    * ``changed``: its row has another hash (a resubmission under the same name); grade it
      again, its earlier result goes to the row's history (:func:`regraded_row`);
    * ``no hash``: its row was written by a grade.py that kept no hash; skip it, the row is
      taken to be of this file and gets its hash;
    * ``vanished``: a row whose file is no longer in the folder; the row stays.
    """
    by_name = {row["submission"]: row for row in rows}
    plan = {}
    for name, digest in hashes.items():
        row = by_name.get(name)
        if row is None:
            plan[name] = "new"
        elif not row.get("sha256"):
            plan[name] = "no hash"
        else:
            plan[name] = "unchanged" if row["sha256"] == digest else "changed"
    for name in by_name:
        if name not in hashes:
            plan[name] = "vanished"
    return plan


def apply_hand_marks(row: dict, hand: dict[str, float], questions: list[dict]) -> dict:
    """``row`` (a copy) with the hand marks ``hand`` (``{question: points}``) and its totals.

    ``auto_total`` sums the autograded questions, ``hand_total`` the hand marks; ``total`` is
    their sum, out of ``possible``: the points of the autograded questions and of the
    hand-graded questions that have a mark (every point of the assignment once all are
    marked; ``unmarked`` lists those still to mark). ``auto_possible`` is the autograded part.
    """
    auto = [q for q in questions if not q["manual"]]
    manual = [q for q in questions if q["manual"]]
    marks = {q["name"]: float(hand[q["name"]]) for q in manual if q["name"] in hand}
    auto_total = round(float(sum(row["scores"].get(q["name"], 0) for q in auto)), 5)
    auto_possible = sum(q["points"] for q in auto)
    hand_total = round(float(sum(marks.values())), 5)
    return {
        **row,
        "auto_total": auto_total,
        "auto_possible": auto_possible,
        "hand": marks,
        "hand_total": hand_total,
        "total": round(auto_total + hand_total, 5),
        "possible": auto_possible + sum(q["points"] for q in manual if q["name"] in marks),
        "unmarked": [q["name"] for q in manual if q["name"] not in marks],
    }


def regraded_row(old: dict, new: dict, questions: list[dict], marks_in_sheet: bool = False) -> dict:
    """The row of a changed submission: ``new`` (its grading now), with the history of ``old``
    and then ``old`` itself (:data:`HISTORY_KEYS`: hash, time of grading, status, scores,
    hand marks, totals) appended to ``history``, oldest first.

    The hand marks of ``old`` are kept and count in the new totals. When there are any (in
    ``old``, or typed into scores.csv and not merged yet: ``marks_in_sheet``), the row gets the
    note ``regraded`` (:data:`REGRADED_NOTE`): they were given to an earlier version of the
    file, and the instructor re-checks them.
    """
    row = dict(new)
    row["history"] = [*old.get("history", []), {key: old.get(key) for key in HISTORY_KEYS}]
    hand = dict(old.get("hand") or {})
    if hand or marks_in_sheet:
        row["regraded"] = REGRADED_NOTE
    return apply_hand_marks(row, hand, questions)


def hand_column(question: dict) -> str:
    """The column of scores.csv for a hand-graded question: ``q5 (by hand, /2)``."""
    return f"{question['name']} (by hand, /{question['points']})"


def _hand_index(header: list[str], question: dict) -> int | None:
    """The index of a question's hand-mark column in ``header`` (whatever points it names)."""
    for index, column in enumerate(header):
        if column == hand_column(question) or column.startswith(f"{question['name']} (by hand"):
            return index
    return None


def parse_hand_mark(text: str, points: float) -> float | None:
    """The mark typed into a hand-mark cell: None for an empty cell, else a number of points
    from 0 to ``points``. Anything else is a ValueError that says what is wrong."""
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(value):
        raise ValueError(f"{text!r} is not a number of points")
    if value < 0:
        raise ValueError(f"{text!r} is negative")
    if value > points:
        raise ValueError(f"{text!r} is more than the question's {points} points")
    return value + 0.0  # -0 is 0


def read_sheet(csv_file: Path) -> tuple[list[str], dict[str, list[str]]]:
    """scores.csv as its header and ``{submission: its line}`` (``[]`` and ``{}`` without the
    file). A RecordError if a submission has two lines, or if the header is not grade.py's (a
    spreadsheet that saved the file with semicolons, say: no hand mark could be read)."""
    if not csv_file.is_file():
        return [], {}
    with open(csv_file, newline="", encoding="utf-8-sig") as f:  # a spreadsheet's BOM is fine
        header, *lines = list(csv.reader(f)) or [[]]
    if header and header[0] != "submission":
        raise RecordError(
            f"{csv_file}: its first line does not start with the column 'submission': save it "
            "as CSV with commas (the header line of grade.py, then one line per submission)"
        )
    found, first = {}, {}
    for number, line in enumerate(lines, start=2):
        if not line or not line[0].strip():
            continue
        if line[0] in found:
            raise RecordError(
                f"{csv_file}: {line[0]} has two lines ({first[line[0]]} and {number}); keep one"
            )
        found[line[0]], first[line[0]] = line, number
    return header, found


def hand_marks(
    header: list[str], lines: dict[str, list[str]], manual: list[dict], csv_file: Path
) -> dict[str, dict[str, float]]:
    """The hand marks of scores.csv (:func:`read_sheet`): ``{submission: {question: mark}}``,
    empty cells left out. A cell that is not a number from 0 to the question's points is a
    RecordError naming the file, the submission and the column of every such cell."""
    marks, errors = {}, []
    for name, line in lines.items():
        for question in manual:
            index = _hand_index(header, question)
            if index is None:
                continue
            text = line[index] if index < len(line) else ""
            try:
                value = parse_hand_mark(text, question["points"])
            except ValueError as error:
                errors.append(f"{csv_file}: {name}, column {header[index]!r}: {error}")
                continue
            if value is not None:
                marks.setdefault(name, {})[question["name"]] = value
    if errors:
        raise RecordError(
            "hand marks must be numbers from 0 to the question's points (or empty); "
            "correct these cells and run again:\n" + "\n".join(errors)
        )
    return marks


def read_hand_marks(csv_file: Path, manual: list[dict]) -> dict[str, dict[str, float]]:
    """The hand marks typed into ``csv_file`` (see :func:`hand_marks`)."""
    header, lines = read_sheet(csv_file)
    return hand_marks(header, lines, manual, csv_file)


def _fmt(value) -> str:
    """A number of points as people write it: 2, 1.5 (not 2.0)."""
    value = float(value)
    return str(int(value)) if value.is_integer() else repr(round(value, 5))


def roster_rows(rows: list[dict], questions: list[dict]) -> list[list[str]]:
    """The lines of roster.csv: :data:`ROSTER_HEADER`, then one line per student, sorted.

    The student is the submission's file name without its suffix (``s1234567.ipynb``:
    ``s1234567``); ``total`` is the row's total (autograded and hand marks), ``possible`` every
    point of the assignment. Two submissions of one student (``alice.ipynb`` and
    ``alice.zip``) are a RecordError.
    """
    points = sum(q["points"] for q in questions)
    seen, lines = {}, []
    for row in rows:
        student = Path(row["submission"]).stem
        if student in seen:
            raise RecordError(
                f"two submissions of the student {student!r} in scores.json: {seen[student]} "
                f"and {row['submission']}; remove the row of the one that does not count from "
                "scores.json and its line from scores.csv"
            )
        seen[student] = row["submission"]
        lines.append([student, _fmt(row["total"]), _fmt(points)])
    return [ROSTER_HEADER, *sorted(lines)]


def read_test_cases(autograder_zip: Path) -> dict[str, list[dict]]:
    """Every test case of an autograder zip, per question: its ``name`` (as otter names it:
    the ``name=`` of its ``test_case``, else ``"<question> - <n>"``), ``hidden`` and the
    ``source`` of its function. Read with ``ast``: nothing of the zip runs."""
    fields = ("name", "points", "hidden", "success_message", "failure_message")
    cases = {}
    with zipfile.ZipFile(autograder_zip) as archive:
        for member in sorted(archive.namelist()):
            if not (member.startswith("tests/") and member.endswith(".py")):
                continue
            text = archive.read(member).decode()
            module = ast.parse(text)
            question = Path(member).stem
            for node in module.body:
                if (
                    isinstance(node, ast.Assign)
                    and [getattr(t, "id", None) for t in node.targets] == ["name"]
                    and isinstance(node.value, ast.Constant)
                ):
                    question = str(node.value.value)
            found = []
            for node in module.body:
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for decorator in node.decorator_list:
                    function = getattr(decorator, "func", None)
                    if getattr(function, "id", getattr(function, "attr", None)) != "test_case":
                        continue
                    given = dict(zip(fields, decorator.args))
                    given.update({k.arg: k.value for k in decorator.keywords if k.arg})
                    values = {}
                    for key, value in given.items():
                        try:
                            values[key] = ast.literal_eval(value)
                        except ValueError:
                            values[key] = None
                    name = values.get("name")
                    found.append(
                        {
                            "name": f"{question} - {len(found) + 1}" if name is None else name,
                            "hidden": values.get("hidden") is True,
                            "source": ast.get_source_segment(text, node) or "",
                        }
                    )
                    break
            cases[question] = found
    return cases


def hidden_source_lines(cases: dict[str, list[dict]], shortest: int = 10) -> frozenset[str]:
    """The lines (stripped) of the hidden tests' source that no public test has, of at least
    ``shortest`` characters: what a feedback file must never show (:func:`scrub`)."""
    public = {
        line.strip()
        for found in cases.values()
        for case in found
        if not case["hidden"]
        for line in case["source"].splitlines()
    }
    hidden = {
        line.strip()
        for found in cases.values()
        for case in found
        if case["hidden"]
        for line in case["source"].splitlines()
    }
    return frozenset(line for line in hidden - public if len(line) >= shortest)


def scrub(text: str, hidden_lines: frozenset[str]) -> str:
    """``text`` with every line that holds one of ``hidden_lines`` replaced by
    :data:`REMOVED_LINE`."""
    return "\n".join(
        REMOVED_LINE if any(hidden in line for hidden in hidden_lines) else line
        for line in text.splitlines()
    )


def public_summaries(text: str, names: list[str]) -> dict[str, str]:
    """Otter's summary of the public tests (the ``output`` of results.json's ``Public Tests``
    entry, every question's after the other) split per question: ``{question: its part}``.

    Each part starts with ``<question> results:`` at the start of a line; otter indents
    everything inside it (test messages, the student's own text) by four spaces or more.
    """
    if not names or not text:
        return {}
    start = re.compile(r"^(" + "|".join(map(re.escape, names)) + r") results:", re.MULTILINE)
    matches = list(start.finditer(text))
    parts = {}
    for match, following in zip(matches, [*matches[1:], None]):
        end = following.start() if following is not None else len(text)
        parts.setdefault(match[1], text[match.start() : end].strip())
    return parts


_CASE_RESULT = re.compile(r"^ {4}(\S.*?) result:\n {8}(.*)$", re.MULTILINE)


def failed_cases(output: str) -> list[str]:
    """The names of the test cases that otter's summary of one question (its ``output`` in
    results.json) reports as failed."""
    return [match[1] for match in _CASE_RESULT.finditer(output) if "fail" in match[2].lower()]


def otter_feedback(results: dict | None, questions: list[dict], cases: dict) -> dict:
    """What a student may read of otter's results, per autograded question not fully passed:
    ``{question: {"public": ..., "hidden_failed": [...]}}``.

    ``public`` is otter's report of the question's *public* tests (:func:`public_summaries`;
    the student edition has these tests). ``hidden_failed`` names the hidden test cases that
    failed (names from :func:`read_test_cases` only, never a message). The per-question
    outputs of results.json hold the hidden tests' failing lines and messages: not used.
    """
    if not isinstance(results, dict):
        return {}
    tests = [test for test in results.get("tests", []) if isinstance(test, dict)]
    by_name = {test.get("name"): test for test in tests}
    auto = [q for q in questions if not q["manual"]]
    summary = (by_name.get("Public Tests") or {}).get("output")
    public = public_summaries(
        summary if isinstance(summary, str) else "", [q["name"] for q in auto]
    )
    details = {}
    for question in auto:
        name = question["name"]
        test = by_name.get(name)
        if test is not None and test.get("score", 0) >= test.get("max_score", question["points"]):
            continue
        output = test.get("output") if test is not None else ""
        hidden = {case["name"] for case in cases.get(name, []) if case["hidden"]}
        failed = failed_cases(output) if isinstance(output, str) else []
        details[name] = {
            "public": public.get(name, ""),
            "hidden_failed": [case for case in failed if case in hidden],
        }
    return details


def _fence(text: str) -> str:
    """``text`` as a Markdown code block whose fence no run of backticks in it can close."""
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", text)), default=0))
    return f"{fence}text\n{text}\n{fence}"


def feedback_text(
    row: dict, questions: list[dict], hidden_lines: frozenset[str] = frozenset(), title: str = ""
) -> str:
    """The feedback file of one submission (Markdown): its total, the points of every
    question, and for each autograded question not fully passed what otter reported of its
    public tests (any line of ``hidden_lines`` removed: :func:`scrub`) and the names of the
    hidden test cases that failed. Nothing of a hidden test but its name."""
    points = sum(q["points"] for q in questions)
    lines = [f"# Feedback: {Path(row['submission']).stem}", ""]
    graded = f", graded {row['graded_at']}" if row.get("graded_at") else ""
    where = f"Assignment {title}, submission" if title else "Submission"
    lines.append(f"{where} `{row['submission']}`{graded}.")
    if row["status"] != "ok":
        reason = STATUS_TEXT.get(row["status"], row["status"])
        lines += ["", f"The notebook could not be graded ({reason}): its tests score 0."]
    lines += [
        "",
        f"**Total: {_fmt(row['total'])} / {_fmt(points)}**",
        "",
        "| Question | Points |",
        "|---|---|",
    ]
    hand = row.get("hand") or {}
    for question in questions:
        name, possible = question["name"], _fmt(question["points"])
        if not question["manual"]:
            lines.append(f"| {name} | {_fmt(row['scores'].get(name, 0))} / {possible} |")
        elif name in hand:
            lines.append(f"| {name} (graded by hand) | {_fmt(hand[name])} / {possible} |")
        else:
            lines.append(f"| {name} (graded by hand) | not marked yet (/ {possible}) |")
    details = row.get("feedback") or {}
    for question in questions:
        name = question["name"]
        score = row["scores"].get(name, 0)
        if question["manual"] or row["status"] != "ok" or score >= question["points"]:
            continue
        lines += ["", f"## {name}: {_fmt(score)} / {_fmt(question['points'])}", ""]
        info = details.get(name) or {}
        public = scrub(info.get("public", ""), hidden_lines).strip()
        if public:
            lines += ["What otter reported of the public tests (`grader.check`):", ""]
            lines.append(_fence(public))
        hidden = [str(case) for case in info.get("hidden_failed", [])]
        if hidden:
            lines += ["", f"Hidden tests that failed: {', '.join(hidden)} (not shown)."]
        elif not public:
            lines.append("Otter reported nothing more about this question.")
    return "\n".join(lines) + "\n"


def _write_text(path: Path, text: str) -> None:
    """Write a text file atomically (UTF-8): a crash leaves the old file or the new one."""
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "w", encoding="utf-8", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(temporary, path)


def _csv_text(lines: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(lines)
    return buffer.getvalue()


def write_roster(rows: list[dict], questions: list[dict], path: Path) -> None:
    """Write roster.csv (:func:`roster_rows`): plain CSV, UTF-8, a header line."""
    _write_text(path, _csv_text(roster_rows(rows, questions)))


def write_feedback(
    rows: list[dict],
    questions: list[dict],
    folder: Path,
    hidden_lines: frozenset[str] = frozenset(),
    title: str = "",
) -> list[Path]:
    """Write ``<folder>/<student>.md`` (:func:`feedback_text`) for every row; return them."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for row in rows:
        path = folder / f"{Path(row['submission']).stem}.md"
        _write_text(path, feedback_text(row, questions, hidden_lines, title))
        written.append(path)
    return written


def _header(auto: list[str], manual: list[dict]) -> list[str]:
    return [
        "submission",
        "status",
        *auto,
        "auto_total",
        "hand_total",
        "total",
        "possible",
        "unmarked",
        "flags",
        "regraded",
        *(hand_column(q) for q in manual),
    ]


def _csv_row(row: dict, auto: list[str], manual: list[dict], hand: dict | None = None) -> list:
    """A line of scores.csv; ``hand`` holds the text of its hand-mark cells (empty)."""
    hand = hand or {}
    return [
        row["submission"],
        row["status"],
        *(row["scores"][name] for name in auto),
        row.get("auto_total", row["total"]),  # rows of a grade.py without hand totals
        row.get("hand_total", 0),
        row["total"],
        row["possible"],
        " ".join(row.get("unmarked", [])),
        " ".join(row["flags"]),
        row.get("regraded", ""),
        *(hand.get(q["name"], "") for q in manual),
    ]


def _write_json(path: Path, value) -> None:
    """Write JSON atomically: a crash leaves the old file or the new one, never half of one."""
    _write_text(path, json.dumps(value, indent=1))


def _write_csv(
    csv_file: Path, rows: list[dict], auto: list[str], manual: list[dict], fresh=frozenset()
) -> None:
    """Write scores.csv (atomically): one line per row of scores.json, in its order.

    A line already in the file stays as it is, with whatever was typed into it, unless its
    submission is in ``fresh`` (just graded, or merged) or the file's header is not this
    grader's (a scores.csv of an older grade.py). Such a line is written anew from its row,
    with the hand marks typed into its old line (or, without one, the row's own). Lines of
    submissions that scores.json does not know stay, at the end.
    """
    header = _header(auto, manual)
    old_header, lines = read_sheet(csv_file)
    written = [header]
    for row in rows:
        name = row["submission"]
        old = lines.pop(name, None)
        if old is not None and old_header == header and name not in fresh:
            written.append(old)
            continue
        cells = dict(zip(old_header, old or []))
        hand = {}
        for question in manual:
            index = _hand_index(old_header, question)
            if old is not None and index is not None:
                hand[question["name"]] = old[index] if index < len(old) else ""
            elif question["name"] in (row.get("hand") or {}):
                hand[question["name"]] = _fmt(row["hand"][question["name"]])
        if name not in fresh and "regraded" in cells:
            row = {**row, "regraded": cells["regraded"]}
        written.append(_csv_row(row, auto, manual, hand))
    written.extend(lines.values())
    _write_text(csv_file, _csv_text(written))


def _graded_row(
    path: Path, digest: str, run: dict, questions: list[dict], trusted: tuple, cases: dict
) -> dict:
    """The row of a submission that otter has just graded (no hand marks yet)."""
    auto = [q["name"] for q in questions if not q["manual"]]
    scores = question_scores(run["results"], questions)
    row = {
        "submission": path.name,
        "sha256": digest,
        "graded_at": utc_now(),
        "status": run["status"],
        "scores": {name: scores[name]["score"] for name in auto},
        # placeholders, in the order of scores.csv: apply_hand_marks fills them in
        **dict.fromkeys(
            ("auto_total", "auto_possible", "hand", "hand_total", "total", "possible", "unmarked")
        ),
        "flags": tamper_flags(path, trusted),
        # otter's messages, the hidden tests' failing lines included: for the instructor
        "failures": {
            name: scores[name]["output"]
            for name in auto
            if scores[name]["score"] < scores[name]["possible"]
        },
        # what a student may read of them (feedback/)
        "feedback": otter_feedback(run["results"], questions, cases),
        "seconds": run["seconds"],
        "log": run["log"] if run["status"] != "ok" else "",
    }
    return apply_hand_marks(row, {}, questions)


def _has_marks(header: list[str], line: list[str] | None, manual: list[dict]) -> bool:
    """Whether anything is typed into a line's hand-mark cells."""
    for question in manual:
        index = _hand_index(header, question)
        if line is not None and index is not None and index < len(line) and line[index].strip():
            return True
    return False


def grade_folder(
    assignment: Path,
    submissions: Path,
    out: Path,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    sandbox: bool = True,
    memory_gb: float = DEFAULT_MEMORY_GB,
) -> list[dict]:
    """Grade every ``.ipynb``/``.zip`` in ``submissions``; write scores.csv and scores.json.

    A submission is identified by its file's SHA-256 (:func:`plan_grading`): a re-run with the
    same ``out`` skips an unchanged file, grades a changed one again (its earlier result goes
    to the row's ``history``, its hand marks stay, flagged ``regraded``: :func:`regraded_row`)
    and keeps the rows of files no longer in ``submissions``. As soon as a submission is
    graded, ``scores.json`` is rewritten (atomically) and then ``scores.csv``, so a crash loses
    at most the submission being graded and a row in the CSV is always in the JSON. Lines of
    scores.csv that were not graded again stay as they are, with the marks typed into them;
    merging those marks into the totals is :func:`merge_records`' work.
    ``sandbox=False`` grades without isolation (``--unsafe``); otherwise a missing sandbox is
    a :class:`SandboxUnavailable` error before anything runs.
    """
    meta = json.loads((assignment / "questions.json").read_text())
    autograder_zip = assignment / meta["autograder_zip"]
    questions = meta["questions"]
    auto = [q["name"] for q in questions if not q["manual"]]
    manual = [q for q in questions if q["manual"]]
    trusted = tuple(meta.get("setup_cells", ()))  # written by build.py: the set-up cell
    files = sorted(
        p
        for p in submissions.iterdir()
        if p.suffix in (".ipynb", ".zip") and p.is_file() and not p.is_symlink()
    )
    if not files:
        raise SystemExit(f"{submissions}: no .ipynb or .zip submission")
    stems = [p.stem for p in files]
    shared = sorted({stem for stem in stems if stems.count(stem) > 1})
    if shared:
        raise SystemExit(
            f"{submissions}: two submissions of one student ({', '.join(shared)}: the same "
            "file name with .ipynb and .zip): keep one"
        )
    if "feedback" in stems:  # its results.json (hidden tests) would land in feedback/
        raise SystemExit(f"{submissions}: a submission named 'feedback': rename it")
    if sandbox:
        check_sandbox()
    for folder in remove_stale_private_folders():
        print(f"removed {folder}, left by a grader that stopped", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    csv_file, json_file = out / "scores.csv", out / "scores.json"
    rows = json.loads(json_file.read_text()) if json_file.is_file() else []
    # scores.json is the record and is written first: a grader killed between the two
    # writes left a row in the JSON only, and the CSV gets it here
    _write_csv(csv_file, rows, auto, manual)
    cases = read_test_cases(autograder_zip)
    hashes = {path.name: file_sha256(path) for path in files}
    plan = plan_grading(rows, hashes)
    index = {row["submission"]: number for number, row in enumerate(rows)}
    for path in files:
        action = plan[path.name]
        if action == "unchanged":
            print(f"{path.name}: already graded, skipped")
            continue
        if action == "no hash":
            rows[index[path.name]]["sha256"] = hashes[path.name]
            _write_json(json_file, rows)
            print(f"{path.name}: already graded (no hash recorded: taken to be this file), skipped")
            continue
        if action == "changed":
            print(f"{path.name}: changed since it was graded, graded again", flush=True)
        run = run_otter(
            path, autograder_zip, out / path.stem, timeout, sandbox=sandbox, memory_gb=memory_gb
        )
        row = _graded_row(path, hashes[path.name], run, questions, trusted, cases)
        if action == "changed":
            header, lines = read_sheet(csv_file)
            marked = _has_marks(header, lines.get(path.name), manual)
            row = regraded_row(rows[index[path.name]], row, questions, marks_in_sheet=marked)
            rows[index[path.name]] = row
        else:
            index[path.name] = len(rows)
            rows.append(row)
        _write_json(json_file, rows)
        _write_csv(csv_file, rows, auto, manual, fresh={path.name})
        print(
            f"{path.name}: {run['status']}, {row['auto_total']}/{row['auto_possible']}"
            f"{' flags: ' + ', '.join(row['flags']) if row['flags'] else ''}",
            flush=True,
        )
        if run["status"] == "error":  # say why: the last lines otter printed
            tail = run["log"].strip().splitlines()[-12:]
            print("\n".join(f"    | {line}" for line in tail), flush=True)
    for name, action in plan.items():
        if action == "vanished":
            print(f"{name}: no longer in {submissions}, its row stays")
    # nothing of this run is in use any more: no private folder of it may stay behind
    for folder in Path(tempfile.gettempdir()).glob(f"{_PRIVATE_PREFIX}{os.getpid()}-*"):
        _remove_private(folder)
    return rows


def _saved_results(out: Path, submission: str) -> dict | None:
    """otter's results.json of a submission as grade_folder saved it, or None."""
    try:
        results = json.loads((out / Path(submission).stem / "results.json").read_text())
    except (OSError, ValueError):
        return None
    return results if isinstance(results, dict) else None


def merge_records(assignment: Path, out: Path, report: bool = True) -> list[dict]:
    """Merge the hand marks typed into ``out/scores.csv`` into the totals; write roster.csv and
    feedback/. Grades nothing.

    Reads every hand mark (:func:`hand_marks`: one that is not a number from 0 to the
    question's points is a RecordError, and nothing is written), puts the marks and the totals
    (:func:`apply_hand_marks`) into scores.json and scores.csv, clears the ``regraded`` note of
    a row whose cell was emptied in scores.csv, then writes ``roster.csv``
    (:func:`roster_rows`), ``feedback/<student>.md`` (:func:`feedback_text`, with the
    hidden tests' lines of the autograder zip removed) and, for the marker, a copy of the
    assignment's ``rubric.md``. A row without a line in scores.csv
    keeps the hand marks of scores.json. ``report`` prints what is left to do (rows to
    re-check, questions to mark). Returns the rows.
    """
    meta = json.loads((assignment / "questions.json").read_text())
    questions = meta["questions"]
    auto = [q["name"] for q in questions if not q["manual"]]
    manual = [q for q in questions if q["manual"]]
    csv_file, json_file = out / "scores.csv", out / "scores.json"
    if not json_file.is_file():
        raise RecordError(f"{json_file}: no such file; nothing has been graded into {out}")
    rows = json.loads(json_file.read_text())
    header, lines = read_sheet(csv_file)
    marks = hand_marks(header, lines, manual, csv_file)
    in_sheet = {q["name"] for q in manual if _hand_index(header, q) is not None}
    cases = read_test_cases(assignment / meta["autograder_zip"])
    merged = []
    for row in rows:
        row, name = dict(row), row["submission"]
        line = lines.get(name)
        hand = dict(row.get("hand") or {})
        if line is not None:
            hand = {q: mark for q, mark in hand.items() if q not in in_sheet}
            hand.update(marks.get(name, {}))
            if "regraded" in header:
                column = header.index("regraded")
                row["regraded"] = line[column].strip() if column < len(line) else ""
        if row.get("regraded") == REGRADED_NOTE and not hand:
            row["regraded"] = ""  # no hand mark left to re-check
        if not row.get("regraded"):
            row.pop("regraded", None)
        if "feedback" not in row:  # a row of a grade.py that kept no feedback
            row["feedback"] = otter_feedback(_saved_results(out, name), questions, cases)
        merged.append(apply_hand_marks(row, hand, questions))
    roster = roster_rows(merged, questions)  # a RecordError before anything is written
    _write_json(json_file, merged)
    _write_csv(csv_file, merged, auto, manual, fresh={row["submission"] for row in merged})
    _write_text(out / "roster.csv", _csv_text(roster))
    write_feedback(
        merged, questions, out / "feedback", hidden_source_lines(cases), meta.get("assignment", "")
    )
    rubric = assignment / (meta.get("rubric") or "rubric.md")
    if meta.get("rubric") and rubric.is_file():  # the written questions' rubric, to mark by
        _write_text(out / "rubric.md", rubric.read_text())
    if not report:
        return merged
    for name in lines:
        if name not in {row["submission"] for row in merged}:
            print(f"{csv_file}: {name} is not in scores.json: its line stays, not merged")
    for row in merged:
        if row.get("regraded"):
            print(f"{row['submission']}: regraded: {row['regraded']}")
    unmarked = [row["submission"] for row in merged if row["unmarked"]]
    if manual and unmarked:
        print(
            f"{len(unmarked)} of {len(merged)} submissions have questions not marked by hand "
            "yet (column unmarked); roster.csv counts 0 for them"
        )
    return merged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("assignment", type=Path, help="a folder written by build.py")
    parser.add_argument("submissions", type=Path, help="a folder of .ipynb or .zip files")
    parser.add_argument("--out", type=Path, help="default: SUBMISSIONS/graded")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        help=f"seconds per submission (default {DEFAULT_TIMEOUT})",
    )
    parser.add_argument(
        "--memory",
        type=float,
        default=DEFAULT_MEMORY_GB,
        help=f"GB of address space per process (default {DEFAULT_MEMORY_GB})",
    )
    parser.add_argument(
        "--unsafe",
        action="store_true",
        help="grade without the sandbox: only in a throw-away VM or container",
    )
    parser.add_argument(
        "--merge-only",
        action="store_true",
        help="grade nothing: merge the hand marks of scores.csv into the totals, write "
        "roster.csv and feedback/",
    )
    args = parser.parse_args(argv)
    out = args.out or args.submissions / "graded"
    try:
        if not args.merge_only:
            if (out / "scores.json").is_file():
                # the marks typed in so far, first: a bad one stops the run before grading,
                # and a regraded row's history keeps the marks of its earlier version
                merge_records(args.assignment, out, report=False)
            grade_folder(
                args.assignment,
                args.submissions,
                out,
                args.timeout,
                sandbox=not args.unsafe,
                memory_gb=args.memory,
            )
        merge_records(args.assignment, out)
    except SandboxUnavailable as error:
        print(f"grade.py: refusing to grade: {error}", file=sys.stderr)
        return 2
    except RecordError as error:
        print(f"grade.py: {error}", file=sys.stderr)
        return 2
    print(f"score table: {out / 'scores.csv'}")
    print(f"roster: {out / 'roster.csv'}, feedback: {out / 'feedback'}{os.sep}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
