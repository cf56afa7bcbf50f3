"""Run a chapter's own definitions outside the book: the code a student sees on the page.

A *definition cell* is a code cell of the chapter whose statements are all imports, function
definitions and class definitions. Executing them in order gives the page's model, loss and
training loop without running its experiments; tests (tests/test_page_vae.py) and the
benchmark (bench/training.py) use them, so what they check is what the page shows.
"""

from __future__ import annotations

import ast
from pathlib import Path

from vaebook._fingerprint import code_cells

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef)


def definition_cells(chapter: Path) -> list[str]:
    """The chapter's code cells that only import and define, in page order."""
    cells = []
    for cell in code_cells(Path(chapter).read_text()):
        body = ast.parse(cell).body
        if body and all(isinstance(statement, DEFINITIONS) for statement in body):
            cells.append(cell)
    return cells


def page_namespace(chapter: Path, names: tuple[str, ...] = ()) -> dict:
    """Execute the chapter's definition cells; the names they define. Each of ``names``
    must be among them (an AssertionError says which is missing)."""
    namespace: dict = {}
    for cell in definition_cells(chapter):
        exec(compile(cell, str(chapter), "exec"), namespace)
    missing = [name for name in names if name not in namespace]
    assert not missing, f"{Path(chapter).name} no longer defines {missing} in a cell of its own"
    return namespace
