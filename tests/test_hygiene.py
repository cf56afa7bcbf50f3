"""Repository hygiene: licences, citation metadata, the contributors' guide, the changelog and
the version, and one place for the repository's URL (``repository.url`` in _config.yml)."""

from __future__ import annotations

import datetime
import re
import subprocess
import textwrap
import tomllib
import urllib.parse

import pytest
import yaml
from conftest import JUPYTEXT_HEADER, REPO

import vaebook

# Citation File Format 1.2.0: the keys its schema requires, and every key it allows at the top
# level (the schema forbids any other).
CFF_REQUIRED = {"cff-version", "message", "title", "authors"}
CFF_KEYS = CFF_REQUIRED | {
    "abstract",
    "commit",
    "contact",
    "date-released",
    "doi",
    "identifiers",
    "keywords",
    "license",
    "license-url",
    "preferred-citation",
    "references",
    "repository",
    "repository-artifact",
    "repository-code",
    "type",
    "url",
    "version",
}
GITHUB_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")
GITHUB_REPO = re.compile(r"^(?!\.\.?$)[A-Za-z0-9._-]{1,100}$")
# Every URL, also one inside another (overlapping matches, hence the lookahead).
URL = re.compile(r"""(?=(https?://[^\s<>"'`()\[\]{}|\\^]+))""")
# The files that may spell the repository's URL: its source, and the two that cannot derive it
# (each checked against the source below). Every other file derives it from _config.yml.
URL_COPIES = {"_config.yml", "CITATION.cff", "README.md"}


def config() -> dict:
    return yaml.safe_load((REPO / "_config.yml").read_text())


def citation() -> dict:
    return yaml.safe_load((REPO / "CITATION.cff").read_text())


# ---------------------------------------------------------------------------------------------
# Licences
# ---------------------------------------------------------------------------------------------


def test_the_code_is_mit_licensed():
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License\n"), "LICENSE must be the MIT licence"
    assert "Copyright (c) 2026 The MSE-VAE book contributors" in text
    assert "Permission is hereby granted, free of charge" in text
    assert 'THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND' in text


def test_the_text_is_cc_by_4_0_with_its_full_legal_code():
    text = (REPO / "LICENSE-text.md").read_text()
    assert "CC BY 4.0" in text and "Creative Commons Attribution 4.0 International" in text
    assert "https://creativecommons.org/licenses/by/4.0/legalcode" in text
    assert "Creative Commons Attribution 4.0 International Public License" in text
    sections = re.findall(r"^Section (\d) -- ", text, re.M)
    assert sections == [str(n) for n in range(1, 9)], "the legal code is incomplete"
    assert "NonCommercial" not in text and "ShareAlike" not in text and "NoDerivatives" not in text


# ---------------------------------------------------------------------------------------------
# Citation and version
# ---------------------------------------------------------------------------------------------


def test_citation_cff_is_valid_cff_1_2_0():
    data = citation()
    assert isinstance(data, dict), "CITATION.cff does not parse as a YAML mapping"
    assert CFF_REQUIRED <= data.keys(), f"CITATION.cff lacks {sorted(CFF_REQUIRED - data.keys())}"
    assert data.keys() <= CFF_KEYS, f"keys that CFF 1.2.0 does not allow: {data.keys() - CFF_KEYS}"
    assert str(data["cff-version"]) == "1.2.0"
    assert data["type"] == "software", "GitHub's 'Cite this repository' cites a software entry"
    assert data["license"] == "MIT", "the SPDX licence of the code (the text's is in message)"
    assert "CC BY 4.0" in data["message"], "the message should name the licence of the text"
    assert isinstance(data["authors"], list) and data["authors"], "authors must be a list"
    for author in data["authors"]:
        assert author.get("name") or author.get("family-names"), f"an author needs a name: {author}"
    # The schema wants dates as strings: quoted, or YAML reads a date object.
    assert isinstance(data["date-released"], str), 'quote date-released: "YYYY-MM-DD"'
    datetime.date.fromisoformat(data["date-released"])


def test_citation_agrees_with_the_book_and_the_package():
    data, book = citation(), config()
    assert data["version"] == vaebook.__version__, "CITATION.cff version != vaebook.__version__"
    assert data["repository-code"] == book["repository"]["url"], (
        "CITATION.cff repository-code != repository.url in _config.yml"
    )
    assert data["title"] == book["title"]
    assert [author["name"] for author in data["authors"]] == [book["author"]]


def test_the_package_metadata_reads_the_one_version():
    """The version is written once, in src/vaebook/__init__.py: pyproject.toml reads it."""
    from setuptools.config.pyprojecttoml import read_configuration

    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert "version" not in project and project["dynamic"] == ["version"]
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vaebook.__version__"}
    assert read_configuration(REPO / "pyproject.toml")["project"]["version"] == vaebook.__version__
    assert project["license"] == {"text": "MIT"}


