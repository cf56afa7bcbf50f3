"""Variant families of the graded assignments (assignments/build.py), without otter.

Per course, each seeded question is drawn from a family of variants that need different code or
words (:data:`build.COURSE_VARIANTS`); the masters choose their text, solutions and hidden tests
with ``# IF`` blocks and fill the written answers' numbers with ``{{ ... }}``. These tests run
the selection on small synthetic notebooks and on the masters themselves for many seeds (a few
seconds); tests/test_assignments.py builds and grades two real courses.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "assignments"))
import build  # noqa: E402  (assignments/build.py)

SEEDS = range(60)  # enough to draw every choice of every family (checked below)


def notebook(tmp_path: Path, *cells) -> Path:
    """A staged master made of ``cells``: strings are code cells, ("md", text) Markdown."""
    made = [
        nbformat.v4.new_markdown_cell(cell[1])
        if isinstance(cell, tuple)
        else nbformat.v4.new_code_cell(cell)
        for cell in cells
    ]
    path = tmp_path / "master.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=made), path)
    return path


def sources(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells]


def seed_with(name: str, value: str) -> int:
    """The first course seed that draws ``value`` for the variant ``name``."""
    return next(s for s in range(1000) if build.course_variants(s)[name] == value)


# --- the families -----------------------------------------------------------------------------


def test_every_family_has_three_course_variants_and_never_the_public_one():
    for names, (public, choices) in build.COURSE_VARIANTS.items():
        assert len(set(choices)) >= 3, names
        assert public not in choices, f"{names}: a course could draw the public variant"
        drawn = {tuple(build.course_variants(s)[n] for n in names) for s in SEEDS}
        assert drawn == set(choices), f"{names}: {len(SEEDS)} seeds drew {drawn}"
    assert build.course_variants(None) == {
        name: value
        for names, (public, _) in build.COURSE_VARIANTS.items()
        for name, value in zip(names, public)
    }


def test_the_same_seed_draws_the_same_variants():
    assert build.course_variants(73519) == build.course_variants(73519)
    assert len({tuple(build.course_variants(s).values()) for s in SEEDS}) > 10


def test_every_course_zoo_differs_from_the_public_one_in_every_loss_and_failure():
    for layout in build.COURSE_ZOOS:
        assert len(set(layout)) == 4 and set(layout) <= set(build.ZOO_KINDS)
        for kind, public in zip(layout, build.PUBLIC_ZOO):
            assert kind != public
            assert build.ZOO_KINDS[kind][1] != build.ZOO_KINDS[public][1], (kind, public)


def test_binary_follows_the_zoo_and_the_public_master_agrees(tmp_path):
    for seed in SEEDS:
        values = build.course_parameters(seed)
        for slot in "abcd":
            family = build.ZOO_KINDS[values[f"ZOO_{slot.upper()}"]][0]
            assert values["BINARY"][slot] == (family == "bernoulli")
        assert values["BINARY"]["e"] is True
    staged = build.stage(REPO / "assignments" / "03-bug-zoo" / "bug-zoo.md", tmp_path)
    master = build.master_values(staged)
    assert master["BINARY"] == build._derived(build.course_variants(None))["BINARY"]


@pytest.mark.parametrize("bad", [-1, 1.5, "7", True])
def test_a_bad_course_seed_is_refused_with_a_clear_message(bad):
    for draw in (build.course_parameters, build.course_variants):
        with pytest.raises(SystemExit, match="a course seed must be a whole number from 0 up"):
            draw(bad)


@pytest.mark.parametrize("bad", ["-3", "abc", "1.5", ""])
def test_the_command_line_refuses_a_bad_course_seed(bad, tmp_path):
    result = subprocess.run(
        [sys.executable, str(REPO / "assignments" / "build.py"), "--out", str(tmp_path)]
        + ["--course-seed", bad, "01-derivation"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert f"--course-seed: must be a whole number from 0 up (e.g. 73519), got {bad!r}" in (
        result.stderr
    )
    assert not any(tmp_path.iterdir()), "nothing is built for a bad seed"


# --- IF blocks and placeholders ---------------------------------------------------------------

CODE = """x = 1
# IF ZOO_A == "mse-mean"
y = "public"
# END IF
# IF ZOO_A == "tiny-kl"
#: y = "tiny"
#:     indented = True
# END IF
z = 3"""


def test_a_block_keeps_the_courses_lines_and_uncomments_them(tmp_path):
    path = notebook(tmp_path, CODE)
    counts = build.select_variants(path, None)
    assert (counts["kept"], counts["dropped"]) == (1, 1)
    assert sources(path) == ['x = 1\ny = "public"\nz = 3']
    path = notebook(tmp_path, CODE)
    build.select_variants(path, seed_with("ZOO_A", "tiny-kl"))
    assert sources(path) == ['x = 1\ny = "tiny"\n    indented = True\nz = 3']
    path = notebook(tmp_path, CODE)
    build.select_variants(path, seed_with("ZOO_A", "mse-sum-kl-per-number"))
    assert sources(path) == ["x = 1\nz = 3"]


def test_a_cell_of_another_variant_is_removed_and_seeded_tests_are_named(tmp_path):
    test = '''""" # BEGIN TEST CONFIG
