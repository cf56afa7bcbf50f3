"""JupyterLab in a real browser: a MyST chapter opens as a notebook, runs, and its slider moves."""

from __future__ import annotations

import shutil

import lab
import pytest
from conftest import JUPYTEXT_HEADER

pytestmark = pytest.mark.browser

SLIDER_PAGE = (
    JUPYTEXT_HEADER
    + """
# A slider

```{code-cell} ipython3
import matplotlib.pyplot as plt
from vaebook.widgets import Frame, FrameSlider, figure_to_png, numbers_table
```

```{code-cell} ipython3
frames = []
for slope in range(4):
    fig, ax = plt.subplots(figsize=(2, 2))
    ax.plot([0, 1], [0, slope])
    frames.append(Frame(f"{slope}", figure_to_png(fig), f"slope {slope}",
                        numbers_table({"slope": f"{slope}"})))
FrameSlider(frames, description="slope", aria_label="Slope")
```
"""
)


def move_slider_and_read(page, presses: int):
    """Press ArrowRight on the ipywidgets slider handle; return (readout, image src, numbers)."""
    handle = page.locator(".jp-OutputArea .widget-slider .noUi-handle").first
    handle.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
    page.wait_for_timeout(300)
    area = page.locator(".jp-OutputArea").last
    return (
        area.locator(".widget-readout").first.inner_text(),
        area.locator(".widget-image").first.get_attribute("src"),
        area.locator(".widget-html-content").first.inner_text(),
    )


def test_a_myst_page_opens_as_a_notebook_and_its_slider_moves(chromium, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "slider.md").write_text(SLIDER_PAGE)
    with lab.jupyter_lab(root, tmp_path) as (base, token):
        page = chromium.new_page(viewport={"width": 1300, "height": 1000})
        lab.open_notebook(page, base, token, "slider.md")
        assert page.locator(".jp-Notebook .jp-CodeCell").count() == 2, (
            "the .md file did not open as a notebook of two code cells"
        )
        lab.run_all_cells(page)
        page.wait_for_selector(".jp-OutputArea .widget-slider", timeout=60000)
        before = move_slider_and_read(page, 0)
        after = move_slider_and_read(page, 2)
        assert before[0] == "0" and after[0] == "2", (before[0], after[0])
        assert after[1] != before[1], "the image did not change"
        assert "2" in after[2] and after[2] != before[2], "the numbers did not change"
        page.close()


@pytest.mark.parametrize("chapter", ["sigma-tradeoff", "other-likelihoods"])
def test_a_chapter_runs_in_jupyterlab_and_its_slider_moves(chromium, tmp_path, chapter, built_html):
    """Open a chapter as Binder would, run all cells, move its slider (σ, or one pixel's
    prediction). After the book build (``built_html``), so its models are in the training
    cache and the chapter runs in seconds."""
    from conftest import REPO

    # A copy of the chapters: JupyterLab saves what it opens, and the test must not rewrite
    # the repository's sources (jupytext would reformat their headers).
    root = tmp_path / "root"
    shutil.copytree(REPO / "book", root / "book")
    with lab.jupyter_lab(root, tmp_path / "lab") as (base, token):
        page = chromium.new_page(viewport={"width": 1300, "height": 1000})
        lab.open_notebook(page, base, token, f"book/{chapter}.md")
        # JupyterLab renders a long notebook's cells progressively: wait for them.
        page.wait_for_function(
            "document.querySelectorAll('.jp-Notebook .jp-CodeCell').length > 5", timeout=30000
        )
        assert page.locator(".jp-Notebook .jp-CodeCell").count() > 5
        lab.run_all_cells(page, timeout_ms=600000)
        tracebacks = page.locator(".jp-OutputArea-output", has_text="Traceback")
        assert tracebacks.count() == 0, "a cell raised an error in JupyterLab"
        page.wait_for_selector(".jp-OutputArea .widget-slider", timeout=60000)
        slider_output = page.locator(".jp-OutputArea-output:has(.widget-slider)").first
        slider_output.scroll_into_view_if_needed()
        handle = slider_output.locator(".noUi-handle").first
        readout = slider_output.locator(".widget-readout").first
        image = slider_output.locator(".widget-image").first
        numbers = slider_output.locator(".widget-html-content").first
        before = (readout.text_content(), image.get_attribute("src"), numbers.text_content())
        handle.focus()
        page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([el, old]) => el.textContent.trim() !== old",
            arg=[readout.element_handle(), before[0]],
            timeout=10000,
        )
        page.wait_for_timeout(300)
        after = (readout.text_content(), image.get_attribute("src"), numbers.text_content())
        assert float(after[0]) > float(before[0]), (before[0], after[0])
        assert after[1] != before[1], "the picture did not change"
        assert after[2] != before[2] and after[0] in after[2], "the numbers did not follow"
        if chapter == "sigma-tradeoff":
            move_the_latent_explorer(page)
        page.close()


def move_the_latent_explorer(page):
    """The latent explorer of the σ chapter, live: its z₁ slider (the second of its three)
    moves the point, and the decoded picture and the words follow."""
    explorer = page.locator(".jp-OutputArea-output:has(.widget-slider)").nth(1)
    explorer.scroll_into_view_if_needed()
    assert explorer.locator(".widget-slider").count() == 3, "σ, z₁ and z₂"
    digits = explorer.locator(".widget-image").nth(1)
    words = explorer.locator(".widget-html-content").first
    before = (digits.get_attribute("src"), words.text_content())
    explorer.locator(".noUi-handle").nth(1).focus()
    for _ in range(5):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([el, old]) => el.textContent !== old",
        arg=[words.element_handle(), before[1]],
        timeout=10000,
    )
    page.wait_for_timeout(300)
    assert digits.get_attribute("src") != before[0], "the decoded digit did not change"
    assert "(0.00, 0.00)" in before[1] and "(0.00, 0.00)" not in words.text_content()
