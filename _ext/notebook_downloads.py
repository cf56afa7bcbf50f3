"""The chapters as notebooks: "Download .ipynb" and "Open in Colab", the same on every build.

sphinx-book-theme copies myst-nb's executed notebook (`_build/jupyter_execute/…`) to
`_sources/` for its download button. What that file holds depends on the execution cache and
on which pages this build re-read: outputs in one build, none in the next, or a stale copy. This
extension overwrites it, after the theme, with the chapter's MyST source converted by jupytext:
the cells a reader runs, without outputs, with cell ids numbered in order, so the file depends
on the source and the commit alone. `tests/test_book_build.py` compares the published files
with :func:`notebook_bytes`.

A notebook opened outside the repository (Colab, or a download) has no ``vaebook``. Its first
cell, hidden in Colab and JupyterLab, installs the helper package at the commit the site was
built from, and does nothing where ``vaebook`` is already importable (a clone, Binder).

Colab opens notebooks only from a GitHub branch, so the Pages workflow (`.github/workflows/
book.yml`) pushes the published notebooks of `_sources/` to the branch :data:`COLAB_BRANCH`,
and every notebook page gets an "Open in Colab" entry in its launch (rocket) menu that points
there. `tests/test_colab.py` runs every published notebook in a fresh folder and a fresh
virtual environment without ``vaebook``, as Colab would.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from urllib.parse import urlparse

import jupytext
import nbformat

COLAB_BRANCH = "notebooks"
"""The generated branch that holds the published notebooks (never edited by hand)."""

INSTALL_SOURCE_ENV = "VAEBOOK_PIP_SOURCE"
"""Overrides what the install cell installs (the tests point it at a local wheel)."""

INSTALL_TAG = "install-vaebook"
"""The tag of the install cell that this extension puts first in every published notebook."""

INSTALL_CELL = """\
#@title Install the book's helper package (only where it is missing, as on Colab)
# Added by the book's build, not part of the chapter. In a clone of the repository or on
# Binder, vaebook is installed already and this cell does nothing.
import importlib
import importlib.util
import os
import subprocess
import sys

if importlib.util.find_spec("vaebook") is None:
    source = os.environ.get("{env}", "{source}")
    print("Installing vaebook from", source, "(about a minute)")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", source], check=True)
    importlib.invalidate_caches()
import vaebook  # noqa: E402  (fails here, clearly, if the installation did not work)
"""


def github_parts(repository_url: str) -> tuple[str, str]:
    """``(owner, name)`` of a ``https://github.com/<owner>/<name>`` URL; ValueError otherwise."""
    parsed = urlparse(repository_url)
    parts = [part for part in parsed.path.split("/") if part]
    if parsed.scheme != "https" or parsed.netloc != "github.com" or len(parts) != 2:
        raise ValueError(
            "repository.url in _config.yml must be https://github.com/<owner>/"
            f"<name> for the Colab and install links, got {repository_url!r}"
        )
    return parts[0], parts[1].removesuffix(".git")


def pip_source(repository_url: str, revision: str) -> str:
    """What the install cell installs: the repository at ``revision`` (a commit or branch)."""
    owner, name = github_parts(repository_url)
    return f"git+https://github.com/{owner}/{name}@{revision}"


def colab_url(repository_url: str, pagename: str) -> str:
    """The Colab address of the published notebook of page ``pagename`` (e.g. ``book/intro``)."""
    owner, name = github_parts(repository_url)
    return (
        f"https://colab.research.google.com/github/{owner}/{name}/blob/{COLAB_BRANCH}/"
        f"{pagename}.ipynb"
    )


def install_cell(repository_url: str, revision: str) -> nbformat.NotebookNode:
    """The first cell of a published notebook: installs ``vaebook`` where it is missing."""
    source = INSTALL_CELL.replace("{env}", INSTALL_SOURCE_ENV).replace(
        "{source}", pip_source(repository_url, revision)
    )
    return nbformat.v4.new_code_cell(
        source.rstrip("\n"),
        metadata={
            "tags": [INSTALL_TAG],
            "cellView": "form",  # Colab: show the title, hide the code
            "jupyter": {"source_hidden": True},  # JupyterLab: collapse the code
        },
    )


def notebook_bytes(source: Path, repository_url: str, revision: str) -> bytes:
    """The published notebook of one MyST source: the install cell, then the chapter's cells,
    no outputs, ids ``cell-0``, ``cell-1``, …"""
    notebook = jupytext.read(source)
    notebook.metadata.pop("jupytext", None)  # the .md pairing means nothing in a download
    notebook.cells.insert(0, install_cell(repository_url, revision))
    for index, cell in enumerate(notebook.cells):
        cell["id"] = f"cell-{index}"
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return (nbformat.writes(notebook, version=4) + "\n").encode()


def build_revision(folder: Path, fallback: str) -> str:
    """The commit checked out in ``folder`` (the install cell pins it), or ``fallback`` (the
    configured branch) outside a git checkout."""
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=folder, capture_output=True, text=True, timeout=30
        )
    except OSError:
        return fallback
    commit = result.stdout.strip()
    return commit if result.returncode == 0 and len(commit) == 40 else fallback


def _repository(app) -> tuple[str, str]:
    options = app.config.html_theme_options
    url = options.get("repository_url", "")
    if not hasattr(app, "_vaebook_revision"):
        app._vaebook_revision = build_revision(
            Path(app.srcdir), options.get("repository_branch") or "main"
        )
    return url, app._vaebook_revision


def _is_myst_notebook(app, docname: str) -> bool:
    return (
        "kernelspec" in app.env.metadata.get(docname, {})
        and Path(app.env.doc2path(docname)).suffix == ".md"
    )


def _add_colab_button(app, pagename, templatename, context, doctree) -> None:
    if not context.get("ipynb_source") or not _is_myst_notebook(app, pagename):
        return
    repository_url, _ = _repository(app)
    for button in context.get("header_buttons", []):
        if button.get("label") == "launch-buttons":
            button["buttons"].append(
                {
                    "type": "link",
                    "text": "Colab",
                    "tooltip": "Open in Colab",
                    "icon": "_static/images/logo_colab.png",
                    "label": "colab-button",
                    "url": colab_url(repository_url, pagename),
                }
            )
            return


def _publish_notebooks(app, exception) -> None:
    """Write every page's notebook at the end of the build, also for the pages this build did
    not rewrite, so that all of them pin this build's commit."""
    if exception is not None or app.builder.format != "html":
        return
    repository_url, revision = _repository(app)
    for docname in sorted(app.env.found_docs):
        if _is_myst_notebook(app, docname):
            target = Path(app.outdir) / "_sources" / f"{docname}.ipynb"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(
                notebook_bytes(Path(app.env.doc2path(docname)), repository_url, revision)
            )


def setup(app):
    # After sphinx-book-theme's own handler (priority 500), which copies the executed notebook
    # and builds the launch menu.
    app.connect("html-page-context", _add_colab_button, priority=900)
    app.connect("build-finished", _publish_notebooks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
