"""The book builds, executes every chapter, and fails loudly on errors and warnings."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import yaml
from conftest import (
    BUILD_FLAGS,
    JUPYTEXT_HEADER,
    REPO,
    build_book,
    is_notebook,
    source_of,
    toc_files,
)

pytestmark = pytest.mark.build


def test_every_toc_page_is_built(built_html):
    for page in toc_files():
        html = built_html / f"{page}.html"
        assert html.exists(), f"{page} is in _toc.yml but {html.name} was not built"


def test_every_notebook_chapter_was_executed(built_html):
    notebooks = [page for page in toc_files() if is_notebook(source_of(page))]
    assert notebooks, "the book has no executable chapter"
    for page in notebooks:
        html = (built_html / f"{page}.html").read_text()
        n_cells = html.count('class="cell docutils container"')
        n_outputs = html.count('class="cell_output docutils container"')
        assert n_cells > 0, f"{page}: no code cell in the built page"
        assert n_outputs > 0, f"{page}: code cells were not executed (no output in the page)"


def test_every_image_has_alt_text(built_html):
    missing = []
    for page in toc_files():
        html = (built_html / f"{page}.html").read_text()
        for tag in re.findall(r"<img\b[^>]*>", html):
            alt = re.search(r'\balt="([^"]*)"', tag)
            if not alt or not alt.group(1).strip():
                missing.append(f"{page}: {tag[:120]}")
    assert not missing, "images without alt text:\n" + "\n".join(missing)


def test_make_book_uses_the_strict_flags():
    recipe = re.search(r"^book:.*?\n((?:\t.*\n)+)", (REPO / "Makefile").read_text(), re.M)
    assert recipe, "Makefile has no `book` target"
    for flag in BUILD_FLAGS:
        assert flag in recipe.group(1)


def _tiny_book(root: Path, page_body: str, other_body: str | None = None) -> Path:
    """A one-page copy of the book: the real _config.yml and bibliography, one chapter (and
    a second one, ``book/other.md``, when ``other_body`` is given)."""
    root.mkdir(parents=True)
    shutil.copy(REPO / "_config.yml", root / "_config.yml")
    shutil.copy(REPO / "references.bib", root / "references.bib")
    shutil.copytree(REPO / "_ext", root / "_ext")
    (root / "book").mkdir()
    (root / "book" / "page.md").write_text(JUPYTEXT_HEADER + page_body)
    toc = "format: jb-book\nroot: book/page\n"
    if other_body is not None:
        (root / "book" / "other.md").write_text(JUPYTEXT_HEADER + other_body)
        toc += "chapters:\n- file: book/other\n"
    (root / "_toc.yml").write_text(toc)
    return root


def test_a_planted_failing_cell_fails_the_build(tmp_path):
    body = "# A page\n\n```{code-cell} ipython3\nprint('before')\n1 / 0\n```\n"
    book = _tiny_book(tmp_path / "src", body)
    result = build_book(book, tmp_path / "out", timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode != 0, "a cell raising ZeroDivisionError did not fail the build"
    assert "ZeroDivisionError" in log, "the build log does not show the failing cell's error"


def test_a_sphinx_warning_fails_the_build(tmp_path):
    body = "# A page\n\nA link to {ref}`a-label-that-does-not-exist`.\n"
    book = _tiny_book(tmp_path / "src", body)
    result = build_book(book, tmp_path / "out", timeout=600)
    log = result.stdout + result.stderr
    assert result.returncode != 0, "an undefined cross-reference did not fail the build"
    assert "a-label-that-does-not-exist" in log


def test_a_clean_tiny_book_builds(tmp_path):
    """The two failures above are caused by the planted errors, not by the tiny-book setup."""
    body = "# A page\n\n```{code-cell} ipython3\nprint(6 * 7)\n```\n"
    book = _tiny_book(tmp_path / "src", body)
    result = build_book(book, tmp_path / "out", timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert "42" in (tmp_path / "out" / "_build" / "html" / "book" / "page.html").read_text()


def _printed(html: Path, label: str) -> str:
    match = re.search(rf"{label}: (\S+)", html.read_text())
    assert match, f"{html.name} does not show {label!r}"
    return match.group(1)


def test_no_page_keeps_outputs_of_older_code_or_pins(tmp_path):
    """The execution cache keys on a page's code cells; _ext/execution_fingerprint.py adds
    the code of the vaebook modules the page imports, the pins and the run settings. A copy
    of vaebook on PYTHONPATH plays the helper package that a contributor edits: a docstring
    edit re-executes nothing, a changed constant re-executes exactly the page that imports
    its module."""
    package = tmp_path / "package"
    shutil.copytree(
        REPO / "src" / "vaebook", package / "vaebook", ignore=shutil.ignore_patterns("__pycache__")
    )
    body = (
        "# A page\n\n```{code-cell} ipython3\nimport time\n"
        "from vaebook.data import PIXEL_MAX\n"
        "print('helper:', PIXEL_MAX)\nprint('run:', time.time_ns())\n```\n"
    )
    other = (
        "# Another page\n\n```{code-cell} ipython3\nimport time\n"
        "import vaebook.symbolic\nprint('other:', time.time_ns())\n```\n"
    )
    book = _tiny_book(tmp_path / "src", body, other)
    (book / "requirements.txt").write_text("numpy\n")
    env = dict(os.environ, PYTHONPATH=str(package))
    html = tmp_path / "out" / "_build" / "html" / "book"

    def build() -> tuple[str, str, str]:
        result = build_book(book, tmp_path / "out", timeout=600, env=env)
        assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
        return (
            _printed(html / "page.html", "helper"),
            _printed(html / "page.html", "run"),
            _printed(html / "other.html", "other"),
        )

    helper, run, other_run = build()
    assert helper == "16.0"
    assert build() == (helper, run, other_run), "an unchanged book should reuse its pages"

    data = package / "vaebook" / "data.py"
    data.write_text(
        data.read_text()
        .replace('"""', '"""Edited docstring. ', 1)
        .replace("import math\n", "import math  # a comment\n", 1)
    )
    assert build() == (helper, run, other_run), "a docstring edit re-executed a page"

    data.write_text(data.read_text().replace("PIXEL_MAX = 16.0", "PIXEL_MAX = 17.0", 1))
    helper, new_run, new_other = build()
    assert helper == "17.0", "the page still shows a number computed by the old helper"
    assert new_run != run
    assert new_other == other_run, "a page that does not import vaebook.data re-executed"

    (book / "requirements.txt").write_text("numpy\nsympy\n")
    _, last_run, last_other = build()
    assert last_run != new_run and last_other != other_run, (
        "a change of the pinned requirements did not re-execute every page"
    )


def test_pages_carry_no_unused_widget_state(built_html):
    """The sliders' saved ipywidgets state is not embedded (no widget manager reads it there)."""
    pages = sorted(built_html.glob("book/*.html"))
    assert len(pages) >= 8
    for page in pages:
        html = page.read_text()
        assert "application/vnd.jupyter.widget-state+json" not in html, page.name
    # the static slider views are still there
    assert 'class="vaebook-slider"' in (built_html / "book" / "sigma-tradeoff.html").read_text()


