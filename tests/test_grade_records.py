"""The records of assignments/grade.py: regrades, hand marks, roster.csv and feedback files.

A submission is identified by its file's SHA-256; a changed file is graded again and its earlier
result kept in a history; the hand marks typed into scores.csv are merged into the totals (a bad
one is an error naming the file, the submission and the column); roster.csv has one line per
student; feedback/<student>.md shows otter's report of the public tests and only the names of
the hidden tests that failed. The record keeping is plain functions, tested here on synthetic
rows and on results made by otter's own test runner (in this process: no ``otter run``, fast);
``grade.run_otter`` is replaced where a folder is graded. One end-to-end test at the end grades
real submissions with ``otter run`` in the sandbox (marked ``assignments``, a few minutes).
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "assignments"))
import grade  # noqa: E402  (assignments/grade.py)

# A synthetic assignment in otter's formats: two autograded questions with public and hidden
# test cases (one named), one question graded by hand.
Q1_TESTS = """from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=None, hidden=False)
def test_q1_form(answer):
    assert isinstance(answer, float), 'answer must be a float'

@test_case(points=1, hidden=True)
def test_q1_value(answer):
    assert abs(answer - 0.123456) < 1e-06, 'the secret expected value is 0.123456'

@test_case(points=1, hidden=True, name='q1 sign')
def test_q1_sign(answer):
    assert answer > 0.05, 'answer must exceed the hidden threshold 0.05'
"""
Q2_TESTS = """from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=None, hidden=False)
def test_q2_form(count):
    assert isinstance(count, int), 'count must be an int'

@test_case(points=1, hidden=True)
def test_q2_value(count):
    assert count == 42, 'count must be the hidden number 42'
"""
TESTS = {"q1": Q1_TESTS, "q2": Q2_TESTS}
# What no student may read: lines and messages of the hidden tests above
HIDDEN_TEXT = [
    "abs(answer - 0.123456)",
    "the secret expected value is 0.123456",
    "answer > 0.05",
    "hidden threshold",
    "count == 42",
    "the hidden number 42",
]
QUESTIONS = [
    {"name": "q1", "points": 2.0, "manual": False},
    {"name": "q2", "points": 1.0, "manual": False},
    {"name": "q3", "points": 2, "manual": True},
]
AUTO, MANUAL = ["q1", "q2"], [QUESTIONS[2]]
HAND = "q3 (by hand, /2)"
RIGHT = {"answer": 0.123456, "count": 42}
WRONG = {"answer": 1, "count": 42}  # q1: an int (public test fails), not the value: 1 of 2


def otter_results(answers: dict) -> dict:
    """results.json as ``otter run`` writes it for a notebook whose globals are ``answers``:
    otter's own test files, test runner and Gradescope format, run in this process."""
    from otter.run.run_autograder.autograder_config import AutograderConfig
    from otter.test_files import ExceptionTestFile, GradingResults

    files = []
    for name, source in TESTS.items():
        test_file = ExceptionTestFile.from_string(source, path=f"tests/{name}.py")
        test_file.run(dict(answers))
        files.append(test_file)
    return GradingResults(files).to_gradescope_dict(AutograderConfig())


@pytest.fixture
def assignment(tmp_path) -> Path:
    """A folder like build.py's: questions.json and an autograder zip with the tests above."""
    folder = tmp_path / "assignment"
    (folder / "autograder").mkdir(parents=True)
    with zipfile.ZipFile(folder / "autograder" / "synthetic-autograder.zip", "w") as archive:
        for name, source in TESTS.items():
            archive.writestr(f"tests/{name}.py", source)
    meta = {
        "assignment": "99-synthetic",
        "notebook": "synthetic.ipynb",
        "autograder_zip": "autograder/synthetic-autograder.zip",
        "questions": QUESTIONS,
        "setup_cells": [],
    }
    (folder / "questions.json").write_text(json.dumps(meta))
    return folder


