"""Is a function the one installed on disk? A check for the hidden tests of the assignments.

Otter runs the hidden tests inside the student's own kernel, so a submission can replace a
function the tests rely on (``sympy.simplify = lambda *a: 0``). :func:`assert_genuine` makes
that visible: it compiles the function's source file again, from the read-only installed
package (read-only in ``assignments/grade.py``'s sandbox), and compares the code objects. A
replaced function fails the test that relies on it with :class:`Tampered`. This is a
tripwire, not a proof (a submission that also patches this module or ``compile`` gets past it),
and ``grade.py``'s flags name such patches; see ``assignments/README.md``.

Not part of any chapter: the graded assignments' hidden tests call it.
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
import sysconfig
import types
from pathlib import Path

__all__ = ["Tampered", "assert_genuine"]


class Tampered(AssertionError):
    """A function that a hidden test relies on is not the one installed on disk."""


def _package_folder(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise Tampered(f"{package} is not an installed package")
    return Path(locations[0]).resolve()


@functools.lru_cache(maxsize=64)
def _compiled(filename: str) -> types.CodeType:
    return compile(Path(filename).read_text(encoding="utf-8"), filename, "exec", dont_inherit=True)


def _find(code: types.CodeType, name: str, line: int) -> types.CodeType | None:
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            if constant.co_name == name and constant.co_firstlineno == line:
                return constant
            found = _find(constant, name, line)
            if found is not None:
                return found
    return None


def _check_function(name: str, function, allowed: tuple[Path, ...]) -> None:
    if not isinstance(function, types.FunctionType):
        raise Tampered(f"{name} has been replaced: a {type(function).__name__}, not a function")
    code = function.__code__
    path = Path(code.co_filename).resolve()
    if not any(path.is_relative_to(folder) for folder in allowed):
        raise Tampered(f"{name} has been replaced: its code comes from {code.co_filename}")
    try:
        original = _find(_compiled(str(path)), code.co_name, code.co_firstlineno)
    except (OSError, SyntaxError, ValueError):
        original = None
    if original is None or original != code:
        raise Tampered(f"{name} has been replaced: its code is not the code in {path}")


def assert_genuine(*names: str) -> None:
    """Raise :class:`Tampered` unless each dotted ``name`` is the function installed on disk.

    ``"sympy.simplify"`` is the attribute ``simplify`` of the module ``sympy`` as the kernel
    sees it now; it must be a Python function whose code is, byte for byte, the code compiled
    from its source file inside the installed package ``sympy``. Decorated functions are
    followed through ``__wrapped__``; the wrappers may come from the standard library or
    from torch (``torch.no_grad``).
    """
    wrappers = (Path(sysconfig.get_paths()["stdlib"]).resolve(), _package_folder("torch"))
    for name in names:
        module_name, _, attribute = name.rpartition(".")
        package = _package_folder(module_name.split(".")[0])
        function = getattr(importlib.import_module(module_name), attribute, None)
        depth = 0
        while hasattr(function, "__wrapped__") and depth < 5:
            _check_function(name, function, (package, *wrappers))
            function, depth = function.__wrapped__, depth + 1
        _check_function(name, function, (package,))
