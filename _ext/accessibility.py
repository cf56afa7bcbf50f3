"""Sphinx extension: markup that assistive technology reads correctly (issue 28, axe-core).

Two pieces of HTML that the book's toolchain writes fail WCAG 2.x checks (axe-core,
``tests/test_accessibility_browser.py``); this writes them correctly at build time, so the
page is right without JavaScript too:

* myst-nb's toggle of a hidden code cell, ``<summary aria-label="Toggle hidden content">``
  around the visible text "Show code cell source": a speech-input user who says the visible
  text does not find the control (WCAG 2.5.3 *Label in Name*, axe's
  ``label-content-name-mismatch``). Without the aria-label its name is its visible text,
  "Show code cell source" (or "Hide code cell source" when open).
* docutils 0.21 marks every bibliography entry with ``role="doc-biblioentry"``, a role that
  DPUB-ARIA 1.1 deprecates (axe's ``aria-deprecated-role``), inside a ``role="list"``: a list
  whose items are not list items (axe's ``aria-required-children``, critical). The entries
  become ``role="listitem"``, so the bibliography is announced as a list of its works.

The theme's search and colour-mode buttons are corrected by templates of the same names in
``_templates/``; the keyboard's side (focus rings, the scrollable regions' tab stops) is in
``_static/reading.css`` and ``_static/accessibility.js``.
"""

from __future__ import annotations

from docutils import nodes

TOGGLE_LABEL = '<summary aria-label="Toggle hidden content">'


def visit_hidden_cell(self, node):
    from myst_nb.sphinx_ import visit_HideCellInput

    start = len(self.body)
    visit_HideCellInput(self, node)
    self.body[start:] = [part.replace(TOGGLE_LABEL, "<summary>") for part in self.body[start:]]


def depart_hidden_cell(self, node):
    from myst_nb.sphinx_ import depart_HideCellInput

    depart_HideCellInput(self, node)


def visit_citation(self, node):
    start = len(self.body)
    type(self).visit_citation(self, node)
    self.body[start:] = [
        part.replace('role="doc-biblioentry"', 'role="listitem"') for part in self.body[start:]
    ]


def depart_citation(self, node):
    type(self).depart_citation(self, node)


def setup(app):
    from myst_nb.sphinx_ import HideCodeCellNode

    app.setup_extension("myst_nb")  # its node first, then this visitor over it
    app.add_node(HideCodeCellNode, override=True, html=(visit_hidden_cell, depart_hidden_cell))
    app.add_node(nodes.citation, override=True, html=(visit_citation, depart_citation))
    return {"parallel_read_safe": True, "parallel_write_safe": True}
