"""Sphinx extension: label the bibliography the way the text cites, "Kingma and Welling, 2014".

The text uses sphinxcontrib-bibtex's author–year citations (``bibtex_reference_style:
author_year``), but its bibliography styles label entries alphabetically ("[KW14]"), so a reader
looks for "Kingma and Welling, 2014" and finds "KW14". This registers the pybtex label style
``author_year`` (one author: "Doersch, 2016"; two: "Kingma and Welling, 2014"; more, or "and
others": "Lucas et al., 2019"; a letter after the year when two entries would share a label)
and the formatting style ``author_year`` (pybtex's ``unsrt`` with those labels), which
``_config.yml`` selects with ``bibtex_default_style``.
"""

from __future__ import annotations

from collections import Counter

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _surname(person) -> str:
    return " ".join(str(Text.from_latex(part)) for part in person.prelast_names + person.last_names)


def author_year_label(entry) -> str:
    """'Kingma and Welling, 2014' for one entry (before any letter is added)."""
    persons = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(person) for person in persons]
    if not names:
        who = entry.key
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2 and names[1] != "others":
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabelStyle(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        labels = [author_year_label(entry) for entry in sorted_entries]
        counts, seen = Counter(labels), Counter()
        for label in labels:
            if counts[label] > 1:
                seen[label] += 1
                label = f"{label}{'abcdefghijklmnopqrstuvwxyz'[seen[label] - 1]}"
            yield label


class AuthorYearStyle(UnsrtStyle):
    default_label_style = "author_year"


def setup(app):
    register_plugin("pybtex.style.labels", "author_year", AuthorYearLabelStyle)
    register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
