"""The page *For instructors*: in the table of contents, one learning-goal entry per chapter,
and time estimates that the sources still give (the page states how they are computed)."""

from __future__ import annotations

import re

from conftest import REPO, chapter_pages, source_of, toc_files

PAGE = REPO / "book" / "instructors.md"
WORDS_PER_MINUTE, MINUTES_PER_CODE_CELL, MINUTES_PER_EXERCISE = 150, 1, 10


def chapters() -> list[str]:
    return chapter_pages()


def title(page: str) -> str:
    return re.search(r"^# (.+)$", source_of(page).read_text(), re.M).group(1)


def estimate(page: str) -> tuple[int, int, int, int]:
    """(prose words, visible code cells, exercises, minutes rounded to 5) of a chapter, by the
    rates the page states."""
    text = re.sub(r"\A---\n.*?\n---\n", "", source_of(page).read_text(), flags=re.S)
    cells = re.findall(r"^```\{code-cell\}[^\n]*\n(.*?)^```", text, re.S | re.M)
    visible = [cell for cell in cells if "remove-cell" not in "\n".join(cell.split("\n")[:3])]
    prose = re.sub(r"^(`{3,})[^\n]*\n.*?^\1\s*$", " ", text, flags=re.S | re.M)
    words = len(re.findall(r"[A-Za-zσβλ]\w*", prose))
    exercises = len(re.findall(r"^````\{exercise\}", text, re.M))
    minutes = (
        words / WORDS_PER_MINUTE
        + MINUTES_PER_CODE_CELL * len(visible)
        + MINUTES_PER_EXERCISE * exercises
    )
    return words, len(visible), exercises, 5 * round(minutes / 5)


def test_the_page_is_in_the_table_of_contents():
    assert "book/instructors" in toc_files()


def test_every_chapter_has_its_learning_goals_on_the_page():
    goals = PAGE.read_text().split("## What a student can do after each chapter", 1)[1]
    goals = goals.split("\n## ", 1)[0]
    for page in chapters():
        link = f"*[{title(page)}]({page.removeprefix('book/')}.md)*: "
        assert link in goals, f"no learning goals for {page}"
        entry = goals.split(link, 1)[1].split("\n- ", 1)[0]
        assert len(entry.split()) >= 15, f"the goals of {page} are too short"


def test_the_time_table_is_what_the_sources_give():
    table = PAGE.read_text().split("| Chapter | Exercises |", 1)[1].split("\n\n", 1)[0]
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    assert [cells[0].strip() for cells in rows] == [title(page) for page in chapters()]
    for cells, page in zip(rows, chapters()):
        words, code_cells, exercises, minutes = estimate(page)
        stated = [int(cells[1]), int(cells[2].split()[0])]
        assert stated == [exercises, minutes], (
            f"{page}: the page says {stated} (exercises, minutes); its {words} words, "
            f"{code_cells} code cells and {exercises} exercises give {minutes} minutes"
        )


ACTIVITIES = ("see ", "watch ", "move ", "look ", "learn ", "end ", "connect ")
"""First words of a bullet that describe an activity, not what a student can then do."""


def test_every_chapter_states_what_a_student_can_do_afterwards():
    """Each chapter's Overview lists its learning goals as things a student can do after it
    (testable statements), as the page *For instructors* does: not "see" or "watch"."""
    for page in chapters():
        text = source_of(page).read_text()
        overview = text.split("## Overview", 1)[1].split("\n## ", 1)[0]
        assert "After this chapter you can:\n\n" in overview, f"{page}: no learning goals"
        goals = overview.split("After this chapter you can:\n\n", 1)[1].split("\n\n", 1)[0]
        bullets = re.findall(r"^- (.*)$", goals, re.M)
        assert len(bullets) >= 3, f"{page}: fewer than three learning goals"
        for bullet in bullets:
            assert not bullet.lower().startswith(ACTIVITIES), f"{page}: an activity: {bullet}"
