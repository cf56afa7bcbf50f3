"""Fingerprints of the code a result runs: the modules it imports, with what does not compute
left out.

A cached trained result (:mod:`vaebook.cache`) and an executed page of the book
(``_ext/execution_fingerprint.py``) depend on the code of the modules they import, directly
or through other modules of the package, and on nothing else of the package. Each module is
fingerprinted by its *normalised* source: the syntax tree without docstrings (every bare
string statement: module, class, function and attribute docstrings), comments, blank lines or
formatting, and without the package's version (a module-level ``__version__ = "..."``: a
release changes no result, so it retrains and re-executes nothing). A docstring edit, a
comment, a reformatting or a new version therefore changes no fingerprint; a changed
constant, name or expression changes the fingerprint of its module and of everything that
imports it.

Only the standard library is imported here, so the Sphinx extension can use it without
loading torch.
"""

from __future__ import annotations

import ast
import hashlib
import re
from pathlib import Path

__all__ = [
    "code_cells",
    "normalised_source",
    "imported_modules",
    "import_closure",
    "code_fingerprint",
]

PACKAGE = "vaebook"
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```\s*$", re.M | re.S)
CELL_OPTIONS = re.compile(r"\A(---\n.*?\n---\n|(:\w[^\n]*\n)+)", re.S)


def code_cells(text: str) -> list[str]:
    """The source of every code cell of a MyST Markdown notebook, in page order, without its
    options (a ``---`` block or ``:key:`` lines); what the page's kernel runs."""
    return [CELL_OPTIONS.sub("", cell, count=1) for cell in CODE_CELL.findall(text)]


def _strip_docstrings(tree: ast.AST) -> ast.AST:
    """Remove every statement that is a bare string constant (it computes nothing)."""
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            kept = [
                statement
                for statement in body
                if not (
                    isinstance(statement, ast.Expr)
                    and isinstance(statement.value, ast.Constant)
                    and isinstance(statement.value.value, str)
                )
            ]
            if len(kept) != len(body):
                body[:] = kept or [ast.Pass()]
    return tree


def _is_version(statement: ast.stmt) -> bool:
    """True for ``__version__ = "<text>"``, the package's version (it computes nothing)."""
    return (
        isinstance(statement, ast.Assign)
        and [getattr(target, "id", None) for target in statement.targets] == ["__version__"]
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, str)
    )


def normalised_source(source: str, name: str = "<source>") -> str:
    """The syntax tree of ``source`` without docstrings and without a module-level
    ``__version__ = "..."``, as text: equal for two sources that differ only in docstrings,
    comments, formatting and the version. A syntax error is a ValueError."""
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as error:
        raise ValueError(f"{name}: not valid Python ({error.msg}, line {error.lineno})") from None
    tree.body = [statement for statement in tree.body if not _is_version(statement)]
    return ast.dump(_strip_docstrings(tree), include_attributes=False)


def imported_modules(source: str, name: str = "<source>", package: str = PACKAGE) -> set[str]:
    """The modules of ``package`` that ``source`` imports, anywhere in it (also inside a
    function): ``import vaebook.x``, ``from vaebook.x import y``, ``from vaebook import x``
    and relative imports of ``vaebook``'s own modules all count as ``vaebook.x``. The package
    itself counts as ``vaebook``."""
    try:
        tree = ast.parse(source, filename=name)
    except SyntaxError as error:
        raise ValueError(f"{name}: not valid Python ({error.msg}, line {error.lineno})") from None
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: inside the package
                module = f"{package}.{module}" if module else package
            names = [module] + [f"{module}.{alias.name}" for alias in node.names]
        else:
            continue
        for imported in names:
            parts = imported.split(".")
            if parts[0] == package:
                found.add(".".join(parts[:2]))
    return found


def _file_of(module: str, folder: Path) -> Path | None:
    """The source file of ``vaebook`` or ``vaebook.x`` inside the package ``folder``."""
    parts = module.split(".")
    if parts == [PACKAGE]:
        return folder / "__init__.py"
    candidates = (folder / f"{parts[1]}.py", folder / parts[1] / "__init__.py")
    return next((path for path in candidates if path.is_file()), None)


def import_closure(roots, folder: Path) -> dict[str, Path]:
    """Every module of the package in ``folder`` that the modules ``roots`` import, directly
    or through each other, ``roots`` and the package's ``__init__`` included (whose own lazy
    imports are not followed: they run only when a chapter asks for them): name -> file.
    A root that is not a module of the package is a ValueError; an imported name that is not
    a module (``from vaebook.data import load_digits_split`` names a function) is skipped."""
    folder = Path(folder)
    pending = [PACKAGE, *roots]
    closure: dict[str, Path] = {}
    for root in roots:
        if not isinstance(root, str) or _file_of(root, folder) is None:
            raise ValueError(f"roots: {root!r} is not a module of {PACKAGE} in {folder}")
    while pending:
        module = pending.pop()
        if module in closure:
            continue
        path = _file_of(module, folder)
        if path is None:
            continue
        closure[module] = path
        if module != PACKAGE:  # its lazy imports (vaebook.audit_loss) run only on demand
            pending.extend(imported_modules(path.read_text(), str(path)) - set(closure))
    return dict(sorted(closure.items()))


def code_fingerprint(roots, folder: Path) -> dict[str, str]:
    """SHA-256 of the normalised source (:func:`normalised_source`) of every module in the
    :func:`import_closure` of ``roots``: what decides the results these modules compute."""
    return {
        module: hashlib.sha256(normalised_source(path.read_text(), str(path)).encode()).hexdigest()
        for module, path in import_closure(roots, folder).items()
    }