hidden: true
""" # END TEST CONFIG
# IF BUGGY_REDUCTION == "mean"
def test_q1_value(x):
    assert x
# END IF'''
    path = notebook(
        tmp_path,
        "a = 1",
        test,
        '""" # BEGIN TEST CONFIG\nhidden: true\n"""\ndef test_q2_plain(y):\n    pass',
    )
    assert build.select_variants(path, None)["seeded"] == ["test_q1_value"]
    path = notebook(tmp_path, "a = 1", test)
    assert build.select_variants(path, seed_with("BUGGY_REDUCTION", "batch"))["seeded"] == []
    remaining = sources(path)
    assert remaining[0] == "a = 1"
    assert len(remaining) == 2 and "def test_q1_value" not in remaining[1]


def test_markdown_blocks_placeholders_and_let(tmp_path):
    text = """<!-- LET SIGMA = math.sqrt(COURSE_BATCH * COURSE_PIXELS / 2) -->
Batches of {{ COURSE_BATCH }}: σ ≈ {{ SIGMA | .1f }}.
<!-- LET DOUBLE = 2 * COURSE_BATCH -->
<!-- IF DERIVATION_LOSS == "mean" -->
The public loss, {{ DOUBLE }}.
<!-- END IF -->
<!-- IF DERIVATION_LOSS != "mean" -->
A course's loss: {{ DERIVATION_LOSS }}.
<!-- END IF -->"""
    code = 'COURSE_DATASET, COURSE_PIXELS = "MNIST", 784  # COURSE\nCOURSE_BATCH = 64  # COURSE'
    path = notebook(tmp_path, code, ("md", text))
    build.select_variants(path, None)
    assert sources(path)[1] == "Batches of 64: σ ≈ 158.4.\nThe public loss, 128."
    seed = seed_with("DERIVATION_LOSS", "sum")
    values = build.course_parameters(seed)
    path = notebook(tmp_path, code, ("md", text))
    build.select_variants(path, seed)
    sigma = math.sqrt(values["COURSE_BATCH"] * values["COURSE_PIXELS"] / 2)
    assert sources(path)[1] == (
        f"Batches of {values['COURSE_BATCH']}: σ ≈ {sigma:.1f}.\nA course's loss: sum."
    )


@pytest.mark.parametrize(
    "cells, message",
    [
        (["# IF ZOO_A == 'mse-mean'\nx = 1"], "has no END IF"),
        (["x = 1\n# END IF"], "END IF without IF"),
        (["# IF PUBLIC\n# IF PUBLIC\n# END IF\n# END IF"], "IF blocks do not nest"),
        (["# IF not PUBLIC\nx = 1\n# END IF"], "must be commented out as '#: ...'"),
        (["# IF PUBLIC\n#: x = 1\n# END IF"], "'#:' marks a line of a block that is false"),
        (["#: x = 1"], "'#:' marks a line of a block that is false"),
        (["# IF ZOO_Z == 1\n# END IF"], "cannot evaluate 'ZOO_Z == 1': NameError"),
        ([("md", "σ = {{ COURSE_SIGMA }}")], "cannot evaluate 'COURSE_SIGMA'"),
        ([("md", "σ = {{ 1 + }}")], "cannot evaluate"),
        ([("md", "an open {{ brace")], "an unfinished"),
        ([("md", "<!-- IF PUBLIC -->\ntext")], "has no END IF"),
    ],
)
def test_a_broken_block_is_an_error_naming_the_cell(tmp_path, cells, message):
    path = notebook(tmp_path, *cells)
    with pytest.raises(SystemExit, match=message) as error:
        build.select_variants(path, 5)
    assert f"{path} cell 0" in str(error.value)


