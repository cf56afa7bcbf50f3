"""Releases and editions: the footer's version line and the student editions' install source.

The quick tests make small git repositories in a temporary folder (a commit, a tag ``v<version>``,
a later commit) and check what ``_ext/release.py`` says about each and what
``assignments/build.py`` makes a set-up cell install. Two end-to-end tests build a tagged
release: a one-page book (its footer names the tag; about 10 s) and, in a clone of this
repository tagged ``v<version>``, the first assignment (its student edition names the tag and
installs it; about 20 s). The built website's footer is checked in tests/test_book_build.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import JUPYTEXT_HEADER, REPO, build_book

sys.path.insert(0, str(REPO / "assignments"))
import build  # noqa: E402  (assignments/build.py)

release = build._ext_module("release")  # _ext/release.py, as build.py loads it

URL = "https://github.com/owner/book"
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "-c", "tag.gpgSign=false"]


def git(folder: Path, *args: str) -> str:
    result = subprocess.run(
        [*GIT, "-C", str(folder), *args], check=True, capture_output=True, text=True
    )
    return result.stdout.strip()


def commit_all(folder: Path, message: str) -> str:
    git(folder, "add", "-A")
    git(folder, "commit", "--quiet", "--no-gpg-sign", "-m", message)
    return git(folder, "rev-parse", "HEAD")


def project(folder: Path, version: str = "9.8.7") -> Path:
    """A repository-shaped folder: the package's version and one master."""
    (folder / "src" / "vaebook").mkdir(parents=True)
    (folder / "src" / "vaebook" / "__init__.py").write_text(
        f'"""The package."""\n\n__version__ = "{version}"\n'
    )
    (folder / "pyproject.toml").write_text('[project]\nname = "vaebook"\ndynamic = ["version"]\n')
    (folder / "assignments").mkdir()
    (folder / "assignments" / "master.md").write_text("# A master\n")
    return folder


@pytest.fixture
def repository(tmp_path) -> Path:
    """A clone with one commit of :func:`project`, not tagged."""
    folder = project(tmp_path / "repo")
    git(folder, "init", "--quiet")
    commit_all(folder, "first")
    return folder


# --- The footer -------------------------------------------------------------------------------


def test_the_footer_names_the_tag_the_development_commit_or_only_the_version(repository):
    first = git(repository, "rev-parse", "HEAD")
    assert release.describe(repository) == release.Build("9.8.7", first)
    assert release.footer_text(release.describe(repository)) == (
        f"Version 9.8.7+ (development, commit {first[:7]})"
    )
    git(repository, "tag", "-a", "v9.8.7", "-m", "Release 9.8.7")
    tagged = release.describe(repository)
    assert tagged == release.Build("9.8.7", first, "v9.8.7")
    assert release.footer_text(tagged) == f"Version 9.8.7 (v9.8.7, commit {first[:7]})"
    # the links of the tag and the commit, in the theme's extra footer
    assert release.footer_html(tagged, URL) == (
        f'<p class="vaebook-release">Version 9.8.7 (<a href="{URL}/releases/tag/v9.8.7">'
        f'v9.8.7</a>, commit <a href="{URL}/commit/{first}">{first[:7]}</a>)</p>'
    )
    # a later commit is development again, and so is a tag of another version
    (repository / "notes.md").write_text("later\n")
    later = commit_all(repository, "later")
    git(repository, "tag", "v1.0.0")  # a lightweight tag, of a version that is not this one
    assert release.describe(repository) == release.Build("9.8.7", later)
    assert release.footer_text(release.describe(repository)).startswith("Version 9.8.7+ (dev")
    # uncommitted changes change nothing: two builds of one commit print the same line
    (repository / "src" / "vaebook" / "extra.py").write_text("X = 1\n")
    assert release.describe(repository) == release.Build("9.8.7", later)


def test_without_git_or_outside_a_clone_the_footer_names_the_version_only(
    repository, tmp_path, monkeypatch
):
    tarball = project(tmp_path / "tarball", "1.2.3")  # a source tarball: no .git
    assert release.describe(tarball) == release.Build("1.2.3")
    assert release.footer_text(release.describe(tarball)) == "Version 1.2.3"
    assert release.footer_html(release.describe(tarball), URL) == (
        '<p class="vaebook-release">Version 1.2.3</p>'
    )
    # unpacked inside some other clone: that clone's commit is not this source's
    inside = project(repository / "unpacked", "1.2.4")
    assert release.describe(inside) == release.Build("1.2.4")
    # git missing from the machine
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))
    assert shutil.which("git") is None
    assert release.describe(repository) == release.Build("9.8.7")
    assert release.package_matches(repository, "HEAD") is False


def test_the_version_is_read_from_the_source():
    init = (REPO / "src" / "vaebook" / "__init__.py").read_text()
    version = release.package_version(REPO)
    assert f'__version__ = "{version}"' in init
    import vaebook

    assert version == vaebook.__version__


# --- What a student edition installs ----------------------------------------------------------


def choose(folder: Path, choice: str = "auto"):
    return build.choose_install_source(folder, URL, choice)


