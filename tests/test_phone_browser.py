"""Figures on a phone (issue 28, item 3), in headless chromium, offline.

Every figure of a chapter, and every slider's picture, is a ``<picture>`` (``vaebook.plotting.
responsive_figure``, ``vaebook.widgets.FrameSlider``): its panels side by side on a wide
screen, stacked on a phone, each drawn with twice the pixels it is shown at. Each rendering
says, in ``data-*`` attributes, the font size of its tick labels and of its smallest text in
pixels of the PNG (``data-tick-px``, ``data-text-px``) and the PNG's width
(``data-png-width``), and for a slider where its marker (the σ point) is, as fractions of
the picture (``data-marker-x``, ``data-marker-y``). The browser knows how wide it shows the
picture, so a tick label's size in CSS pixels is ``tick-px × shown width / png-width``; the
tests check ``png-width`` against the picture the browser loaded.
"""

from __future__ import annotations

import browser
import pytest
from conftest import chapter_pages

pytestmark = pytest.mark.browser

SCREENS = [(390, 844, "light"), (390, 844, "dark"), (701, 900, "light"), (1280, 800, "light")]
"""A phone (in both themes: the dark one draws a box around outputs, which narrows them),
the narrowest window that gets the wide pictures (``NARROW_MEDIA`` ends at 700 px), and a
laptop."""
MIN_TICK_PX = 9
"""The smallest tick label allowed, in CSS pixels."""

# Every picture of the page's article: how big it is shown, where, and what its rendering says.
PICTURES = """async () => {
  const active = img => {
    const picture = img.closest('picture');
    const sources = picture ? [...picture.querySelectorAll('source')] : [];
    return sources.find(s => s.media && matchMedia(s.media).matches) || img;
  };
  const found = [];
  for (const img of document.querySelectorAll('article img')) {
    if (img.closest('.bd-header-article, .header-article-items')) continue;
    await img.decode().catch(() => {});
    const chosen = active(img), box = img.getBoundingClientRect();
    const natural = new Image();
    natural.src = img.currentSrc;
    await natural.decode().catch(() => {});
    let scroller = null;
    for (let e = img.parentElement; e && e.tagName !== 'ARTICLE'; e = e.parentElement) {
      if (e.scrollWidth > e.clientWidth + 1) { scroller = e.className || e.tagName; break; }
    }
    found.push({
      alt: (img.getAttribute('alt') || '').slice(0, 60),
      narrow: chosen !== img, left: box.left, right: box.right, shown: box.width,
      tick: chosen.dataset.tickPx ? Number(chosen.dataset.tickPx) : null,
      text: chosen.dataset.textPx ? Number(chosen.dataset.textPx) : null,
      pngWidth: Number(chosen.dataset.pngWidth), loadedWidth: natural.naturalWidth,
      scroller, viewport: window.innerWidth,
      pageScrolls: document.documentElement.scrollWidth > window.innerWidth + 1,
    });
  }
  return found;
}"""


def open_page(chromium, site: str, page_name: str, width: int, height: int, theme="light"):
    context = chromium.new_context(
        viewport={"width": width, "height": height}, device_scale_factor=2
    )
    router = browser.OfflineRouter(site)
    context.route("**/*", router)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site}{page_name}.html", wait_until="load")
    page.evaluate(f"() => document.documentElement.dataset.theme = '{theme}'")
    return context, page, router, errors


def css_px(picture: dict, key: str) -> float | None:
    """A font size of ``picture``'s rendering (``tick`` or ``text``) in CSS pixels."""
    size = picture[key]
    return None if size is None else size * picture["shown"] / picture["pngWidth"]


@pytest.fixture(scope="module")
def pictures(chromium, site) -> dict:
    """``{(screen, page): [picture, ...]}`` for every chapter on every screen of SCREENS."""
    found = {}
    for screen in SCREENS:
        for page_name in chapter_pages():
            context, page, router, errors = open_page(chromium, site, page_name, *screen)
            try:
                found[screen, page_name] = page.evaluate(PICTURES)
                assert not errors and not router.refused, (page_name, errors, router.refused)
            finally:
                context.close()
    return found


