"""The "Download .ipynb" button gives the same notebook on every build.

sphinx-book-theme copies myst-nb's executed notebook (`_build/jupyter_execute/…`) to
`_sources/` for its download button. What that file holds depends on the execution cache and
on which pages this build re-read: outputs in one build, none in the next, or a stale copy. This
extension overwrites it, after the theme, with the chapter's MyST source converted by jupytext:
the cells a reader runs, without outputs, with cell ids numbered in order, so the file depends
on the source alone. `tests/test_book_build.py` compares the published files with
:func:`notebook_bytes`.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat


def notebook_bytes(source: Path) -> bytes:
    """The downloadable notebook of one MyST source: no outputs, ids ``cell-0``, ``cell-1``, …"""
    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)  # the .md pairing means nothing in a download
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return (nbformat.writes(notebook, version=4) + "\n").encode()


def _replace_download(app, pagename, templatename, context, doctree) -> None:
    if not context.get("ipynb_source"):
        return
    source = Path(app.env.doc2path(pagename))
    if source.suffix != ".md":
        return
    target = Path(app.outdir) / "_sources" / context["ipynb_source"]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(notebook_bytes(source))


def setup(app):
    # After sphinx-book-theme's own handler (priority 500), which copies the executed notebook.
    app.connect("html-page-context", _replace_download, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
