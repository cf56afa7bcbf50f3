"""The latent explorer of chapter *σ trades reconstruction against KL* on the built website:
the page decodes like torch, and a reader moves it by keyboard, mouse and touch (1280 and
390 px), in a real browser (headless Debian chromium through Playwright), offline."""

from __future__ import annotations

import json

import browser
import numpy as np
import pytest
import torch

pytestmark = pytest.mark.browser

PAGE = "book/sigma-tradeoff.html"
POINTS_PER_SIGMA = 24


def open_explorer(chromium, site, width, **options):
    """The page at ``width`` px, offline, scrolled to the explorer; console errors recorded."""
    context = chromium.new_context(viewport={"width": width, "height": 900}, **options)
    context.route("**/*", browser.OfflineRouter(site))
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site}{PAGE}", wait_until="load")
    root = page.locator(".vaebook-explorer")
    assert root.count() == 1, "the chapter shows one latent explorer"
    root.scroll_into_view_if_needed()
    return context, page, root, errors


CONTRAST = """root => {
  const rgb = c => (c.match(/[\\d.]+/g) || []).map(Number);
  const lum = c => {
    const v = rgb(c).slice(0, 3).map(x => x / 255)
      .map(x => x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4);
    return 0.2126 * v[0] + 0.7152 * v[1] + 0.0722 * v[2];
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor;
      if (rgb(c).length === 3 || rgb(c)[3] > 0) return c;
    }
    return "rgb(255, 255, 255)";
  };
  const out = {};
  root.querySelectorAll("label, output, p, span, div").forEach((el, i) => {
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) return;
    const a = lum(getComputedStyle(el).color), b = lum(background(el));
    out[i + ": " + el.textContent.trim().slice(0, 30)] =
      (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  });
  return out;
}"""
"""The contrast ratio (WCAG 2) of every element of ``root`` with text of its own."""


def page_data(root) -> dict:
    return json.loads(root.locator("script[type='application/json']").text_content())


@pytest.fixture(scope="module")
def trained(site, chromium):
    """The chapter's sweep as torch loads it (from the book build's training cache)."""
    from vaebook.experiment import run_sigma_sweep

    context, _, root, _ = open_explorer(chromium, site, 1280)
    sigmas = page_data(root)["sigmas"]
    context.close()
    sweep = run_sigma_sweep(sigmas, progress=False)
    return sweep, sweep.model()


def torch_decode(model, k, points) -> np.ndarray:
    with torch.no_grad():
        return model.decode(torch.tensor(np.asarray(points), dtype=torch.float32))[k].numpy()


def state(root) -> dict:
    return root.evaluate("el => el.vaebookExplorer.state()")


def test_the_page_decodes_every_sigma_like_torch(chromium, site, trained):
    sweep, model = trained
    context, page, root, errors = open_explorer(chromium, site, 1280)
    points = np.random.default_rng(0).uniform(-4, 4, size=(POINTS_PER_SIGMA, 2))
    worst = 0.0
    for k in range(len(sweep.sigmas)):
        in_page = np.array(
            root.evaluate(
                "(el, [k, points]) => points.map(p => el.vaebookExplorer.decode(k, p[0], p[1]))",
                [k, points.tolist()],
            )
        )
        worst = max(worst, float(np.abs(in_page - torch_decode(model, k, points)).max()))
    assert worst <= 1e-5, f"the page's decoding differs from torch's by {worst:.2g}"
    # The dots are the test digits' codes under each encoder.
    codes = np.frombuffer(__import__("base64").b64decode(page_data(root)["codes"]), dtype="<f4")
    np.testing.assert_allclose(codes.reshape(sweep.latent_means.shape), sweep.latent_means)
    assert not errors, errors
    context.close()