def test_browser_tabs_name_the_page_and_the_book_once(built_html):
    import html as html_module

    def title(page: str) -> str:
        text = (built_html / "book" / f"{page}.html").read_text()
        return html_module.unescape(re.search(r"<title>(.*?)</title>", text, re.S).group(1)).strip()

    book = yaml.safe_load((REPO / "_config.yml").read_text())["title"]
    assert title("intro") == book
    assert title("sigma-tradeoff") == f"σ trades reconstruction against KL — {book}"


# --- The whole book as one PDF (make pdf; built with the website by the built_html fixture) ---


def _pdf(built_html):
    from pypdf import PdfReader

    path = built_html / "_static" / "book.pdf"
    assert path.is_file() and path.read_bytes()[:5] == b"%PDF-", f"{path} is not a PDF"
    reader = PdfReader(path)
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, unicodedata.normalize("NFKC", text)  # the fonts' "ﬁ" ligatures -> "fi"


def _code_text(built_html) -> str:
    """Everything inside <pre> and <code> of the website's pages (where TeX may stay raw)."""
    import html as html_lib

    parts = []
    for page in toc_files():
        text = (built_html / f"{page}.html").read_text()
        parts += re.findall(r"<pre[^>]*>(.*?)</pre>|<code[^>]*>(.*?)</code>", text, re.S)
    joined = "\n".join(a or b for a, b in parts)
    return html_lib.unescape(re.sub(r"<[^>]+>", "", joined))