def test_the_newest_release_of_the_changelog_is_the_version():
    """`## [Unreleased]` on top, then the newest release: this version, on CITATION.cff's date;
    every release once, newest first."""
    text = (REPO / "CHANGELOG.md").read_text()
    headings = re.findall(r"^## \[([^\]]+)\](?: - (\d{4}-\d{2}-\d{2}))?$", text, re.M)
    assert len(headings) == len(re.findall(r"^## ", text, re.M)), "a heading of another form"
    assert headings[0] == ("Unreleased", ""), "CHANGELOG.md must start with ## [Unreleased]"
    assert headings[1] == (vaebook.__version__, citation()["date-released"]), headings[1]
    releases = [tuple(map(int, version.split("."))) for version, _ in headings[1:]]
    assert releases == sorted(set(releases), reverse=True), "releases newest first, once each"
    dates = [date for _, date in headings[1:]]
    assert all(dates) and dates == sorted(dates, reverse=True), dates


def test_the_changelog_has_an_entry_for_the_current_version():
    text = (REPO / "CHANGELOG.md").read_text()
    version = re.escape(vaebook.__version__)
    entry = re.search(rf"^## \[?{version}\]?(?: - (\d{{4}}-\d{{2}}-\d{{2}}))?$", text, re.M)
    assert entry, f"CHANGELOG.md has no '## [{vaebook.__version__}] - <date>' entry"
    if entry.group(1):
        assert entry.group(1) == citation()["date-released"], (
            "the changelog and CITATION.cff disagree on the release date"
        )
    body = text[entry.end() :].split("\n## ", 1)[0]
    assert re.search(r"^- ", body, re.M), "the entry lists no change"


def test_how_to_use_shows_version_citation_and_licences_from_their_sources():
    """The page prints the version, the citation and the links from code, never spelled out:
    the version from vaebook, the citation from CITATION.cff, the URLs from _config.yml."""
    text = (REPO / "book" / "how-to-use.md").read_text()
    for heading in ("## Cite this book", "## Licence"):
        assert re.search(rf"^{heading}$", text, re.M), f"how-to-use.md lacks {heading!r}"
    for source in ("vaebook.__version__", '"CITATION.cff"', '"_config.yml"'):
        assert source in text, f"how-to-use.md does not read {source}"
    assert 'print(f"Version {vaebook.__version__}")' in text
    assert not re.search(rf"(?<![\w.]){re.escape(vaebook.__version__)}(?![\w.])", text), (
        "how-to-use.md spells the version out instead of reading vaebook.__version__"
    )
    for name in ("LICENSE-text.md", "LICENSE", "CONTRIBUTING.md"):
        assert f'("{name}", ' in text, f"how-to-use.md does not link {name}"
    # Read on every build: the execution cache does not watch CITATION.cff and _config.yml.
    header = yaml.safe_load(text.split("---\n")[1])
    assert header["mystnb"]["execution_mode"] == "force"


# ---------------------------------------------------------------------------------------------
# The contributors' guide
# ---------------------------------------------------------------------------------------------


def test_contributing_states_the_rules():
    text = (REPO / "CONTRIBUTING.md").read_text()
    for needle in (
        "make book",
        "make test",
        "make robust",
        "check(",
        "_toc.yml",
        "src/vaebook",
        "## Overview",
        "## Summary",
        "## Exercises",
        "{solution}",
        "references.bib",
        "sphinxcontrib-bibtex",
        "repository.url",
        "CITATION.cff",
        "LICENSE-text.md",
        "LICENSE",
    ):
        assert needle in text, f"CONTRIBUTING.md does not mention {needle!r}"


def test_contributing_shows_the_chapter_header_that_the_tests_expect():
    block = re.search(r"```yaml\n(.*?)```", (REPO / "CONTRIBUTING.md").read_text(), re.S)
    assert block, "CONTRIBUTING.md shows no jupytext header"
    assert textwrap.dedent(block.group(1)) == JUPYTEXT_HEADER


# ---------------------------------------------------------------------------------------------
# One place for the repository's URL
# ---------------------------------------------------------------------------------------------


def repository_of(url: str) -> tuple[str, str | None] | None:
    """(owner, repository) of a URL on GitHub, GitHub Pages, Binder or Colab, else None."""
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    path = [segment for segment in parts.path.split("/") if segment]
    if host in ("github.com", "www.github.com", "raw.githubusercontent.com"):
        named = path[:2]
    elif host.endswith(".github.io"):
        named = [host.removesuffix(".github.io"), *path[:1]]
    elif host.endswith("mybinder.org") and path[:2] == ["v2", "gh"]:
        named = path[2:4]
    elif host == "colab.research.google.com" and path[:1] == ["github"]:
        named = path[1:3]
    else:
        return None
    if not named:
        return None
    repo = named[1].removesuffix(".git") if len(named) > 1 else None
    return named[0], repo


