"""Static checks of the repository: chapters, bibliography, environments, JupyterLab settings."""

from __future__ import annotations

import importlib
import inspect
import json
import os
import pkgutil
import re
import subprocess

import pytest
import yaml
from conftest import REPO, is_notebook, source_of, toc_files

import vaebook
from vaebook import lab_settings

REQUIRED_REFERENCES = [
    "kingma2014autoencoding",
    "lucas2019dont",
    "rybkin2021simple",
    "higgins2017beta",
    "alemi2018fixing",
    "loaizaganem2019continuous",
    "dai2019diagnosing",
    "doersch2016tutorial",
    "tipping1999probabilistic",
    "aise2021mse",
    "theis2016note",
    "mattei2018leveraging",
]
FRONT_AND_BACK_MATTER = {
    "book/intro",
    "book/how-to-use",
    "book/same-claims",
    "book/instructors",
    "book/references",
}


def bib_keys() -> set[str]:
    return set(re.findall(r"^@\w+\{([^,\s]+),", (REPO / "references.bib").read_text(), re.M))


def test_bibliography_holds_the_required_references():
    missing = set(REQUIRED_REFERENCES) - bib_keys()
    assert not missing, f"references.bib lacks {sorted(missing)}"


def test_every_citation_in_the_book_is_in_the_bibliography():
    keys = bib_keys()
    for path in (REPO / "book").rglob("*.md"):
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text()):
            for key in group.split(","):
                assert key.strip() in keys, f"{path.name} cites unknown key {key.strip()!r}"


def test_chapters_are_myst_notebooks_without_outputs():
    pages = [source_of(page) for page in toc_files()]
    assert all(path.suffix == ".md" for path in pages), "chapters must be MyST Markdown"
    notebooks = [path for path in pages if is_notebook(path)]
    assert notebooks, "no page is an executable MyST notebook"
    for path in notebooks:
        header = yaml.safe_load(path.read_text().split("---\n")[1])
        assert header["jupytext"]["text_representation"]["format_name"] == "myst"
        assert header["kernelspec"]["name"] == "python3", path.name
    tracked = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    for name in tracked:
        assert '"output_type"' not in (REPO / name).read_text(), f"{name} carries outputs"


CODE_WIDTH = 88
"""Characters of code that fit a code block on the website at 1280 px (_static/reading.css,
measured by tests/test_site_browser.py); vaebook.claims.PRINT_WIDTH wraps what checks print."""


def test_code_cells_fit_the_website_code_blocks():
    from vaebook.claims import PRINT_WIDTH

    assert PRINT_WIDTH == CODE_WIDTH
    long = []
    for page in toc_files():
        path = source_of(page)
        for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", path.read_text(), re.S):
            body = cell.split("\n---\n", 1)[-1] if cell.startswith("---\n") else cell
            long += [
                f"{path.name}: {line}"
                for line in body.splitlines()
                if len(line) > CODE_WIDTH and not line.startswith(":")
            ]
    assert not long, "code lines wider than the website's code blocks:\n" + "\n".join(long)


def test_readers_see_no_assert_lines():
    """Checks stay in the chapters but out of the reader's way: in a collapsed (hide-input)
    or removed cell, or behind vaebook.claims.check, which prints what it measured."""
    shown = []
    for page in toc_files():
        path = source_of(page)
        for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", path.read_text(), re.S):
            header = cell.split("\n\n", 1)[0] if cell.startswith((":", "---")) else ""
            if re.search(r"hide-input|remove-input|remove-cell", header):
                continue
            shown += [
                f"{path.name}: {line.strip()}"
                for line in cell.splitlines()
                if line.lstrip().startswith("assert ")
            ]
    assert not shown, "assert lines shown to readers:\n" + "\n".join(shown)


def test_every_chapter_has_the_page_skeleton_and_two_exercises_with_solutions():
    chapters = [page for page in toc_files() if page not in FRONT_AND_BACK_MATTER]
    assert len(chapters) >= 6
    for page in chapters:
        text = source_of(page).read_text()
        headings = re.findall(r"^## (.+)$", text, re.M)
        assert headings[0] == "Overview", f"{page} must open with an Overview"
        assert headings[-2:] == ["Summary", "Exercises"], f"{page} must end with Summary, Exercises"
        exercises = re.findall(r"^:label: (\S+)$", text.split("## Exercises")[1], re.M)
        solutions = re.findall(r"^````\{solution\} (\S+)$", text, re.M)
        assert len(exercises) >= 2, f"{page} has fewer than two exercises"
        assert sorted(solutions) == sorted(exercises), f"{page}: every exercise needs a solution"


SAVED_PAGE_CODE = {"plain"}
"""Modules that keep a chapter's own definitions (the page VAE of the σ chapter)."""


