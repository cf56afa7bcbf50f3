"""Shared fixtures: the repository's layout and one real build of the whole book."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
JUPYTER_BOOK = Path(sys.executable).with_name("jupyter-book")
# The flags of `make book`: any Sphinx warning or cell error fails the build.
BUILD_FLAGS = ["--warningiserror", "--keep-going"]
# The header every chapter starts with (a MyST Markdown notebook for jupytext).
JUPYTEXT_HEADER = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
    format_version: 0.13
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
"""


def toc_files() -> list[str]:
    """Every page listed in _toc.yml, as a path without suffix relative to the repository."""
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            files.append(chapter["file"])
            files.extend(section["file"] for section in chapter.get("sections", []))
    return files


NOT_CHAPTERS = {
    "book/intro",
    "book/how-to-use",
    "book/same-claims",
    "book/instructors",
    "book/references",
}
"""Pages of _toc.yml without the chapter skeleton (Overview, ..., Summary, Exercises)."""


def chapter_pages() -> list[str]:
    """The chapters: every page of _toc.yml but the front and back matter, in book order."""
    return [page for page in toc_files() if page not in NOT_CHAPTERS]


def source_of(page: str) -> Path:
    """The source file (.md or .ipynb) of a page named in _toc.yml."""
    for suffix in (".md", ".ipynb"):
        path = REPO / f"{page}{suffix}"
        if path.exists():
            return path
    raise FileNotFoundError(f"no source for toc entry {page!r}")


def is_notebook(path: Path) -> bool:
    """True for a MyST Markdown notebook (a page with a jupytext header and a kernel)."""
    text = path.read_text()
    return text.startswith("---\njupytext:") and "kernelspec:" in text.split("\n---\n", 1)[0]


def build_book(
    source: Path,
    output: Path,
    timeout: float = 1800,
    env: dict | None = None,
    builder: str = "html",
) -> subprocess.CompletedProcess:
    """Run `jupyter-book build` on ``source`` into ``output`` with the flags of `make book`
    (``builder="singlehtml"``: the whole-book page of `make pdf`)."""
    if not JUPYTER_BOOK.exists() or shutil.which(str(JUPYTER_BOOK)) is None:
        raise RuntimeError(f"jupyter-book not found next to {sys.executable}: run `make test`")
    cmd = [
        str(JUPYTER_BOOK),
        "build",
        str(source),
        "--path-output",
        str(output),
        *BUILD_FLAGS,
        *(["--builder", builder] if builder != "html" else []),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=source, env=env)


@pytest.fixture(scope="session")
def built_html(tmp_path_factory) -> Path:
    """Build the website once per test session, from an empty execution cache, as the Pages
    workflow does: `make book`, then `make pdf` (the PDF the website links).

    Every chapter therefore executes from a fresh kernel, exactly as on a clean checkout.
    For quick work on the website's tests only, ``VAEBOOK_TEST_SITE=_build/html`` reuses a
    site built by `make book` and `make pdf` instead (CI never sets it).
    """
    reuse = os.environ.get("VAEBOOK_TEST_SITE")
    if reuse:
        return Path(reuse).resolve()
    output = tmp_path_factory.mktemp("book")
    for builder in ("html", "singlehtml"):
        result = build_book(REPO, output, builder=builder)
        log = (result.stdout + result.stderr)[-6000:]
        assert result.returncode == 0, f"the {builder} build failed:\n{log}"
    html = output / "_build" / "html"
    printed = subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "book_pdf.py"),
            "--html",
            str(output / "_build" / "singlehtml"),
            "--output",
            str(html / "_static" / "book.pdf"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert printed.returncode == 0, f"make pdf failed:\n{printed.stdout}{printed.stderr}"
    return html


@pytest.fixture(scope="module")
def site(built_html):
    """The built website served over HTTP on localhost (tests/browser.py): its base URL."""
    import browser

    base_url, shutdown = browser.serve(built_html)
    yield base_url
    shutdown()


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian chromium driven by Playwright (its own browser download fails here)."""
    import browser
    from playwright.sync_api import sync_playwright

    browser.check_chromium()
    browser.check_vendored_files()
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS, headless=True
        )
        yield instance
        instance.close()


@pytest.fixture
def private_cache(tmp_path, monkeypatch):
    """An empty training cache of the test's own (``VAEBOOK_CACHE_DIR``)."""
    monkeypatch.setenv("VAEBOOK_CACHE_DIR", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def digits():
    """The book's fixed train/test split of the digits."""
    from vaebook.data import load_digits_split

    return load_digits_split()


# Tests that need the one full book build run on the same pytest worker (`make test` uses two,
# pytest-xdist with --dist loadgroup); every other test module stays on one worker, so that
# its module-scoped fixtures are computed once.
BOOK_GROUP = (
    "test_book_build.py",
    "test_site_browser.py",
    "test_explorer_browser.py",
    "test_accessibility_browser.py",
    "test_phone_browser.py",
    "test_page_weight_browser.py",
    "test_lab_browser.py",
    "test_colab.py",
)


# The group of every test: its module, or "book" for the modules that share the book build.
def pytest_itemcollected(item):
    if item.get_closest_marker("xdist_group"):
        return
    module = item.path.name
    group = "book" if module in BOOK_GROUP else module.removesuffix(".py")
    item.add_marker(pytest.mark.xdist_group(group))


# pytest-xdist 3.8 schedules by a "@group" suffix that it writes into ``item._nodeid``, which
# pytest 9 no longer reads (a node's id is ``item._id``): without this, --dist loadgroup split
# every module between the workers. Runs after xdist's own hook and sets the id pytest 9 uses.
@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    if not getattr(config.option, "loadgroup", False):
        return
    from _pytest.nodeid import coerce_node_id

    for item in items:
        mark = item.get_closest_marker("xdist_group")
        if mark and "@" not in item.nodeid.rsplit("]", 1)[-1] and hasattr(item, "_id"):
            item._id = coerce_node_id(f"{item.nodeid}@{mark.args[0]}")
