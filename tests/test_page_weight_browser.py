"""Page weight of the built website (issue 28, item 7), in headless chromium, offline.

Every page of ``_toc.yml`` is opened with an empty browser cache (a new browser context) at
1280 and at 390 px (where the stacked pictures for phones load), scrolled to its end (so that
anything loaded late is counted too) and left until the network is idle. What the page
downloaded, every response but MathJax's own files (the public site takes those from a CDN
that many sites share, and MathJax is weighed by its own project), must stay within
``BUDGET``: the HTML, CSS, JavaScript, fonts and pictures, from the site and from routed CDNs
alike. The byte counts are the bodies the server sent (the test's server sends them
uncompressed, as files; GitHub Pages compresses text, so readers download less). A table of
every page's weight is printed (``-s`` shows it when the test passes, a failure always shows
it).

``_ext/page_weight.py`` keeps the pages light: no FontAwesome script (its icons come from the
web fonts of the theme's stylesheet), and the sliders' pictures as files in ``_images/``,
named by their hash, instead of base64 inside the HTML.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

import browser
import pytest
from conftest import toc_files

BUDGET = 2_000_000
"""Bytes a first visit of any page may download, MathJax's own files left out."""
MATHJAX = re.compile(r"https://cdn\.jsdelivr\.net/npm/mathjax@")
FONTAWESOME_SCRIPT = re.compile(r"fontawesome[^/]*\.js(\?|$)", re.IGNORECASE)
KINDS = {
    "document": "HTML",
    "stylesheet": "CSS",
    "script": "JS",
    "font": "fonts",
    "image": "images",
}
COLUMNS = ["HTML", "CSS", "JS", "fonts", "images", "other"]
PNG = b"\x89PNG\r\n\x1a\n"

SCROLL_TO_END = """async () => {
  for (let y = 0; y < document.documentElement.scrollHeight; y += window.innerHeight) {
    window.scrollTo(0, y);
    await new Promise(resolve => requestAnimationFrame(() => setTimeout(resolve, 30)));
  }
  window.scrollTo(0, document.documentElement.scrollHeight);
  await document.fonts.ready;
}"""
# Every picture of the page, and whether the browser could show it.
PICTURES = """() => [...document.images].map(image => ({
  src: image.currentSrc || image.src, complete: image.complete, width: image.naturalWidth}))"""
# The icons the reader sees (FontAwesome's, drawn by the theme's stylesheet from its web fonts),
# and the web fonts the page has loaded.
ICONS = """() => ({
  icons: [...document.querySelectorAll('i[class*="fa-"]')].filter(i => i.getClientRects().length)
    .map(i => { const glyph = getComputedStyle(i, '::before');
      return {icon: i.className.replace(/\\s+/g, ' '), glyph: glyph.content, width: i.offsetWidth,
              font: glyph.fontFamily.replace(/["']/g, '') + ' ' + glyph.fontWeight}; }),
  loaded: [...document.fonts].filter(f => f.status === 'loaded')
    .map(f => f.family.replace(/["']/g, '') + ' ' + f.weight),
})"""
# Icons of the header that every page shows (the colour-mode button shows one of three).
HEADER_ICONS = ("fa-magnifying-glass", "fa-github", "fa-download", "fa-expand", "theme-switch")
# The pictures a slider shows when it moves (vaebook.widgets: a JSON list of frames next to the
# slider, each with its picture and, for narrow screens, maybe another).
SLIDER_FRAMES = """() => [...document.querySelectorAll('.vaebook-slider script[type*=json]')]
  .flatMap(script => JSON.parse(script.textContent))
  .flatMap(frame => [frame.src, frame.narrow?.src].filter(Boolean))"""


@dataclass
class FirstVisit:
    """What one page downloaded on a first visit."""

    page: str
    width: int = 1280
    by_kind: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COLUMNS, 0))
    mathjax: int = 0
    urls: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    pictures: list[dict] = field(default_factory=list)
    frames: dict[str, dict] = field(default_factory=dict)
    """Each slider picture's URL: its HTTP status, bytes and SHA-256 (fetched apart)."""
    icons: dict = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.by_kind.values())

    @property
    def later(self) -> int:
        """Bytes of the slider pictures that the first visit did not load: what moving every
        slider through every position (on any screen) downloads on top."""
        return sum(f.get("bytes", 0) for url, f in self.frames.items() if url not in self.urls)