def test_an_if_block_in_a_raw_cell_is_refused(tmp_path):
    path = tmp_path / "master.ipynb"
    raw = nbformat.v4.new_raw_cell("# IF PUBLIC\n# END IF")
    nbformat.write(nbformat.v4.new_notebook(cells=[raw]), path)
    with pytest.raises(SystemExit, match="an IF block in a raw cell"):
        build.select_variants(path, None)


# --- the masters --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def staged_masters(tmp_path_factory) -> dict[str, Path]:
    """Every master converted to .ipynb once (jupytext), before any selection."""
    folder = tmp_path_factory.mktemp("masters")
    staged = {}
    for master in build.masters():
        path = folder / f"{master.parent.name}.ipynb"
        subprocess.run(
            [str(build.BIN / "jupytext"), "--quiet", "--to", "ipynb", "--output", str(path)]
            + [str(master)],
            check=True,
        )
        staged[master.parent.name] = path
    return staged


def test_every_variant_of_every_master_selects_cleanly(staged_masters, tmp_path):
    """For the public edition and sixty courses (every variant of every family among them):
    the selection succeeds, leaves no marker, no placeholder and no commented-out variant line,
    and names at least one seeded hidden test; the questions stay the same."""
    for name, staged in staged_masters.items():
        questions = None
        for seed in (None, *SEEDS):
            copy = tmp_path / f"{name}-{seed}.ipynb"
            copy.write_bytes(staged.read_bytes())
            selected = build.select_variants(copy, seed)
            assert selected["seeded"], f"{name}, seed {seed}: no seeded hidden test"
            cells = nbformat.read(copy, as_version=4).cells
            text = "\n".join(cell.source for cell in cells)
            for marker in ("# IF ", "# END IF", "<!-- IF", "<!-- END IF", "<!-- LET", "{{"):
                assert marker not in text, f"{name}, seed {seed}: {marker!r} left"
            assert not any(line.lstrip().startswith("#:") for line in text.splitlines()), (
                f"{name}, seed {seed}: a '#:' line left"
            )
            asked = [cell.source for cell in cells if "# BEGIN QUESTION" in cell.source]
            assert questions in (None, asked), f"{name}, seed {seed}: other questions"
            questions = asked
            copy.unlink()


def test_the_public_written_answers_keep_the_public_numbers(staged_masters, tmp_path):
    expected = {
        "01-derivation": ["σ ≈ 158", "MNIST batches of 64"],
        "02-training": ["σ ≈ 90.5", "108\ntimes"],
        "03-bug-zoo": ["`loss_a` has\nσ ≈ 90.5 and collapses", "σ ≈ 0.00071"],
    }
    for name, staged in staged_masters.items():
        copy = tmp_path / staged.name
        copy.write_bytes(staged.read_bytes())
        build.select_variants(copy, None)
        text = "\n".join(cell.source for cell in nbformat.read(copy, as_version=4).cells)
        for part in expected[name]:
            assert part in text, f"{name}: {part!r} not in its public answers"


def test_a_hung_otter_assign_is_killed_and_run_once_more(tmp_path, monkeypatch, capsys):
    """otter-grader can hang after its work (its log server's thread spins on a closed
    connection): ``run_otter_assign`` kills a run that exceeds its timeout, cleans the
    half-written editions and runs it once more; a second hang stops the build clearly."""
    notebook = tmp_path / "staged" / "derivation.ipynb"
    notebook.parent.mkdir()
    notebook.write_text("{}")
    out = tmp_path / "out"
    calls = []

    def fake_run(command, timeout, **kwargs):
        calls.append((command, timeout))
        (out / "student").mkdir(parents=True, exist_ok=True)
        if len(calls) < hang_times + 1:
            raise subprocess.TimeoutExpired(command, timeout)
        return subprocess.CompletedProcess(command, 0, "done", "")

    monkeypatch.setattr(build.subprocess, "run", fake_run)
    hang_times = 1
    result = build.run_otter_assign(notebook, out, timeout=5)
    assert result.returncode == 0 and len(calls) == 2
    assert calls[0][0][1:3] == ["assign", "derivation.ipynb"] and calls[0][1] == 5
    assert "did not end within 5 s (attempt 1 of 2" in capsys.readouterr().err
    calls.clear()
    hang_times = 2
    with pytest.raises(SystemExit, match="hung twice"):
        build.run_otter_assign(notebook, out, timeout=5)
    assert len(calls) == 2 and not (out / "student").exists()
