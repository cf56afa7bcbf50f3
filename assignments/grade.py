"""Grade a folder of submissions locally with ``otter run`` (no Docker) and write a score table.

Usage::

    python assignments/grade.py _build/assignments/01-derivation SUBMISSIONS [--out DIR]
        [--timeout SECONDS] [--memory GB] [--unsafe]

``_build/assignments/01-derivation`` is an assignment folder written by ``build.py`` (its
``questions.json`` names the autograder zip and the questions graded by hand). ``SUBMISSIONS``
is a folder of ``.ipynb`` files (or ``.zip`` files made by otter's export cell), one per student.
Every submission is graded by its own ``otter run`` process, which executes the notebook in a
fresh kernel and runs every test, public and hidden. Otter itself has no time limit outside
Docker, so this script gives each submission ``--timeout`` seconds (default 300) and then ends
``otter run`` and its kernel: the submission scores 0 with the status ``timeout``.

Each ``otter run`` runs in a sandbox (bubblewrap, ``bwrap``; see :func:`sandbox_command`): a
fresh private folder holding a copy of the submission and of the autograder zip only, the
system and the Python environment read-only, no network, its own process tree (the grader is
not visible from inside, and everything the submission started ends with its run), a private
``/tmp`` that disappears with it, at most ``--memory`` GB of address space per process and a
limit on processes. When run as root, the sandbox runs as the user ``nobody``. Without a
working ``bwrap`` the script refuses to grade unless ``--unsafe`` is given.

Rows are written and flushed as each submission finishes; a re-run with the same ``--out``
skips the submissions already graded and keeps the marks filled in by hand.

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
import importlib.util
import json
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


def _header(auto: list[str], manual: list[dict]) -> list[str]:
    return [
        "submission",
        "status",
        *auto,
        "total",
        "possible",
        "flags",
        *(f"{q['name']} (by hand, /{q['points']})" for q in manual),
    ]


def _write_json(path: Path, value) -> None:
    """Write JSON atomically: a crash leaves the old file or the new one, never half of one."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(value, indent=1))
    os.replace(temporary, path)


def _append_rows(csv_file: Path, rows: list[dict], auto: list[str], manual: list[dict]) -> None:
    """Append the rows of ``scores.json`` that ``scores.csv`` lacks (all of them to a new file
    with its header); rows already there, and marks filled in by hand, stay as they are."""
    listed = set()
    if csv_file.is_file():
        with open(csv_file, newline="") as f:
            listed = {line[0] for line in list(csv.reader(f))[1:] if line}
    with open(csv_file, "a" if csv_file.is_file() else "w", newline="") as f:
        writer = csv.writer(f)
        if not listed and f.tell() == 0:
            writer.writerow(_header(auto, manual))
        writer.writerows(
            _csv_row(row, auto, manual) for row in rows if row["submission"] not in listed
        )
        f.flush()
        os.fsync(f.fileno())


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

    As soon as a submission is graded, ``scores.json`` is rewritten (atomically) and then its
    row appended to ``scores.csv``, so a crash loses at most the submission being graded and a
    row in the CSV is always in the JSON; a re-run with the same ``out`` resumes: submissions
    already in ``scores.json`` are not graded again, and marks filled in by hand stay.
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
    if sandbox:
        check_sandbox()
    for folder in remove_stale_private_folders():
        print(f"removed {folder}, left by a grader that stopped", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    csv_file, json_file = out / "scores.csv", out / "scores.json"
    rows = json.loads(json_file.read_text()) if json_file.is_file() else []
    done = {row["submission"] for row in rows}
    # scores.json is the record and is written first: a grader killed between the two
    # writes left a row in the JSON only, and the CSV gets it here
    _append_rows(csv_file, rows, auto, manual)
    for path in files:
        if path.name in done:
            print(f"{path.name}: already graded, skipped")
            continue
        run = run_otter(
            path, autograder_zip, out / path.stem, timeout, sandbox=sandbox, memory_gb=memory_gb
        )
        scores = question_scores(run["results"], questions)
        rows.append(
            {
                "submission": path.name,
                "status": run["status"],
                "scores": {name: scores[name]["score"] for name in auto},
                "total": sum(scores[name]["score"] for name in auto),
                "possible": sum(q["points"] for q in questions if not q["manual"]),
                "flags": tamper_flags(path, trusted),
                "failures": {
                    name: scores[name]["output"]
                    for name in auto
                    if scores[name]["score"] < scores[name]["possible"]
                },
                "seconds": run["seconds"],
                "log": run["log"] if run["status"] != "ok" else "",
            }
        )
        _write_json(json_file, rows)
        _append_rows(csv_file, rows, auto, manual)
        print(
            f"{path.name}: {run['status']}, {rows[-1]['total']}/{rows[-1]['possible']}"
            f"{' flags: ' + ', '.join(rows[-1]['flags']) if rows[-1]['flags'] else ''}",
            flush=True,
        )
        if run["status"] == "error":  # say why: the last lines otter printed
            tail = run["log"].strip().splitlines()[-12:]
            print("\n".join(f"    | {line}" for line in tail), flush=True)
    # nothing of this run is in use any more: no private folder of it may stay behind
    for folder in Path(tempfile.gettempdir()).glob(f"{_PRIVATE_PREFIX}{os.getpid()}-*"):
        _remove_private(folder)
    return rows


def _csv_row(row: dict, auto: list[str], manual: list[dict]) -> list:
    return [
        row["submission"],
        row["status"],
        *(row["scores"][name] for name in auto),
        row["total"],
        row["possible"],
        " ".join(row["flags"]),
        *([""] * len(manual)),
    ]


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
    args = parser.parse_args(argv)
    out = args.out or args.submissions / "graded"
    try:
        grade_folder(
            args.assignment,
            args.submissions,
            out,
            args.timeout,
            sandbox=not args.unsafe,
            memory_gb=args.memory,
        )
    except SandboxUnavailable as error:
        print(f"grade.py: refusing to grade: {error}", file=sys.stderr)
        return 2
    print(f"score table: {out / 'scores.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
