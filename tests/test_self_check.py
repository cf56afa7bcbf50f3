"""The self-check questions (_ext/self_check.py): the parser of the directive's body, the
errors that stop a build, the HTML it writes, and the questions of every chapter."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, chapter_pages, source_of

QUESTIONS_PER_CHAPTER = 3
LINE_WIDTH = 100
BLOCK = re.compile(r"^```\{self-check\}[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def load_self_check():
    spec = importlib.util.spec_from_file_location("self_check", REPO / "_ext" / "self_check.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


self_check = load_self_check()
parse, SelfCheckError = self_check.parse_self_check, self_check.SelfCheckError


# ---------------------------------------------------------------------------------------------
# The parser
# ---------------------------------------------------------------------------------------------

GOOD = """\
:question: What does `reduction='mean'` divide the summed squared error
  by, for a batch of $B$ images?
- [ ] the batch size only
- [x] the batch size times the number of pixels
  $D$
- [ ] nothing; it only averages the KL
:explanation: It averages over every element of the batch
  (section *Which σ does your loss assume?*).
"""


def test_a_good_question_parses_with_its_continuation_lines():
    check = parse(GOOD.splitlines())
    assert check.question == (
        "What does `reduction='mean'` divide the summed squared error by, "
        "for a batch of $B$ images?"
    )
    assert [option.text for option in check.options] == [
        "the batch size only",
        "the batch size times the number of pixels $D$",
        "nothing; it only averages the KL",
    ]
    assert [option.correct for option in check.options] == [False, True, False]
    assert [option.line for option in check.options] == [2, 3, 5]
    assert check.explanation.endswith("(section *Which σ does your loss assume?*).")
    assert (check.question_line, check.explanation_line) == (0, 6)
    assert check.answer == "B"


def test_several_right_options_blank_lines_and_a_capital_x():
    lines = [
        ":question: Which are even?",
        "",
        "- [X] two",
        "- [ ] three",
        "- [x] four",
        "",
        ":explanation: Two and four divide by two.",
    ]
    check = parse(lines)
    assert [option.correct for option in check.options] == [True, False, True]
    assert check.answer == "A, C"


Q, A, B = ":question: Which?", "- [ ] one", "- [x] two"
E = ":explanation: Because."


@pytest.mark.parametrize(
    "lines, message, line",
    [
        ([Q, E], "at least two options", 0),
        ([Q, B, E], "at least two options", 1),
        ([Q, A, "- [ ] three", E], "no option is marked right", 1),
        ([Q, B, "- [x] three", E], "every option is marked right", 4),
        ([":question:", A, B, E], "the question is empty", 0),
        ([":question:   ", A, B, E], "the question is empty", 0),
        ([A, B, E], "no ':question:' line", 0),
        ([A, Q, B, E], "the ':question:' line must come first", 0),
        ([Q, Q, A, B, E], "more than one ':question:' line", 1),
        ([Q, "Which one is it?", A, B, E], "expected ':question: <text>'", 1),
        ([Q, A, "- [v] two", E], "an option starts with '- [ ] ' (wrong) or '- [x] '", 2),
        ([Q, A, "-[x] two", E], "an option starts with", 2),
        ([Q, A, "- [x]", E], "an option has no text", 2),
        ([Q, A, E, B], "the ':explanation:' line must come last", 3),
        ([Q, A, B], "no ':explanation:' line", 3),
        ([Q, A, B, ":explanation:"], "the explanation is empty", 3),
        ([Q, A, B, E, E], "more than one ':explanation:' line", 4),
        ([Q, A, B, "", "  continued", E], "an indented line continues the line above", 4),
        (["  Which?", A, B, E], "an indented line continues the line above", 0),
        ([Q, A, B, ":hint: look closely", E], "expected ':question: <text>'", 3),
        ([Q] + [A] * 6 + [B, E], "at most 6 options, found 7", 7),
    ],
)
def test_each_malformed_body_gives_its_message_and_line(lines, message, line):
    with pytest.raises(SelfCheckError) as caught:
        parse(lines)
    assert message in caught.value.message, caught.value.message
    assert caught.value.line == line, (caught.value.line, caught.value.message)


# ---------------------------------------------------------------------------------------------
# A tiny Sphinx project with the extension (a second or so per build)
# ---------------------------------------------------------------------------------------------

CONF = f"""
import sys
sys.path.insert(0, {str(REPO / "_ext")!r})
extensions = ["myst_parser", "self_check"]
myst_enable_extensions = ["dollarmath"]
html_static_path = [{str(REPO / "_static")!r}]
"""


def build(tmp_path: Path, page: str, builder: str = "html") -> tuple[int, str, Path]:
    """Build a one-page Sphinx project with ``page`` as index.md, warnings as errors, as the
    book is built; (return code, log, output folder)."""
    source, output = tmp_path / "src", tmp_path / f"out-{builder}"
    source.mkdir(exist_ok=True)
    (source / "conf.py").write_text(CONF)
    (source / "index.md").write_text(page)
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder]
        + [str(source), str(output)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return result.returncode, result.stdout + result.stderr, output


PAGE = f"""# A page

Text with $x$.

```{{self-check}}
{GOOD}```