@pytest.mark.parametrize("screen", SCREENS, ids=lambda screen: f"{screen[0]}px-{screen[2]}")
def test_every_figure_fits_the_screen_with_tick_labels_of_9_css_px(pictures, screen, capsys):
    """Every figure and slider picture of every chapter: within the screen's width (no
    sideways scrolling, of the page or of a box around it), drawn with at least twice the
    pixels it is shown at, with tick labels of 9 CSS px or more; phones get the stacked
    rendering, wider screens the wide one."""
    width = screen[0]
    problems, sizes, texts, checked = [], [], [], 0
    for (shown_on, page_name), found in pictures.items():
        if shown_on != screen:
            continue
        for picture in found:
            where = f"{page_name} at {width} px ({screen[2]}), {picture['alt']!r}"
            checked += 1
            if not picture["pngWidth"] or picture["text"] is None:
                problems.append(
                    f"{where}: no data-png-width / data-text-px (not a vaebook picture)"
                )
                continue
            if picture["loadedWidth"] != picture["pngWidth"]:
                problems.append(
                    f"{where}: data-png-width {picture['pngWidth']} but the PNG "
                    f"the browser loaded is {picture['loadedWidth']} px wide"
                )
            if picture["left"] < -0.5 or picture["right"] > width + 0.5 or picture["scroller"]:
                problems.append(
                    f"{where}: outside the screen ({picture['left']:.0f}.."
                    f"{picture['right']:.0f} px) or in a box that scrolls "
                    f"({picture['scroller']})"
                )
            if picture["pngWidth"] < 1.95 * picture["shown"]:
                problems.append(
                    f"{where}: {picture['pngWidth']} px of PNG shown at "
                    f"{picture['shown']:.0f} CSS px (not 2x)"
                )
            if picture["narrow"] != (width <= 700):
                problems.append(
                    f"{where}: the {'narrow' if picture['narrow'] else 'wide'} rendering is shown"
                )
            tick = css_px(picture, "tick")
            if tick is not None:
                sizes.append(tick)
                if tick < MIN_TICK_PX:
                    problems.append(f"{where}: tick labels of {tick:.1f} CSS px")
            texts.append(css_px(picture, "text"))
            if picture["pageScrolls"]:
                problems.append(f"{where}: the page scrolls sideways")
    with capsys.disabled():
        print(
            f"\n{width} px, {screen[2]}: {checked} pictures, tick labels "
            f"{min(sizes):.1f}..{max(sizes):.1f} CSS px, smallest text {min(texts):.1f} CSS px"
            if sizes
            else "no ticks"
        )
    assert checked >= 20 and len(sizes) >= 12, (checked, len(sizes))
    assert not problems, "\n".join(problems)


SLIDER_PAGES = ["book/sigma-tradeoff", "book/linear-vae", "book/other-likelihoods"]

# Where the shown slider picture's marker is on the screen, and the state of the slider.
MARKER = """root => {
  const img = root.querySelector('img'), input = root.querySelector('input[type=range]');
  const source = root.querySelector('picture source');
  const chosen = source && matchMedia(source.media).matches ? source : img;
  const box = img.getBoundingClientRect(), control = input.getBoundingClientRect();
  return {
    index: Number(root.dataset.index), value: Number(input.value), max: Number(input.max),
    x: box.left + Number(chosen.dataset.markerX) * box.width,
    y: box.top + Number(chosen.dataset.markerY) * box.height,
    fractions: [chosen.dataset.markerX, chosen.dataset.markerY],
    narrow: chosen === source, left: box.left, right: box.right,
    control: [control.left, control.top, control.right, control.bottom],
    complete: img.complete, viewport: [window.innerWidth, window.innerHeight],
  };
}"""


def _marker_problems(state: dict, where: str) -> list[str]:
    width, height = state["viewport"]
    problems = []
    if not (0 <= state["x"] <= width and 0 <= state["y"] <= height):
        problems.append(
            f"{where}: the marker is at ({state['x']:.0f}, {state['y']:.0f}), off the "
            f"{width}x{height} screen"
        )
    if state["left"] < -0.5 or state["right"] > width + 0.5:
        problems.append(f"{where}: the picture spans {state['left']:.0f}..{state['right']:.0f}")
    left, top, right, bottom = state["control"]
    if top < 0 or bottom > height or left < 0 or right > width:
        problems.append(f"{where}: the slider itself is off the screen")
    return problems


@pytest.mark.parametrize("width, height", [(390, 844), (1280, 800)])
@pytest.mark.parametrize("page_name", SLIDER_PAGES)
def test_the_slider_marker_stays_on_the_screen_while_it_moves(
    chromium, site, page_name, width, height
):
    """With the slider near the top of the screen, as a reader holds it, the picture's
    marker (the σ point, the σ² line, the prediction's line) stays on the screen at every
    position: stepped through with the keyboard, and dragged with the mouse."""
    context, page, router, errors = open_page(chromium, site, page_name, width, height)
    try:
        root = page.locator(".vaebook-slider").first
        slider = root.locator("input[type=range]")
        slider.evaluate(
            "input => window.scrollBy(0, input.getBoundingClientRect().top"
            " - window.innerHeight * 0.2)"
        )
        problems, seen = [], set()
        slider.focus()
        page.keyboard.press("Home")
        last = root.evaluate(MARKER)
        assert last["index"] == 0 and last["max"] >= 2, last
        assert last["narrow"] == (width <= 700), last
        for step in range(last["max"]):
            page.keyboard.press("ArrowRight")
            page.wait_for_function(
                "root => root.querySelector('img').complete", arg=root.element_handle()
            )
            state = root.evaluate(MARKER)
            assert state["index"] == step + 1 == state["value"], state
            problems += _marker_problems(state, f"{page_name}, key step {step + 1}")
            seen.add(tuple(state["fractions"]))
        assert len(seen) > 1, f"{page_name}: the marker never moved: {seen}"
        # Drag the thumb from the left end to the right end, the mouse button held down.
        page.keyboard.press("Home")
        left, top, right, bottom = root.evaluate(MARKER)["control"]
        y = (top + bottom) / 2
        page.mouse.move(left + 2, y)
        page.mouse.down()
        indices = []
        for k in range(1, 21):
            page.mouse.move(left + 2 + (right - left - 4) * k / 20, y)
            state = root.evaluate(MARKER)
            indices.append(state["index"])
            problems += _marker_problems(state, f"{page_name}, drag {k}/20")
        page.mouse.up()
        assert indices[-1] == last["max"] and indices == sorted(indices), indices
        assert len(set(indices)) > 2, f"{page_name}: dragging did not move the slider: {indices}"
        assert not problems, "\n".join(problems)
        assert not errors and not router.refused, (errors, router.refused)
    finally:
        context.close()
