"""How a check reads: one line, ``✔ statement: numbers``, with its details on demand.

Used by :func:`vaebook.claims.check` (the claims about trained models) and
:func:`vaebook.symbolic.show_check` (the numerical checks of the derivation). A module of its
own, with no import of the package, so that a page that shows a SymPy check does not depend
on the training code that :mod:`vaebook.claims` imports (the execution fingerprint follows
imports, see ``_ext/execution_fingerprint.py``).
"""

from __future__ import annotations

import dataclasses
import html
import math
import textwrap

PRINT_WIDTH = 88
"""A check (:func:`vaebook.claims.check`, :func:`vaebook.symbolic.show_check`) wraps its
plain-text output to this many characters: the width of a code block on the website at
1280 px (``_static/reading.css``)."""


def amount(value: float, unit: str) -> str:
    """A margin in words with its unit: ``0.5 nats``, ``1 latent``, ``0.0235 (relative)``."""
    if unit in ("relative", "share of digits"):
        return f"{value:.3g} ({unit})"
    if unit == "MSE":
        return f"{value:.3g} in MSE"
    if unit == "latents" and value == 1:
        return "1 latent"
    return f"{value:.3g} {unit}".rstrip()


def margin_in_words(margin: float, unit: str) -> str:
    """What a margin says about its claim, in a sentence."""
    if math.isnan(margin):
        return "It could not be measured."
    if margin == 0:
        return f"It holds exactly at the bound: {amount(0.0, unit)} to spare."
    if margin > 0:
        return (
            f"It holds with a margin of {amount(margin, unit)}: how far these numbers are "
            "from breaking it."
        )
    return f"It fails by {amount(-margin, unit)}."


@dataclasses.dataclass(frozen=True)
class Verdict:
    """One check as a reader sees it: ``✔ statement: numbers`` on one line, and ``details``
    on demand (an HTML fold-out on the website, indented lines in plain text)."""

    holds: bool
    statement: str
    numbers: str
    details: str = ""

    @property
    def line(self) -> str:
        mark = "✔" if self.holds else "✘"
        statement = self.statement.strip().rstrip(".")
        if not self.numbers:
            return f"{mark} {statement}"
        joint = " — " if ":" in statement else ": "  # one colon a line
        return f"{mark} {statement}{joint}{self.numbers}"

    def __str__(self) -> str:
        text = textwrap.fill(self.line, width=PRINT_WIDTH, subsequent_indent="  ")
        if self.details:
            text += "\n" + textwrap.fill(
                self.details, width=PRINT_WIDTH, initial_indent="  ", subsequent_indent="  "
            )
        return text

    def _repr_pretty_(self, printer, cycle) -> None:
        printer.text(str(self))

    def _repr_html_(self) -> str:
        line = html.escape(self.line)
        style = "margin: 0.2em 0;"
        if not self.details:
            return f'<p class="vaebook-check" style="{style}">{line}</p>'
        return (
            f'<details class="vaebook-check" style="{style}"><summary style="cursor: '
            f'pointer;">{line}</summary><p style="margin: 0.3em 0 0.3em 1.2em;">'
            f"{html.escape(self.details)}</p></details>"
        )
