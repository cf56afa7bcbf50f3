"""The whole-book page (`--builder singlehtml`, for `make pdf`) renders every node the
website renders.

Sphinx looks up the visitors of an extension's nodes by builder name and falls back to the
format ("html") only when *no* extension registered visitors for that name. One extension here
registers some for "singlehtml", so myst-nb's nodes (e.g. the collapsed cells of
`hide-input`), registered for "html" only, became unknown to the singlehtml builder, which
then stops with "unknown node type: HideCodeCellNode". This copies every "html" visitor that
"singlehtml" lacks.
"""


def _share_html_visitors(app) -> None:
    if app.builder.name != "singlehtml":
        return
    handlers = app.registry.translation_handlers
    shared = handlers.setdefault("singlehtml", {})
    for node, visitors in handlers.get("html", {}).items():
        shared.setdefault(node, visitors)


def setup(app):
    app.connect("builder-inited", _share_html_visitors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