def test_a_release_installs_its_tag_and_a_development_build_its_commit(repository):
    first = git(repository, "rev-parse", "HEAD")
    development = choose(repository)
    assert development.requirement == f"git+{URL}@{first}"
    assert "development build" in development.reason and "uncommitted" not in development.reason
    git(repository, "tag", "-a", "v9.8.7", "-m", "Release 9.8.7")
    tagged = choose(repository)
    assert tagged.requirement == f"git+{URL}@v9.8.7"
    assert tagged.reason == "the build is the release v9.8.7"
    assert tagged.build == release.Build("9.8.7", first, "v9.8.7")
    assert release.edition_label(tagged.build) == (
        f"Edition of vaebook 9.8.7, built from v9.8.7 (commit {first[:7]})"
    )


def test_after_a_release_the_tag_is_installed_while_the_package_is_unchanged(repository):
    """A private course repository: its own masters (and seed) on top of the release, the
    book's package unchanged. Its commits are private, the tag is public: install the tag."""
    git(repository, "tag", "-a", "v9.8.7", "-m", "Release 9.8.7")
    (repository / "assignments" / "master.md").write_text("# A master, this course's\n")
    course = commit_all(repository, "the course's masters")
    chosen = choose(repository)
    assert chosen.requirement == f"git+{URL}@v9.8.7"
    assert chosen.reason == "vaebook is unchanged since the release v9.8.7"
    assert release.edition_label(chosen.build) == (
        f"Edition of vaebook 9.8.7+, built from commit {course[:7]} (development)"
    )
    # an untracked new module of the package: the release does not hold it
    (repository / "src" / "vaebook" / "new.py").write_text("X = 1\n")
    chosen = choose(repository)
    assert chosen.requirement == f"git+{URL}@{course}"
    assert chosen.reason.endswith("uncommitted changes, which the commit does not hold")
    # committed: a development build of the package, which installs its commit
    changed = commit_all(repository, "a new module")
    chosen = choose(repository)
    assert chosen.requirement == f"git+{URL}@{changed}"
    assert "development build" in chosen.reason and "uncommitted" not in chosen.reason
    # at a release tagged on it, an edit of pyproject.toml counts too
    git(repository, "tag", "-d", "v9.8.7")
    git(repository, "tag", "-a", "v9.8.7", "-m", "Release 9.8.7, again")
    assert choose(repository).requirement == f"git+{URL}@v9.8.7"
    with (repository / "pyproject.toml").open("a") as file:
        file.write('description = "changed"\n')
    at_the_tag = choose(repository)  # the commit is the tag's: nothing else can be installed
    assert at_the_tag.requirement == f"git+{URL}@v9.8.7"
    assert at_the_tag.reason.endswith("uncommitted changes, which it does not hold")
    metadata = commit_all(repository, "metadata")
    assert choose(repository).requirement == f"git+{URL}@{metadata}"


def test_the_instructor_chooses_the_install_source(repository, tmp_path):
    first = git(repository, "rev-parse", "HEAD")
    assert choose(repository, "release").requirement == f"git+{URL}@v9.8.7"
    assert choose(repository, "release").reason == "the release v9.8.7 (--install-source release)"
    git(repository, "tag", "-a", "v9.8.7", "-m", "Release 9.8.7")
    assert choose(repository, "commit").requirement == f"git+{URL}@{first}"
    own = "git+https://github.com/someone/fork@course-2027"
    assert choose(repository, own) == (own, "given with --install-source", choose(repository).build)
    wheel = "https://example.org/wheels/vaebook-9.8.7-py3-none-any.whl"
    assert choose(repository, wheel).requirement == wheel
    for bad in ("two words", 'a"quote', "", "back\\slash"):
        with pytest.raises(SystemExit, match="--install-source must be"):
            choose(repository, bad)
    # outside a clone: the release of the source's version; "commit" cannot be
    tarball = project(tmp_path / "tarball", "1.2.3")
    assert choose(tarball) == (
        f"git+{URL}@v1.2.3",
        "not a git clone: the release v1.2.3",
        release.Build("1.2.3"),
    )
    with pytest.raises(SystemExit, match="not a git clone"):
        choose(tarball, "commit")