def test_the_pdf_holds_every_chapter_in_order_with_typeset_math(built_html):
    reader, text = _pdf(built_html)
    flat = " ".join(text.split())
    titles = []
    for page in toc_files():
        heading = re.search(r"^# (.+)$", source_of(page).read_text(), re.M).group(1)
        titles.append(heading.replace("`", ""))
    positions = [flat.find(title) for title in titles]
    assert all(p >= 0 for p in positions), [t for t, p in zip(titles, positions) if p < 0]
    assert positions == sorted(positions), "the chapters are out of the order of _toc.yml"
    assert len(reader.pages) > 40
    # Math was typeset: no TeX delimiters left, and TeX commands only where code shows them.
    raw = re.compile(r"\\\[|\\\(|\$\$")
    assert not raw.findall(text), f"untypeset TeX in the PDF: {raw.findall(text)[:5]}"
    code = _code_text(built_html)
    for command in (r"\frac", r"\sigma", r"\log", "$"):
        assert text.count(command) <= code.count(command), (
            f"{command!r} appears {text.count(command)} times in the PDF but only "
            f"{code.count(command)} times in the website's code"
        )


def test_the_pdf_embeds_the_figures_the_solutions_and_a_note_per_slider(built_html):
    reader, text = _pdf(built_html)
    flat = " ".join(text.split())
    figures = sum(
        len(re.findall(r'<img[^>]+src="[^"]*_images/', (built_html / f"{page}.html").read_text()))
        for page in toc_files()
    )
    sliders = sum(
        (built_html / f"{page}.html").read_text().count('class="vaebook-slider"')
        for page in toc_files()
    )
    embedded = sum(len(page.images) for page in reader.pages)
    assert figures > 10 and embedded >= figures, (figures, embedded)
    solutions = sum(source_of(page).read_text().count("````{solution}") for page in toc_files())
    assert solutions >= 10 and flat.count("Solution to Exercise") == solutions
    assert "The negative ELBO times" in flat  # inside a solution that the website collapses
    calculators = sum(
        (built_html / f"{page}.html").read_text().count('class="vaebook-loss-calculator"')
        for page in toc_files()
    )
    spec = importlib.util.spec_from_file_location("book_pdf", REPO / "tools" / "book_pdf.py")
    book_pdf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(book_pdf)
    notes = {
        selector: flat.count(" ".join(note.split()))
        for selector, note in book_pdf.LIVE_NOTES.items()
    }
    assert sliders >= 3 and notes[".vaebook-slider"] == sliders
    assert calculators == 1 and notes[".vaebook-loss-calculator"] == calculators


def test_the_website_links_the_pdf(built_html):
    page = (built_html / "book" / "how-to-use.html").read_text()
    assert 'href="../_static/book.pdf"' in page


def load_notebook_downloads():
    spec = importlib.util.spec_from_file_location(
        "notebook_downloads", REPO / "_ext" / "notebook_downloads.py"
    )
    downloads = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(downloads)
    return downloads