def _page_uses(code: str, module: str, name: str) -> bool:
    """Whether a page's code uses ``vaebook.<module>.<name>``: it names it and does not define
    a function or class of that name itself (a page's own ``gaussian_nll`` is not the
    package's). For a module of saved page code, the page must define the name or import it
    from that module."""
    defined = set(re.findall(r"^\s*(?:def|class) (\w+)", code, re.M))
    if module in SAVED_PAGE_CODE:
        imports = re.findall(rf"from vaebook\.{module} import (\([^)]*\)|[^\n]*)", code)
        return name in defined or any(re.search(rf"\b{name}\b", line) for line in imports)
    return name not in defined and re.search(rf"\b{re.escape(name)}\b", code) is not None


def test_every_public_helper_names_the_chapter_that_introduces_it():
    """ "Introduced in chapter *X*": X is the first chapter (in the order of _toc.yml) whose
    code cells use the name (see ``_page_uses``). A name that no chapter uses says "Used
    behind the scenes in chapter *X*" instead, naming a chapter."""
    pages = [page for page in toc_files() if page not in FRONT_AND_BACK_MATTER]
    titles = {
        page: re.search(r"^# (.+)$", source_of(page).read_text(), re.M).group(1) for page in pages
    }
    code = {
        page: "\n".join(
            re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", source_of(page).read_text(), re.S)
        )
        for page in pages
    }
    wrong, checked = [], 0
    for module_info in pkgutil.iter_modules(vaebook.__path__):
        if module_info.name.startswith("_") or module_info.name in (
            "lab_settings",
            "robust",
            "integrity",
        ):
            continue  # private checks; the JupyterLab set-up, the robustness study
            # (make robust) and the assignments' tamper check belong to no chapter
        module = importlib.import_module(f"vaebook.{module_info.name}")
        public = [name for name in vars(module) if not name.startswith("_")]
        for name in getattr(module, "__all__", public):
            item = getattr(module, name)
            if not (inspect.isfunction(item) or inspect.isclass(item)) or (
                item.__module__ != module.__name__
            ):
                continue
            doc = " ".join((item.__doc__ or "").split())
            first = next(
                (page for page in pages if _page_uses(code[page], module_info.name, name)), None
            )
            if first:
                expected = [f"Introduced in chapter *{titles[first]}*"]
            else:
                expected = [
                    f"Used behind the scenes in chapter *{title}*" for title in titles.values()
                ]
            if not any(phrase in doc for phrase in expected):
                wrong.append(
                    f"vaebook.{module_info.name}.{name}: expected "
                    f"{expected[0] if first else 'Used behind the scenes in chapter *…*'}"
                )
            checked += 1
    assert checked >= 80
    assert not wrong, "docstrings that name the wrong chapter:\n" + "\n".join(wrong)


def test_no_chapter_installs_packages_or_edits_sys_path():
    for path in (REPO / "book").rglob("*.md"):
        text = path.read_text()
        assert "!pip" not in text and "%pip" not in text, f"{path.name} installs packages"
        assert "sys.path" not in text, f"{path.name} edits sys.path"


def test_build_excludes_environment_and_repository_files():
    config = yaml.safe_load((REPO / "_config.yml").read_text())
    for pattern in ["_build", ".venv", ".github", "README.md"]:
        assert pattern in config["exclude_patterns"]
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    assert config["execute"]["execute_notebooks"] == "cache"


def _pins(path) -> dict[str, str]:
    pins = {}
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)", line.strip())
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def test_binder_environment_matches_the_book_environment():
    book = _pins(REPO / "requirements.txt")
    binder = _pins(REPO / "binder" / "requirements.txt")
    assert book["torch"] == "2.13.0"
    assert binder.pop("torch") == book.pop("torch") + "+cpu", "Binder must pin the CPU torch"
    assert binder == book, "binder/requirements.txt drifted from requirements.txt"
    binder_text = (REPO / "binder" / "requirements.txt").read_text()
    assert "--extra-index-url" in binder_text and "/whl/cpu" in binder_text
    post_build = (REPO / "binder" / "postBuild").read_text()
    assert "vaebook.lab_settings" in post_build and "pip install" in post_build


def test_lab_settings_make_markdown_open_as_notebooks(tmp_path):
    path = lab_settings.overrides_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"some-plugin": {"keep": 1}}))
    lab_settings.write_overrides(tmp_path)
    settings = json.loads(path.read_text())
    assert settings["some-plugin"] == {"keep": 1}, "existing settings were lost"
    viewers = settings[lab_settings.DOCMANAGER_PLUGIN]["defaultViewers"]
    assert viewers == {"markdown": "Jupytext Notebook", "myst": "Jupytext Notebook"}


