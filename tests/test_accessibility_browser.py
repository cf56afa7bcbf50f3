"""Keyboard and assistive technology on the built website (issue 28), in headless chromium.

* Formulas are not Tab stops (MathJax's ``inTabOrder`` menu setting, ``_config.yml``); a
  display formula wider than a phone's column is one, so that the keyboard can scroll it.
* Every Tab stop shows a focus ring that can be seen (a 2 px outline or box shadow with 3:1
  contrast against the page, in light and dark), and the chapters' widgets come early in the
  Tab order.
* axe-core (vendored from npm, ``tests/js``) finds no critical or serious violation of WCAG
  2.0/2.1 A and AA on any page, at 1280 and 390 px, in light and dark.
"""

from __future__ import annotations

import browser
import pytest
from conftest import toc_files

pytestmark = pytest.mark.browser

WIDTHS = (1280, 390)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = ("critical", "serious")
# The chapters whose Tab order the keyboard tests walk: the longest derivation, the loss
# calculator's page and the σ slider's page.
WALKED = [
    "book/gaussian-likelihood",
    "book/scaling-and-other-likelihoods",
    "book/sigma-tradeoff",
]
MAX_STOPS = 500  # a page has at most about 160 stops; with every formula a stop, 400
# The first control of each widget, and the Tab stop that must reach it at the latest.
# Measured with formulas out of the Tab order: the 46th and 48th stops at 1280 px, the 49th
# and 55th at 390 px (with every formula a stop: the 98th and 120th, the 100th and 127th).
WIDGETS = {
    "book/sigma-tradeoff": ("input[type=range]", 65),
    "book/scaling-and-other-likelihoods": ("#loss-calculator select, #loss-calculator input", 75),
}

# The page's finite CSS transitions and animations jump to their end, so that styles are read
# as the reader sees them a moment later (the skip link slides in, copy buttons fade in).
SETTLE_JS = """document.getAnimations()
  .filter(a => a.effect?.getComputedTiming().endTime !== Infinity)
  .forEach(a => a.finish());
"""

# The element that has the focus: what it is, whether it can be seen, and its focus ring.
FOCUSED = (
    "async widgets => {\n"
    + SETTLE_JS
    + """
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) return null;
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const [R, G, B] = [r, g, b].map(v => { v /= 255;
      return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * R + 0.7152 * G + 0.0722 * B;
  };
  const ratio = (a, b) => {
    const [x, y] = [luminance(a), luminance(b)].sort((s, t) => t - s);
    return (x + 0.05) / (y + 0.05);
  };
  const background = e => {
    for (; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c.length === 3 || c[3] > 0.5) return c.slice(0, 3);
    }
    return [255, 255, 255];
  };
  // The rings that an element (or its ::before) draws, outlines and box shadows, with their
  // width and their contrast against the background around the element.
  const ringsOf = (e, pseudo) => {
    const style = getComputedStyle(e, pseudo), around = background(e.parentElement);
    const rings = [];
    if (pseudo && style.content === 'none') return rings;
    if (style.outlineStyle !== 'none' && style.outlineStyle !== 'hidden') {
      rings.push({kind: 'outline ' + style.outlineStyle, width: parseFloat(style.outlineWidth),
                  contrast: ratio(rgb(style.outlineColor), around)});
    }
    if (style.boxShadow !== 'none') {
      // "rgb(193, 50, 175) 0px 0px 0px 3px, ...": a shadow's spread is its 4th length.
      for (const shadow of style.boxShadow.split(/,(?![^(]*\\))/)) {
        const color = (shadow.match(/rgba?\\([^)]*\\)/) || [''])[0];
        const lengths = shadow.replace(color, '').match(/-?[\\d.]+px/g) || [];
        if ((rgb(color)[3] ?? 1) > 0.5) rings.push({kind: 'box-shadow',
          width: parseFloat(lengths[3] || 0), contrast: ratio(rgb(color), around)});
      }
    }
    return rings;
  };
  const shows = rings => rings.some(r => r.width >= 2 && r.contrast >= 3);
  let rings = ringsOf(el, null), ring = shows(rings), holder = null;
  if (!ring) {
    // pydata's theme rings the admonition title that holds sphinx-togglebutton's button
    // (:has(:focus-visible), on the title's ::before): accept a ring that one of the three
    // nearest ancestors, or its ::before, draws while el has the focus and not otherwise.
    const holders = [];
    for (let e = el.parentElement, n = 0; e && n < 3; e = e.parentElement, n++) {
      holders.push([e, null], [e, '::before']);
    }
    const focused = holders.map(([e, p]) => shows(ringsOf(e, p)));
    if (focused.some(Boolean)) {
      el.blur();
      const blurred = holders.map(([e, p]) => shows(ringsOf(e, p)));
      el.focus({preventScroll: true});
      const index = focused.findIndex((f, i) => f && !blurred[i]);
      if (index >= 0) {
        ring = true;
        rings = ringsOf(...holders[index]);
        holder = holders[index][0].className + (holders[index][1] || '');
      }
    }
  }
  const style = getComputedStyle(el), box = el.getBoundingClientRect();
  let opacity = 1;
  for (let e = el; e; e = e.parentElement) opacity *= Number(getComputedStyle(e).opacity);
  const label = (el.getAttribute('aria-label') || el.innerText || el.getAttribute('title')
    || el.getAttribute('aria-labelledby') || '').trim().replace(/\\s+/g, ' ').slice(0, 50);
  return {
    element: `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}`
      + `${typeof el.className === 'string' && el.className.trim()
           ? '.' + el.className.trim().split(/\\s+/).slice(0, 3).join('.') : ''} "${label}"`,
    key: el.outerHTML.slice(0, 200) + box.top + window.scrollY,
    math: el.tagName === 'MJX-CONTAINER',
    scrolls: el.scrollWidth > el.clientWidth + 1,
    visible: box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && opacity > 0.5
      && box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth,
    opacity, rings, ring, holder,
    widget: Object.entries(widgets).filter(([, s]) => el.matches(s)).map(([k]) => k),
  };
}"""
)