def test_keyboard_moves_sigma_and_the_point(chromium, site, trained):
    sweep, model = trained
    context, page, root, errors = open_explorer(chromium, site, 1280)
    sigma = root.locator("input[type=range]").first
    sigma.focus()
    page.keyboard.press("Home")
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    assert state(root)["index"] == 3
    page.keyboard.press("Tab")  # the plane comes right after the σ slider
    assert page.evaluate("document.activeElement.classList.contains('vaebook-explorer-plane')")
    page.keyboard.press("Home")
    for key in ["ArrowRight"] * 5 + ["ArrowUp"] * 3 + ["Shift+ArrowDown"]:
        page.keyboard.press(key)
    now = state(root)
    assert (now["index"], now["z1"], now["z2"]) == (3, 0.5, -0.2)
    np.testing.assert_allclose(now["decoded"], torch_decode(model, 3, [[0.5, -0.2]])[0], atol=1e-5)
    distances = ((sweep.latent_means[3] - np.array([0.5, -0.2])) ** 2).sum(axis=1)
    assert now["nearest"] == int(np.argmin(distances))
    words = root.locator("[aria-live=polite]").text_content()
    assert "(0.50, −0.20)" in words and f"a {int(sweep.latent_labels[now['nearest']])}," in words
    assert f"σ = {sweep.sigmas[3]:.3g}" in words
    # The z₁ slider is the same point, for screen readers and keyboards.
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowLeft")
    assert state(root)["z1"] == pytest.approx(0.45)
    assert not errors, errors
    context.close()


def test_mouse_click_and_drag_move_the_point(chromium, site):
    context, page, root, errors = open_explorer(chromium, site, 1280)
    plane = root.locator("canvas.vaebook-explorer-plane")
    box = plane.bounding_box()

    def at(z1, z2):  # the screen position of a point of the plane
        return box["x"] + (z1 + 4) / 8 * box["width"], box["y"] + (4 - z2) / 8 * box["height"]

    page.mouse.click(*at(1.0, 2.0))
    now = state(root)
    assert now["z1"] == pytest.approx(1.0, abs=0.05) and now["z2"] == pytest.approx(2.0, abs=0.05)
    page.mouse.move(*at(-2.0, 0.0))
    page.mouse.down()
    page.mouse.move(*at(-1.0, -3.0), steps=5)
    page.mouse.up()
    now = state(root)
    assert now["z1"] == pytest.approx(-1.0, abs=0.05) and now["z2"] == pytest.approx(-3.0, abs=0.05)
    page.mouse.move(*at(3.0, 3.0))  # no button pressed: the point stays
    assert state(root)["z1"] == pytest.approx(-1.0, abs=0.05)
    assert not errors, errors
    context.close()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_on_a_phone_the_plane_fits_and_a_tap_moves_the_point(chromium, site, scheme):
    context, page, root, errors = open_explorer(
        chromium, site, 390, has_touch=True, is_mobile=True, color_scheme=scheme
    )
    plane = root.locator("canvas.vaebook-explorer-plane")
    plane.scroll_into_view_if_needed()
    page.wait_for_function(  # the page has stopped scrolling
        "() => new Promise(r => { const y = scrollY; setTimeout(() => r(scrollY === y), 200); })"
    )
    box = plane.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    assert box["width"] >= 250, "the plane is too small to aim at on a phone"
    assert root.evaluate("el => el.scrollWidth <= el.clientWidth + 1"), "the explorer overflows"
    # The three pictures are on the screen too (below the plane).
    for picture in root.locator("canvas[role=img]").all():
        assert picture.bounding_box()["x"] + picture.bounding_box()["width"] <= 390
    page.touchscreen.tap(box["x"] + 0.75 * box["width"], box["y"] + 0.25 * box["height"])
    now = state(root)
    assert now["z1"] == pytest.approx(2.0, abs=0.1) and now["z2"] == pytest.approx(2.0, abs=0.1)
    # Every text of the explorer is readable on its background, in light and dark mode.
    ratios = root.evaluate(CONTRAST)
    assert min(ratios.values()) >= 4.5, ratios
    assert not errors, errors
    context.close()
