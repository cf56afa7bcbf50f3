"""Releases: which version and commit a build comes from, for the footer and the editions.

The version of the book is ``vaebook.__version__`` in ``src/vaebook/__init__.py``, the one
place that holds it (``pyproject.toml`` reads it; ``CITATION.cff`` and ``CHANGELOG.md`` repeat
it, checked by ``tests/test_hygiene.py``). A *release* is the commit tagged ``v<version>``
(CONTRIBUTING.md, "Cut a release"). :func:`describe` reads the version, the commit checked
out and whether that commit is the release, from git:

* at the tag ``v0.2.0``: ``Version 0.2.0 (v0.2.0, commit abc1234)``;
* at any other commit: ``Version 0.2.0+ (development, commit abc1234)``;
* without git, or in a folder that is not the top of a clone (a source tarball):
  ``Version 0.2.0``.

As a Sphinx extension it prints that line in the footer of every page (the theme's
``extra_footer``). It depends on the commit and its tags only, never on the time or on
uncommitted changes, so two builds of one commit are the same. ``assignments/build.py`` uses
:func:`describe`, :func:`edition_label` and :func:`package_matches` to name the release in
every student edition and to choose what its set-up cell installs.
"""

from __future__ import annotations

import ast
import html
import importlib.util
import subprocess
from dataclasses import dataclass
from pathlib import Path

TAG_PREFIX = "v"
"""A release ``X.Y.Z`` is tagged ``vX.Y.Z``."""

PACKAGE_PATHS = ("src", "pyproject.toml")
"""What ``pip install`` of the repository installs: the helper package and its metadata."""


@dataclass(frozen=True)
class Build:
    """What a build comes from: the version, the commit (None outside a clone) and the
    release tag ``v<version>`` when the commit is that release (else None)."""

    version: str
    commit: str | None = None
    tag: str | None = None

    @property
    def short(self) -> str | None:
        return self.commit[:7] if self.commit else None

    @property
    def release_tag(self) -> str:
        return f"{TAG_PREFIX}{self.version}"


def package_version(folder: Path) -> str:
    """``__version__`` of ``folder/src/vaebook/__init__.py`` (else of the importable vaebook),
    read from the source, not imported."""
    path = Path(folder) / "src" / "vaebook" / "__init__.py"
    if not path.is_file():
        spec = importlib.util.find_spec("vaebook")
        if spec is None or spec.origin is None:
            raise RuntimeError(f"no src/vaebook/__init__.py in {folder} and no vaebook installed")
        path = Path(spec.origin)
    for node in ast.parse(path.read_text(), str(path)).body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(target, "id", None) for target in node.targets] == ["__version__"]
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    raise RuntimeError(f"{path}: no __version__ = '<version>' line")


def _git(folder: Path, *args: str) -> subprocess.CompletedProcess | None:
    """``git <args>`` in ``folder``; None where git is missing or does not answer."""
    try:
        return subprocess.run(
            ["git", *args], cwd=folder, capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.SubprocessError):
        return None


def _output(folder: Path, *args: str) -> str | None:
    result = _git(folder, *args)
    return result.stdout.strip() if result is not None and result.returncode == 0 else None


def is_clone(folder: Path) -> bool:
    """True if ``folder`` is the top of a git work tree (not a folder inside another one)."""
    top = _output(folder, "rev-parse", "--show-toplevel")
    return top is not None and Path(top).resolve() == Path(folder).resolve()


def tagged_commit(folder: Path, tag: str) -> str | None:
    """The commit the tag ``tag`` points at, or None if there is no such tag."""
    return _output(folder, "rev-parse", "--verify", "--quiet", f"refs/tags/{tag}^{{commit}}")


def describe(folder: Path) -> Build:
    """The version of ``folder``'s source, its commit and, if that commit is the release of
    its version (tagged ``v<version>``), the tag."""
    folder = Path(folder)
    version = package_version(folder)
    if not is_clone(folder):
        return Build(version)
    commit = _output(folder, "rev-parse", "--verify", "HEAD")
    if commit is None or len(commit) != 40:
        return Build(version)  # a clone without a commit yet
    build = Build(version, commit)
    if tagged_commit(folder, build.release_tag) == commit:
        build = Build(version, commit, build.release_tag)
    return build


def footer_text(build: Build) -> str:
    """``Version 0.2.0 (v0.2.0, commit abc1234)``, ``Version 0.2.0+ (development, commit
    abc1234)`` or ``Version 0.2.0`` (no git)."""
    if build.commit is None:
        return f"Version {build.version}"
    if build.tag:
        return f"Version {build.version} ({build.tag}, commit {build.short})"
    return f"Version {build.version}+ (development, commit {build.short})"


def footer_html(build: Build, repository_url: str = "") -> str:
    """:func:`footer_text` as a paragraph, the tag and the commit linked to the repository."""
    text = html.escape(footer_text(build))
    url = repository_url.rstrip("/")
    if url.startswith("https://github.com/"):
        if build.tag:
            text = text.replace(
                f"({build.tag},",
                f'(<a href="{html.escape(url)}/releases/tag/{build.tag}">{build.tag}</a>,',
                1,
            )
        if build.commit:
            text = text.replace(
                f"commit {build.short})",
                f'commit <a href="{html.escape(url)}/commit/{build.commit}">{build.short}</a>)',
                1,
            )
    return f'<p class="vaebook-release">{text}</p>'


def edition_label(build: Build) -> str:
    """The line that names a student edition's release: ``Edition of vaebook 0.2.0, built
    from v0.2.0 (commit abc1234)``."""
    if build.commit is None:
        return f"Edition of vaebook {build.version}, built outside a git clone"
    if build.tag:
        return f"Edition of vaebook {build.version}, built from {build.tag} (commit {build.short})"
    return f"Edition of vaebook {build.version}+, built from commit {build.short} (development)"


def package_matches(folder: Path, revision: str) -> bool:
    """True if what ``pip install`` takes from the repository (:data:`PACKAGE_PATHS`) is the
    same in ``folder``'s working tree, uncommitted and untracked files included, as at
    ``revision`` (a tag or commit); False if it differs or git cannot tell."""
    if _output(folder, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}") is None:
        return False
    diff = _git(folder, "diff", "--quiet", revision, "--", *PACKAGE_PATHS)
    untracked = _output(folder, "ls-files", "--others", "--exclude-standard", "--", "src")
    return diff is not None and diff.returncode == 0 and untracked == ""


def _add_footer(app, config) -> None:
    build = describe(Path(app.srcdir))
    options = dict(config.html_theme_options or {})
    line = footer_html(build, options.get("repository_url", ""))
    options["extra_footer"] = "\n".join(filter(None, [options.get("extra_footer"), line]))
    config.html_theme_options = options
    app._vaebook_build = build


def setup(app):
    app.connect("config-inited", _add_footer)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