def new_page(chromium, site: str, width: int):
    """A page at ``width`` px that reaches only the test server and the vendored copies."""
    context = chromium.new_context(viewport={"width": width, "height": 900})
    router = browser.OfflineRouter(site)
    context.route("**/*", router)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    return context, page, errors


def open_page(page, url: str):
    page.goto(url, wait_until="load")
    if page.evaluate("() => !!document.querySelector('script[src*=mathjax]')"):
        page.wait_for_function("() => window.MathJax?.startup?.promise", timeout=20000)
        page.evaluate("() => MathJax.startup.promise")
    page.evaluate("() => document.fonts.ready.then(() => null)")


SETTLE = "() => {\n" + SETTLE_JS + "}"


def set_theme(page, theme: str):
    """The theme's light or dark colours, as its colour-mode button sets them."""
    page.evaluate(
        """theme => {
          document.documentElement.dataset.mode = theme;
          document.documentElement.dataset.theme = theme;
          document.querySelectorAll('.dropdown-menu')
            .forEach(e => e.classList.toggle('dropdown-menu-dark', theme === 'dark'));
        }""",
        theme,
    )
    page.evaluate(SETTLE)


# ----- formulas out of the Tab order ---------------------------------------------------------

MATH_STOPS = """() => {
  const all = [...document.querySelectorAll('mjx-container')];
  const stop = m => m.tabIndex >= 0;
  return {
    formulas: all.length,
    stops: all.filter(stop).length,
    narrow: all.filter(m => stop(m) && !(m.getAttribute('display') === 'true'
      && m.scrollWidth > m.clientWidth + 1)).map(m => m.textContent.slice(0, 40)),
    wide: all.filter(m => m.getAttribute('display') === 'true'
      && m.scrollWidth > m.clientWidth + 1 && !stop(m)).length,
    config: window.MathJax.config?.options?.menuOptions?.settings?.inTabOrder,
    classes: window.MathJax.config?.options?.processHtmlClass,
  };
}"""


@pytest.mark.parametrize("width", WIDTHS)
def test_formulas_are_not_tab_stops(chromium, site, width):
    """MathJax made each of the derivation's 150 formulas a Tab stop; now none is, except a
    display formula wider than the column (on a phone), which the keyboard must scroll."""
    context, page, errors = new_page(chromium, site, width)
    try:
        open_page(page, f"{site}book/gaussian-likelihood.html")
        found = page.evaluate(MATH_STOPS)
        assert found["config"] is False, f"MathJax's inTabOrder is {found['config']!r}"
        assert "math" in found["classes"].split("|"), found["classes"]  # myst-parser's, kept
        assert found["formulas"] > 100, found
        assert not found["narrow"], f"formulas that are Tab stops: {found['narrow'][:5]}"
        assert not found["wide"], f"{found['wide']} wide formulas the keyboard cannot scroll"
        # The formula menu is still there, on a right click.
        page.locator("mjx-container").first.click(button="right")
        page.wait_for_selector(".CtxtMenu_Menu", state="visible", timeout=5000)
        page.keyboard.press("Escape")
        assert not errors, f"console errors: {errors}"
    finally:
        context.close()


# ----- a visible focus on every Tab stop -----------------------------------------------------


