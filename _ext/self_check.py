"""Sphinx extension: short self-check questions with immediate feedback, on the static site.

A chapter asks a question like this (MyST Markdown)::

    ```{self-check}
    :question: What does `reduction='mean'` divide the summed squared error by?
    - [ ] the batch size only
    - [x] the batch size times the number of pixels $D$
    - [ ] nothing; it only averages the KL
    :explanation: `F.mse_loss(..., reduction='mean')` averages over every element
      of the batch (section *Which σ does your loss assume?*).
    ```

One ``:question:`` line, then two or more options (``- [ ]`` a wrong one, ``- [x]`` a right
one, at least one of each), then one ``:explanation:`` line. A line that starts with spaces
continues the line above it. Each text may hold inline Markdown (code, emphasis, ``$math$``).
Anything else stops the build with an error that names the page and the line.

On the website the question is a ``<fieldset>``: its ``<legend>`` is the question, each option
a ``<button type="button">``, and a feedback region (``aria-live="polite"``) says "Correct." or
"Not quite." and shows the explanation once the reader has chosen (``_static/self-check.js``,
no kernel, no library). Which option is right is in a data attribute only; the answer and the
explanation are hidden until then, and printed plainly after the options (``@media print`` in
``_static/self-check.css``; the whole-book page of ``make pdf``). Other builders (LaTeX, text)
get the question, the options, the answer and the explanation as plain paragraphs. The answers
are not graded.

The parser (``parse_self_check``) is a plain function, tested without Sphinx in
tests/test_self_check.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import ascii_uppercase

from docutils import nodes

__all__ = [
    "JS_FILE",
    "CSS_FILE",
    "MAX_OPTIONS",
    "Option",
    "SelfCheck",
    "SelfCheckError",
    "parse_self_check",
]

JS_FILE, CSS_FILE = "self-check.js", "self-check.css"
"""In _static/: Jupyter Book links every file there into every page; this extension keeps
them only on the pages that ask a self-check question."""

MAX_OPTIONS = 6
"""Options are lettered A, B, ...; more than six make a poor short question."""

_FIELD = re.compile(r"^:(question|explanation):(?:\s+(.*))?$")
_OPTION = re.compile(r"^- \[([ xX])\](?:\s+(.*))?$")
_SYNTAX = (
    "expected ':question: <text>', '- [ ] <wrong option>', '- [x] <right option>', "
    "':explanation: <text>', or a line indented by spaces that continues the line above"
)


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    line: int
    """Index of its first line in the directive's body (0 is the line after the fence)."""


@dataclass(frozen=True)
class SelfCheck:
    question: str
    question_line: int
    options: tuple[Option, ...]
    explanation: str
    explanation_line: int

    @property
    def answer(self) -> str:
        """The letters of the right options, as the printed page gives them: "B", "A, C"."""
        return ", ".join(
            letter for letter, option in zip(ascii_uppercase, self.options) if option.correct
        )


class SelfCheckError(ValueError):
    """A malformed self-check; ``line`` indexes the directive's body like ``Option.line``."""

    def __init__(self, message: str, line: int):
        super().__init__(message)
        self.message, self.line = message, line


