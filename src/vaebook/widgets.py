"""Sliders that work both in a live kernel and on the static website.

Introduced in chapter *σ trades reconstruction against KL*.

A slider here steps through precomputed *frames*: one picture and one block of numbers per
slider position (for example, one per σ of a cached sweep). The frames are computed once, by
plain functions that the tests call directly; the slider only shows them.

One display object carries two views of the same frames:

- an ipywidgets view (``application/vnd.jupyter.widget-view+json``), which JupyterLab and
  Binder show with a live kernel; moving the slider runs :meth:`FrameSlider.select`;
- a self-contained HTML/JavaScript view (``text/html``), which the website shows. It needs no
  kernel and no network: the frames are embedded in the output as base64 PNG images (which
  the website build moves into cacheable files of ``_images/``, ``_ext/page_weight.py``), and
  an ``<input type="range">`` switches between them. The website build prefers this view
  (``nb_mime_priority_overrides`` in ``_config.yml``).
"""

from __future__ import annotations

import base64
import html
import io
import itertools
import json
import re
import struct
from dataclasses import dataclass, field
from numbers import Real

_ids = itertools.count()

NARROW_MEDIA = "(max-width: 700px)"
"""The screens that get a picture's narrow rendering (panels stacked): phones and narrow
windows, where the page's column is at most 668 CSS px wide, too narrow for a wide figure at a
size whose tick labels stay 9 CSS px or more."""

_DATA_NAME = re.compile(r"[a-z][a-z0-9-]*")


