"""Binder, read by Binder's own builder: repo2docker generates the image's Dockerfile from
binder/ (``--no-build``: no Docker needed), and its build-context rules say which files the image
gets. The environment itself is compared with requirements.txt in test_repository.py."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

REPO2DOCKER = Path(sys.executable).with_name("repo2docker")

pytestmark = pytest.mark.slow  # repo2docker resolves the whole Binder environment


@pytest.fixture(scope="module")
def dockerfile() -> str:
    """The Dockerfile repo2docker would build for this repository."""
    result = subprocess.run(
        [str(REPO2DOCKER), "--no-build", "--no-run", "--debug", str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = result.stdout + result.stderr
    assert "FROM " in text, text[-3000:]
    return text


def test_binder_uses_the_python_of_runtime_txt(dockerfile):
    version = (REPO / "binder" / "runtime.txt").read_text().strip().removeprefix("python-")
    assert f"python={version}" in dockerfile


def test_binder_installs_binder_requirements_then_runs_post_build(dockerfile):
    install = dockerfile.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    post_build = dockerfile.index("./binder/postBuild")
    assert install < post_build, "postBuild must run after the requirements are installed"
    # repo2docker reads binder/ only: a root requirements.txt would be ignored, and a second
    # environment file (environment.yml, setup.py, ...) in binder/ would change the build
    assert not re.search(r"-r \"?requirements\.txt", dockerfile)
    assert sorted(p.name for p in (REPO / "binder").iterdir()) == [
        ".dockerignore",
        "postBuild",
        "requirements.txt",
        "runtime.txt",
    ]


def test_the_binder_image_leaves_out_the_assignments():
    """binder/.dockerignore, applied with the rules of repo2docker's build context."""
    from docker.utils.build import exclude_paths

    lines = (REPO / "binder" / ".dockerignore").read_text().splitlines()
    patterns = [line.strip() for line in lines if line.strip() and not line.startswith("#")]
    tracked = set(
        subprocess.run(
            ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
    )
    # .git is large and never matters here; leave it out of the walk
    kept = set(exclude_paths(str(REPO), patterns + [".git", "tests/js/node_modules"]))
    assert not any(path.startswith("assignments") for path in kept)
    missing = {path for path in tracked - kept if not path.startswith("assignments/")}
    assert not missing, f"the Binder image would lack {sorted(missing)[:10]}"
    assert {"book/intro.md", "src/vaebook/__init__.py", "_config.yml"} <= kept