def url_problems(text: str, repository_url: str) -> list[str]:
    """What is wrong with the URLs of the repository ``repository_url`` in ``text``.

    A URL names the repository when its owner or its name is the configured one (a fork keeps
    the name, so a URL of the repository it was forked from is caught too). It must be
    well-formed and start with the configured URL, or be the repository's Binder, Colab or
    GitHub Pages address. URLs inside URLs (percent-encoded, as in nbgitpuller links) count.
    """
    owner, repo = urllib.parse.urlsplit(repository_url).path.strip("/").split("/")
    allowed = [
        repository_url,
        f"https://mybinder.org/v2/gh/{owner}/{repo}",
        f"https://colab.research.google.com/github/{owner}/{repo}",
        f"https://raw.githubusercontent.com/{owner}/{repo}",
        f"https://{owner.lower()}.github.io/{repo}",
    ]
    problems = []
    urls = {
        match.rstrip(".,;:!?*_")
        for source in (text, urllib.parse.unquote(text))
        for match in URL.findall(source)
    }
    for url in sorted(urls):
        named = repository_of(url)
        if named is None:
            continue
        url_owner, url_repo = named
        if url_owner.lower() != owner.lower() and (url_repo or "").lower() != repo.lower():
            continue  # another repository
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "https":
            problems.append(f"{url}: not https")
        elif not GITHUB_OWNER.match(url_owner) or not (url_repo and GITHUB_REPO.match(url_repo)):
            problems.append(f"{url}: no owner/repository in it")
        elif not any(
            url == prefix or url.startswith(prefix) and url[len(prefix)] in "/?#."
            for prefix in allowed
        ):
            problems.append(f"{url}: does not start with repository.url {repository_url}")
    return problems


def repository_files() -> list[str]:
    """The repository's files: tracked, and new ones that are not git-ignored."""
    names = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return sorted({name for name in names.splitlines() if (REPO / name).is_file()})


def text_of(name: str) -> str | None:
    data = (REPO / name).read_bytes()
    if b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def test_the_configured_repository_url_is_well_formed():
    url = config()["repository"]["url"]
    parts = urllib.parse.urlsplit(url)
    assert parts.scheme == "https" and parts.netloc == "github.com", url
    assert not (parts.query or parts.fragment), url
    path = parts.path.split("/")
    assert len(path) == 3 and path[0] == "", f"{url} is not https://github.com/<owner>/<repo>"
    assert GITHUB_OWNER.match(path[1]), f"{path[1]!r} is not a GitHub owner"
    assert GITHUB_REPO.match(path[2]) and not path[2].endswith(".git"), (
        f"{path[2]!r} is not a repository name (no .git, no trailing slash)"
    )


def test_every_url_of_the_repository_starts_with_the_configured_one():
    url = config()["repository"]["url"]
    problems, scanned = [], 0
    for name in repository_files():
        text = text_of(name)
        if text is None:
            continue
        scanned += 1
        problems += [f"{name}: {problem}" for problem in url_problems(text, url)]
    assert scanned > 50, "git ls-files found too few files"
    assert not problems, "URLs that do not follow repository.url:\n" + "\n".join(problems)


def test_only_the_files_that_cannot_derive_it_spell_the_repository_url():
    owner_repo = urllib.parse.urlsplit(config()["repository"]["url"]).path.strip("/")
    spelled = {
        name
        for name in repository_files()
        if (text := text_of(name)) is not None and owner_repo in text
    }
    assert "_config.yml" in spelled, "the configured URL was not found in _config.yml"
    assert spelled <= URL_COPIES, (
        f"{sorted(spelled - URL_COPIES)} spell the repository's URL: derive it from "
        "repository.url in _config.yml instead"
    )


CONFIGURED = "https://github.com/example-owner/example-book"


@pytest.mark.parametrize(
    "text",
    [
        f"[source]({CONFIGURED}/blob/main/LICENSE) and {CONFIGURED}.",
        "[![Binder](https://mybinder.org/badge_logo.svg)]"
        "(https://mybinder.org/v2/gh/example-owner/example-book/main?urlpath=lab)",
        "https://example-owner.github.io/example-book/book/intro.html",
        "Other repositories: https://github.com/containers/bubblewrap, https://mybinder.org",
        "https://HUB/hub/user-redirect/git-pull?repo=https%3A%2F%2Fgithub.com%2FORG%2Fcourse",
    ],
)
def test_the_url_check_accepts_the_repository_and_other_repositories(text):
    assert url_problems(text, CONFIGURED) == []


@pytest.mark.parametrize(
    "text, problem",
    [
        ("https://github.com/someone-else/example-book/issues", "does not start with"),
        ("https://github.com/example-owner/example-book-old", "does not start with"),
        ("https://github.com/Example-Owner/example-book/issues", "does not start with"),
        ("https://mybinder.org/v2/gh/someone-else/example-book/main", "does not start with"),
        ("http://github.com/example-owner/example-book", "not https"),
        ("https://github.com/example-owner", "no owner/repository"),
        ("git-pull?repo=https%3A%2F%2Fgithub.com%2Fforked-from%2Fexample-book", "does not start"),
    ],
)
def test_the_url_check_rejects_other_copies_of_the_url(text, problem):
    problems = url_problems(text, CONFIGURED)
    assert len(problems) == 1 and problem in problems[0], problems