def png_size(png: bytes) -> tuple[int, int]:
    """The (width, height) in pixels of PNG bytes, read from their header.

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    if not isinstance(png, bytes) or png[:8] != b"\x89PNG\r\n\x1a\n" or png[12:16] != b"IHDR":
        raise ValueError("png: expected the bytes of a PNG image")
    return struct.unpack(">II", png[16:24])


@dataclass(frozen=True)
class Picture:
    """One rendering of a figure: its PNG bytes, the size it is shown at (CSS pixels) and
    what a page may know about it, as ``data-*`` attributes of its ``<img>`` or ``<source>``.

    Used behind the scenes in chapter *σ trades reconstruction against KL*. The PNG holds
    more pixels than it is shown at (twice as many, for high-density screens). ``data``
    names facts about the picture (:func:`vaebook.plotting.figure_picture` writes
    ``tick-px``, the tick labels' font size in pixels of the PNG, and ``marker-x``,
    ``marker-y``, where a slider's marker is, as fractions of the width and height);
    ``png-width`` (the PNG's own width in pixels) is always added, so that a page can
    convert the PNG's pixels into CSS pixels: size × shown width / ``png-width``.
    """

    png: bytes
    width: int
    height: int
    data: dict = field(default_factory=dict)

    def __post_init__(self):
        png_size(self.png)
        for name in ("width", "height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name}: expected a positive integer, got {value!r}")
        if not isinstance(self.data, dict):
            raise ValueError(f"data: expected a dict, got {type(self.data).__name__}")
        for key, value in self.data.items():
            if not isinstance(key, str) or not _DATA_NAME.fullmatch(key):
                raise ValueError(f"data: {key!r} is not a data attribute name (a-z, 0-9, -)")
            if not isinstance(value, str):
                raise ValueError(f"data: {key!r} must be a string, got {value!r}")

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    def attributes(self) -> dict[str, str]:
        """Every ``data-*`` attribute of the picture, ``png-width`` included."""
        return {**self.data, "png-width": str(png_size(self.png)[0])}


def _data_attributes(picture: Picture) -> str:
    return " ".join(
        f'data-{key}="{html.escape(value)}"' for key, value in picture.attributes().items()
    )


def picture_html(
    wide: Picture, alt: str, narrow: Picture | None = None, image_id: str | None = None
) -> str:
    """A ``<picture>``: ``wide`` by default, ``narrow`` on screens that match
    :data:`NARROW_MEDIA`, with one alt text; each shown at its own size or shrunk to fit.

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    if not isinstance(wide, Picture) or not (narrow is None or isinstance(narrow, Picture)):
        raise ValueError("wide, narrow: expected vaebook.widgets.Picture objects")
    if not isinstance(alt, str) or not alt.strip():
        raise ValueError(f"alt: expected a non-empty description, got {alt!r}")
    source = ""
    if narrow is not None:
        source = (
            f'<source media="{NARROW_MEDIA}" srcset="{narrow.data_uri()} 2x" '
            f'width="{narrow.width}" height="{narrow.height}" {_data_attributes(narrow)}>'
        )
    identifier = f' id="{html.escape(image_id)}"' if image_id else ""
    return (
        f'<picture class="vaebook-picture">{source}<img{identifier} src="{wide.data_uri()}" '
        f'alt="{html.escape(alt)}" width="{wide.width}" height="{wide.height}" '
        f'style="max-width: 100%; height: auto;" {_data_attributes(wide)}></picture>'
    )


@dataclass(frozen=True)
class Frame:
    """One slider position: a label, a PNG picture, its alt text and an HTML block of numbers.

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """

    label: str
    png: bytes
    alt: str
    numbers_html: str
    width: int | None = None
    """The width (CSS pixels) the picture is shown at. Without ``narrow``, never less: a narrow
    screen scrolls it sideways instead of shrinking its labels. ``None``: the PNG's own size,
    shrunk to fit."""
    narrow: Picture | None = None
    """The picture for screens that match :data:`NARROW_MEDIA` (its panels stacked), or None.
    With it, the website shows each screen the picture that fits it (needs ``width``)."""
    data: dict | None = None
    """``data-*`` attributes of the wide picture (:class:`Picture`), or None."""

    def __post_init__(self):
        for name, kind in (("label", str), ("png", bytes), ("alt", str), ("numbers_html", str)):
            value = getattr(self, name)
            if not isinstance(value, kind):
                raise ValueError(f"{name}: expected {kind.__name__}, got {type(value).__name__}")
        if self.width is not None and (
            isinstance(self.width, bool) or not isinstance(self.width, int) or self.width <= 0
        ):
            raise ValueError(f"width: expected a positive integer or None, got {self.width!r}")
        if self.narrow is not None:
            if not isinstance(self.narrow, Picture):
                raise ValueError(
                    f"narrow: expected a vaebook.widgets.Picture or None, got "
                    f"{type(self.narrow).__name__}"
                )
            if self.width is None:
                raise ValueError("narrow: needs the width of the wide picture")
        if self.data is not None:
            Picture(self.wide.png, self.wide.width, self.wide.height, self.data)

    @property
    def wide(self) -> Picture | None:
        """The frame's own picture as a :class:`Picture` (None without ``width``)."""
        if self.width is None:
            return None
        png_width, png_height = png_size(self.png)
        height = max(1, round(png_height * self.width / png_width))
        return Picture(self.png, self.width, height, self.data or {})

    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def figure_to_png(
    fig, dpi: int = 80, density: int = 1, *, tight: bool = False, close: bool = True
) -> bytes:
    """Render a matplotlib figure to PNG bytes (and close it so it is not shown twice).

    ``density=2`` renders twice as many pixels per inch, for a picture shown at the size that
    ``dpi`` gives (:attr:`Frame.width`): sharp on high-density screens. Such a picture is saved
    with a palette of at most 256 colours, which keeps it smaller than the plain PNG at
    ``density=1`` (a figure has few colours; measured on a σ-slider frame: 43 KB at density 2
    against 57 KB before). ``tight=True`` crops the figure to what it draws, as Jupyter's
    inline figures are; ``close=False`` leaves the figure open (to draw it again).

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    import matplotlib.pyplot as plt

    if not hasattr(fig, "savefig"):
        raise ValueError(f"fig: expected a matplotlib figure, got {type(fig).__name__}")
    buffer = io.BytesIO()
    try:
        if dpi != "figure" and (
            isinstance(dpi, bool) or not isinstance(dpi, Real) or not (0 < dpi < float("inf"))
        ):
            raise ValueError(f"dpi: expected a positive number, got {dpi!r}")
        if density not in (1, 2, 3) or isinstance(density, bool):
            raise ValueError(f"density: expected 1, 2 or 3, got {density!r}")
        if density > 1 and dpi == "figure":
            raise ValueError("density: needs a numeric dpi, not 'figure'")
        fig.savefig(
            buffer,
            format="png",
            dpi=dpi if density == 1 else dpi * density,
            **({"bbox_inches": "tight", "pad_inches": 0.04} if tight else {}),
        )
    finally:
        if close:
            plt.close(fig)
    if density == 1:
        return buffer.getvalue()
    from PIL import Image

    image = Image.open(io.BytesIO(buffer.getvalue())).convert("RGB")
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def numbers_table(numbers: dict[str, str]) -> str:
    """An HTML table of named, already formatted numbers.

    Used behind the scenes in chapter *σ trades reconstruction against KL*.
    """
    if not isinstance(numbers, dict):
        raise ValueError(
            f"numbers: expected a dict of names and formatted strings, got {type(numbers).__name__}"
        )
    for name, value in numbers.items():
        if not isinstance(name, str) or not isinstance(value, str):
            raise ValueError(
                f"numbers: expected names and already formatted strings, got {name!r}: {value!r}"
            )
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in numbers.items()
    )
    return f"<table class='vaebook-numbers'><tbody>{rows}</tbody></table>"


class FrameSlider:
    """A slider over precomputed frames, shown as an ipywidget or as static HTML/JS.

    Used behind the scenes in chapter *σ trades reconstruction against KL*.

    Parameters
    ----------
    frames:
        The frames, in slider order (at least one).
    description:
        What the slider moves, e.g. ``"σ"``; shown next to the current label.
    aria_label:
        The accessible name of the slider, e.g. ``"Decoder standard deviation σ"``.
    start:
        Index of the frame shown first.
    """

    def __init__(self, frames: list[Frame], description: str, aria_label: str, start: int = 0):
        if isinstance(frames, (str, bytes)) or not hasattr(frames, "__iter__"):
            raise ValueError(f"frames: expected a list of frames, got {type(frames).__name__}")
        frames = list(frames)
        if not frames:
            raise ValueError("frames: a slider needs at least one frame")
        if not all(isinstance(frame, Frame) for frame in frames):
            raise ValueError("frames: every item must be a vaebook.widgets.Frame")
        if len({frame.width for frame in frames}) > 1:
            raise ValueError(
                "frames: every frame must have the same width, got "
                f"{sorted({str(frame.width) for frame in frames})}"
            )
        if len({frame.narrow is None for frame in frames}) > 1:
            raise ValueError("frames: either every frame has a narrow picture or none has")
        for name, value in (("description", description), ("aria_label", aria_label)):
            if not isinstance(value, str) or not value:
                raise ValueError(f"{name}: expected a non-empty string, got {value!r}")
        self.frames = frames
        self.description = description
        self.aria_label = aria_label
        self.index = self._check_index(start)
        self._widget = None

    def _check_index(self, index) -> int:
        if isinstance(index, bool) or not isinstance(index, int):
            raise ValueError(f"index: expected an integer, got {index!r}")
        if not 0 <= index < len(self.frames):
            raise ValueError(f"index: {index} is outside 0..{len(self.frames) - 1}")
        return index

    @property
    def current(self) -> Frame:
        return self.frames[self.index]

    # ----- live kernel ---------------------------------------------------------------------
    def select(self, index: int) -> Frame:
        """Show frame ``index``: the slider callback. Returns the frame now shown."""
        self.index = self._check_index(index)
        if self._widget is not None:
            slider, image, numbers = self._parts
            image.value = self.current.png
            numbers.value = self.current.numbers_html
            if slider.index != self.index:
                slider.index = self.index
        return self.current

    @property
    def widget(self):
        """The ipywidgets view (built on first use)."""
        if self._widget is None:
            import ipywidgets as widgets

            slider = widgets.SelectionSlider(
                options=[frame.label for frame in self.frames],
                index=self.index,
                description=self.description,
                continuous_update=True,
                layout=widgets.Layout(width="min(40rem, 95%)"),
                style={"description_width": "initial"},
            )
            width = self.current.width
            image = widgets.Image(
                value=self.current.png, format="png", **({"width": str(width)} if width else {})
            )
            numbers = widgets.HTML(value=self.current.numbers_html)
            slider.observe(lambda change: self.select(change["new"]), names="index")
            self._parts = (slider, image, numbers)
            self._widget = widgets.VBox([slider, image, numbers])
        return self._widget

    # ----- static website ------------------------------------------------------------------
    def to_html(self) -> str:
        """A self-contained HTML/JavaScript slider: no kernel, no network."""
        uid = f"vaebook-slider-{next(_ids)}"
        first = self.current
        data = []
        for f in self.frames:
            frame = {"label": f.label, "src": f.data_uri(), "alt": f.alt, "numbers": f.numbers_html}
            if f.width is not None:
                frame["data"] = f.wide.attributes()
            if f.narrow is not None:
                frame["narrow"] = {"src": f.narrow.data_uri(), "data": f.narrow.attributes()}
            data.append(frame)
        payload = json.dumps(data).replace("</", "<\\/")
        if first.narrow is not None:
            image = picture_html(first.wide, first.alt, first.narrow, image_id=f"{uid}-image")
        else:
            size = (
                f'width="{first.width}" style="max-width: none;"'
                if first.width
                else 'style="max-width: 100%;"'
            )
            image = (
                f'<img id="{uid}-image" src="{first.data_uri()}" '
                f'alt="{html.escape(first.alt)}" {size}>'
            )
        esc = html.escape
        return f"""<div class="vaebook-slider" id="{uid}">
<label for="{uid}-input"><span>{esc(self.description)} = </span><output id="{uid}-label" for="{uid}-input">{esc(first.label)}</output></label>
<input id="{uid}-input" type="range" min="0" max="{len(self.frames) - 1}" step="1" value="{self.index}" aria-label="{esc(self.aria_label)}" aria-valuetext="{esc(self.description)} = {esc(first.label)}" style="width: min(40rem, 95%); display: block;">
<div class="vaebook-slider-figure" role="group" aria-labelledby="{uid}-hint" style="overflow-x: auto;">
{image}
</div>
<p id="{uid}-hint" class="vaebook-slider-hint" hidden style="font-size: 0.85em; margin: 0.2em 0;">The picture is wider than the screen: scroll it sideways.</p>
<div id="{uid}-numbers" aria-live="polite">{first.numbers_html}</div>
<script type="application/json" id="{uid}-frames">{payload}</script>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  var frames = JSON.parse(document.getElementById("{uid}-frames").textContent);
  var input = document.getElementById("{uid}-input");
  function mark(element, data) {{
    for (var key in data) {{ element.setAttribute("data-" + key, data[key]); }}
  }}
  function show(i) {{
    var f = frames[i];
    var image = document.getElementById("{uid}-image");
    var source = root.querySelector("picture source");
    if (source && f.narrow) {{
      source.srcset = f.narrow.src + " 2x";
      mark(source, f.narrow.data);
    }}
    mark(image, f.data || {{}});
    image.src = f.src;
    document.getElementById("{uid}-image").alt = f.alt;
    document.getElementById("{uid}-label").textContent = f.label;
    document.getElementById("{uid}-numbers").innerHTML = f.numbers;
    input.setAttribute("aria-valuetext", "{esc(self.description)} = " + f.label);
    root.dataset.index = i;
  }}
  input.addEventListener("input", function () {{ show(parseInt(input.value, 10)); }});
  root.dataset.index = {self.index};
  var box = root.querySelector(".vaebook-slider-figure");
  var hint = document.getElementById("{uid}-hint");
  function fit() {{
    var wide = box.scrollWidth > box.clientWidth + 1;
    hint.hidden = !wide;
    // A picture that scrolls is a Tab stop, so that the keyboard can scroll it (WCAG 2.1.1).
    if (wide) {{ box.tabIndex = 0; }} else {{ box.removeAttribute("tabindex"); }}
  }}
  window.addEventListener("resize", fit);
  window.addEventListener("load", fit);
  fit();
}})();
</script>
</div>"""

    def _repr_mimebundle_(self, include=None, exclude=None):
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.to_html()
        bundle["text/plain"] = f"FrameSlider({self.description}: {len(self.frames)} frames)"
        return bundle