def parse_self_check(lines: list[str]) -> SelfCheck:
    """Parse the body of a self-check directive (see the module's docstring).

    Raises ``SelfCheckError`` with a message for the author and the index of the line at
    fault: an unknown line, a field out of order or given twice, an empty text, fewer than two
    options, no right option or no wrong one, no question or no explanation.
    """
    fields: list[list] = []  # [kind, text, line]: kind "question", "explanation", " " or "x"
    blank_before = False
    for number, raw in enumerate(lines):
        line = raw.rstrip()
        if not line.strip():
            blank_before = True
            continue
        if line[0] in " \t":
            if not fields or blank_before:
                raise SelfCheckError(
                    f"an indented line continues the line above it, and there is none "
                    f"(or a blank line is in between): {line.strip()!r}",
                    number,
                )
            fields[-1][1] = f"{fields[-1][1]} {line.strip()}".strip()
            continue
        blank_before = False
        field, option = _FIELD.match(line), _OPTION.match(line)
        if field:
            fields.append([field.group(1), (field.group(2) or "").strip(), number])
        elif option:
            fields.append([option.group(1).lower(), (option.group(2) or "").strip(), number])
        elif line.startswith(("- [", "* [", "-[")):
            raise SelfCheckError(
                f"an option starts with '- [ ] ' (wrong) or '- [x] ' (right): {line!r}", number
            )
        else:
            raise SelfCheckError(f"{_SYNTAX}; got {line!r}", number)

    questions = [item for item in fields if item[0] == "question"]
    explanations = [item for item in fields if item[0] == "explanation"]
    options = [item for item in fields if item[0] in (" ", "x")]
    end = len(lines)
    for name, found in (("question", questions), ("explanation", explanations)):
        if len(found) > 1:
            raise SelfCheckError(f"more than one ':{name}:' line", found[1][2])
    if not questions:
        raise SelfCheckError("no ':question:' line: the first line asks the question", 0)
    question = questions[0]
    if fields[0] is not question:
        raise SelfCheckError("the ':question:' line must come first", fields[0][2])
    if not question[1]:
        raise SelfCheckError("the question is empty", question[2])
    if explanations and fields[-1] is not explanations[0]:
        after = fields[fields.index(explanations[0]) + 1]
        raise SelfCheckError(
            "the ':explanation:' line must come last, after the options: this line follows it",
            after[2],
        )
    if len(options) < 2:
        raise SelfCheckError(
            f"a self-check needs at least two options ('- [ ] ...', '- [x] ...'), "
            f"found {len(options)}",
            options[-1][2] if options else question[2],
        )
    if len(options) > MAX_OPTIONS:
        raise SelfCheckError(
            f"at most {MAX_OPTIONS} options, found {len(options)}", options[MAX_OPTIONS][2]
        )
    for _, text, number in options:
        if not text:
            raise SelfCheckError("an option has no text", number)
    if not any(kind == "x" for kind, _, _ in options):
        raise SelfCheckError(
            "no option is marked right: mark the right one(s) '- [x] '", options[0][2]
        )
    if all(kind == "x" for kind, _, _ in options):
        raise SelfCheckError("every option is marked right: give at least one wrong one", end)
    if not explanations:
        raise SelfCheckError(
            "no ':explanation:' line: say in a sentence or two why the answer is right", end
        )
    explanation = explanations[0]
    if not explanation[1]:
        raise SelfCheckError("the explanation is empty", explanation[2])
    return SelfCheck(
        question=question[1],
        question_line=question[2],
        options=tuple(Option(text, kind == "x", number) for kind, text, number in options),
        explanation=explanation[1],
        explanation_line=explanation[2],
    )


# ---------------------------------------------------------------------------------------------
# Nodes and their HTML
# ---------------------------------------------------------------------------------------------


class self_check(nodes.General, nodes.Element):
    """The whole question: a <fieldset>."""


class self_check_question(nodes.General, nodes.TextElement):
    """The question: the fieldset's <legend>."""


class self_check_options(nodes.General, nodes.Element):
    """The options, in order: a <div>."""


class self_check_option(nodes.General, nodes.TextElement):
    """One option: a <button>, with ``letter`` and ``correct``."""


class self_check_feedback(nodes.General, nodes.Element):
    """The live region: the verdict (written by the script), the answer (print only) and the
    explanation (hidden until the reader chooses)."""


class self_check_explanation(nodes.General, nodes.TextElement):
    pass


def _visit_self_check(self, node):
    self.body.append(self.starttag(node, "fieldset", CLASS="self-check"))


def _depart_self_check(self, node):
    self.body.append("</fieldset>\n")


def _visit_question(self, node):
    self.body.append(self.starttag(node, "legend", "", CLASS="self-check-question"))


def _depart_question(self, node):
    self.body.append("</legend>\n")


def _visit_options(self, node):
    self.body.append(self.starttag(node, "div", CLASS="self-check-options"))


def _depart_options(self, node):
    self.body.append("</div>\n")


def _visit_option(self, node):
    self.body.append(
        self.starttag(
            node,
            "button",
            "",
            CLASS="self-check-option",
            type="button",
            **{"aria-pressed": "false", "data-correct": str(node["correct"]).lower()},
        )
        + f'<span class="self-check-letter">{node["letter"]}.</span> '
        + '<span class="self-check-text">'
    )


def _depart_option(self, node):
    self.body.append('</span><span class="self-check-mark" aria-hidden="true"></span></button>\n')


def _visit_feedback(self, node):
    self.body.append(
        self.starttag(
            node,
            "div",
            CLASS="self-check-feedback",
            **{"aria-live": "polite", "aria-atomic": "true"},
        )
        + '<p class="self-check-verdict"></p>\n'
        + f'<p class="self-check-answer" hidden>{node["answer_label"]}: {node["answer"]}.</p>\n'
    )


