"""Sphinx extension: include each inline script of a page only once.

sphinx-thebe 0.3.1 registers its inline configuration script
(``const THEBE_JS_URL = ...``) every time Sphinx emits ``env-before-read-docs``, and a
Jupyter Book build emits it more than once. The page then declares the same ``const`` twice,
which the browser reports as a console error ("Identifier 'THEBE_JS_URL' has already been
declared"). This extension drops exact duplicates from each page's script list.

It also drops the saved ipywidgets state (``application/vnd.jupyter.widget-state+json``) that
myst-nb embeds in a page whose notebook ran widgets: the website loads no widget manager
(``nb_ipywidgets_js`` is empty) and shows the sliders' static HTML/JS views instead, so the state
(about 130 KB per slider page) is never read.
"""

from __future__ import annotations

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def _script_key(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    # An inline script is registered with filename None or "" depending on the extension.
    filename = getattr(script, "filename", script) or ""
    return (filename, tuple(sorted(attributes.items())))


def drop_duplicate_scripts(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        if attributes.get("type") == WIDGET_STATE and not app.config.nb_ipywidgets_js:
            continue
        key = _script_key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique


def setup(app):
    app.connect("html-page-context", drop_duplicate_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
