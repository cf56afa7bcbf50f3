"""_ext/page_weight.py without a browser: inline pictures become files, FontAwesome's script
goes (tests/test_page_weight_browser.py weighs the built book's pages in chromium)."""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import re
import subprocess
import sys
import textwrap
from pathlib import Path
from urllib.parse import urljoin

import pytest
from conftest import REPO

# The smallest PNG: one transparent pixel. A second picture differs in one byte of its data.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 20


def uri(data: bytes, kind: str = "png") -> str:
    return f"data:image/{kind};base64," + base64.b64encode(data).decode()


def load_page_weight():
    spec = importlib.util.spec_from_file_location("page_weight", REPO / "_ext" / "page_weight.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def page_weight(monkeypatch):
    module = load_page_weight()
    warnings = []

    class Recorder:
        def warning(self, message, *args):
            warnings.append(message % args)

    monkeypatch.setattr(module, "logger", Recorder())
    module.warnings = warnings
    return module


def test_the_same_picture_twice_is_one_file_in_attributes_and_json(page_weight, tmp_path):
    other = PNG[:-5] + b"\x01" + PNG[-4:]
    html = (
        f'<img src="{uri(PNG)}" alt="a">\n'
        f'<img srcset="{uri(other)} 2x, {uri(PNG)} 1x" alt="b">\n'
        f'<script type="application/json">[{{"src": "{uri(PNG)}"}}, {{"src": "{uri(other)}"}}]'
        "</script>"
    )
    out, moved = page_weight.move_inline_pictures(html, tmp_path, lambda n: f"../_images/{n}")
    assert moved == 5 and "data:image" not in out
    names = {hashlib.sha256(data).hexdigest() + ".png": data for data in (PNG, other)}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    for name, data in names.items():
        assert (tmp_path / name).read_bytes() == data
    assert out.count(f"../_images/{hashlib.sha256(PNG).hexdigest()}.png") == 3
    assert f'srcset="../_images/{hashlib.sha256(other).hexdigest()}.png 2x, ' in out
    assert not page_weight.warnings


@pytest.mark.parametrize(
    "inline, why",
    [
        (uri(JPEG, "png"), "not valid base64 of such a picture"),  # a JPEG that says PNG
        ("data:image/png;base64,iVBORw0KGgo!!", "followed by"),
        ("data:image/png;base64,iVBORw0KGgo\\/AAAA", "followed by"),  # escaped in JSON
        ("data:image/png;base64,iVBORw0KGgoAA", "not valid base64"),  # 13 digits,
    ],
)
def test_a_picture_that_cannot_be_moved_stays_with_a_warning(page_weight, tmp_path, inline, why):
    html = f'<img src="{inline}" alt="x">'
    out, moved = page_weight.move_inline_pictures(html, tmp_path, str, page="book/x")
    assert (out, moved) == (html, 0)
    assert list(tmp_path.iterdir()) == []
    assert len(page_weight.warnings) == 1 and why in page_weight.warnings[0], page_weight.warnings
    assert page_weight.warnings[0].startswith("book/x: ")


def test_jpeg_and_svg_pictures_move_too(page_weight, tmp_path):
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'
    html = f'<img src="{uri(JPEG, "jpeg")}"><div style="background: url({uri(svg, "svg+xml")})">'
    out, moved = page_weight.move_inline_pictures(html, tmp_path, lambda n: n)
    assert moved == 2 and "data:" not in out
    assert {p.suffix for p in tmp_path.iterdir()} == {".jpg", ".svg"}


def test_the_theme_s_fontawesome_tag_goes_and_nothing_else():
    page_weight = load_page_weight()
    head = (
        '  <link href="../_static/styles/theme.css?digest=1" rel="stylesheet" />\n'
        "  <!-- So that users can add custom icons -->\n"
        '  <script defer src="../_static/scripts/fontawesome.js?digest=55c2"></script>\n'
        '  <link rel="preload" as="script" href="../_static/scripts/bootstrap.js?digest=1" />\n'
    )
    out = page_weight.remove_fontawesome_script(head)
    assert "fontawesome" not in out and "custom icons" not in out
    assert out.count("<link") == 2 and "bootstrap.js" in out and "theme.css" in out


@pytest.mark.parametrize(
    "icon, hidden",
    [
        ('<i class="fas fa-download"></i>', '<i class="fas fa-download" aria-hidden="true"></i>'),
        (
            '<i class="theme-switch fa-solid fa-sun" data-mode="light"></i>',
            '<i class="theme-switch fa-solid fa-sun" aria-hidden="true" data-mode="light"></i>',
        ),
        ('<i class="fa-solid fa-list" aria-hidden="true"></i>', None),  # already hidden
        ("<i class='fab fa-github'></i>", None),  # not the theme's markup: left as it is
        ('<i class="fancy">word</i>', None),  # italics, not an icon
    ],
)
def test_icons_are_hidden_from_assistive_technology_as_the_script_hid_them(icon, hidden):
    """FontAwesome's script drew each icon as an SVG with ``aria-hidden="true"``; the web
    font's glyph that replaces it is hidden the same way."""
    page_weight = load_page_weight()
    assert page_weight.remove_fontawesome_script(icon) == (hidden or icon)


def sphinx_project(root: Path, theme: str) -> Path:
    """A two-page Sphinx project (a page at the root and one in ``sub/``) whose pages hold the
    same inline picture, in an ``<img>`` and in a slider-like JSON list."""
    source = root / "source"
    (source / "sub").mkdir(parents=True)
    (source / "conf.py").write_text(
        textwrap.dedent(f"""\
        import sys
        sys.path.insert(0, {str(REPO / "_ext")!r})
        extensions = ["page_weight"]
        html_theme = {theme!r}
        project = "t"
        """)
    )
    raw = textwrap.indent(
        f'<img src="{uri(PNG)}" alt="dot">\n'
        f'<script type="application/json" id="frames">[{{"src": "{uri(PNG)}"}}]</script>',
        "   ",
    )
    body = "\n\n.. raw:: html\n\n" + raw + "\n"
    (source / "index.rst").write_text("Root\n====" + body + "\n.. toctree::\n\n   sub/page\n")
    (source / "sub" / "page.rst").write_text("Page\n====" + body)
    return source


def build(source: Path, output: Path, builder: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", builder, "-W", "-q", str(source), str(output)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    "builder, pages",
    [
        ("html", {"index.html": "index.html", "sub/page.html": "sub/page.html"}),
        ("dirhtml", {"index.html": "", "sub/page/index.html": "sub/page/"}),
        ("singlehtml", {"index.html": "index.html"}),
    ],
)
def test_pictures_become_files_that_every_page_finds(tmp_path, builder, pages):
    """The URL written into a page resolves, from where the page is served, to the file,
    in the root and in a folder, for every HTML builder (singlehtml: the PDF's page)."""
    output = tmp_path / builder
    build(sphinx_project(tmp_path, "basic"), output, builder)
    name = hashlib.sha256(PNG).hexdigest() + ".png"
    assert (output / "_images" / name).read_bytes() == PNG
    for path, served_at in pages.items():
        html = (output / path).read_text()
        assert "data:image" not in html, path
        urls = re.findall(r'src="([^"]*\.png)"', html) + re.findall(r'"src": "([^"]+)"', html)
        expected = 2 if builder != "singlehtml" else 4
        assert len(urls) == expected, (path, urls)
        for url in urls:
            resolved = urljoin(f"http://site/{served_at}", url)
            assert resolved == f"http://site/_images/{name}", (path, url)


def test_the_book_theme_loads_no_fontawesome_script(tmp_path):
    """With the book's theme (sphinx-book-theme over pydata-sphinx-theme), no page names
    FontAwesome's script, and the script is not published."""
    output = tmp_path / "html"
    build(sphinx_project(tmp_path, "sphinx_book_theme"), output, "html")
    for path in ("index.html", "sub/page.html"):
        html = (output / path).read_text()
        assert "fontawesome.js" not in html, path
        assert "fa-magnifying-glass" in html, "the theme's icons are still in the page"
        icons = re.findall(r'<i class="[^"]*\bfa-[^>]*>', html)
        assert icons and all('aria-hidden="true"' in icon for icon in icons), icons
        assert "_static/styles/pydata-sphinx-theme.css" in html, "its stylesheet draws them"
    assert not (output / "_static" / "scripts" / "fontawesome.js").exists()
    assert (
        output / "_static" / "vendor" / "fontawesome" / "webfonts" / "fa-solid-900.woff2"
    ).is_file()
