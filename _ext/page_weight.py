"""Sphinx extension: a first visit of a page downloads little, and pictures are cacheable files.

Before this, a reader's first visit of a page downloaded 3.9–4.7 MB (issue 28, item 7); two
things made most of that weight:

* **FontAwesome's script.** pydata-sphinx-theme 0.17 puts
  ``<script defer src="_static/scripts/fontawesome.js">`` (1.49 MB) in the head of every page.
  That script only swaps each ``<i class="fa-...">`` icon for an inline SVG; the theme's own
  stylesheet already carries FontAwesome's CSS and its ``@font-face`` rules, so without the
  script the same icons (the header's buttons, search, colour mode, previous/next) are drawn
  from FontAwesome's web fonts, which the browser fetches only for the styles a page shows
  (solid 156 KB, brands 118 KB as WOFF2) and then caches for every page. This extension takes
  the script's tag out of every page and the script (and its source map) out of the output,
  and marks each icon ``aria-hidden="true"``, as the script marked the SVG it drew (the
  buttons are named by their labels and titles, not by their icons).
* **Pictures inside the HTML.** The sliders of ``vaebook.widgets`` carry their frames as
  ``data:image/png;base64,...`` URIs, in the ``src`` of the first picture and in the JSON
  list of frames the slider's script reads: about 0.8 MB in *σ trades reconstruction against
  KL*, which no cache can share and which the reader downloads before the first frame shows.
  This extension moves every base64 ``data:`` URI of an image (PNG, JPEG, GIF, WebP, SVG) in
  a page into ``_images/<sha256 of its bytes>.<ext>`` (the naming myst-nb uses for the
  figures it writes there) and writes the file's URL, relative to the page, in its place: in
  attributes (``src``, ``srcset``, ``href``, inline styles) and in a slider's JSON alike, since
  neither the URI nor the URL needs escaping in either. The same picture twice is one file.
  The browser now fetches a frame when the slider shows it, and the first frame with the
  page's other pictures.

Both happen on the page as it is rendered (the builder's ``templates.render``, wrapped when
the builder starts), so they hold for every HTML-like builder: ``html`` (``book/x.html`` gets
``../_images/...``), ``dirhtml``, and the ``singlehtml`` page of ``make pdf`` (``_images/...``
next to its ``index.html``). A ``data:`` URI of an image that cannot be moved (not valid
base64, or bytes that are not the picture its type says) stays in the page, with a warning
(which fails the book's ``-W`` build). ``tests/test_page_weight_browser.py`` weighs every
page's first visit in chromium; ``tests/test_page_weight.py`` tests the rewriting itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import tempfile
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

# The theme's tag (pydata-sphinx-theme's static/webpack-macros.html), with the comment above it.
FONTAWESOME_SCRIPT = re.compile(
    r"(?:[ \t]*<!-- So that users can add custom icons -->\s*)?"
    r"<script\b[^>]*\bsrc=\"[^\"]*_static/scripts/fontawesome\.js(?:\?[^\"]*)?\"[^>]*>"
    r"\s*</script>[ \t]*\n?"
)
# An icon of FontAwesome's (``<i class="fa-solid fa-sun">``) that assistive technology is not
# yet told to skip. The script marked the SVG it drew instead ``aria-hidden="true"``; without
# it, the icon is the glyph of a web font, a private-use character a screen reader may spell.
FONTAWESOME_ICON = re.compile(
    r'<i class="((?:[^"]*\s)?(?:fa|fas|far|fab|fa-solid|fa-regular|fa-brands)(?:\s[^"]*)?)"'
    r"(?![^>]*\baria-hidden)"
)
# The theme's files that nothing loads once the tag is gone.
FONTAWESOME_FILES = ("_static/scripts/fontawesome.js", "_static/scripts/fontawesome.js.map")

# A base64 data URI of an image. What follows it must end a URL in HTML, CSS or JSON (a quote,
# a bracket, white space, ``&`` of an entity, ``,`` in srcset); anything else (a JSON escape
# such as ``\\/``, percent-encoding) means the match is not the whole URI.
DATA_URI = re.compile(r"data:image/([a-z0-9.+-]+);base64,([A-Za-z0-9+/]*={0,2})", re.IGNORECASE)
URI_END = frozenset("\"')]}> \t\r\n&,;")
EXTENSIONS = {"png": "png", "jpeg": "jpg", "gif": "gif", "webp": "webp", "svg+xml": "svg"}


def picture_extension(kind: str, data: bytes) -> str | None:
    """The file extension for a picture of MIME subtype ``kind`` whose bytes are ``data``, or
    None when the bytes are not such a picture."""
    kind = kind.lower()
    signatures = {
        "png": data.startswith(b"\x89PNG\r\n\x1a\n"),
        "jpeg": data.startswith(b"\xff\xd8\xff"),
        "gif": data[:6] in (b"GIF87a", b"GIF89a"),
        "webp": data[:4] == b"RIFF" and data[8:12] == b"WEBP",
        "svg+xml": b"<svg" in data[:4096],
    }
    return EXTENSIONS[kind] if signatures.get(kind) else None


def write_once(folder: Path, name: str, data: bytes) -> None:
    """Write ``data`` to ``folder/name`` unless a file of that name is there already (the name
    is the bytes' hash), atomically, so that parallel writers never see half a file."""
    target = folder / name
    if target.is_file() and target.stat().st_size == len(data):
        return
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".inline-", suffix=".tmp")
    with os.fdopen(handle, "wb") as file:
        file.write(data)
    os.chmod(temporary, 0o644)
    os.replace(temporary, target)