def walk_tab_order(page, widgets: dict[str, str]) -> list[dict]:
    """Every Tab stop from the top of the page, in order, until the focus leaves the page."""
    # Start from the top: the body has the focus, so the first Tab goes to the first stop.
    page.evaluate("""() => {
      window.scrollTo(0, 0);
      document.body.tabIndex = -1;
      document.body.focus({preventScroll: true});
      document.body.removeAttribute('tabindex');
    }""")
    stops: list[dict] = []
    first = None
    for _ in range(MAX_STOPS):
        page.keyboard.press("Tab")
        stop = page.evaluate(FOCUSED, widgets)
        if stop is None or stop["key"] == first:
            return stops
        first = first or stop["key"]
        stops.append(stop)
    raise AssertionError(f"more than {MAX_STOPS} Tab stops: {[s['element'] for s in stops[-5:]]}")


@pytest.fixture(scope="module", params=WIDTHS, ids=lambda w: f"{w}px")
def tab_walks(request, chromium, site):
    """The Tab order of the walked chapters at one width, in light and in dark."""
    width = request.param
    walks = {}
    for page_name in WALKED:
        context, page, errors = new_page(chromium, site, width)
        try:
            open_page(page, f"{site}{page_name}.html")
            widgets = {name: selector for name, (selector, _) in WIDGETS.items()}
            walks[page_name] = {}
            for theme in ("light", "dark"):
                set_theme(page, theme)
                walks[page_name][theme] = walk_tab_order(page, widgets)
            walks[page_name]["errors"] = errors
        finally:
            context.close()
    return width, walks


def test_every_tab_stop_shows_its_focus(tab_walks):
    """Tab from the top of three chapters to the end: every control that takes the focus is
    on screen and not transparent, and draws a ring of at least 2 px (outline or box shadow)
    with 3:1 contrast against the page, in the light and the dark theme."""
    width, walks = tab_walks
    problems = []
    for page_name, walk in walks.items():
        assert not walk["errors"], f"{page_name}: console errors {walk['errors']}"
        for theme in ("light", "dark"):
            stops = walk[theme]
            assert len(stops) >= 20, f"{page_name}: only {len(stops)} Tab stops"
            for number, stop in enumerate(stops, 1):
                where = f"{page_name} at {width} px, {theme}, stop {number}: {stop['element']}"
                if not stop["visible"]:
                    problems.append(f"{where}: focused but not visible (opacity {stop['opacity']})")
                if not stop["ring"]:
                    problems.append(f"{where}: no focus ring that shows ({stop['rings']})")
                if stop["math"] and not stop["scrolls"]:
                    problems.append(f"{where}: a formula that needs no scrolling is a Tab stop")
    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems[:40])


def test_the_widgets_come_early_in_the_tab_order(tab_walks):
    """The σ slider and the loss calculator are reached within 65 and 75 Tab stops (with
    every formula a Tab stop they came after a hundred)."""
    width, walks = tab_walks
    for page_name, (selector, bound) in WIDGETS.items():
        stops = walks[page_name]["light"]
        reached = [n for n, stop in enumerate(stops, 1) if page_name in stop["widget"]]
        assert reached, f"{page_name}: Tab never reaches {selector} at {width} px"
        assert reached[0] <= bound, (
            f"{page_name}: {selector} is Tab stop {reached[0]} of {len(stops)} at {width} px "
            f"(at most {bound}); before it: {[s['element'] for s in stops[: reached[0]]][-30:]}"
        )


# ----- axe-core on every page ----------------------------------------------------------------

AXE_RUN = """async ({tags, rules}) => {
  const result = await axe.run(document, {
    runOnly: rules ? {type: 'rule', values: rules} : {type: 'tag', values: tags},
    resultTypes: ['violations'],
  });
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help, count: v.nodes.length,
    targets: v.nodes.slice(0, 4).map(n => n.target.join(' ')),
  }));
}"""


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("page_name", toc_files())
def test_axe_finds_no_serious_violations(chromium, site, page_name, width):
    """axe-core with the WCAG 2.0 and 2.1 A and AA rules: no critical or serious violation
    in the light theme, and no contrast failure once the page turns dark."""
    context, page, errors = new_page(chromium, site, width)
    try:
        open_page(page, f"{site}{page_name}.html")
        page.add_script_tag(path=str(browser.AXE))
        found = []
        for theme, rules in (("light", None), ("dark", ["color-contrast"])):
            set_theme(page, theme)
            violations = page.evaluate(AXE_RUN, {"tags": WCAG_TAGS, "rules": rules})
            found += [
                f"{theme}: {v['id']} ({v['impact']}, {v['count']} elements): {v['help']}; "
                f"{', '.join(v['targets'])}"
                for v in violations
                if v["impact"] in BLOCKING
            ]
        assert not found, f"{page_name} at {width} px:\n" + "\n".join(found)
        assert not errors, f"console errors: {errors}"
    finally:
        context.close()