def first_visit(chromium, site: str, page_name: str, width: int = 1280) -> FirstVisit:
    """Open ``page_name`` in a new browser context (an empty cache) ``width`` px wide and
    weigh what it loads."""
    visit = FirstVisit(page_name, width)
    context = chromium.new_context(viewport={"width": width, "height": 900})
    router = browser.OfflineRouter(site)
    context.route("**/*", router)
    responses = []
    try:
        page = context.new_page()
        page.on("response", lambda response: responses.append(response))
        page.on("requestfailed", lambda r: visit.failed.append(f"{r.url} ({r.failure})"))
        page.on("console", lambda m: m.type == "error" and visit.errors.append(m.text))
        page.on("pageerror", lambda e: visit.errors.append(str(e)))
        page.goto(f"{site}{page_name}.html", wait_until="load")
        if page.evaluate("() => !!document.querySelector('script[src*=mathjax]')"):
            page.wait_for_function("() => window.MathJax?.startup?.promise", timeout=20000)
            page.evaluate("() => MathJax.startup.promise")
        page.evaluate(SCROLL_TO_END)
        page.wait_for_load_state("networkidle")
        visit.pictures = page.evaluate(PICTURES)
        visit.icons = page.evaluate(ICONS)
        for src in page.evaluate(SLIDER_FRAMES):
            url = urljoin(page.url, src)
            if url.startswith(site) and url not in visit.frames:
                answer = context.request.get(url)
                body = answer.body() if answer.ok else b""
                visit.frames[url] = {
                    "status": answer.status,
                    "bytes": len(body),
                    "png": body.startswith(PNG),
                    "sha256": hashlib.sha256(body).hexdigest(),
                }
            else:
                visit.frames.setdefault(url, {"status": None})
        for response in responses:
            url = response.url
            if url.startswith("data:"):  # its bytes are those of the page that holds it
                continue
            visit.urls.append(url)
            if response.status >= 400:
                visit.failed.append(f"{url} (HTTP {response.status})")
            size = 0 if 300 <= response.status < 400 else len(response.body())
            if MATHJAX.match(url):
                visit.mathjax += size
            else:
                visit.by_kind[KINDS.get(response.request.resource_type, "other")] += size
    finally:
        context.close()
    visit.failed += [f"{url} (refused: outside host)" for url in router.refused]
    return visit


def table(visits: list[FirstVisit]) -> str:
    """The weights as a fixed-width table, in kB (1000 bytes)."""
    header = ["page", *COLUMNS, "total", "MathJax (not counted)", "slider pictures later"]
    rows = [
        [v.page, *(f"{v.by_kind[c] / 1000:.0f}" for c in COLUMNS), f"{v.total / 1000:.0f}"]
        + [f"{v.mathjax / 1000:.0f}", f"{v.later / 1000:.0f}"]
        for v in visits
    ]
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.rjust(w) if i else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        )
        for row in [header, *rows]
    ]
    width = visits[0].width if visits else 0
    return f"First visit of every page, kB (empty cache, {width} px):\n" + "\n".join(lines)


@pytest.fixture(scope="module", params=[1280, 390], ids=lambda width: f"{width}px")
def visits(chromium, site, request) -> list[FirstVisit]:
    return [first_visit(chromium, site, page_name, request.param) for page_name in toc_files()]


@pytest.mark.browser
def test_first_visit_of_every_page_weighs_at_most_2_mb(visits, capsys):
    report = table(visits)
    with capsys.disabled():
        print("\n" + report)
    assert len(visits) == len(toc_files()) >= 12
    for v in visits:
        assert v.by_kind["HTML"] > 10_000, f"{v.page}: the page itself was not weighed"
        assert v.by_kind["CSS"] > 100_000, f"{v.page}: the theme's stylesheet was not weighed"
    heavy = [f"{v.page}: {v.total:,} bytes" for v in visits if v.total > BUDGET]
    assert not heavy, (
        f"pages over {BUDGET:,} bytes on a first visit:\n" + "\n".join(heavy) + ("\n\n" + report)
    )


@pytest.mark.browser
def test_no_page_requests_a_fontawesome_script(visits):
    """The theme's icons are drawn from the web fonts of its stylesheet, without the 1.5 MB
    SVG kit of FontAwesome (``_ext/page_weight.py``)."""
    requested = [
        f"{v.page}: {url}" for v in visits for url in v.urls if FONTAWESOME_SCRIPT.search(url)
    ]
    assert not requested, "FontAwesome's script is still loaded:\n" + "\n".join(requested)


