"""Every published notebook runs as Colab would run it: fresh folder, fresh venv, no vaebook.

The website publishes each chapter as a notebook (`_sources/<page>.ipynb`, the file behind
"Download .ipynb"; the Pages workflow pushes the same files to the branch that "Open in Colab"
points to). Such a notebook starts with a cell that installs ``vaebook`` where it is missing.
Here each one runs in a folder that holds nothing but the notebook, with a kernel whose
virtual environment has the book's requirements but not ``vaebook``, as on Colab (which has
torch, numpy, sympy, matplotlib, scikit-learn and ipywidgets, but not the book's package).
tests/colab.py says what differs from Colab. The trained models come from the training cache
of the book build that ran before (``built_html``), as in tests/test_lab_browser.py: the
training code is the same package, and the book build has just run it.
"""

from __future__ import annotations

import colab
import pytest
from conftest import is_notebook, source_of, toc_files

pytestmark = pytest.mark.build

NOTEBOOK_PAGES = [page for page in toc_files() if is_notebook(source_of(page))]


@pytest.fixture(scope="module")
def colab_parts(tmp_path_factory):
    return colab.prepare(tmp_path_factory.mktemp("colab"))


def test_the_fresh_environment_has_the_requirements_but_not_vaebook(colab_parts, tmp_path):
    import subprocess

    python = colab.fresh_venv(tmp_path / "venv", colab_parts[1])
    probe = subprocess.run(
        [str(python), "-c", "import torch, sympy, ipywidgets, nbclient\nimport vaebook"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert probe.returncode != 0 and "No module named 'vaebook'" in probe.stderr, probe.stderr


@pytest.mark.parametrize("page", NOTEBOOK_PAGES)
def test_a_published_notebook_runs_like_on_colab(built_html, colab_parts, tmp_path, page):
    notebook = built_html / "_sources" / f"{page}.ipynb"
    report = colab.run_like_colab(colab_parts, notebook, tmp_path)
    assert report["prefix"] == report["venv"], "the kernel ran in another environment"
    assert report["vaebook"].startswith(report["venv"]), f"vaebook from {report['vaebook']}"
    assert report["files"] == [notebook.name], "the run needed or left files beside it"
    sliders = report["sliders"]
    expected = (built_html / f"{page}.html").read_text().count('class="vaebook-slider"')
    assert len(sliders) == expected, sliders
    for slider in sliders:
        assert slider["moved"] and slider["image_changed"] and slider["numbers_changed"], slider