def move_inline_pictures(html: str, image_dir: Path, url_of, page: str = "") -> tuple[str, int]:
    """``html`` with every base64 image ``data:`` URI replaced by the URL of a file in
    ``image_dir`` named by the SHA-256 of the picture's bytes; returns (html, pictures moved).

    ``url_of(name)`` gives the URL of ``image_dir/name`` relative to the page. A URI that
    cannot be moved stays, with a warning that names ``page``.
    """
    moved = 0

    def replace(match: re.Match) -> str:
        nonlocal moved
        kind, payload = match.group(1), match.group(2)
        end = match.end()
        if end < len(html) and html[end] not in URI_END:
            logger.warning(
                "%s: an inline %s picture is followed by %r, so it may not end there; "
                "it stays in the page (_ext/page_weight.py)",
                page,
                kind,
                html[end : end + 10],
            )
            return match.group(0)
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            data = b""
        extension = picture_extension(kind, data)
        if extension is None:
            logger.warning(
                "%s: an inline picture declared as image/%s is not valid base64 of such a "
                "picture; it stays in the page (_ext/page_weight.py)",
                page,
                kind,
            )
            return match.group(0)
        name = f"{hashlib.sha256(data).hexdigest()}.{extension}"
        write_once(image_dir, name, data)
        moved += 1
        return url_of(name)

    return DATA_URI.sub(replace, html), moved


def remove_fontawesome_script(html: str) -> str:
    """``html`` without the theme's ``<script>`` tag of FontAwesome's SVG kit, and with every
    FontAwesome icon hidden from assistive technology, as that script hid the SVG it drew."""
    html = FONTAWESOME_SCRIPT.sub("", html)
    return FONTAWESOME_ICON.sub(r'<i class="\1" aria-hidden="true"', html)


def rewrite_page(html: str, context: dict, builder) -> str:
    """The rendered page ``html`` of ``context`` as this extension writes it."""
    pathto = context.get("pathto")
    if pathto is None:  # not a page (a template rendered for something else)
        return html
    image_folder = builder.imagedir or "_images"
    html = remove_fontawesome_script(html)
    html, _ = move_inline_pictures(
        html,
        Path(builder.outdir) / image_folder,
        lambda name: pathto(f"{image_folder}/{name}", 1),
        context.get("pagename", ""),
    )
    return html


def wrap_render(app) -> None:
    builder = app.builder
    templates = getattr(builder, "templates", None)
    if builder.format != "html" or templates is None:
        return
    render = templates.render

    def render_page(template: str, context: dict) -> str:
        return rewrite_page(render(template, context), context, builder)

    templates.render = render_page


def remove_unused_files(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for relative in FONTAWESOME_FILES:
        path = Path(app.builder.outdir) / relative
        if path.is_file():
            path.unlink()


def setup(app):
    app.connect("builder-inited", wrap_render)
    app.connect("build-finished", remove_unused_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
