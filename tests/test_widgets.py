"""vaebook.widgets: the slider callback, the live widget and the static HTML/JS view."""

from __future__ import annotations

import json
import re

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from vaebook.widgets import Frame, FrameSlider, figure_to_png, numbers_table  # noqa: E402


def make_frames(n: int = 4) -> list[Frame]:
    frames = []
    for i in range(n):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, 1], [0, i])
        frames.append(
            Frame(
                label=f"{0.1 * (i + 1):.1f}",
                png=figure_to_png(fig, dpi=20),
                alt=f"a line of slope {i}",
                numbers_html=numbers_table({"slope": str(i)}),
            )
        )
    return frames


def test_figure_to_png_makes_a_png_and_closes_the_figure():
    fig, _ = plt.subplots()
    n_open = len(plt.get_fignums())
    png = figure_to_png(fig)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(plt.get_fignums()) == n_open - 1


def test_numbers_table_escapes_html():
    table = numbers_table({"KL <nats>": "1.0"})
    assert "KL &lt;nats&gt;" in table and "<th scope='row'>" in table


def test_select_is_the_callback_and_updates_the_live_widget():
    frames = make_frames()
    slider = FrameSlider(frames, description="σ", aria_label="Decoder standard deviation σ")
    box = slider.widget
    control, image, numbers = box.children
    assert slider.select(2) is frames[2]
    assert image.value == frames[2].png and numbers.value == frames[2].numbers_html
    assert control.index == 2
    control.index = 3  # what moving the slider does: the observer fires synchronously
    assert slider.index == 3 and image.value == frames[3].png
    assert control.options == tuple(frame.label for frame in frames)


def test_bad_frames_and_indices_raise_clear_errors():
    with pytest.raises(ValueError, match="frames"):
        FrameSlider([], description="σ", aria_label="σ")
    with pytest.raises(ValueError, match="frames"):
        FrameSlider(["not a frame"], description="σ", aria_label="σ")
    slider = FrameSlider(make_frames(3), description="σ", aria_label="σ")
    for bad in (-1, 3, 1.5, True, None):
        with pytest.raises(ValueError, match="index"):
            slider.select(bad)
    with pytest.raises(ValueError, match="index"):
        FrameSlider(make_frames(2), description="σ", aria_label="σ", start=5)


def test_mime_bundle_carries_the_widget_and_the_static_view():
    bundle = FrameSlider(make_frames(), description="σ", aria_label="σ")._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "<input" in bundle["text/html"]


def test_static_view_embeds_every_frame_with_an_accessible_slider():
    frames = make_frames(5)
    page = FrameSlider(frames, description="σ", aria_label="Decoder σ", start=1).to_html()
    assert 'type="range"' in page and 'max="4"' in page and 'value="1"' in page
    assert 'aria-label="Decoder σ"' in page and "<label for=" in page
    payload = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S)
    data = json.loads(payload.group(1).replace("<\\/", "</"))
    assert [d["label"] for d in data] == [f.label for f in frames]
    assert all(d["src"].startswith("data:image/png;base64,") for d in data)
    assert f'alt="{frames[1].alt}"' in page, "the first image shown has no alt text"


@pytest.mark.browser
def test_static_view_moves_with_the_keyboard_in_a_real_browser(chromium):
    frames = make_frames(4)
    html = FrameSlider(frames, description="σ", aria_label="Decoder σ").to_html()
    page = chromium.new_page()
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.set_content(f"<!doctype html><html><body>{html}</body></html>")
    slider = page.get_by_role("slider", name="Decoder σ")
    image = page.locator(".vaebook-slider img")
    first_src = image.get_attribute("src")
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert page.locator(".vaebook-slider output").inner_text() == frames[2].label
    assert image.get_attribute("src") != first_src
    assert image.get_attribute("alt") == frames[2].alt
    assert "2" in page.locator(".vaebook-numbers td").inner_text()
    assert slider.get_attribute("aria-valuetext") == f"σ = {frames[2].label}"
    assert not errors
    page.close()


def test_density_two_draws_twice_the_pixels_with_a_palette():
    import io

    from PIL import Image

    def picture(density):
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot([0, 1], [0, 1], label="a line")
        ax.legend()
        return Image.open(io.BytesIO(figure_to_png(fig, dpi=50, density=density)))

    plain, sharp = picture(1), picture(2)
    assert plain.size == (150, 100) and sharp.size == (300, 200)
    assert plain.mode in ("RGB", "RGBA") and sharp.mode == "P"  # at most 256 colours