Another page without questions would get neither the script nor the style sheet.
"""


def test_the_website_gets_a_fieldset_with_buttons_and_a_live_region(tmp_path):
    code, log, output = build(tmp_path, PAGE)
    assert code == 0, log
    html = (output / "index.html").read_text()
    assert html.count('<script defer="defer" src="_static/self-check.js') == 1
    assert html.count('href="_static/self-check.css') == 1
    fieldset = html[html.index('<fieldset class="self-check">') : html.index("</fieldset>")]
    legend = re.search(r"<legend class=\"self-check-question\">(.*?)</legend>", fieldset, re.S)
    assert legend and "divide the summed squared error" in legend.group(1)
    assert r'<span class="math notranslate nohighlight">\(B\)</span>' in legend.group(1)
    buttons = re.findall(r"<button ([^>]*)>(.*?)</button>", fieldset, re.S)
    assert len(buttons) == 3
    for attributes, _ in buttons:
        assert 'type="button"' in attributes and 'aria-pressed="false"' in attributes
    assert [re.search(r'data-correct="(\w+)"', a).group(1) for a, _ in buttons] == [
        "false",
        "true",
        "false",
    ]
    assert [re.search(r'letter">(\w)\.', text).group(1) for _, text in buttons] == ["A", "B", "C"]
    feedback = re.search(
        r"<div ([^>]*class=\"self-check-feedback\"[^>]*)>(.*?)</div>", fieldset, re.S
    )
    assert 'aria-live="polite"' in feedback.group(1)
    assert '<p class="self-check-answer" hidden>Answer: B.</p>' in feedback.group(2)
    explanation = re.search(r"<p class=\"self-check-explanation\" hidden=\"\">(.*?)</p>", fieldset)
    assert explanation and "every element of the batch" in explanation.group(1)
    # Before the reader answers, the answer is in the data attributes only: no visible text
    # says which option is right (the hidden answer and explanation are for print).
    visible = re.sub(r"<p [^>]*hidden[^>]*>.*?</p>", "", fieldset, flags=re.S)
    assert "Answer" not in visible and "every element" not in visible


def test_a_page_without_questions_gets_no_script(tmp_path):
    code, log, output = build(tmp_path, "# A page\n\nNo questions.\n")
    assert code == 0, log
    html = (output / "index.html").read_text()
    assert "self-check" not in html


def test_the_whole_book_page_and_the_text_builder_show_the_question(tmp_path):
    code, log, output = build(tmp_path, PAGE, "singlehtml")
    assert code == 0, log
    html = (output / "index.html").read_text()
    assert '<fieldset class="self-check">' in html and "self-check.js" in html
    code, log, output = build(tmp_path, PAGE, "text")
    assert code == 0, log
    text = " ".join((output / "index.txt").read_text().split())
    assert "A. the batch size only B. the batch size times the number of pixels D" in text
    assert "Answer: B. It averages over every element of the batch" in text


BAD_PAGE = """# A page

```{self-check}
:question: Which?
- [ ] one
- [ ] two
:explanation: Because.
```

```{self-check}

:question: Which?
- [ ] one
- [v] two
:explanation: Because.
```

```{self-check}
:question:
- [ ] one
- [x] two
:explanation: Because.
```

```{self-check}
:question: Which?
:explanation: Because.
```
"""


def test_a_malformed_question_stops_the_build_naming_the_page_and_the_line(tmp_path):
    code, log, _ = build(tmp_path, BAD_PAGE)
    assert code != 0, log
    lines = BAD_PAGE.splitlines()
    expected = [
        ("- [ ] one", "no option is marked right"),
        ("- [v] two", "an option starts with '- [ ] ' (wrong) or '- [x] ' (right)"),
        (":question:", "the question is empty"),
        (":question: Which?", "a self-check needs at least two options"),
    ]
    for (text, message), start in zip(expected, (2, 9, 17, 24)):
        number = lines.index(text, start) + 1  # 1-based, as an editor counts
        pattern = rf"index\.md:\d+: ERROR: self-check, line {number}: {re.escape(message)}"
        assert re.search(pattern, log), f"no error for line {number} ({message}):\n{log}"


# ---------------------------------------------------------------------------------------------
# The chapters' questions
# ---------------------------------------------------------------------------------------------


def chapters() -> list[str]:
    return chapter_pages()


@pytest.mark.parametrize("page", chapters())
def test_every_chapter_ends_its_summary_with_three_self_checks(page):
    text = source_of(page).read_text()
    summary = text.split("\n## Summary\n", 1)[1].split("\n## Exercises\n", 1)[0]
    assert "\n### Check yourself\n" in summary, f"{page}: no '### Check yourself' in its Summary"
    own = summary.split("\n### Check yourself\n", 1)[1]
    assert not re.search(r"^#{2,3} ", own, re.M), f"{page}: Check yourself must end the Summary"
    bodies = BLOCK.findall(own)
    assert len(bodies) >= QUESTIONS_PER_CHAPTER, f"{page}: {len(bodies)} self-check questions"
    assert len(BLOCK.findall(text)) == len(bodies), f"{page}: a self-check outside its section"
    headings = {heading.strip() for heading in re.findall(r"^#{2,3} (.+)$", text, re.M)}
    for body in bodies:
        check = parse(body.splitlines())  # raises, with the line, for a malformed question
        assert any(option.correct for option in check.options)
        assert not all(option.correct for option in check.options)
        assert len(check.explanation.split()) >= 8, f"{page}: explain {check.question!r}"
        named = re.findall(r"\bsections? ((?:\*[^*]+\*(?:, | and |, and )?)+)", check.explanation)
        assert named, f"{page}: the explanation of {check.question!r} names no section"
        for section in re.findall(r"\*([^*]+)\*", " ".join(named)):
            assert section in headings, f"{page}: no section {section!r} ({check.question!r})"
        for line in body.splitlines():
            assert len(line) <= LINE_WIDTH, f"{page}: a line longer than {LINE_WIDTH}: {line}"