def _depart_feedback(self, node):
    self.body.append("</div>\n")


def _visit_explanation(self, node):
    self.body.append(self.starttag(node, "p", "", CLASS="self-check-explanation", hidden=""))


def _depart_explanation(self, node):
    self.body.append("</p>\n")


HTML_VISITORS = {
    self_check: (_visit_self_check, _depart_self_check),
    self_check_question: (_visit_question, _depart_question),
    self_check_options: (_visit_options, _depart_options),
    self_check_option: (_visit_option, _depart_option),
    self_check_feedback: (_visit_feedback, _depart_feedback),
    self_check_explanation: (_visit_explanation, _depart_explanation),
}


def _plain(node: self_check) -> nodes.Element:
    """The question as ordinary nodes, for builders other than HTML (LaTeX, text)."""
    container = nodes.container(classes=["self-check"])
    for child in node.children:
        if isinstance(child, self_check_question):
            container += nodes.paragraph("", "", *child.deepcopy().children)
        elif isinstance(child, self_check_options):
            for option in child.children:
                container += nodes.paragraph(
                    "", f"{option['letter']}. ", *option.deepcopy().children
                )
        elif isinstance(child, self_check_feedback):
            label = f"{child['answer_label']}: {child['answer']}. "
            for part in child.children:
                container += nodes.paragraph("", label, *part.deepcopy().children)
                label = ""
    return container


# ---------------------------------------------------------------------------------------------
# The directive and the wiring
# ---------------------------------------------------------------------------------------------


def _directive_class():
    from sphinx.util.docutils import SphinxDirective

    class SelfCheckDirective(SphinxDirective):
        """``{self-check}``: the whole body is parsed by ``parse_self_check``."""

        has_content = True
        option_spec = None  # MyST then hands over the ':question:' lines as body
        required_arguments = optional_arguments = 0

        def run(self):
            # MyST: self.lineno is the fence's line (1-based), the body starts on the next
            # line, after content_offset skipped lines (a leading blank line).
            first = self.lineno + 1 + self.content_offset
            try:
                check = parse_self_check(list(self.content))
            except SelfCheckError as error:
                raise self.error(
                    f"self-check, line {first + error.line}: {error.message}"
                ) from None

            def inline(text: str, index: int) -> list[nodes.Node]:
                parsed, messages = self.state.inline_text(text, first + index)
                return [*parsed, *messages]

            root = self_check()
            self.set_source_info(root)
            root += self_check_question("", "", *inline(check.question, check.question_line))
            options = self_check_options()
            for letter, option in zip(ascii_uppercase, check.options):
                options += self_check_option(
                    "", "", *inline(option.text, option.line), letter=letter, correct=option.correct
                )
            root += options
            several = sum(option.correct for option in check.options) > 1
            feedback = self_check_feedback(
                answer=check.answer, answer_label="Answers" if several else "Answer"
            )
            feedback += self_check_explanation(
                "", "", *inline(check.explanation, check.explanation_line)
            )
            root += feedback
            return [root]

    return SelfCheckDirective


def _drop_static_files(app, config) -> None:
    """Jupyter Book adds every file of _static/ to every page; keep ours off (see below)."""
    config.html_js_files = [item for item in config.html_js_files if _name(item) != JS_FILE]
    config.html_css_files = [item for item in config.html_css_files if _name(item) != CSS_FILE]


def _name(item) -> str:
    return item[0] if isinstance(item, (tuple, list)) else item


def _add_static_files(app, pagename, templatename, context, doctree) -> None:
    """The script and the style sheet on the pages that ask a question (Sphinx resets the
    files of each page, so these calls add them to this page only)."""
    if doctree is not None and doctree.next_node(self_check) is not None:
        app.add_css_file(CSS_FILE)
        app.add_js_file(JS_FILE, loading_method="defer")


def _plain_for_other_builders(app, doctree, docname) -> None:
    if app.builder.format != "html":
        for node in list(doctree.findall(self_check)):
            node.replace_self(_plain(node))


def setup(app):
    for node, visitors in HTML_VISITORS.items():
        app.add_node(node, html=visitors, singlehtml=visitors)
    app.add_directive("self-check", _directive_class())
    app.connect("config-inited", _drop_static_files)
    app.connect("html-page-context", _add_static_files)
    app.connect("doctree-resolved", _plain_for_other_builders)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
