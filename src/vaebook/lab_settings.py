"""Make JupyterLab open the book's MyST Markdown chapters as notebooks.

Introduced in *How to use this book*. The chapters are ``.md`` files with a jupytext header.
JupyterLab opens a ``.md`` file in its text editor unless "Jupytext Notebook" is the default
viewer. This module writes that default into the environment's
``share/jupyter/lab/settings/overrides.json`` (used by ``make lab`` and by Binder's ``postBuild``).

Run it as ``python -m vaebook.lab_settings``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

DOCMANAGER_PLUGIN = "@jupyterlab/docmanager-extension:plugin"
JUPYTEXT_VIEWERS = {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}


def overrides_path(prefix: str | Path | None = None) -> Path:
    """Return the path of JupyterLab's settings overrides file under ``prefix``."""
    prefix = Path(sys.prefix if prefix is None else prefix)
    return prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def write_overrides(prefix: str | Path | None = None) -> Path:
    """Merge the Jupytext default viewers into ``overrides.json`` and return its path.

    Settings already in the file are kept; only the default viewers for Markdown are set.
    """
    path = overrides_path(prefix)
    settings = json.loads(path.read_text()) if path.exists() else {}
    docmanager = settings.setdefault(DOCMANAGER_PLUGIN, {})
    docmanager.setdefault("defaultViewers", {}).update(JUPYTEXT_VIEWERS)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2) + "\n")
    return path


if __name__ == "__main__":
    print(f"JupyterLab opens .md chapters as notebooks: {write_overrides()}")
