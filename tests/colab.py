"""Run a published notebook as Colab would: a fresh folder, a fresh venv without vaebook.

Used by tests/test_colab.py (the chapters) and tests/test_assignments.py (the student
editions). What differs from Colab, and why:

* The install cell installs a wheel of this checkout (``VAEBOOK_PIP_SOURCE``) instead of
  ``git+https://github.com/…@<commit>``: GitHub is out of reach from the test machines. The
  download test of tests/test_book_build.py checks the URL the cell installs by default.
* The requirements come from the test's own ``.venv`` (its site-packages linked in, without
  vaebook) instead of a second installation, which would take minutes.
* With ``colab=True`` the kernel is made to look like Colab's where the notebook can tell:
  ``google.colab`` is importable, and otter-grader's check of the interpreter (which reads the
  shell's class name) says Colab.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from conftest import REPO

RUNNER = Path(__file__).with_name("colab_run.py")


def prepare(root: Path) -> tuple[Path, Path]:
    """A wheel of this checkout's vaebook, and a folder with the .venv's packages but vaebook."""
    # Build from a copy: an in-place build would leave build/ and egg-info in the repository.
    project = root / "project"
    project.mkdir(parents=True)
    shutil.copy(REPO / "pyproject.toml", project)
    shutil.copytree(
        REPO / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info")
    )
    wheels = root / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "-w",
            str(wheels),
            str(project),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = wheels.glob("vaebook-*.whl")
    requirements = root / "requirements"
    requirements.mkdir()
    site_packages = Path(sysconfig.get_paths()["purelib"])
    for entry in site_packages.iterdir():
        if "vaebook" in entry.name.lower() or entry.suffix == ".pth":
            continue  # the editable install: a .pth pointing at src/, and its dist-info
        (requirements / entry.name).symlink_to(entry)
    return wheel, requirements


def fresh_venv(folder: Path, requirements: Path) -> Path:
    """A new virtual environment that sees ``requirements`` (no vaebook); its python."""
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True, timeout=120
    )
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    Path(purelib, "book-requirements.pth").write_text(f"{requirements}\n")
    return python


def run_like_colab(
    parts: tuple[Path, Path],
    notebook: Path,
    work: Path,
    *,
    colab: bool = False,
    allow_errors: bool = False,
) -> dict:
    """Copy ``notebook`` alone into a new folder, run it there in a fresh venv; the report of
    tests/colab_run.py (plus ``venv``, ``folder`` and ``files``, what the folder holds after)."""
    wheel, requirements = parts
    python = fresh_venv(work / "venv", requirements)
    folder = work / "colab"
    folder.mkdir()
    target = folder / notebook.name
    shutil.copy(notebook, target)
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("VIRTUAL_ENV", "PYTHON", "JUPYTER", "VAEBOOK_PIP"))
    }
    env.update(
        PATH=f"{python.parent}{os.pathsep}{env.get('PATH', '')}",
        VAEBOOK_PIP_SOURCE=str(wheel),
        VAEBOOK_CACHE_DIR=str(REPO / ".cache" / "vaebook"),  # the book build's models
        JUPYTER_DATA_DIR=str(work / "jupyter-data"),  # no kernel from elsewhere
        JUPYTER_CONFIG_DIR=str(work / "jupyter-config"),
        IPYTHONDIR=str(work / "ipython"),
    )
    command = [str(python), str(RUNNER), str(target)]
    command += ["--colab"] * colab + ["--allow-errors"] * allow_errors
    run = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=1800)
    assert run.returncode == 0, f"{notebook.name} failed:\n{(run.stdout + run.stderr)[-5000:]}"
    report = json.loads(run.stdout.split("REPORT ", 1)[1])
    report.update(
        venv=str((work / "venv").resolve()),
        folder=folder,
        files=sorted(
            path.relative_to(folder).as_posix() for path in folder.rglob("*") if path.is_file()
        ),
    )
    return report