@pytest.fixture
def fake_otter(monkeypatch) -> list[str]:
    """``grade.run_otter`` replaced: a submission is a JSON file of answers, graded by
    :func:`otter_results`. Returns the names of the files graded, in order."""
    graded = []

    def run_otter(path, autograder_zip, out, timeout, sandbox=True, memory_gb=1.0):
        graded.append(path.name)
        results = otter_results(json.loads(path.read_text()))
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(json.dumps(results))
        return {"status": "ok", "seconds": 0.0, "results": results, "log": ""}

    monkeypatch.setattr(grade, "run_otter", run_otter)
    return graded


def answers(folder: Path, name: str, values: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.ipynb"
    path.write_text(json.dumps(values))
    return path


def type_marks(csv_file: Path, marks: dict[str, str], column: str = HAND) -> None:
    """Type ``{submission: text}`` into a column of scores.csv, as an instructor does."""
    with open(csv_file, newline="") as f:
        lines = list(csv.reader(f))
    index = lines[0].index(column)
    for line in lines[1:]:
        if line[0] in marks:
            line[index] = marks[line[0]]
    with open(csv_file, "w", newline="") as f:
        csv.writer(f).writerows(lines)


def rows_of(out: Path) -> dict[str, dict]:
    return {row["submission"]: row for row in json.loads((out / "scores.json").read_text())}


def a_row(name: str = "ann.ipynb", **fields) -> dict:
    row = {
        "submission": name,
        "sha256": "a" * 64,
        "graded_at": "2025-01-31T14:05:09Z",
        "status": "ok",
        "scores": {"q1": 1.0, "q2": 1.0},
        "flags": [],
    }
    return grade.apply_hand_marks({**row, **fields}, {}, QUESTIONS)


# --- identity: hash and plan ------------------------------------------------------------------


def test_the_hash_is_the_sha256_of_the_bytes(tmp_path):
    path = tmp_path / "ann.ipynb"
    path.write_bytes(b'{"cells": []}')
    assert grade.file_sha256(path) == hashlib.sha256(b'{"cells": []}').hexdigest()
    path.write_bytes(b'{"cells": [] }')
    assert grade.file_sha256(path) == hashlib.sha256(b'{"cells": [] }').hexdigest()


def test_utc_now_is_iso_8601_in_utc():
    import re

    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", grade.utc_now())


def test_the_plan_skips_unchanged_files_and_regrades_changed_ones():
    rows = [
        {"submission": "same.ipynb", "sha256": "1" * 64},
        {"submission": "changed.ipynb", "sha256": "2" * 64},
        {"submission": "old.ipynb"},  # written by a grade.py that kept no hash
        {"submission": "gone.ipynb", "sha256": "3" * 64},
    ]
    hashes = {
        "same.ipynb": "1" * 64,
        "changed.ipynb": "9" * 64,
        "old.ipynb": "4" * 64,
        "new.ipynb": "5" * 64,
    }
    assert grade.plan_grading(rows, hashes) == {
        "same.ipynb": "unchanged",
        "changed.ipynb": "changed",
        "old.ipynb": "no hash",
        "new.ipynb": "new",
        "gone.ipynb": "vanished",
    }


def test_a_regrade_keeps_the_earlier_result_in_the_history_and_the_hand_marks():
    first = grade.apply_hand_marks(a_row(), {"q3": 1.5}, QUESTIONS)
    new = a_row(sha256="b" * 64, graded_at="2025-02-01T09:00:00Z", scores={"q1": 2.0, "q2": 1.0})
    second = grade.regraded_row(first, new, QUESTIONS)
    assert second["history"] == [
        {
            "sha256": "a" * 64,
            "graded_at": "2025-01-31T14:05:09Z",
            "status": "ok",
            "scores": {"q1": 1.0, "q2": 1.0},
            "auto_total": 2.0,
            "hand": {"q3": 1.5},
            "hand_total": 1.5,
            "total": 3.5,
            "possible": 5.0,
            "flags": [],
        }
    ]
    assert second["sha256"] == "b" * 64 and second["graded_at"] == "2025-02-01T09:00:00Z"
    assert (second["auto_total"], second["hand"], second["total"]) == (3.0, {"q3": 1.5}, 4.5)
    assert second["regraded"] == grade.REGRADED_NOTE
    # a third version: the history grows, oldest first
    third = grade.regraded_row(second, a_row(sha256="c" * 64), QUESTIONS)
    assert [entry["sha256"] for entry in third["history"]] == ["a" * 64, "b" * 64]
    assert third["history"][1]["total"] == 4.5


def test_a_regrade_without_hand_marks_is_not_flagged_unless_marks_were_typed():
    new = a_row(sha256="b" * 64)
    assert "regraded" not in grade.regraded_row(a_row(), new, QUESTIONS)
    typed = grade.regraded_row(a_row(), new, QUESTIONS, marks_in_sheet=True)
    assert typed["regraded"] == grade.REGRADED_NOTE and len(typed["history"]) == 1


# --- hand marks -------------------------------------------------------------------------------


def test_hand_marks_are_added_to_the_total_and_possible_counts_what_is_marked():
    unmarked = a_row()
    assert (unmarked["auto_total"], unmarked["hand_total"], unmarked["total"]) == (2.0, 0.0, 2.0)
    assert (unmarked["possible"], unmarked["auto_possible"], unmarked["unmarked"]) == (3, 3, ["q3"])
    marked = grade.apply_hand_marks(unmarked, {"q3": 1.5}, QUESTIONS)
    assert (marked["auto_total"], marked["hand_total"], marked["total"]) == (2.0, 1.5, 3.5)
    assert (marked["possible"], marked["unmarked"], marked["hand"]) == (5, [], {"q3": 1.5})
    assert unmarked["total"] == 2.0, "apply_hand_marks must not change its argument"


@pytest.mark.parametrize(
    "text, value", [("", None), ("  ", None), ("2", 2.0), (" 1.5 ", 1.5), ("0", 0.0), ("-0", 0.0)]
)
def test_a_hand_mark_is_empty_or_a_number_of_points(text, value):
    assert grade.parse_hand_mark(text, 2) == value


@pytest.mark.parametrize(
    "text, reason",
    [
        ("two", "'two' is not a number"),
        ("1,5", "'1,5' is not a number"),
        ("-1", "'-1' is negative"),
        ("2.5", "'2.5' is more than the question's 2 points"),
        ("nan", "'nan' is not a number of points"),
        ("inf", "'inf' is not a number of points"),
    ],
)
def test_a_bad_hand_mark_is_an_error_naming_file_submission_and_column(tmp_path, text, reason):
    csv_file = tmp_path / "scores.csv"
    rows = [a_row("ann.ipynb"), a_row("bob.ipynb")]
    with open(csv_file, "w", newline="") as f:
        csv.writer(f).writerows(
            [
                grade._header(AUTO, MANUAL),
                grade._csv_row(rows[0], AUTO, MANUAL, {"q3": "1"}),
                grade._csv_row(rows[1], AUTO, MANUAL, {"q3": text}),
            ]
        )
    with pytest.raises(grade.RecordError) as error:
        grade.read_hand_marks(csv_file, MANUAL)
    assert f"{csv_file}: bob.ipynb, column '{HAND}': {reason}" in str(error.value)
    assert "ann.ipynb" not in str(error.value)


def test_every_bad_hand_mark_is_named_at_once(tmp_path):
    manual = [
        {"name": "q3", "points": 2, "manual": True},
        {"name": "q4", "points": 1, "manual": True},
    ]
    csv_file = tmp_path / "scores.csv"
    with open(csv_file, "w", newline="") as f:
        csv.writer(f).writerows(
            [
                grade._header(AUTO, manual),
                grade._csv_row(a_row("ann.ipynb"), AUTO, manual, {"q3": "x", "q4": "1"}),
                grade._csv_row(a_row("bob.ipynb"), AUTO, manual, {"q3": "1", "q4": "5"}),
            ]
        )
    with pytest.raises(grade.RecordError) as error:
        grade.read_hand_marks(csv_file, manual)
    message = str(error.value)
    assert "ann.ipynb, column 'q3 (by hand, /2)': 'x' is not a number" in message
    assert (
        "bob.ipynb, column 'q4 (by hand, /1)': '5' is more than the question's 1 points" in message
    )


def test_good_hand_marks_are_read_and_empty_cells_left_out(tmp_path):
    csv_file = tmp_path / "scores.csv"
    with open(csv_file, "w", newline="", encoding="utf-8-sig") as f:  # a spreadsheet's BOM
        csv.writer(f).writerows(
            [
                grade._header(AUTO, MANUAL),
                grade._csv_row(a_row("ann.ipynb"), AUTO, MANUAL, {"q3": "1.5"}),
                grade._csv_row(a_row("bob.ipynb"), AUTO, MANUAL),
            ]
        )
    assert grade.read_hand_marks(csv_file, MANUAL) == {"ann.ipynb": {"q3": 1.5}}
    assert grade.read_hand_marks(tmp_path / "missing.csv", MANUAL) == {}


def test_a_submission_with_two_lines_in_scores_csv_is_an_error(tmp_path):
    csv_file = tmp_path / "scores.csv"
    line = grade._csv_row(a_row(), AUTO, MANUAL)
    with open(csv_file, "w", newline="") as f:
        csv.writer(f).writerows([grade._header(AUTO, MANUAL), line, line])
    with pytest.raises(grade.RecordError, match=r"ann.ipynb has two lines \(2 and 3\)"):
        grade.read_sheet(csv_file)


def test_a_scores_csv_saved_with_semicolons_is_refused(tmp_path):
    """Else its hand marks, in no column the grader knows, would silently count for nothing."""
    csv_file = tmp_path / "scores.csv"
    csv_file.write_text(f"submission;status;q1;q2;{HAND}\nann.ipynb;ok;1.0;1.0;2\n")
    with pytest.raises(grade.RecordError, match="does not start with the column 'submission'"):
        grade.read_hand_marks(csv_file, MANUAL)


def test_scores_csv_keeps_typed_lines_and_rewrites_fresh_ones(tmp_path):
    csv_file = tmp_path / "scores.csv"
    ann, bob = a_row("ann.ipynb"), a_row("bob.ipynb")
    typed = [str(cell) for cell in grade._csv_row(ann, AUTO, MANUAL)]
    typed[-1], typed[1] = "2", "ok (looked at it)"  # a mark, and a note in another cell
    with open(csv_file, "w", newline="") as f:
        csv.writer(f).writerows([grade._header(AUTO, MANUAL), typed])
    grade._write_csv(csv_file, [ann, bob], AUTO, MANUAL)
    header, lines = grade.read_sheet(csv_file)
    assert lines["ann.ipynb"] == typed, "a line not graded again stays as typed"
    assert lines["bob.ipynb"][0] == "bob.ipynb" and list(lines) == ["ann.ipynb", "bob.ipynb"]
    regraded = {**ann, "scores": {"q1": 2.0, "q2": 1.0}, "total": 3.0, "regraded": "check"}
    grade._write_csv(csv_file, [regraded, bob], AUTO, MANUAL, fresh={"ann.ipynb"})
    header, lines = grade.read_sheet(csv_file)
    line = dict(zip(header, lines["ann.ipynb"]))
    assert (line["status"], line["q1"], line["total"], line["regraded"]) == (
        "ok",
        "2.0",
        "3.0",
        "check",
    )
    assert line[HAND] == "2", "the hand mark typed into the old line stays"


def test_a_scores_csv_of_an_older_grader_is_rewritten_with_its_hand_marks(tmp_path):
    csv_file = tmp_path / "scores.csv"
    old_header = ["submission", "status", "q1", "q2", "total", "possible", "flags", HAND]
    with open(csv_file, "w", newline="") as f:
        csv.writer(f).writerows(
            [old_header, ["ann.ipynb", "ok", "1.0", "1.0", "2.0", "3", "", "1"]]
        )
    grade._write_csv(csv_file, [a_row("ann.ipynb")], AUTO, MANUAL)
    header, lines = grade.read_sheet(csv_file)
    assert header == grade._header(AUTO, MANUAL)
    assert dict(zip(header, lines["ann.ipynb"]))[HAND] == "1"


# --- roster -----------------------------------------------------------------------------------


def test_the_roster_has_one_line_per_student_with_total_and_points():
    rows = [
        grade.apply_hand_marks(a_row("s2.ipynb"), {"q3": 1.5}, QUESTIONS),
        a_row("s1.zip", scores={"q1": 2.0, "q2": 1.0}),
    ]
    assert grade.roster_rows(rows, QUESTIONS) == [
        ["student", "total", "possible"],
        ["s1", "3", "5"],
        ["s2", "3.5", "5"],
    ]


def test_two_submissions_of_one_student_are_an_error_in_the_roster():
    with pytest.raises(grade.RecordError, match="two submissions of the student 'ann'"):
        grade.roster_rows([a_row("ann.ipynb"), a_row("ann.zip")], QUESTIONS)


# --- what otter reports, and what a student may read of it -------------------------------------


def test_test_cases_are_named_as_otter_names_them(assignment):
    from otter.test_files import ExceptionTestFile

    cases = grade.read_test_cases(assignment / "autograder" / "synthetic-autograder.zip")
    for question, source in TESTS.items():
        otter_cases = ExceptionTestFile.from_string(source).test_cases
        assert [(c["name"], c["hidden"]) for c in cases[question]] == [
            (case.name, case.hidden) for case in otter_cases
        ]
    assert [c["name"] for c in cases["q1"]] == ["q1 - 1", "q1 - 2", "q1 sign"]
    assert "0.123456" in cases["q1"][1]["source"]
    hidden = grade.hidden_source_lines(cases)
    assert (
        "assert abs(answer - 0.123456) < 1e-06, 'the secret expected value is 0.123456'" in hidden
    )
    assert not any("isinstance" in line for line in hidden), "public lines are no secret"


def test_otter_results_hold_hidden_text_that_the_feedback_leaves_out(assignment):
    results = otter_results(WRONG)
    q1 = next(test for test in results["tests"] if test["name"] == "q1")
    # otter's own output for the question has the hidden test's line and message ...
    assert "0.123456" in q1["output"] and (q1["score"], q1["max_score"]) == (1, 2.0)
    cases = grade.read_test_cases(assignment / "autograder" / "synthetic-autograder.zip")
    details = grade.otter_feedback(results, QUESTIONS, cases)
    # ... the feedback keeps the public report and the names of the failed hidden cases
    assert list(details) == ["q1"], "q2 passed fully"
    assert details["q1"]["hidden_failed"] == ["q1 - 2"]
    assert "answer must be a float" in details["q1"]["public"]
    assert details["q1"]["public"].startswith("q1 results:")
    assert not any(text in json.dumps(details) for text in HIDDEN_TEXT)


def test_public_summaries_are_split_per_question():
    text = otter_results({"answer": 1, "count": 4.0})["tests"][0]["output"]
    parts = grade.public_summaries(text, ["q1", "q2"])
    assert set(parts) == {"q1", "q2"}
    assert "answer must be a float" in parts["q1"] and "count" not in parts["q1"]
    assert "count must be an int" in parts["q2"] and "answer" not in parts["q2"]
    assert grade.public_summaries("", ["q1"]) == {}


def test_failed_hidden_cases_come_from_the_zip_names_only(assignment):
    results = otter_results({"answer": 0.01, "count": 1})
    for test in results["tests"]:
        if test["name"] == "q2":  # a forged case name in otter's output (a tampered kernel)
            test["output"] += "\n\n    forged secret result:\n        ❌ Test case failed"
    cases = grade.read_test_cases(assignment / "autograder" / "synthetic-autograder.zip")
    details = grade.otter_feedback(results, QUESTIONS, cases)
    assert details["q1"]["hidden_failed"] == ["q1 - 2", "q1 sign"]
    assert details["q2"]["hidden_failed"] == ["q2 - 2"]
    assert grade.failed_cases(results["tests"][2]["output"])[-1] == "forged secret"


def test_no_results_give_no_details():
    assert grade.otter_feedback(None, QUESTIONS, {}) == {}


def test_the_feedback_file_shows_points_public_messages_and_hidden_names_only(assignment):
    cases = grade.read_test_cases(assignment / "autograder" / "synthetic-autograder.zip")
    results = otter_results(WRONG)
    row = a_row("s1234567.ipynb", scores={"q1": 1, "q2": 1.0})
    row["feedback"] = grade.otter_feedback(results, QUESTIONS, cases)
    row = grade.apply_hand_marks(row, {"q3": 1.5}, QUESTIONS)
    text = grade.feedback_text(row, QUESTIONS, grade.hidden_source_lines(cases), "99-synthetic")
    assert text.startswith("# Feedback: s1234567\n")
    assert (
        "Assignment 99-synthetic, submission `s1234567.ipynb`, graded 2025-01-31T14:05:09Z" in text
    )
    assert "**Total: 3.5 / 5**" in text
    for line in ("| q1 | 1 / 2 |", "| q2 | 1 / 1 |", "| q3 (graded by hand) | 1.5 / 2 |"):
        assert line in text
    assert "## q1: 1 / 2" in text and "## q2" not in text
    assert "AssertionError: answer must be a float" in text
    assert "Hidden tests that failed: q1 - 2 (not shown)." in text
    assert not any(hidden in text for hidden in HIDDEN_TEXT), text
    unmarked = grade.feedback_text(grade.apply_hand_marks(row, {}, QUESTIONS), QUESTIONS)
    assert "| q3 (graded by hand) | not marked yet (/ 2) |" in unmarked


def test_a_hidden_line_in_the_public_report_is_removed(assignment):
    """Defence in depth: a tampered kernel can make otter's public report say anything,
    also a hidden test's line (its source is in the kernel's memory); the feedback drops it."""
    cases = grade.read_test_cases(assignment / "autograder" / "synthetic-autograder.zip")
    row = a_row(scores={"q1": 0.0, "q2": 1.0})
    leaked = (
        "q1 results:\n    q1 - 2 result:\n"
        "              assert answer > 0.05, 'answer must exceed the hidden threshold 0.05'"
    )
    row["feedback"] = {"q1": {"public": leaked, "hidden_failed": []}}
    text = grade.feedback_text(row, QUESTIONS, grade.hidden_source_lines(cases))
    assert "answer > 0.05" not in text and grade.REMOVED_LINE in text
    assert "q1 results:" in text


def test_a_submission_that_could_not_be_graded_says_so():
    row = a_row(status="timeout", scores={"q1": 0, "q2": 0})
    text = grade.feedback_text(row, QUESTIONS)
    assert "could not be graded (it ran longer than the time limit)" in text
    assert "**Total: 0 / 5**" in text and "## q1" not in text


def test_a_message_with_backticks_stays_inside_its_code_block():
    fenced = grade._fence("a ``` fence\nand ```` four")
    assert fenced.startswith("`````text\n") and fenced.endswith("\n`````")


# --- a folder graded and graded again (otter replaced) ------------------------------------------


def test_regrades_skips_history_and_vanished_files(assignment, fake_otter, tmp_path, capsys):
    folder, out = tmp_path / "submissions", tmp_path / "graded"
    answers(folder, "ann", RIGHT)
    answers(folder, "bob", WRONG)
    answers(folder, "cat", RIGHT)
    grade.grade_folder(assignment, folder, out, sandbox=False)
    assert fake_otter == ["ann.ipynb", "bob.ipynb", "cat.ipynb"]
    first = rows_of(out)
    assert first["bob.ipynb"]["sha256"] == grade.file_sha256(folder / "bob.ipynb")
    assert (first["bob.ipynb"]["auto_total"], first["ann.ipynb"]["auto_total"]) == (2.0, 3.0)
    # nothing changed: nothing graded again, the rows stay as they are
    grade.grade_folder(assignment, folder, out, sandbox=False)
    assert fake_otter == ["ann.ipynb", "bob.ipynb", "cat.ipynb"]
    assert rows_of(out) == first
    assert "bob.ipynb: already graded, skipped" in capsys.readouterr().out
    # marks typed in and merged; bob resubmits under the same name; cat's file goes
    type_marks(out / "scores.csv", {"ann.ipynb": "2", "bob.ipynb": "1"})
    grade.merge_records(assignment, out)
    answers(folder, "bob", {"answer": 0.123456, "count": 1})
    (folder / "cat.ipynb").unlink()
    rows = grade.grade_folder(assignment, folder, out, sandbox=False)
    printed = capsys.readouterr().out
    assert fake_otter[3:] == ["bob.ipynb"], "only the changed file is graded again"
    assert "bob.ipynb: changed since it was graded, graded again" in printed
    assert f"cat.ipynb: no longer in {folder}, its row stays" in printed
    assert [row["submission"] for row in rows] == ["ann.ipynb", "bob.ipynb", "cat.ipynb"]
    now = rows_of(out)
    assert now["ann.ipynb"]["graded_at"] == first["ann.ipynb"]["graded_at"]
    assert now["cat.ipynb"] == {**first["cat.ipynb"]}
    bob = now["bob.ipynb"]
    assert bob["sha256"] == grade.file_sha256(folder / "bob.ipynb") != first["bob.ipynb"]["sha256"]
    assert [entry["sha256"] for entry in bob["history"]] == [first["bob.ipynb"]["sha256"]]
    assert bob["history"][0]["scores"] == first["bob.ipynb"]["scores"]
    assert (bob["history"][0]["hand"], bob["history"][0]["total"]) == ({"q3": 1.0}, 3.0)
    assert bob["scores"] == {"q1": 2.0, "q2": 0.0}
    assert (bob["hand"], bob["total"], bob["regraded"]) == ({"q3": 1.0}, 3.0, grade.REGRADED_NOTE)
    header, lines = grade.read_sheet(out / "scores.csv")
    line = dict(zip(header, lines["bob.ipynb"]))
    assert (float(line["q2"]), line[HAND], line["regraded"]) == (0, "1", grade.REGRADED_NOTE)


def test_merge_writes_totals_roster_and_feedback(assignment, fake_otter, tmp_path, capsys):
    folder, out = tmp_path / "submissions", tmp_path / "graded"
    answers(folder, "s1", RIGHT)
    answers(folder, "s2", WRONG)
    grade.grade_folder(assignment, folder, out, sandbox=False)
    type_marks(out / "scores.csv", {"s1.ipynb": "2", "s2.ipynb": "0.5"})
    rows = {row["submission"]: row for row in grade.merge_records(assignment, out)}
    assert rows == rows_of(out)
    assert (rows["s1.ipynb"]["total"], rows["s1.ipynb"]["possible"]) == (5.0, 5)
    assert (rows["s2.ipynb"]["auto_total"], rows["s2.ipynb"]["hand_total"]) == (2.0, 0.5)
    assert (rows["s2.ipynb"]["total"], rows["s2.ipynb"]["unmarked"]) == (2.5, [])
    header, lines = grade.read_sheet(out / "scores.csv")
    line = dict(zip(header, lines["s2.ipynb"]))
    assert (line["auto_total"], line["hand_total"], line["total"], line[HAND]) == (
        "2.0",
        "0.5",
        "2.5",
        "0.5",
    )
    with open(out / "roster.csv", newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [
            ["student", "total", "possible"],
            ["s1", "5", "5"],
            ["s2", "2.5", "5"],
        ]
    feedback = {path.name: path.read_text() for path in (out / "feedback").iterdir()}
    assert sorted(feedback) == ["s1.md", "s2.md"]
    assert "**Total: 5 / 5**" in feedback["s1.md"] and "## q" not in feedback["s1.md"]
    assert "Hidden tests that failed: q1 - 2" in feedback["s2.md"]
    for text in feedback.values():
        assert not any(hidden in text for hidden in HIDDEN_TEXT)
    # scores.json keeps otter's whole messages for the instructor: the hidden text is there
    assert "0.123456" in rows["s2.ipynb"]["failures"]["q1"]
    # a mark changed by hand, merged again: nothing is graded
    type_marks(out / "scores.csv", {"s2.ipynb": "1"})
    assert grade.merge_records(assignment, out)[1]["total"] == 3.0
    assert fake_otter == ["s1.ipynb", "s2.ipynb"]


def test_a_bad_mark_stops_the_merge_and_nothing_is_written(assignment, fake_otter, tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "graded"
    answers(folder, "s1", RIGHT)
    grade.grade_folder(assignment, folder, out, sandbox=False)
    type_marks(out / "scores.csv", {"s1.ipynb": "3"})
    before = {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()}
    with pytest.raises(grade.RecordError, match=r"s1.ipynb, column 'q3 \(by hand, /2\)'"):
        grade.merge_records(assignment, out)
    assert {path.name: path.read_bytes() for path in out.iterdir() if path.is_file()} == before
    assert not (out / "roster.csv").exists()


def test_the_command_line_refuses_a_bad_mark_before_grading(
    assignment, fake_otter, tmp_path, capsys
):
    folder, out = tmp_path / "submissions", tmp_path / "graded"
    answers(folder, "s1", RIGHT)
    command = [str(assignment), str(folder), "--out", str(out), "--unsafe"]
    assert grade.main(command) == 0
    assert (out / "roster.csv").is_file() and (out / "feedback" / "s1.md").is_file()
    type_marks(out / "scores.csv", {"s1.ipynb": "-1"})
    answers(folder, "s1", WRONG)  # a resubmission that a run would grade
    capsys.readouterr()
    for extra in ([], ["--merge-only"]):
        assert grade.main(command + extra) == 2
        error = capsys.readouterr().err
        assert "grade.py: hand marks must be numbers" in error
        assert f"{out / 'scores.csv'}: s1.ipynb, column '{HAND}': '-1' is negative" in error
    assert fake_otter == ["s1.ipynb"], "nothing was graded after the bad mark"


def test_clearing_the_regraded_cell_clears_the_note(assignment, fake_otter, tmp_path):
    folder, out = tmp_path / "submissions", tmp_path / "graded"
    command = [str(assignment), str(folder), "--out", str(out), "--unsafe"]
    answers(folder, "s1", WRONG)
    assert grade.main(command) == 0
    type_marks(out / "scores.csv", {"s1.ipynb": "1"})
    answers(folder, "s1", RIGHT)
    assert grade.main(command) == 0
    assert rows_of(out)["s1.ipynb"]["regraded"] == grade.REGRADED_NOTE
    assert rows_of(out)["s1.ipynb"]["history"][0]["hand"] == {"q3": 1.0}
    type_marks(out / "scores.csv", {"s1.ipynb": ""}, column="regraded")
    assert grade.main(command + ["--merge-only"]) == 0
    row = rows_of(out)["s1.ipynb"]
    assert "regraded" not in row and (row["hand"], row["total"]) == ({"q3": 1.0}, 4.0)
    assert fake_otter == ["s1.ipynb", "s1.ipynb"]


def test_merge_only_needs_something_graded(assignment, tmp_path, capsys):
    command = [str(assignment), str(tmp_path), "--out", str(tmp_path / "graded"), "--merge-only"]
    assert grade.main(command) == 2
    assert "nothing has been graded" in capsys.readouterr().err


def test_two_files_of_one_student_are_refused(assignment, fake_otter, tmp_path):
    answers(tmp_path / "submissions", "ann", RIGHT)
    (tmp_path / "submissions" / "ann.zip").write_bytes(b"PK")
    with pytest.raises(SystemExit, match="two submissions of one student"):
        grade.grade_folder(assignment, tmp_path / "submissions", tmp_path / "graded", sandbox=False)
    assert fake_otter == []


def test_a_submission_named_feedback_is_refused(assignment, fake_otter, tmp_path):
    """Its otter results (hidden tests' lines) would be written into the feedback folder."""
    answers(tmp_path / "submissions", "feedback", RIGHT)
    with pytest.raises(SystemExit, match="a submission named 'feedback'"):
        grade.grade_folder(assignment, tmp_path / "submissions", tmp_path / "graded", sandbox=False)
    assert fake_otter == []


# --- end to end: real otter runs in the sandbox ------------------------------------------------
