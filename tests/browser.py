"""Real-browser helpers: Debian's chromium driven by Playwright, fully offline.

The public website loads MathJax from a CDN. The tests serve those requests from a copy
vendored from npm (``tests/js/node_modules``, installed by ``make test``), so the pages the
tests open are byte for byte the pages readers get. Any other request that leaves the machine
is refused and reported (the site loads no widget manager: ``nb_ipywidgets_js`` is empty).
The accessibility tests also inject axe-core, vendored the same way (``AXE``).
"""

from __future__ import annotations

import functools
import http.server
import mimetypes
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlparse

NODE_MODULES = Path(__file__).resolve().parent / "js" / "node_modules"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# CDN URL (regular expression) -> vendored file or folder; group 1 is the path inside it.
CDN_COPIES = [
    (r"https://cdn\.jsdelivr\.net/npm/mathjax@3/(.*)", NODE_MODULES / "mathjax"),
]


def vendored_file(url: str) -> Path | None:
    """The local copy that answers a CDN ``url``, or None when there is none."""
    for pattern, target in CDN_COPIES:
        match = re.fullmatch(pattern, url.split("?")[0])
        if match:
            path = target / match.group(1) if match.group(1) else target
            return path if path.is_file() else None
    return None


# axe-core, the accessibility checker that tests/test_accessibility_browser.py injects into
# every page (the site itself never loads it).
AXE = NODE_MODULES / "axe-core" / "axe.min.js"


def check_vendored_files() -> None:
    """Fail with a clear message when the npm copies are missing."""
    needed = {
        "MathJax": NODE_MODULES / "mathjax" / "es5" / "tex-mml-chtml.js",
        "axe-core": AXE,
    }
    missing = [name for name, path in needed.items() if not path.is_file()]
    if missing:
        raise RuntimeError(
            f"{NODE_MODULES} lacks {' and '.join(missing)}: run `make test` "
            "(it runs `npm ci --prefix tests/js`), or that npm command alone"
        )


def check_chromium() -> None:
    if not Path(CHROMIUM).exists():
        raise RuntimeError(
            f"no browser at {CHROMIUM}: `apt-get install chromium`, or set "
            "CHROMIUM to a Chromium/Chrome executable (.ci/run installs it)"
        )


class OfflineRouter:
    """Playwright route handler: local pages pass, CDN files come from npm, the rest is refused."""

    def __init__(self, base_url: str):
        self.base_url = base_url
        self.refused: list[str] = []

    def __call__(self, route):
        url = route.request.url
        if url.startswith(self.base_url) or url.startswith("data:"):
            return route.continue_()
        local = vendored_file(url)
        if local is None:
            self.refused.append(url)
            return route.abort()
        content_type = mimetypes.guess_type(local.name)[0] or "application/octet-stream"
        return route.fulfill(
            path=str(local), content_type=content_type, headers={"Access-Control-Allow-Origin": "*"}
        )


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(directory: Path):
    """Serve ``directory`` on a free loopback port; returns (base_url, shutdown function)."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def shutdown():
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}/", shutdown


def host_of(url: str) -> str:
    return urlparse(url).netloc
