"""Generate the graded editions of the assignments with otter-grader (`make assignments`).

For every master ``assignments/<NN-name>/<name>.md`` (a MyST Markdown notebook in otter's
assignment format, kept as text in git) this script

1. stages it in ``<out>/<NN-name>/master/``: the notebook converted with jupytext, a copy of the
   helper package ``src/vaebook`` and the autograder's ``requirements.txt`` (the book's pins, as
   in ``binder/requirements.txt``, plus otter-grader), which Gradescope installs;
2. runs ``otter assign`` on it, which writes ``<out>/<NN-name>/student/`` (solutions and hidden
   tests removed, public checks kept) and ``<out>/<NN-name>/autograder/`` (the solutions, every
   test and ``<name>-autograder_<date>.zip``), and fails unless the master passes all its tests;
3. puts a set-up cell first in the student edition, for Colab (:func:`add_setup_cell`): it
   names the edition's release (``Edition of vaebook 0.2.0, built from v0.2.0 (commit …)``);
   where ``vaebook`` is missing it installs the package (:func:`choose_install_source`: the
   tagged public release, or the built commit of a development build) and otter-grader, and
   on Colab, where otter reads public checks only from files, it writes them to ``tests/``;
4. validates the student edition: no hidden test, no solution code, no otter markers, no
   autograder zip (:func:`validate_student_edition`);
5. writes ``<out>/<NN-name>/questions.json``: every question with its points, and which ones are
   graded by hand; ``assignments/grade.py`` reads it.

Usage: ``python assignments/build.py [--out DIR] [--course-seed N] [--install-source SOURCE]
[NAME ...]`` (default ``_build/assignments``, every assignment). The output folder is git-ignored
and never part of the website.

**Install source.** What the set-up cell installs where ``vaebook`` is missing (Colab), by
``--install-source`` (``make assignments INSTALL_SOURCE=...``):

* ``auto`` (the default): the tagged public release ``git+<repository.url>@v<version>`` when
  the build is that release (its commit is tagged ``v<version>``), when the package (``src/``
  and ``pyproject.toml``, working tree included) is unchanged since that tag, or outside a git
  clone; otherwise, a development build, the built commit ``git+<repository.url>@<commit>``.
  So a private course repository built from a release, with its own masters and seed but the
  book's package, hands out editions that install the public release, which Colab can reach;
* ``release`` or ``commit``: that one, whatever the build;
* anything else: a pip requirement written into the cell as it is (a wheel's URL, a public
  fork ``git+https://github.com/<owner>/<repo>@<tag>``).

At run time the environment variable ``VAEBOOK_PIP_SOURCE`` overrides it (the tests install
a local wheel).

**Course parameters.** A line of a master that ends with ``# COURSE`` assigns course parameters
(``COURSE_BATCH, COURSE_KL_WEIGHT = 64, 1.0  # COURSE``): the numbers a question uses, in the
question's own cell and again, as literals, in its hidden tests. Without a course seed the
master's values stay (the public edition, whose answers anyone can read in the master). With
``--course-seed N`` (``make assignments COURSE_SEED=N``) :func:`course_parameters` draws other
values from :data:`COURSE_CHOICES` and every such line is rewritten before ``otter assign``
runs, so a course's expected answers are in its own autograder only (see assignments/README.md).

**Variants.** A course also draws the *form* of each seeded question from a family of variants
(:data:`COURSE_VARIANTS`: which reduction of a loss is wrong, which loss of the bug zoo is
where), never the public edition's. The masters hold every variant in ``# IF <condition>``
blocks (``<!-- IF ... -->`` in Markdown, where ``{{ expression }}`` puts the course's numbers
into the written answers); :func:`select_variants` keeps the course's. The build also writes
``rubric.md`` (the written questions' reference answers and rubrics) and names the course's
variants and seeded hidden tests in ``questions.json``.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import json
import math
import pprint
import random
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
DEFAULT_OUT = REPO / "_build" / "assignments"
BIN = Path(sys.executable).parent
OTTER_PIN = re.compile(r"^otter-grader==\S+$", re.MULTILINE)

# Strings that must never survive into a student edition (otter keeps "<!-- BEGIN QUESTION -->"
# comments around written answers on purpose: they filter the PDF export).
MARKERS = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "# SOLUTION",
    "BEGIN TESTS",
    "END TESTS",
    "BEGIN TEST CONFIG",
    "# BEGIN QUESTION",
    "# END QUESTION",
    "ASSIGNMENT CONFIG",
    "hidden: true",
    "hidden=True",
)


# The values a course seed chooses from, by group of names assigned together (the master's own
# values are the public edition's and need not be among them).
COURSE_CHOICES = {
    ("COURSE_DATASET", "COURSE_PIXELS"): [
        ("MNIST", 784),
        ("Fashion-MNIST", 784),
        ("CIFAR-10", 3072),
        ("SVHN", 3072),
        ("CelebA at 64x64", 12288),
    ],
    ("COURSE_BATCH",): [(16,), (32,), (50,), (100,), (128,), (200,), (256,), (500,)],
    ("COURSE_KL_WEIGHT",): [(0.5,), (2.0,), (4.0,), (0.1,)],
    ("BUGGY_KL_WEIGHT",): [(0.5,), (2.0,), (4.0,), (0.25,), (8.0,)],
    ("INTENDED_SIGMA",): [(0.2,), (0.3,)],
    ("TINY_KL_WEIGHT",): [(1e-5,), (1e-7,), (1e-8,)],
}
COURSE_LINE = re.compile(
    r"^(?P<indent>\s*)(?P<names>[A-Z_][A-Z0-9_]*(\s*,\s*[A-Z_][A-Z0-9_]*)*)"
    r"\s*=\s*(?P<values>.+?)\s*# COURSE\s*$"
)


def course_parameters(seed: int | None) -> dict[str, object] | None:
    """The course parameters drawn from :data:`COURSE_CHOICES` with ``seed``; None for none.

    Every group is drawn from its own generator (seeded with the course seed and the group's
    names), so adding a group later does not change the values of the others.
    """
    if check_course_seed(seed) is None:
        return None
    values = {}
    for names, choices in COURSE_CHOICES.items():
        chosen = random.Random(f"{seed}:{','.join(names)}").choice(choices)
        values.update(zip(names, chosen))
    variants = course_variants(seed)
    values.update(variants)
    values.update(_derived(variants))
    return values


def apply_course_parameters(notebook: Path, values: dict[str, object] | None) -> list[str]:
    """Rewrite every ``NAMES = VALUES  # COURSE`` line of a staged notebook with ``values``.

    Returns the names it found. Fails on a name that has no drawn value, on a marked line
    that is not a plain assignment, and on ``# COURSE`` outside code cells. With ``values``
    None the notebook is left as it is (only checked).
    """
    import nbformat

    book = nbformat.read(notebook, as_version=4)
    found = []
    for cell in book.cells:
        lines = cell.source.splitlines()
        for index, line in enumerate(lines):
            if "# COURSE" not in line:
                continue
            match = COURSE_LINE.match(line)
            if cell.cell_type != "code" or match is None:
                raise SystemExit(
                    f"{notebook}: '# COURSE' must end a line 'NAME, ... = value, "
                    f"...' in a code cell: {line!r}"
                )
            names = [name.strip() for name in match["names"].split(",")]
            known = {n for groups in (COURSE_CHOICES, COURSE_VARIANTS) for g in groups for n in g}
            known |= set(DERIVED_NAMES)
            unknown = [name for name in names if name not in known]
            if unknown:
                raise SystemExit(
                    f"{notebook}: no course parameter named {unknown} (known: {sorted(known)})"
                )
            found.extend(names)
            if values is not None:
                literal = ", ".join(repr(values[name]) for name in names)
                lines[index] = (
                    f"{match['indent']}{match['names']} = {literal}  # this course's value"
                )
        cell.source = "\n".join(lines)
    if values is not None:
        nbformat.write(book, notebook)
    return found


# Variant families: per course, a question's *form* is drawn, not only its numbers. Each group
# of names maps to (the public edition's value, the values a course draws from). A course never
# draws the public value, so the public master's solution is the wrong code in every course.
# The masters choose their text and code with ``# IF <condition>`` / ``# END IF`` lines (in
# Markdown ``<!-- IF <condition> -->`` / ``<!-- END IF -->``): see :func:`select_variants`.
ZOO_KINDS = {
    # kind of loss: (decoder family, what training with it does)
    "mse-mean": ("gaussian", "collapse"),
    "bce-latent-mean": ("bernoulli", "collapse"),
    "pixel-mean": ("gaussian", "collapse"),
    "tiny-kl": ("gaussian", "autoencoder"),
    "mse-sum-kl-per-number": ("gaussian", "autoencoder"),
    "bce-sum-kl-per-number": ("bernoulli", "autoencoder"),
}
PUBLIC_ZOO = ("mse-mean", "bce-latent-mean", "pixel-mean", "tiny-kl")
# A course's zoo: the three losses that make an autoencoder in some order at a, b and c (where
# the public zoo's collapse), one of the public collapsing losses at d (where the public
# autoencoder is): every loss a to d, its σ or β and its failure differ from the public edition's.
COURSE_ZOOS = [
    (*order, last)
    for order in itertools.permutations(
        ("tiny-kl", "mse-sum-kl-per-number", "bce-sum-kl-per-number")
    )
    for last in ("mse-mean", "bce-latent-mean", "pixel-mean")
]
COURSE_VARIANTS = {
    # derivation q4: which loss's σ the students compute
    ("DERIVATION_LOSS",): (("mean",), [("sum",), ("batchmean",), ("pixelmean",)]),
    # training q1: which reduction of the colleague's loss is wrong
    ("BUGGY_REDUCTION",): (("mean",), [("pixels",), ("batch",), ("latents",)]),
    # bug zoo q1 to q4: which kind of loss is loss_a, ..., loss_d
    ("ZOO_A", "ZOO_B", "ZOO_C", "ZOO_D"): (PUBLIC_ZOO, COURSE_ZOOS),
}


def _derived(values: dict[str, object]) -> dict[str, object]:
    """Course values that follow from the drawn ones (written by ``# COURSE`` lines too)."""
    binary = {slot: ZOO_KINDS[values[f"ZOO_{slot.upper()}"]][0] == "bernoulli" for slot in "abcd"}
    return {"BINARY": {**binary, "e": True}}


DERIVED_NAMES = ("BINARY",)


def check_course_seed(seed: object) -> int | None:
    """``seed`` as a course seed: None (the public edition) or a whole number from 0."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SystemExit(f"a course seed must be a whole number from 0 up, got {seed!r}")
    return seed


def _seed_argument(text: str) -> int:
    try:
        seed = int(text, 10)
    except ValueError:
        seed = None
    if seed is None or seed < 0:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 0 up (e.g. 73519), got {text!r}"
        )
    return seed


def course_variants(seed: int | None) -> dict[str, object]:
    """The variant of every family (:data:`COURSE_VARIANTS`) for ``seed``; the public edition's
    for None. Drawn like :func:`course_parameters`, one generator per group."""
    seed = check_course_seed(seed)
    values = {}
    for names, (public, choices) in COURSE_VARIANTS.items():
        if seed is None:
            chosen = public
        else:
            chosen = random.Random(f"{seed}:variant:{','.join(names)}").choice(choices)
        values.update(zip(names, chosen))
    return values


def master_values(notebook: Path) -> dict[str, object]:
    """The values of a staged master's ``# COURSE`` lines (the public edition's), by name."""
    import nbformat

    values = {}
    for cell in nbformat.read(notebook, as_version=4).cells:
        for line in cell.source.splitlines():
            match = COURSE_LINE.match(line) if "# COURSE" in line else None
            if match is None:
                continue
            names = [name.strip() for name in match["names"].split(",")]
            literal = ast.literal_eval(match["values"])
            literal = literal if len(names) > 1 else (literal,)
            for name, value in zip(names, literal):
                values.setdefault(name, value)
    return values


def variant_environment(notebook: Path, seed: int | None) -> dict[str, object]:
    """What the conditions and ``{{ ... }}`` of a master see: its course values (the master's
    own for the public edition), the variants, ``PUBLIC`` and ``COURSE_SEED``."""
    seed = check_course_seed(seed)
    env = master_values(notebook)
    env.update(course_variants(seed))
    drawn = course_parameters(seed)
    if drawn is not None:
        env.update(drawn)
    env["PUBLIC"], env["COURSE_SEED"] = seed is None, seed
    return env


IF_LINE = {
    "code": (re.compile(r"^\s*# IF (?P<condition>.+?)\s*$"), re.compile(r"^\s*# END IF\s*$")),
    "markdown": (
        re.compile(r"^\s*<!-- IF (?P<condition>.+?) -->\s*$"),
        re.compile(r"^\s*<!-- END IF -->\s*$"),
    ),
}
LET_LINE = re.compile(r"^\s*<!-- LET (?P<name>[A-Za-z_]\w*) = (?P<expression>.+?) -->\s*$")
VARIANT_CODE = re.compile(r"^(?P<indent>\s*)#: ?(?P<code>.*)$")
PLACEHOLDER = re.compile(r"\{\{\s*(?P<expression>.+?)\s*(\|\s*(?P<spec>[^|{}]*?)\s*)?\}\}")
SAFE_BUILTINS = {"abs": abs, "round": round, "min": min, "max": max, "len": len, "repr": repr}


def _evaluate(expression: str, env: dict, where: str):
    try:
        return eval(expression, {"__builtins__": SAFE_BUILTINS, "math": math}, dict(env))  # noqa: S307
    except Exception as error:
        raise SystemExit(
            f"{where}: cannot evaluate {expression!r}: {type(error).__name__}: {error} "
            f"(known names: {', '.join(sorted(env))})"
        ) from None


def select_variants(notebook: Path, seed: int | None) -> dict[str, object]:
    """Keep this course's variant of every ``IF`` block of a staged master; fill in ``{{ }}``.

    In code cells a block is ``# IF <condition>`` ... ``# END IF``, where the condition is a
    Python expression of the names of :func:`variant_environment` (``ZOO_A == "tiny-kl"``).
    The master itself is the public edition when run as it is (the robustness study does), so
    the lines of a block that is false for the public edition are commented out as ``#: code``
    (``#:`` then the line), and the lines of one that is true are not: a block that breaks this
    rule is an error. A kept block loses its ``#:``; a dropped one, its lines. In Markdown cells
    a block is ``<!-- IF <condition> -->`` ... ``<!-- END IF -->`` and ``{{ expression }}`` or
    ``{{ expression | format }}`` (``{{ math.sqrt(COURSE_BATCH / 2) | .1f }}``) is replaced by
    its value, and a line ``<!-- LET NAME = expression -->`` names a value for the cells after
    it: the reference answers of the written questions follow the course. Cells left
    empty are removed. Returns how many blocks were ``kept`` and ``dropped``, and ``seeded``:
    the hidden tests whose cell has an ``IF`` block or a ``# COURSE`` line (their expected
    answers are the course's).
    """
    import nbformat

    env = variant_environment(notebook, seed)
    public = variant_environment(notebook, None)
    book = nbformat.read(notebook, as_version=4)
    counts, cells, seeded = {"kept": 0, "dropped": 0}, [], []
    for number, cell in enumerate(book.cells):
        where = f"{notebook} cell {number}"
        kind = cell.cell_type
        lines, out, block = cell.source.splitlines(), [], None
        for line in lines:
            if kind not in IF_LINE:
                if re.match(r"^\s*(# IF |# END IF|<!-- (END )?IF)", line):
                    raise SystemExit(f"{where}: an IF block in a {kind} cell: {line!r}")
                out.append(line)
                continue
            opening, closing = IF_LINE[kind]
            start = opening.match(line)
            if start:
                if block is not None:
                    raise SystemExit(f"{where}: IF blocks do not nest: {line!r}")
                condition = start["condition"]
                block = {
                    "keep": bool(_evaluate(condition, env, where)),
                    "public": bool(_evaluate(condition, public, where)),
                    "condition": condition,
                }
                counts["kept" if block["keep"] else "dropped"] += 1
                continue
            if closing.match(line):
                if block is None:
                    raise SystemExit(f"{where}: END IF without IF")
                block = None
                continue
            commented = VARIANT_CODE.match(line) if kind == "code" else None
            if kind == "code" and line.strip():
                inside_false = block is not None and not block["public"]
                if inside_false and commented is None:
                    raise SystemExit(
                        f"{where}: the block 'IF {block['condition']}' is false for the public "
                        f"edition, so its lines must be commented out as '#: ...' (the master "
                        f"runs as the public edition): {line!r}"
                    )
                if not inside_false and commented is not None:
                    raise SystemExit(
                        f"{where}: '#:' marks a line of a block that is false for the public "
                        f"edition; this one is not in such a block: {line!r}"
                    )
            if block is not None and not block["keep"]:
                continue
            let = LET_LINE.match(line) if kind == "markdown" else None
            if let:
                env[let["name"]] = _evaluate(let["expression"], env, where)
                continue
            if commented is not None:
                line = commented["indent"] + commented["code"]
            out.append(line)
        if block is not None:
            raise SystemExit(f"{where}: 'IF {block['condition']}' has no END IF")
        source = "\n".join(out)
        if kind == "code" and len(out) != len(lines):  # no long gaps where blocks were
            source = re.sub(r"\n{4,}", "\n\n\n", source).strip("\n")
        if kind == "markdown":
            source = PLACEHOLDER.sub(
                lambda m, where=where: format(
                    _evaluate(m["expression"], env, where), m["spec"] or ""
                ),
                source,
            )
            if "{{" in source or "}}" in source:
                raise SystemExit(f"{where}: an unfinished '{{{{ ... }}}}' in {source!r}")
        if cell.source.strip() and not source.strip():
            continue  # a cell of another variant
        variable = len(out) != len(lines) or "# COURSE" in source
        if kind == "code" and variable and "hidden: true" in source:
            seeded += re.findall(r"^def (test_\w+)\(", source, re.MULTILINE)
        cell.source = source
        cells.append(cell)
    book.cells = cells
    nbformat.write(book, notebook)
    return {**counts, "seeded": seeded}


def seeded_tests(autograder_zip: Path, names: list[str]) -> list[dict]:
    """The hidden test cases of an autograder zip whose function is one of ``names``: their
    ``question``, ``case`` (otter's name, as in its results), ``test`` and ``points``."""
    from otter.test_files import ExceptionTestFile

    found = []
    with zipfile.ZipFile(autograder_zip) as archive:
        for member in sorted(archive.namelist()):
            if not (member.startswith("tests/") and member.endswith(".py")):
                continue
            test = ExceptionTestFile.from_string(archive.read(member).decode(), path=member)
            for case in test.test_cases:
                function = case.body.test_func.__name__
                if case.hidden and function in names:
                    found.append(
                        {
                            "question": test.name,
                            "case": case.name,
                            "test": function,
                            "points": case.points,
                        }
                    )
    missing = set(names) - {case["test"] for case in found}
    if missing:
        raise SystemExit(f"{autograder_zip}: seeded tests missing from the zip: {sorted(missing)}")
    return found


def masters(names: list[str] | None = None) -> list[Path]:
    """The master notebooks ``assignments/<folder>/<name>.md``, one per folder, sorted."""
    found = []
    for folder in sorted(p for p in HERE.iterdir() if p.is_dir() and p.name[:2].isdigit()):
        if names and folder.name not in names:
            continue
        sources = sorted(folder.glob("*.md"))
        if len(sources) != 1:
            raise SystemExit(f"{folder}: expected exactly one master .md, found {len(sources)}")
        found.append(sources[0])
    if names and len(found) != len(names):
        raise SystemExit(
            f"unknown assignment(s) in {names}; known: {[p.parent.name for p in masters()]}"
        )
    return found


def autograder_requirements() -> str:
    """The grading environment: the book's pins with a CPU torch (binder/requirements.txt),
    which include otter-grader."""
    binder = (REPO / "binder" / "requirements.txt").read_text()
    if OTTER_PIN.search(binder) is None:
        raise SystemExit("binder/requirements.txt pins no otter-grader==<version>")
    return (
        "# Written by assignments/build.py from binder/requirements.txt (the book's pins).\n"
        + binder
    )


def _ext_module(name: str):
    """A module of the book's Sphinx extensions (``_ext/<name>.py``): ``notebook_downloads``
    (the repository's pip source, as in the chapters' install cell) and ``release`` (the
    version, commit and release tag of this build)."""
    import importlib.util

    qualified = f"vaebook_ext_{name}"
    if qualified in sys.modules:
        return sys.modules[qualified]
    spec = importlib.util.spec_from_file_location(qualified, REPO / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[qualified] = module  # before it runs: its dataclasses look themselves up there
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[qualified]
        raise
    return module


INSTALL_CHOICES = ("auto", "release", "commit")
"""The named values of ``--install-source``; any other value is a pip requirement."""

UNCOMMITTED = "; the package has uncommitted changes, which {what} does not hold"


class InstallSource(NamedTuple):
    """What a set-up cell installs (a pip requirement), why, and the build it was chosen for
    (``_ext/release.py``'s ``Build``: version, commit, release tag)."""

    requirement: str
    reason: str
    build: object


def choose_install_source(folder: Path, repository_url: str, choice: str = "auto") -> InstallSource:
    """What the set-up cell of an edition built from ``folder`` installs: see "Install
    source" above."""
    downloads, release = _ext_module("notebook_downloads"), _ext_module("release")
    build = release.describe(folder)
    tagged = downloads.pip_source(repository_url, build.release_tag)
    if choice not in INSTALL_CHOICES:
        if not re.fullmatch(r"[^\s\"'\\]+", choice or ""):
            raise SystemExit(
                f"--install-source must be auto, release, commit or a pip requirement without "
                f"spaces or quotes, got {choice!r}"
            )
        return InstallSource(choice, "given with --install-source", build)
    if choice == "commit":
        if build.commit is None:
            raise SystemExit(f"--install-source commit: {folder} is not a git clone")
        source = downloads.pip_source(repository_url, build.commit)
        return InstallSource(source, "the built commit (--install-source commit)", build)
    if choice == "release":
        reason = f"the release {build.release_tag} (--install-source release)"
        return InstallSource(tagged, reason, build)
    if build.commit is None:
        return InstallSource(tagged, f"not a git clone: the release {build.release_tag}", build)
    if release.package_matches(folder, build.release_tag):
        if build.tag:
            return InstallSource(tagged, f"the build is the release {build.tag}", build)
        reason = f"vaebook is unchanged since the release {build.release_tag}"
        return InstallSource(tagged, reason, build)
    if build.tag:
        reason = f"the build is the release {build.tag}" + UNCOMMITTED.format(what="it")
        return InstallSource(tagged, reason, build)
    reason = (
        f"a development build (vaebook differs from {build.release_tag}, or that tag is "
        "missing): the built commit, which must be public for Colab to install it"
    )
    if not release.package_matches(folder, "HEAD"):
        reason += UNCOMMITTED.format(what="the commit")
    return InstallSource(downloads.pip_source(repository_url, build.commit), reason, build)


SETUP_TAG = "setup-colab"
"""The tag of the set-up cell that :func:`add_setup_cell` puts first in a student edition."""

SETUP_CELL = """\
#@title Set up (only where the book's packages are missing, as on Colab)
# {edition}.
# Added by assignments/build.py. In the book's environment (a clone, Binder, a JupyterHub
# built from the book's requirements) the packages are there and this cell does nothing.
import importlib
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("vaebook") is None:
    source = os.environ.get("{env}", "{source}")
    print("Installing vaebook from", source, "and otter-grader (about a minute)")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source,
                    "{otter}"], check=True)
    importlib.invalidate_caches()

# The public checks (the same as in this notebook's metadata). Otter on Colab cannot read
# the notebook's own file, so it needs them as files in tests/.
PUBLIC_CHECKS = {checks}
if "google.colab" in sys.modules:
    os.makedirs("tests", exist_ok=True)
    for question, text in PUBLIC_CHECKS.items():
        with open(os.path.join("tests", question + ".py"), "w") as file:
            file.write(text)
"""


def add_setup_cell(student_notebook: Path, install_source: str | InstallSource = "auto") -> str:
    """Put the set-up cell (:data:`SETUP_CELL`) first in a student edition; its source.
    ``install_source``: a value of ``--install-source`` or what :func:`choose_install_source`
    chose."""
    import nbformat

    downloads, release = _ext_module("notebook_downloads"), _ext_module("release")
    if not isinstance(install_source, InstallSource):
        install_source = choose_install_source(
            REPO, yaml_config()["repository"]["url"], install_source
        )
    source, _, build = install_source
    otter = OTTER_PIN.search((REPO / "requirements.txt").read_text())
    if otter is None:
        raise SystemExit("requirements.txt pins no otter-grader==<version>")
    notebook = nbformat.read(student_notebook, as_version=4)
    checks = notebook.metadata["otter"]["tests"]
    source = (
        SETUP_CELL.replace("{edition}", release.edition_label(build))
        .replace("{env}", downloads.INSTALL_SOURCE_ENV)
        .replace("{source}", source)
        .replace("{otter}", otter.group(0))
        .replace("{checks}", pprint.pformat(dict(checks), width=88))
    )
    cell = nbformat.v4.new_code_cell(
        source.rstrip("\n"),
        metadata={"tags": [SETUP_TAG], "cellView": "form", "jupyter": {"source_hidden": True}},
    )
    if "id" in notebook.cells[0]:
        cell["id"] = SETUP_TAG  # a fixed id: the same edition on every build
    else:
        cell.pop("id", None)
    notebook.cells.insert(0, cell)
    nbformat.write(notebook, student_notebook)
    return cell.source


def yaml_config() -> dict:
    import yaml

    return yaml.safe_load((REPO / "_config.yml").read_text())


def stage(master: Path, out: Path, course_seed: int | None = None) -> Path:
    """Copy a master, as .ipynb, with vaebook and requirements.txt into ``out/master``; with a
    ``course_seed``, this course's parameters replace the master's."""
    staging = out / "master"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    notebook = staging / (master.stem + ".ipynb")
    subprocess.run(
        [str(BIN / "jupytext"), "--quiet", "--to", "ipynb", "--output", str(notebook), str(master)],
        check=True,
    )
    check_seed_lines(notebook)
    selected = select_variants(notebook, course_seed)
    (staging / "variants.json").write_text(json.dumps(selected, indent=1))
    apply_course_parameters(notebook, course_parameters(course_seed))
    shutil.copytree(
        REPO / "src" / "vaebook",
        staging / "vaebook",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    (staging / "requirements.txt").write_text(autograder_requirements())
    return notebook


def check_seed_lines(notebook: Path) -> None:
    """Fail if otter's seeding would rewrite a line other than the seed's own definition.

    With ``seed: variable: NAME``, otter assign replaces *every* line that starts with
    ``NAME =`` (after spaces) by ``NAME = <seed>``, keyword arguments on a continuation line
    included (``    seed=seed)`` breaks the cell). Hence the masters call it ``SEED``.
    """
    import nbformat
    import yaml

    cells = nbformat.read(notebook, as_version=4).cells
    config = yaml.safe_load(cells[0].source.split("\n", 1)[1]) if cells else {}
    variable = ((config or {}).get("seed") or {}).get("variable")
    if not variable:
        return
    pattern = re.compile(rf"(\s*){re.escape(variable)}\s*(=|<-)\s*")
    hits = [
        line
        for cell in cells
        if cell.cell_type == "code"
        for line in cell.source.splitlines()
        if pattern.match(line)
    ]
    if len(hits) != 1:
        raise SystemExit(
            f"{notebook}: otter would rewrite these lines to '{variable} = <seed>' "
            f"(exactly one, the seed's definition, is allowed): {hits}"
        )


def solution_lines(notebook: Path) -> list[str]:
    """Lines of solution in a staged master notebook.

    In code cells: the lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` and those
    ending in ``# SOLUTION``; Markdown cells inside a solution block (written answers) count
    whole. Short or generic lines (under 16 characters, or also present outside the solutions)
    are left out: they cannot tell a leaked solution from ordinary code.
    """
    import nbformat

    solution, other, in_block = [], [], False
    for cell in nbformat.read(notebook, as_version=4).cells:
        lines = [line.strip() for line in cell.source.splitlines()]
        if cell.cell_type == "raw":
            in_block = {"# BEGIN SOLUTION": True, "# END SOLUTION": False}.get(
                cell.source.strip(), in_block
            )
            continue
        if cell.cell_type == "markdown":
            (solution if in_block else other).extend(lines)
            continue
        inside = False
        for line in lines:
            if line.endswith("# BEGIN SOLUTION"):
                inside = True
            elif line.endswith("# END SOLUTION"):
                inside = False
            elif inside or line.endswith("# SOLUTION"):
                solution.append(line.removesuffix("# SOLUTION").strip())
            else:
                other.append(line)
    common = set(other)
    return [line for line in solution if len(line) >= 16 and line not in common]


def test_sources(autograder_zip: Path, hidden: bool = True) -> list[tuple[str, str]]:
    """``(name, source)`` of every hidden (or public) test case in an autograder zip."""
    sources = []
    with zipfile.ZipFile(autograder_zip) as archive:
        for name in archive.namelist():
            if not (name.startswith("tests/") and name.endswith(".py")):
                continue
            module = ast.parse(archive.read(name).decode())
            for node in module.body:
                if isinstance(node, ast.FunctionDef) and hidden == any(
                    isinstance(d, ast.Call)
                    and any(
                        k.arg == "hidden"
                        and isinstance(k.value, ast.Constant)
                        and k.value.value is True
                        for k in d.keywords
                    )
                    for d in node.decorator_list
                ):
                    node.decorator_list = []
                    sources.append((node.name, ast.unparse(node)))
    return sources


def non_test_lines(notebook: Path) -> list[str]:
    """The lines of a master's code cells outside its BEGIN TESTS / END TESTS blocks."""
    import nbformat

    lines, in_tests = [], False
    for cell in nbformat.read(notebook, as_version=4).cells:
        if cell.cell_type == "raw":
            in_tests = {"# BEGIN TESTS": True, "# END TESTS": False}.get(
                cell.source.strip(), in_tests
            )
        elif cell.cell_type == "code" and not in_tests:
            lines.extend(line.strip() for line in cell.source.splitlines())
    return lines


def edition_text(folder: Path) -> str:
    """Every text in a generated folder: files as text, notebooks as their JSON strings."""
    texts = []

    def strings(value):
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, dict):
            for key, item in value.items():
                texts.append(str(key))
                strings(item)
        elif isinstance(value, list):
            for item in value:
                strings(item)

    for path in sorted(folder.rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".zip":
            raise AssertionError(f"{path}: a zip file in the student edition")
        text = path.read_text(errors="replace")
        if path.suffix == ".ipynb":
            strings(json.loads(text))
        else:
            texts.append(text)
    return "\n".join(texts)


def validate_student_edition(student: Path, autograder_zip: Path, notebook: Path) -> None:
    """Raise AssertionError if the student edition leaks a hidden test or a solution."""
    text = edition_text(student)
    hidden = test_sources(autograder_zip, hidden=True)
    # Lines a hidden test shares with a public test or with the notebook's own code (imports,
    # set-up) are no leak.
    public = {
        line.strip()
        for _, source in test_sources(autograder_zip, hidden=False)
        for line in source.splitlines()
    } | set(non_test_lines(notebook))
    for line in list(public):  # as test_sources writes them (ast.unparse: no comments)
        try:
            public.add(ast.unparse(ast.parse(line)))
        except SyntaxError:
            pass
    if not hidden:
        raise AssertionError(f"{autograder_zip}: no hidden test found; is the master complete?")
    for name, source in hidden:
        if name in text:
            raise AssertionError(f"{student}: the hidden test {name} is in the student edition")
        for line in source.splitlines()[1:]:
            line = line.strip()
            if (
                len(line) >= 24
                and line not in public
                and not line.startswith(("import ", "from "))
                and line in text
            ):
                raise AssertionError(
                    f"{student}: a line of the hidden test {name} is in the student edition: "
                    f"{line!r}"
                )
    for line in solution_lines(notebook):
        if line in text:
            raise AssertionError(f"{student}: solution code in the student edition: {line!r}")
    for marker in MARKERS:
        if marker in text:
            raise AssertionError(
                f"{student}: the otter marker {marker!r} is in the student edition"
            )


def question_table(notebook: Path, autograder_zip: Path) -> list[dict]:
    """Every question of a master: name, points, manual.

    Names and manual questions come from the master's BEGIN QUESTION cells; the points of an
    autograded question are those otter gives its test file in the autograder zip.
    """
    import nbformat
    import yaml
    from otter.test_files import ExceptionTestFile

    possible = {}
    with zipfile.ZipFile(autograder_zip) as archive:
        for name in archive.namelist():
            if name.startswith("tests/") and name.endswith(".py"):
                test = ExceptionTestFile.from_string(archive.read(name).decode(), path=name)
                possible[test.name] = test.possible
    questions = []
    for cell in nbformat.read(notebook, as_version=4).cells:
        lines = cell.source.strip().splitlines()
        if cell.cell_type == "raw" and lines and lines[0].strip() == "# BEGIN QUESTION":
            config = yaml.safe_load("\n".join(lines[1:]))
            manual = bool(config.get("manual", False))
            points = config.get("points") if manual else possible.get(config["name"])
            if points is None:
                raise SystemExit(f"{notebook}: question {config['name']} has no points")
            questions.append({"name": config["name"], "points": points, "manual": manual})
    return questions


def rubric_text(notebook: Path, assignment: str, course_seed: int | None) -> str:
    """The written questions of a staged master: prompt, reference answer and rubric.

    The reference answers and rubrics are the Markdown of each hand-graded question's solution
    block, with this course's numbers (:func:`select_variants`); ``rubric.md`` holds them for
    the instructor (otter keeps them out of the student edition)."""
    import nbformat
    import yaml

    edition = "the public edition" if course_seed is None else "this course"
    parts = [
        f"# Written questions of {assignment}: reference answers and rubrics\n\n"
        f"For {edition}. For instructors and graders only: never hand this file out.\n"
    ]
    question, in_solution = None, False
    for cell in nbformat.read(notebook, as_version=4).cells:
        text = cell.source.strip()
        if cell.cell_type == "raw" and text.startswith("# BEGIN QUESTION"):
            config = yaml.safe_load(text.split("\n", 1)[1])
            question = config if config.get("manual") else None
            if question:
                parts.append(f"## {question['name']} ({question['points']} points)\n")
        elif cell.cell_type == "raw" and text == "# END QUESTION":
            question = None
        elif cell.cell_type == "raw" and text in ("# BEGIN SOLUTION", "# END SOLUTION"):
            in_solution = text == "# BEGIN SOLUTION"
            if question and in_solution:
                parts.append("### Reference answer and rubric\n")
        elif question and cell.cell_type == "markdown":
            parts.append(text + "\n")
    if len(parts) == 1:
        return ""
    return "\n".join(parts)


OTTER_ASSIGN_TIMEOUT = 900
"""Seconds one ``otter assign`` may take (the slowest master takes a few minutes on 2 busy
cores). otter-grader 6 can hang for ever after its work is done: the thread of its log server
spins on a connection that the executed notebook's kernel closed in the middle of a record
(``otter.execute.logging.LogRecordStreamHandler.handle`` reads ``b""`` in a loop; seen once
in a CI run, course 2's derivation, 22 minutes at 100 % CPU), and the interpreter waits for
that thread at exit. A run that exceeds the timeout is killed and run once more."""


def run_otter_assign(notebook: Path, out: Path, timeout: float = OTTER_ASSIGN_TIMEOUT):
    """Run ``otter assign`` on the staged ``notebook`` into ``out``; one retry after a hang."""
    command = [str(BIN / "otter"), "assign", notebook.name, str(out.resolve())]
    for attempt in (1, 2):
        try:
            return subprocess.run(
                command, cwd=notebook.parent, capture_output=True, text=True, timeout=timeout
            )
        except subprocess.TimeoutExpired:
            print(
                f"otter assign of {notebook.name} did not end within {timeout:.0f} s "
                f"(attempt {attempt} of 2; see OTTER_ASSIGN_TIMEOUT)",
                file=sys.stderr,
                flush=True,
            )
            for edition in ("student", "autograder"):
                shutil.rmtree(out / edition, ignore_errors=True)
    raise SystemExit(f"otter assign of {notebook} hung twice (more than {timeout:.0f} s each)")


def build(
    master: Path,
    out_root: Path,
    course_seed: int | None = None,
    install_source: str | InstallSource = "auto",
) -> Path:
    """Generate, validate and describe one assignment; return its output folder."""
    if not isinstance(install_source, InstallSource):
        install_source = choose_install_source(
            REPO, yaml_config()["repository"]["url"], install_source
        )
    course_seed = check_course_seed(course_seed)
    out = out_root / master.parent.name
    notebook = stage(master, out, course_seed)
    for edition in ("student", "autograder"):
        shutil.rmtree(out / edition, ignore_errors=True)
    # otter assign executes the master and fails unless it passes all its tests.
    result = run_otter_assign(notebook, out)
    if result.returncode != 0:
        raise SystemExit(f"otter assign failed for {master}:\n{result.stdout}\n{result.stderr}")
    zips = sorted((out / "autograder").glob("*-autograder_*.zip"))
    if len(zips) != 1:
        raise SystemExit(f"{out / 'autograder'}: expected one autograder zip, found {zips}")
    setup_cell = add_setup_cell(out / "student" / notebook.name, install_source)
    validate_student_edition(out / "student", zips[0], notebook)
    questions = question_table(notebook, zips[0])
    selected = json.loads((notebook.parent / "variants.json").read_text())
    rubric = rubric_text(notebook, master.parent.name, course_seed)
    (out / "rubric.md").unlink(missing_ok=True)
    if rubric:
        (out / "rubric.md").write_text(rubric)
    (out / "questions.json").write_text(
        json.dumps(
            {
                "assignment": master.parent.name,
                "notebook": notebook.name,
                "autograder_zip": str(zips[0].relative_to(out)),
                "questions": questions,
                "course_seed": course_seed,
                # this course's variant of each family (COURSE_VARIANTS) and its seeded tests
                "variants": {
                    name: value
                    for name, value in course_variants(course_seed).items()
                    if re.search(rf"\b{name}\b", master.read_text())
                },
                "seeded_tests": seeded_tests(zips[0], selected["seeded"]),
                "rubric": "rubric.md" if rubric else None,
                # grade.py does not read this cell for tamper flags when a submission keeps it as is
                "setup_cells": [setup_cell],
                # which release this edition is, and what its set-up cell installs
                "edition": {
                    "label": _ext_module("release").edition_label(install_source.build),
                    "version": install_source.build.version,
                    "tag": install_source.build.tag,
                    "commit": install_source.build.commit,
                    "install_source": install_source.requirement,
                    "reason": install_source.reason,
                },
            },
            indent=1,
        )
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="assignment folders, e.g. 01-derivation")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--course-seed",
        type=_seed_argument,
        default=None,
        help="draw this course's parameters (default: the master's, public)",
    )
    parser.add_argument(
        "--install-source",
        default="auto",
        help="what the set-up cell installs where vaebook is missing: auto (default: the "
        "tagged public release, or the built commit of a development build), release, "
        "commit, or a pip requirement",
    )
    args = parser.parse_args(argv)
    chosen = choose_install_source(REPO, yaml_config()["repository"]["url"], args.install_source)
    label = _ext_module("release").edition_label(chosen.build)
    print(f"{label}; the set-up cells install {chosen.requirement}\n  ({chosen.reason})")
    for master in masters(args.names):
        out = build(master, args.out, args.course_seed, chosen)
        print(f"{master.relative_to(REPO)}: student edition and autograder in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