def test_a_frame_width_sets_the_shown_size_in_both_views():
    frames = [
        Frame(label=f.label, png=f.png, alt=f.alt, numbers_html=f.numbers_html, width=123)
        for f in make_frames(2)
    ]
    slider = FrameSlider(frames, description="σ", aria_label="σ")
    page = slider.to_html()
    assert 'width="123" style="max-width: none;"' in page and "overflow-x: auto" in page
    assert 'class="vaebook-slider-hint" hidden' in page  # shown by the page's script if needed
    assert slider.widget.children[1].width == "123"
    unsized = FrameSlider(make_frames(2), description="σ", aria_label="σ")
    assert 'style="max-width: 100%;"' in unsized.to_html()
    assert unsized.widget.children[1].width == ""


# --- pictures for every screen (issue 28, item 3: phones) ------------------------------------


def _picture(width=40, height=20, **data):
    from vaebook.widgets import Picture

    fig = plt.figure(figsize=(width / 10, height / 10))
    return Picture(figure_to_png(fig, dpi=10, density=2), width, height, data)


def test_png_size_reads_the_header():
    from vaebook.widgets import png_size

    assert png_size(_picture(40, 20).png) == (80, 40)
    with pytest.raises(ValueError, match="PNG"):
        png_size(b"GIF89a" + bytes(30))


def test_picture_html_gives_phones_the_narrow_rendering_with_its_facts():
    from vaebook.widgets import NARROW_MEDIA, picture_html

    wide, narrow = _picture(60, 20, **{"tick-px": "22.22"}), _picture(30, 40, **{"marker-x": "0.5"})
    page = picture_html(wide, "a <figure>", narrow, image_id="the-image")
    source = re.search(r"<source [^>]*>", page).group(0)
    image = re.search(r"<img [^>]*>", page).group(0)
    assert f'media="{NARROW_MEDIA}"' in source and " 2x" in source
    assert 'width="30" height="40"' in source and 'data-marker-x="0.5"' in source
    assert 'data-png-width="60"' in source
    assert 'width="60" height="20"' in image and 'data-tick-px="22.22"' in image
    assert 'data-png-width="120"' in image and 'id="the-image"' in image
    assert 'alt="a &lt;figure&gt;"' in image and "max-width: 100%; height: auto" in image
    assert "<source" not in picture_html(wide, "alone")


def test_a_slider_with_narrow_frames_shows_a_picture_and_switches_both_renderings():
    frames = [
        Frame(f.label, f.png, f.alt, f.numbers_html, width=20, narrow=_picture(), data={"a": "1"})
        for f in make_frames(2)
    ]
    page = FrameSlider(frames, description="σ", aria_label="σ").to_html()
    assert "<picture" in page and "<source" in page and "max-width: none" not in page
    payload = re.search(r'<script type="application/json"[^>]*>(.*?)</script>', page, re.S)
    data = json.loads(payload.group(1).replace("<\\/", "</"))
    assert all(d["narrow"]["src"].startswith("data:image/png") for d in data)
    assert data[0]["data"] == {"a": "1", "png-width": "20"}
    with pytest.raises(ValueError, match="either every frame"):
        plain = make_frames(1)[0]
        plain = Frame(plain.label, plain.png, plain.alt, plain.numbers_html, width=20)
        FrameSlider([frames[0], plain], description="σ", aria_label="σ")


@pytest.mark.browser
def test_a_phone_sees_the_narrow_frames_and_their_facts_follow_the_slider(chromium):
    pictures = [_picture(30, 40, **{"marker-x": f"0.{i + 1}"}) for i in range(3)]
    frames = [
        Frame(f.label, f.png, f.alt, f.numbers_html, width=20, narrow=picture)
        for f, picture in zip(make_frames(3), pictures)
    ]
    html = FrameSlider(frames, description="σ", aria_label="Decoder σ").to_html()
    for width, narrow in ((390, True), (1280, False)):
        page = chromium.new_page(viewport={"width": width, "height": 600})
        page.set_content(f"<!doctype html><html><body>{html}</body></html>")
        page.get_by_role("slider", name="Decoder σ").focus()
        page.keyboard.press("ArrowRight")
        page.keyboard.press("ArrowRight")
        found = page.evaluate("""() => {
          const img = document.querySelector('.vaebook-slider img');
          const source = document.querySelector('.vaebook-slider source');
          return {marker: source.dataset.markerX, matches: matchMedia(source.media).matches,
                  current: img.currentSrc, narrow: source.srcset.split(' ')[0],
                  wide: img.getAttribute('src'), shown: img.getBoundingClientRect().width};
        }""")
        assert found["marker"] == "0.3" and found["matches"] == narrow, found
        assert found["current"] == (found["narrow"] if narrow else found["wide"]), found
        assert found["shown"] == (30 if narrow else 20), found
        page.close()
