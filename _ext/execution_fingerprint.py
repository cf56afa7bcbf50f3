"""Sphinx extension: no page keeps outputs that older code computed.

myst-nb's execution cache (``execute_notebooks: cache``) keys a page on its own code cells
only. After a change to the helper package ``vaebook`` (or to the pinned environment, or to
the seed and floating-point path of the run), an unchanged page would show numbers computed by
the old code. This extension writes a fingerprint of everything else a page's outputs depend
on into the execution cache folder. When the fingerprint of this build differs from the stored
one, it empties the execution cache and has Sphinx re-read every page, so every page is
executed again. The fingerprint covers:

* every file of the imported ``vaebook`` package (wherever it is imported from);
* ``requirements.txt`` and ``pyproject.toml`` of the book, and the Python version;
* the environment variables that choose the book's seed, threads and floating-point path
  (see ``vaebook.settings``).

A cache restored from an older build (for example by a CI cache action) is therefore never
used with newer code.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import platform
import shutil
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
STAMP = "vaebook-fingerprint.json"
ENVIRONMENT_FILES = ("requirements.txt", "pyproject.toml")
ENVIRONMENT_VARIABLES = ("VAEBOOK_SEED", "VAEBOOK_THREADS", "MKL_CBWR",
                         "MKL_ENABLE_INSTRUCTIONS", "ATEN_CPU_CAPABILITY")


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(srcdir: Path) -> dict:
    """What the outputs of a book in ``srcdir`` depend on besides the pages' own code."""
    spec = importlib.util.find_spec("vaebook")
    if spec is None or spec.origin is None:
        raise RuntimeError("the helper package vaebook is not importable: run `make book`")
    package = Path(spec.origin).parent
    files = {str(path.relative_to(package)): _digest(path)
             for path in sorted(package.rglob("*"))
             if path.is_file() and "__pycache__" not in path.parts}
    environment = {name: _digest(srcdir / name) for name in ENVIRONMENT_FILES
                   if (srcdir / name).is_file()}
    variables = {name: os.environ[name] for name in ENVIRONMENT_VARIABLES
                 if os.environ.get(name)}
    return {"vaebook": files, "environment": environment, "python": platform.python_version(),
            "variables": variables}


def check_fingerprint(app) -> None:
    """Empty the execution cache and mark every page outdated if the fingerprint changed."""
    cache = Path(app.env.mystnb_config.execution_cache_path)
    stamp = cache / STAMP
    current = fingerprint(Path(app.srcdir))
    try:
        previous = json.loads(stamp.read_text())
    except (OSError, ValueError):
        previous = None
    app.vaebook_stale = previous != current
    if not app.vaebook_stale:
        return
    if cache.exists():
        LOGGER.info("execution cache %s: the helper package, the environment or the run "
                    "settings changed since it was filled; emptying it", cache)
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    stamp.write_text(json.dumps(current, indent=1, sort_keys=True))


def outdated_pages(app, env, added, changed, removed):
    """Every page, when the fingerprint changed: their stored outputs came from other code."""
    if getattr(app, "vaebook_stale", False):
        return sorted(env.found_docs - set(added) - set(removed))
    return []


def setup(app):
    # After myst-nb's own builder-inited handler, which sets the execution cache path.
    app.connect("builder-inited", check_fingerprint, priority=900)
    app.connect("env-get-outdated", outdated_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
