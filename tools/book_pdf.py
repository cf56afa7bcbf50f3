"""Print the whole book to one PDF: `make pdf`.

`jupyter-book build . --builder singlehtml` writes every chapter, in the order of `_toc.yml`,
into one page (`_build/singlehtml/index.html`), from the same execution cache as the website.
This script opens that page in Debian's chromium (driven by Playwright, the browser of the
tests), offline: MathJax comes from the copy vendored from npm (`tests/js`, as in the browser
tests), so the equations are typeset as on the website. Before printing it opens every exercise
solution, adds a line under each slider and the loss calculator saying that the live version is
on the website, and leaves out the collapsed check cells. The PDF goes to
`_build/html/_static/book.pdf`, so the website links it (*How to use this book*).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import browser  # noqa: E402  (tests/browser.py: offline routing, vendored MathJax)

PDF_NAME = "book.pdf"
"""The file name of the PDF in the website's `_static/` folder."""

LIVE_NOTES = {
    ".vaebook-slider": (
        "This is the first frame of an interactive figure. Move the slider on "
        "the book's website, or run the chapter as a notebook."
    ),
    ".vaebook-loss-calculator": (
        "On the book's website this calculator answers for the "
        "settings you choose; here it shows its defaults."
    ),
}
"""The line printed under each kind of interactive element (by its CSS selector)."""

PREPARE = """(notes) => {
  // Exercise solutions open (sphinx-togglebutton hides them until clicked).
  for (const item of document.querySelectorAll('.toggle-hidden')) {
    item.classList.remove('toggle-hidden');
  }
  for (const button of document.querySelectorAll('button.toggle-button')) button.remove();
  // Interactive figures: their first frame, and where to find the live version.
  for (const [selector, note] of Object.entries(notes)) {
    for (const item of document.querySelectorAll(selector)) {
      const line = document.createElement('p');
      line.className = 'vaebook-print-note';
      line.textContent = note;
      (item.closest('.cell_output') || item).after(line);
    }
  }
  // Each chapter starts a new sheet (singlehtml marks where each document begins).
  for (const anchor of document.querySelectorAll('span[id^="document-"]')) {
    const chapter = anchor.nextElementSibling;
    if (chapter) chapter.style.breakBefore = 'page';
  }
  return document.querySelectorAll('.vaebook-print-note').length;
}"""

PRINT_CSS = """
@page { size: A4; margin: 16mm 14mm 18mm 14mm; }
/* Page furniture of the website: no use on paper. */
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article, .bd-footer,
.bd-footer-article, .prev-next-area, .skip-link, .headerlink, #pst-back-to-top,
#jb-print-toc,
details.hide.above-input, .vaebook-slider input[type=range], .toggle-button { display: none !important; }
/* Chromium ignores page breaks inside flex containers: lay the page out as plain blocks. */
.bd-container, .bd-container__inner, .bd-main, .bd-content, .bd-article-container,
.bd-article { display: block !important; max-width: 100% !important; }
.vaebook-print-note { font-style: italic; font-size: 0.9em; }
div.highlight pre { white-space: pre-wrap; font-size: 10px; }
figure, img, .cell_output { break-inside: avoid; }
"""


def whole_book_page(html: Path) -> str:
    """The page of a singlehtml build that holds the book: Jupyter Book's ``index.html`` only
    redirects to the root page of ``_toc.yml``."""
    index = html / "index.html"
    if not index.is_file():
        raise FileNotFoundError(
            f"{index} is missing: run `jupyter-book build . --builder singlehtml` first (make pdf)"
        )
    redirect = re.search(r'http-equiv="Refresh" content="0; url=([^"]+)"', index.read_text())
    if not redirect:
        return "index.html"
    # Sphinx writes that page's links (_static/, _images/) as seen from the build's root
    # folder, although the page itself sits in book/: a copy at the root finds them.
    copy = html / "whole-book.html"
    copy.write_text((html / redirect.group(1)).read_text())
    return copy.name


def print_pdf(html: Path, output: Path, *, timeout: float = 120_000) -> Path:
    """Print the whole-book page of ``html`` (a singlehtml build) to ``output``."""
    from playwright.sync_api import sync_playwright

    page_name = whole_book_page(html)
    browser.check_vendored_files()
    browser.check_chromium()
    base, shutdown = browser.serve(html)
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=browser.CHROMIUM, args=browser.CHROMIUM_ARGS
            )
            context = chromium.new_context()
            router = browser.OfflineRouter(base)
            context.route("**/*", router)
            page = context.new_page()
            page.goto(f"{base}{page_name}", wait_until="load", timeout=timeout)
            page.wait_for_function("() => window.MathJax?.startup?.promise", timeout=timeout)
            page.evaluate("() => MathJax.startup.promise")
            page.evaluate(PREPARE, LIVE_NOTES)
            page.add_style_tag(content=PRINT_CSS)
            page.emulate_media(media="print")
            output.parent.mkdir(parents=True, exist_ok=True)
            page.pdf(
                path=str(output),
                format="A4",
                print_background=True,
                prefer_css_page_size=True,
                display_header_footer=True,
                header_template="<span></span>",
                footer_template=(
                    '<div style="font-size:8px;width:100%;text-align:center">'
                    '<span class="pageNumber"></span></div>'
                ),
            )
            chromium.close()
        if router.refused:
            raise RuntimeError(f"the page asked for files outside the machine: {router.refused}")
    finally:
        shutdown()
    return output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--html", type=Path, default=REPO / "_build" / "singlehtml")
    parser.add_argument(
        "--output", type=Path, default=REPO / "_build" / "html" / "_static" / PDF_NAME
    )
    arguments = parser.parse_args(argv)
    path = print_pdf(arguments.html, arguments.output)
    print(f"The book is printed: {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