def test_downloadable_notebooks_depend_on_the_source_and_commit_alone(built_html):
    """ "Download .ipynb" serves the install cell and the chapter's cells without outputs, the
    same on every build of a commit; the install cell pins that commit."""
    downloads = load_notebook_downloads()
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    commit = downloads.build_revision(REPO, "main")  # tested below
    notebooks = [page for page in toc_files() if is_notebook(source_of(page))]
    assert len(notebooks) >= 6
    for page in notebooks:
        published = (built_html / "_sources" / f"{page}.ipynb").read_bytes()
        assert published == downloads.notebook_bytes(source_of(page), url, commit), page
        assert b'"output_type"' not in published and b'"cell-0"' in published
        first = json.loads(published)["cells"][0]
        assert first["metadata"]["tags"] == ["install-vaebook"], page
        assert f'"git+{url}@{commit}"' in "".join(first["source"]), page
        html = (built_html / f"{page}.html").read_text()
        assert f'_sources/{page}.ipynb"' in html.replace("../", ""), f"{page}: no download"


def test_the_install_cell_pins_the_commit_or_else_the_branch(tmp_path):
    downloads = load_notebook_downloads()
    assert downloads.build_revision(tmp_path, "main") == "main"  # not a git checkout
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "--quiet", str(tmp_path)], check=True)
    (tmp_path / "a.txt").write_text("a")
    subprocess.run([*git, "-C", str(tmp_path), "add", "a.txt"], check=True)
    subprocess.run([*git, "-C", str(tmp_path), "commit", "--quiet", "-m", "a"], check=True)
    head = subprocess.run(
        ["git", "-C", str(tmp_path), "rev-parse", "HEAD"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    assert len(head) == 40 and downloads.build_revision(tmp_path, "main") == head
    source = downloads.pip_source("https://github.com/a/b", head)
    assert source == f"git+https://github.com/a/b@{head}"


def load_release():
    """_ext/release.py (the version line of the footer), loaded as assignments/build.py does."""
    name = "vaebook_ext_release"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "_ext" / "release.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # before it runs: its dataclass looks itself up there
        spec.loader.exec_module(module)
    return sys.modules[name]


def test_every_page_footer_names_the_version_and_the_commit(built_html):
    """The footer of every page names the version and the commit the site was built from,
    with links; a development build (this clone, unless its HEAD is tagged v<version>) says
    so. tests/test_release.py builds a tagged book and checks the release's wording."""
    import vaebook

    release = load_release()
    build = release.describe(REPO)
    commit = subprocess.run(
        ["git", "-C", str(REPO), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    ).stdout.strip()
    assert build.commit == commit and build.version == vaebook.__version__
    expected = release.footer_text(build)
    if build.tag is None:
        assert expected == f"Version {vaebook.__version__}+ (development, commit {commit[:7]})"
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    for page in toc_files():
        html = (built_html / f"{page}.html").read_text()
        lines = re.findall(r'<p class="vaebook-release">(.*?)</p>', html, re.S)
        assert len(lines) == 1, (page, lines)
        assert re.sub(r"<[^>]+>", "", lines[0]) == expected, (page, lines[0])
        assert f'<a href="{url}/commit/{commit}">{commit[:7]}</a>' in lines[0], page
        footer = html.split('<footer class="bd-footer-content">', 1)[1].split("</footer>", 1)[0]
        assert lines[0] in footer, f"{page}: the version line is not in the footer"


def test_every_notebook_page_opens_in_colab_from_the_published_branch(built_html):
    """The launch menu's Colab entry points at the page's notebook on the branch that the Pages
    workflow fills with the website's `_sources/` notebooks."""
    downloads = load_notebook_downloads()
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    owner, name = url.removeprefix("https://github.com/").split("/")
    workflow = (REPO / ".github" / "workflows" / "book.yml").read_text()
    branch = downloads.COLAB_BRANCH
    assert f'.git" {branch}\n' in workflow and f"--initial-branch {branch}" in workflow
    assert "cd _build/html/_sources" in workflow
    for page in (page for page in toc_files() if is_notebook(source_of(page))):
        html = (built_html / f"{page}.html").read_text()
        links = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', html)
        assert links == [
            f"https://colab.research.google.com/github/{owner}/{name}/blob/{branch}/{page}.ipynb"
        ], (page, links)
        assert (built_html / "_sources" / f"{page}.ipynb").is_file(), page
    with pytest.raises(ValueError, match="repository.url"):
        downloads.colab_url("https://gitlab.com/a/b", "book/intro")
