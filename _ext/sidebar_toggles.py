"""Sphinx extension: make every sidebar toggle button open its sidebar.

pydata-sphinx-theme 0.17 binds its handler (open the sidebar as a dialog on narrow screens) to
the *first* element with the class ``primary-toggle`` (``secondary-toggle`` for the page
contents), and sphinx-book-theme binds its wide-screen handler (collapse the sidebar) to the
same first element. Since 0.17 the page has two such buttons: a hidden one in the top bar and
the visible one of sphinx-book-theme in the article header, so the visible buttons do nothing
(upstream: pydata/pydata-sphinx-theme#2451, executablebooks/sphinx-book-theme#988). This
extension forwards a click on any other toggle to the first one, which has the handlers.
"""

from __future__ import annotations

FORWARD_CLICKS = """
document.addEventListener("DOMContentLoaded", () => {
  for (const kind of ["primary", "secondary"]) {
    const [first, ...others] = document.querySelectorAll(`.${kind}-toggle`);
    others.forEach((button) => button.addEventListener("click", (event) => {
      event.preventDefault();
      event.stopPropagation();
      first.click();
    }));
  }
});
"""


def setup(app):
    app.add_js_file(None, body=FORWARD_CLICKS)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