def test_the_set_up_cell_names_the_edition_and_installs_the_chosen_source(tmp_path):
    """add_setup_cell on a notebook with otter's metadata: the label, the source, the
    run-time override."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["otter"] = {"tests": {"q1": "OK_FORMAT = True\n"}}
    notebook.cells = [nbformat.v4.new_markdown_cell("# An assignment")]
    path = tmp_path / "a.ipynb"
    nbformat.write(notebook, path)
    chosen = build.InstallSource(
        f"git+{URL}@v9.8.7",
        "the build is the release v9.8.7",
        release.Build("9.8.7", "a" * 40, "v9.8.7"),
    )
    source = build.add_setup_cell(path, chosen)
    cell = nbformat.read(path, as_version=4).cells[0]
    assert cell.source == source and cell.metadata["tags"] == [build.SETUP_TAG]
    lines = source.splitlines()
    assert lines[1] == "# Edition of vaebook 9.8.7, built from v9.8.7 (commit aaaaaaa)."
    assert f'source = os.environ.get("VAEBOOK_PIP_SOURCE", "git+{URL}@v9.8.7")' in source
    compile(source, "setup", "exec")


def test_make_assignments_passes_the_install_source():
    makefile = (REPO / "Makefile").read_text()
    assert "$(if $(INSTALL_SOURCE),--install-source $(INSTALL_SOURCE))" in makefile
    readme = (REPO / "assignments" / "README.md").read_text()
    for needle in ("--install-source", "INSTALL_SOURCE=", "private", "@v<version>"):
        assert needle in readme, needle


# --- A tagged release, built ------------------------------------------------------------------


@pytest.mark.build
def test_a_tagged_book_names_its_release_in_the_footer_of_every_page(tmp_path):
    """A one-page book with the real _config.yml and extensions, committed and tagged as the
    release of its version: the footer of its pages names the tag and the commit."""
    root = tmp_path / "book"
    (root / "book").mkdir(parents=True)
    (root / "src" / "vaebook").mkdir(parents=True)
    for name in ("_config.yml", "references.bib"):
        shutil.copy(REPO / name, root / name)
    shutil.copytree(REPO / "_ext", root / "_ext", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "src" / "vaebook" / "__init__.py", root / "src" / "vaebook")
    (root / "book" / "page.md").write_text(JUPYTEXT_HEADER + "# A page\n\nSome text.\n")
    (root / "book" / "other.md").write_text("# Another page\n\nMore text.\n")
    (root / "_toc.yml").write_text(
        "format: jb-book\nroot: book/page\nchapters:\n- file: book/other\n"
    )
    version = release.package_version(REPO)
    git(root, "init", "--quiet")
    commit = commit_all(root, "a book")
    git(root, "tag", "-a", f"v{version}", "-m", f"Release {version}")
    result = build_book(root, tmp_path / "out", timeout=600)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    url = yaml.safe_load((REPO / "_config.yml").read_text())["repository"]["url"]
    for page in ("page", "other"):
        html = (tmp_path / "out" / "_build" / "html" / "book" / f"{page}.html").read_text()
        assert (
            f'<p class="vaebook-release">Version {version} (<a href="{url}/releases/tag/'
            f'v{version}">v{version}</a>, commit <a href="{url}/commit/{commit}">{commit[:7]}'
            "</a>)</p>"
        ) in html, page


def clone_of_the_working_tree(target: Path) -> Path:
    """A clone of this repository at HEAD with the working tree's changes committed on top
    (so the test checks the code as it is, committed or not)."""
    subprocess.run(["git", "clone", "--quiet", str(REPO), str(target)], check=True, timeout=300)
    changed = subprocess.run(
        ["git", "-C", str(REPO), "ls-files", "--modified", "--others", "--exclude-standard", "-z"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    for name in filter(None, changed):
        source, copy = REPO / name, target / name
        if source.is_file():
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy)
        elif copy.exists():
            copy.unlink()  # deleted in the working tree
    git(target, "add", "-A")
    if git(target, "status", "--porcelain"):
        git(target, "commit", "--quiet", "--no-gpg-sign", "-m", "the working tree")
    return target


@pytest.mark.assignments
def test_a_tagged_release_builds_student_editions_that_name_and_install_it(tmp_path):
    clone = clone_of_the_working_tree(tmp_path / "clone")
    version = release.package_version(clone)
    commit = git(clone, "rev-parse", "HEAD")
    # -f: the clone may already carry the tag, on an older commit (a clone of the release).
    git(clone, "tag", "-f", "-a", f"v{version}", "-m", f"Release {version}")
    out = tmp_path / "editions"
    env = {key: value for key, value in os.environ.items() if key != "VAEBOOK_PIP_SOURCE"}
    result = subprocess.run(
        [
            sys.executable,
            str(clone / "assignments" / "build.py"),
            "--out",
            str(out),
            "01-derivation",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    url = yaml.safe_load((clone / "_config.yml").read_text())["repository"]["url"]
    label = f"Edition of vaebook {version}, built from v{version} (commit {commit[:7]})"
    assert result.stdout.startswith(f"{label}; the set-up cells install git+{url}@v{version}\n")
    meta = json.loads((out / "01-derivation" / "questions.json").read_text())
    assert meta["edition"] == {
        "label": label,
        "version": version,
        "tag": f"v{version}",
        "commit": commit,
        "install_source": f"git+{url}@v{version}",
        "reason": f"the build is the release v{version}",
    }
    student = nbformat.read(out / "01-derivation" / "student" / meta["notebook"], as_version=4)
    first = student.cells[0]
    assert first.metadata["tags"] == [build.SETUP_TAG] and first.source == meta["setup_cells"][0]
    assert f"# {label}." in first.source
    assert f'os.environ.get("VAEBOOK_PIP_SOURCE", "git+{url}@v{version}")' in first.source
    assert commit not in first.source  # the tag, not the commit, is installed