@pytest.mark.browser
def test_the_theme_s_icons_are_drawn_from_its_web_fonts(visits):
    """Without FontAwesome's script, every icon the reader sees (the header's buttons, search,
    colour mode, previous and next) is a glyph of a FontAwesome web font the page loaded."""
    problems = []
    for v in visits:
        icons, loaded = v.icons["icons"], set(v.icons["loaded"])
        seen = " ".join(icon["icon"] for icon in icons)
        missing = [name for name in HEADER_ICONS if name not in seen]
        if missing:
            problems.append(f"{v.page}: the icons {missing} are not visible; visible: {icons}")
        for icon in icons:
            drawn = icon["glyph"] not in ("none", "normal", '""') and icon["width"] > 0
            if not (drawn and icon["font"].startswith("Font Awesome") and icon["font"] in loaded):
                problems.append(f"{v.page}: {icon} is not drawn (fonts loaded: {sorted(loaded)})")
    assert not problems, "\n".join(problems)


@pytest.mark.browser
def test_every_request_succeeds_and_every_picture_shows(visits):
    """Moving pictures out of the HTML broke no reference: every request of every page
    succeeded, and every picture on it loaded."""
    problems = [f"{v.page}: {failure}" for v in visits for failure in v.failed]
    problems += [f"{v.page}: console error {error}" for v in visits for error in v.errors]
    for v in visits:
        problems += [
            f"{v.page}: picture {p['src'][:100]} did not load"
            for p in v.pictures
            if not (p["complete"] and p["width"] > 0)
        ]
    assert not problems, "\n".join(problems)
    assert sum(len(v.pictures) for v in visits) >= 20, "too few pictures were checked"


@pytest.mark.browser
def test_every_slider_picture_is_a_file_of_the_site(visits):
    """The pictures a slider shows when it moves are PNG files of the site, named by their
    hash (so a picture used twice is one file), where the page's relative URL leads."""
    frames = {url: (v.page, frame) for v in visits for url, frame in v.frames.items()}
    slider_pages = {page for page, _ in frames.values()}
    assert {"book/sigma-tradeoff", "book/linear-vae", "book/other-likelihoods"} <= slider_pages
    problems = []
    for url, (page_name, frame) in frames.items():
        name = url.rsplit("/", 1)[-1]
        if frame["status"] is None:
            problems.append(f"{page_name}: a slider picture is not a file of the site: {url[:80]}")
        elif frame["status"] != 200 or not frame["png"]:
            problems.append(
                f"{page_name}: {url} answers HTTP {frame['status']}, PNG: {frame['png']}"
            )
        elif name != f"{frame['sha256']}.png":
            problems.append(f"{page_name}: {url} is not named by the SHA-256 of its bytes")
    assert not problems, "\n".join(problems)


def built_pages(built_html) -> list:
    """The pages of the website and of the whole-book page of `make pdf` (a site reused
    through ``VAEBOOK_TEST_SITE`` may come without the latter); not the theme's templates that
    Sphinx copies into ``_static``."""
    singlehtml = built_html.parent / "singlehtml"
    pages = [p for p in built_html.rglob("*.html") if "_static" not in p.parts]
    if singlehtml.is_dir():
        pages += [p for p in singlehtml.rglob("*.html") if "_static" not in p.parts]
    else:
        assert os.environ.get("VAEBOOK_TEST_SITE"), f"the whole-book page is missing: {singlehtml}"
        print(f"{singlehtml} is missing: only the website's pages are checked")
    return pages


@pytest.mark.build
def test_no_inline_pictures_or_fontawesome_script_in_the_built_html(built_html):
    pages = built_pages(built_html)
    assert len(pages) >= len(toc_files())
    inline = [str(p) for p in pages if "data:image" in p.read_text(errors="replace")]
    assert not inline, "pages that still hold data:image URIs:\n" + "\n".join(inline)
    scripts = [str(p) for p in pages if "scripts/fontawesome.js" in p.read_text(errors="replace")]
    assert not scripts, "pages that still load FontAwesome's script:\n" + "\n".join(scripts)
    assert not (built_html / "_static" / "scripts" / "fontawesome.js").exists()
