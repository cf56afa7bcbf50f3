"""Caches key on what computes: a docstring, comment or formatting edit changes no fingerprint;
a changed constant changes the fingerprint of exactly the results whose code imports it.

Each test edits a copy of the package in a temporary folder, as a contributor would, and
compares the fingerprints that the training cache (``vaebook.cache``) and the execution cache
(``_ext/execution_fingerprint.py``) use before and after.
"""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import REPO

from vaebook._fingerprint import (
    code_fingerprint,
    import_closure,
    imported_modules,
    normalised_source,
)

ROOTS = {"run": ("vaebook.experiment",), "linear": ("vaebook.linear",)}


@pytest.fixture
def package(tmp_path):
    folder = tmp_path / "vaebook"
    shutil.copytree(REPO / "src" / "vaebook", folder, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def fingerprints(folder):
    return {name: code_fingerprint(roots, folder) for name, roots in ROOTS.items()}


def edit(path, old, new):
    text = path.read_text()
    assert text.count(old) >= 1, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1))


def test_a_docstring_a_comment_or_reformatting_changes_no_fingerprint(package):
    before = fingerprints(package)
    likelihoods = package / "likelihoods.py"
    edit(likelihoods, "Negative log-density", "Negative log density (typo fixed)")
    edit(likelihoods, "import math\n", "import math  # a comment\n\n\n")
    edit(likelihoods, "    var = sigma**2\n", "    var = (\n        sigma**2\n    )\n")
    edit(package / "models.py", '"""Width of the hidden layer', '"""The width of the hidden layer')
    edit(package / "training.py", "Used behind the scenes", "Used quietly")
    assert fingerprints(package) == before


def test_a_new_version_changes_no_fingerprint(package):
    """A release (CONTRIBUTING.md, "Cut a release") retrains and re-executes nothing."""
    before = fingerprints(package)
    init = package / "__init__.py"
    text = init.read_text()
    assert text.count("__version__ = ") == 1
    init.write_text(re.sub(r'__version__ = "[^"]+"', '__version__ = "99.0.0"', text))
    assert fingerprints(package) == before
    edit(init, '__version__ = "99.0.0"', '__version__ = "99.0.0"\nOTHER = "99.0.0"')
    assert fingerprints(package) != before, "only the version is left out"


def test_a_changed_constant_changes_exactly_the_results_that_import_it(package):
    before = fingerprints(package)
    edit(package / "linear.py", "import math\n", "import math\nEXTRA = 1\n")
    after = fingerprints(package)
    assert after["run"] == before["run"], "the σ sweeps do not import vaebook.linear"
    assert after["linear"] != before["linear"]
    assert {
        name for name in after["linear"] if after["linear"][name] != before["linear"][name]
    } == {"vaebook.linear"}

    edit(
        package / "likelihoods.py",
        "0.5 * torch.log(2 * math.pi * var)",
        "0.5 * torch.log(2.0001 * math.pi * var)",
    )
    changed = fingerprints(package)
    assert changed["run"]["vaebook.likelihoods"] != after["run"]["vaebook.likelihoods"]
    assert changed["linear"]["vaebook.likelihoods"] != after["linear"]["vaebook.likelihoods"]


def test_modules_that_only_show_results_are_in_no_fingerprint(package):
    before = fingerprints(package)
    edit(package / "plotting.py", "import math\n", "import math\nEXTRA = 1\n")
    edit(package / "claims.py", "import math\n", "import math\nEXTRA = 1\n")
    assert fingerprints(package) == before


def test_the_closure_follows_every_kind_of_import(package):
    source = (
        "import vaebook.data\nfrom vaebook import models as m\n"
        "from vaebook.likelihoods import gaussian_nll\nimport numpy\n"
        "def f():\n    from vaebook import training\n"
    )
    assert imported_modules(source) == {
        "vaebook",
        "vaebook.data",
        "vaebook.models",
        "vaebook.likelihoods",
        "vaebook.training",
    }
    closure = import_closure(("vaebook.training",), package)
    assert {"vaebook.likelihoods", "vaebook.models", "vaebook._checks"} <= set(closure)
    assert "vaebook.experiment" not in closure


def test_docstrings_of_every_kind_are_dropped_and_code_is_kept():
    plain = "X = 1\n\ndef f(a):\n    return a + X\n"
    documented = (
        '"""Module."""\nX = 1\n"""What X is."""\n\ndef f(a):  # f\n'
        '    """Doc."""\n    return a + X\n'
    )
    assert normalised_source(plain) == normalised_source(documented)
    assert normalised_source(plain) != normalised_source(plain.replace("X = 1", "X = 2"))
    assert normalised_source("def g():\n    'only a docstring'\n") == normalised_source(
        "def g():\n    pass\n"
    )


def test_bad_input_is_named():
    with pytest.raises(ValueError, match=r"<source>: not valid Python"):
        normalised_source("def (:\n")
    with pytest.raises(ValueError, match="is not a module of vaebook"):
        import_closure(("vaebook.nope",), REPO / "src" / "vaebook")


def test_a_page_depends_on_the_scripts_and_markup_that_the_package_shows(monkeypatch, package):
    """The calculator's and the latent explorer's script and markup are data files of the
    package: editing one re-executes the pages that import their module (their outputs embed
    them), and no other page."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "execution_fingerprint", REPO / "_ext" / "execution_fingerprint.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setattr(module, "_package", lambda: package)
    page, other = REPO / "book" / "sigma-tradeoff.md", REPO / "book" / "linear-vae.md"
    before = module.page_fingerprint(page)
    assert set(before["data"]) == {"explorer.js", "explorer.html"}
    calculator = module.page_fingerprint(REPO / "book" / "scaling-and-other-likelihoods.md")
    assert set(calculator["data"]) == {"calculator.js"}
    unrelated = module.page_fingerprint(other)
    edit(package / "explorer.html", "the point", "this point")
    assert module.page_fingerprint(page)["data"] != before["data"]
    assert module.page_fingerprint(other) == unrelated