def test_the_environment_has_the_lab_settings():
    """`make` wrote the settings into the .venv that JupyterLab uses."""
    path = lab_settings.overrides_path()
    assert path.exists(), f"{path} is missing: the Makefile should write it"
    viewers = json.loads(path.read_text())[lab_settings.DOCMANAGER_PLUGIN]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"


@pytest.mark.parametrize(
    "find_links, expected",
    [
        ("", "https://download.pytorch.org/whl/cpu"),  # a reader's Linux laptop: CPU index
        ("{wheels}", "local or PyPI"),  # a CPU wheel at hand: no index needed
    ],
)
def test_make_book_takes_the_cpu_torch_on_linux(tmp_path, find_links, expected):
    """`make book` must not pull PyPI's multi-GB CUDA torch on an ordinary Linux machine."""
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").touch()
    env = dict(
        os.environ, PIP_FIND_LINKS=find_links.format(wheels=wheels), PIP_CONFIG_FILE=os.devnull
    )
    env.pop("TORCH_INDEX", None)
    result = subprocess.run(
        ["make", "-s", "torch-index"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == expected


def test_bibliography_labels_read_like_the_citations():
    """Each entry is labelled as the text cites it (author_year), and no two labels clash."""
    import sys

    from pybtex.database import parse_file

    sys.path.insert(0, str(REPO / "_ext"))
    try:
        import bib_author_year
    finally:
        sys.path.pop(0)
    entries = list(parse_file(REPO / "references.bib").entries.values())
    labels = list(bib_author_year.AuthorYearLabelStyle().format_labels(entries))
    by_key = dict(zip((entry.key for entry in entries), labels))
    assert by_key["kingma2014autoencoding"] == "Kingma and Welling, 2014"
    assert by_key["doersch2016tutorial"] == "Doersch, 2016"
    assert by_key["lucas2019dont"] == "Lucas et al., 2019"
    assert by_key["theis2016note"] == "Theis et al., 2016"
    assert by_key["aise2021mse"] == "IttayD et al., 2021"  # "and others" counts as more
    assert len(set(labels)) == len(labels)
    # two entries that would share a label get a letter each
    twins = [entries[0], entries[0]]
    assert list(bib_author_year.AuthorYearLabelStyle().format_labels(twins)) == [
        "Kingma and Welling, 2014a",
        "Kingma and Welling, 2014b",
    ]


def test_workflows_gate_on_the_quick_tier_and_only_a_job_without_contributed_code_can_write():
    """`make check` runs first and gates the heavy jobs; a job that checks out and runs the
    repository's code (a pull request's, too) holds a read-only token; the one job that
    pushes (the branch `notebooks`) runs only on pushes to main and checks out no code."""
    for name in ("book", "test"):
        workflow = yaml.safe_load((REPO / ".github" / "workflows" / f"{name}.yml").read_text())
        assert workflow["permissions"] == {"contents": "read"}, name
        jobs = workflow["jobs"]
        assert any("make check" in step.get("run", "") for step in jobs["check"]["steps"])
        for job_name, job in jobs.items():
            runs_code = any(
                "actions/checkout" in step.get("uses", "") for step in job.get("steps", [])
            )
            writes = job.get("permissions", {}).get("contents") == "write"
            if runs_code:
                assert not writes, f"{name}.yml: job {job_name} runs contributed code and can push"
            if writes:
                assert "refs/heads/main" in job.get("if", ""), f"{name}.yml: {job_name}"
            needs = job.get("needs") or []
            needs = [needs] if isinstance(needs, str) else needs
            if job_name != "check" and runs_code:
                assert "check" in needs, f"{name}.yml: {job_name} does not wait for the quick tier"


def test_make_check_is_lint_and_the_quick_tests_and_make_test_lints_first():
    makefile = (REPO / "Makefile").read_text()
    lint = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "ruff check ." in lint and "ruff format --check ." in lint
    assert re.search(r"^check: lint\n\t.*pytest -n 2 -m \"\$\(QUICK\)\"", makefile, re.M)
    quick = re.search(r"^QUICK := (.*)$", makefile, re.M).group(1)
    assert quick == "not build and not browser and not assignments and not slow"
    assert re.search(r"^test: lint\b", makefile, re.M)
    for name in ("make check", "make test"):
        assert name in (REPO / "README.md").read_text()
        assert name in (REPO / "CONTRIBUTING.md").read_text()


def _visible_cells(path) -> list[str]:
    """The code cells of a page that a reader sees (not hidden or removed)."""
    cells = []
    for cell in re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", path.read_text(), re.S):
        header = cell.split("\n\n", 1)[0] if cell.startswith((":", "---")) else ""
        if not re.search(r"hide-input|remove-input|remove-cell", header):
            cells.append(cell)
    return cells


def test_every_trained_chapter_shows_the_model_or_the_loss_it_trains():
    """A chapter that trains shows, in a cell the reader sees, the model (a torch module) or
    the loss it trains, written out, and uses it on the page (calls, trains or checks it)."""
    from vaebook.robust import SOURCES

    model = re.compile(r"^class (\w+)\((?:nn\.Module|torch\.nn\.Module|VAE|\w+VAE)\):", re.M)
    loss = re.compile(r"^def (\w*(?:loss|nll|elbo)\w*)\(", re.M)
    missing = []
    for chapter, source in SOURCES.items():
        if not source.startswith("book/"):
            continue  # the assignments' masters: the student writes the loss there
        path = REPO / source
        visible = "\n".join(_visible_cells(path))
        every = "\n".join(re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", path.read_text(), re.S))
        names = model.findall(visible) + loss.findall(visible)
        used = [name for name in names if len(re.findall(rf"\b{name}\b", every)) >= 2]
        if not used:
            missing.append(f"{chapter}: defines {names or 'no model or loss'}, uses none")
    assert not missing, "trained chapters that hide what they train:\n" + "\n".join(missing)


SIGMA_UNITS_TITLE = "```{admonition} σ lives in the data's units"


def test_every_page_that_reads_code_says_sigma_lives_in_the_data_units():
    """A page whose code reads other people's losses (the auditor, the code bases of
    vaebook.real_code, the calculator) or moves σ between pixel ranges shows one box, the
    same on every page, saying that σ is in the data's units (a referee's item 14)."""
    reads_code = re.compile(
        r"^from vaebook(?:\.audit)? import [^\n]*\baudit_loss\b"
        r"|^from vaebook\.(?:real_code|calculator) import",
        re.M,
    )
    boxes, missing = set(), []
    for path in sorted((REPO / "book").glob("*.md")):
        text = path.read_text()
        if not (reads_code.search(text) or "PIXEL_RANGES" in text):
            continue
        if SIGMA_UNITS_TITLE not in text:
            missing.append(path.name)
            continue
        start = text.index(SIGMA_UNITS_TITLE)
        boxes.add(text[start : text.index("\n```\n", start)])
    assert not missing, f"pages that read code without the σ-units box: {missing}"
    assert len(boxes) == 1, "the σ-units box differs between pages"
    assert "[0, 1]" in boxes.pop()


def test_lambda_is_only_the_eigenvalues_and_the_notation_table_lists_the_symbols():
    """One meaning per symbol (a referee's item 13): λ appears only with a subscript, as an
    eigenvalue λᵢ (the Bernoulli parameter is ρ, the free-bits floor τ), and the notation table
    of *How to use this book* lists the symbols that had two meanings before."""
    bare_lambda = re.compile(r"\\lambda(?![_\w])|λ(?![ᵢ₁₂₃₄₅₆₇₈₉₀ⱼ])|\blam\b|\"lambda\"")
    found = [
        f"{path.name}:{number}: {line.strip()}"
        for path in sorted((REPO / "book").glob("*.md"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if bare_lambda.search(line)
    ]
    assert not found, "λ without a subscript (ρ or τ?):\n" + "\n".join(found)
    table = (REPO / "book" / "how-to-use.md").read_text().split("## Notation", 1)[1]
    for symbol in (r"$\rho$", r"$\lambda_i$", "$S$", "$K$", "$G$", "$M$", r"$\tau$", "$L$", "$N$"):
        assert symbol in table, f"the notation table lacks {symbol}"


STOP_WORDS = {"a", "an", "and", "against", "by", "does", "for", "from", "in", "of", "on"}
STOP_WORDS |= {"its", "the", "to", "which", "with", "your"}


def _title_pairs(title: str) -> set[tuple[str, str]]:
    """The pairs of neighbouring content words of a title, crudely stemmed (learned, learning
    and learn are one word; likelihoods and likelihood too)."""
    words = [w for w in re.findall(r"[\wσ]+", title.lower()) if w not in STOP_WORDS]
    stems = [re.sub(r"(ing|ed|s)$", "", w) if len(w) > 4 else w for w in words]
    return set(zip(stems, stems[1:]))


def test_chapter_titles_do_not_overlap():
    """A student can tell from the titles where each topic is taught: no two chapter titles
    share a pair of content words ("learned σ", "other likelihoods" were in two titles each
    before issue 28)."""
    titles = [  # the root page carries the book's own title
        re.search(r"^# (.+)$", source_of(page).read_text(), re.M).group(1)
        for page in toc_files()[1:]
    ]
    assert _title_pairs("Scaling, learned σ and other likelihoods") & _title_pairs("Learning σ"), (
        "the stemming no longer catches the overlap this test was written for"
    )
    seen: dict[tuple[str, str], str] = {}
    for title in titles:
        for pair in _title_pairs(title):
            assert pair not in seen, f"{title!r} and {seen[pair]!r} both name {' '.join(pair)!r}"
            seen[pair] = title
