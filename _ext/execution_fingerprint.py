"""Sphinx extension: no page keeps outputs that older code computed.

myst-nb's execution cache (``execute_notebooks: cache``) keys a page on its own code cells
only. After a change to the helper package ``vaebook`` (or to the pinned environment, or to
the seed and floating-point path of the run), an unchanged page would show numbers computed by
the old code. This extension stores, next to the execution cache, a fingerprint of what else a
page's outputs depend on, and re-executes exactly the pages whose fingerprint changed:

* for every page, the code of the ``vaebook`` modules its code cells import, directly or
  through other modules of the package (``vaebook._fingerprint``: docstrings, comments and
  formatting do not count, so a docstring edit re-executes nothing), and the package's data
  files that pages show (the calculator's script);
* for the whole book, ``requirements.txt`` and ``pyproject.toml``, the Python version and the
  environment variables that choose the book's seed, threads and floating-point path (see
  ``vaebook.settings``): when they change, the whole execution cache is emptied.

A page whose fingerprint changed loses its cached outputs and is read again, so it executes
anew. A cache restored from an older build (for example by a CI cache action) is therefore
never used with newer code.
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
ENVIRONMENT_VARIABLES = (
    "VAEBOOK_SEED",
    "VAEBOOK_THREADS",
    "MKL_CBWR",
    "MKL_ENABLE_INSTRUCTIONS",
    "ATEN_CPU_CAPABILITY",
)
DATA_FILES = ("*.js", "*.html")
"""The package's data files that pages show (pyproject.toml's package-data: the calculator's
script, the latent explorer's script and markup); its README and other prose are not part of
any output. A data file belongs to the module of its name (``explorer.js`` to
``vaebook.explorer``): a page depends on the data files of the modules it imports."""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _package() -> Path:
    spec = importlib.util.find_spec("vaebook")
    if spec is None or spec.origin is None:
        raise RuntimeError("the helper package vaebook is not importable: run `make book`")
    return Path(spec.origin).parent


def global_fingerprint(srcdir: Path) -> dict:
    """What every page's outputs depend on: the pins, the Python and the run settings."""
    environment = {
        name: _digest(srcdir / name) for name in ENVIRONMENT_FILES if (srcdir / name).is_file()
    }
    variables = {name: os.environ[name] for name in ENVIRONMENT_VARIABLES if os.environ.get(name)}
    return {"environment": environment, "python": platform.python_version(), "variables": variables}


def page_code(path: Path) -> str:
    """The Python of a MyST notebook's code cells (cell options and IPython magics left out)."""
    from vaebook._fingerprint import code_cells

    return "\n".join(
        "\n".join(line for line in cell.splitlines() if not line.lstrip().startswith(("%", "!")))
        for cell in code_cells(path.read_text())
    )


def page_fingerprint(path: Path) -> dict:
    """The code of the ``vaebook`` modules the page at ``path`` imports, and the package's
    data files. A page that cannot be parsed depends on the whole package."""
    from vaebook._fingerprint import code_fingerprint, import_closure, imported_modules

    package = _package()
    modules = sorted(
        f"vaebook.{item.stem}" for item in package.glob("*.py") if item.stem != "__init__"
    )
    try:
        roots = imported_modules(page_code(path), str(path))
    except ValueError:
        roots = set(modules)
    if "vaebook" in roots:  # the package itself: follow its lazy attributes too
        roots |= imported_modules((package / "__init__.py").read_text())
    # `from vaebook import audit_loss` names an attribute, not a module: only modules count.
    roots = sorted(set(roots) & set(modules))
    closure = import_closure(tuple(roots), package)
    files = sorted(item for pattern in DATA_FILES for item in package.glob(pattern))
    data = {item.name: _digest(item) for item in files if f"vaebook.{item.stem}" in closure}
    return {"code": code_fingerprint(tuple(roots), package), "data": data}


def _drop_cached_outputs(cache: Path, path: Path) -> None:
    """Remove the execution-cache records of the page at ``path``."""
    from jupyter_cache import get_cache

    store = get_cache(str(cache))
    for record in store.list_cache_records():
        if record.uri == str(path):
            store.remove_cache(record.pk)


def check_fingerprint(app) -> None:
    """Empty the execution cache if the pins or run settings changed since it was filled."""
    cache = Path(app.env.mystnb_config.execution_cache_path)
    stamp = cache / STAMP
    current = global_fingerprint(Path(app.srcdir))
    try:
        previous = json.loads(stamp.read_text())
    except (OSError, ValueError):
        previous = {}
    app.vaebook_cache, app.vaebook_pages = cache, previous.get("pages", {})
    if previous.get("global") == current:
        return
    if cache.exists():
        LOGGER.info(
            "execution cache %s: the environment or the run settings changed since "
            "it was filled; emptying it",
            cache,
        )
        shutil.rmtree(cache)
    cache.mkdir(parents=True, exist_ok=True)
    app.vaebook_pages = {}
    stamp.write_text(json.dumps({"global": current, "pages": {}}, indent=1, sort_keys=True))


def outdated_pages(app, env, added, changed, removed):
    """The pages whose imported code changed: their cached outputs are dropped and they are
    read (and so executed) again."""
    cache = app.vaebook_cache
    stored, current, stale = app.vaebook_pages, {}, []
    for docname in sorted(env.found_docs):
        path = Path(env.doc2path(docname))
        if path.suffix != ".md" or not path.read_text().startswith("---\njupytext:"):
            continue
        current[docname] = page_fingerprint(path)
        if stored.get(docname) != current[docname]:
            _drop_cached_outputs(cache, path)
            stale.append(docname)
    stamp = cache / STAMP
    data = json.loads(stamp.read_text())
    data["pages"] = current
    stamp.write_text(json.dumps(data, indent=1, sort_keys=True))
    if stale:
        LOGGER.info(
            "execution cache: the code imported by %d page(s) changed, re-executing them: %s",
            len(stale),
            ", ".join(stale),
        )
    return sorted(set(stale) - set(added) - set(removed))


def setup(app):
    # After myst-nb's own builder-inited handler, which sets the execution cache path.
    app.connect("builder-inited", check_fingerprint, priority=900)
    app.connect("env-get-outdated", outdated_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
