"""Display a step of a derivation only after SymPy has proved it.

Introduced in chapter *From the Gaussian likelihood to the MSE*.
"""

from __future__ import annotations

from numbers import Number

import sympy as sp
from IPython.display import Math, display


def proved_difference(lhs, rhs) -> sp.Expr:
    """Return ``lhs - rhs`` simplified; zero when SymPy proves the two sides equal.

    Used behind the scenes in chapter *From the Gaussian likelihood to the MSE*. Sums and products
    are evaluated, logarithms expanded (the symbols' assumptions make this valid) and inverse
    hyperbolic functions rewritten as logarithms before simplifying.
    """
    for name, side in (("lhs", lhs), ("rhs", rhs)):
        if isinstance(side, bool) or not isinstance(side, (sp.Basic, Number)):
            raise ValueError(
                f"{name} must be a SymPy expression or a number, got {type(side).__name__}"
            )
    difference = sp.expand(sp.expand_log(sp.expand((lhs - rhs).doit()), force=True))
    return sp.simplify(difference.doit().rewrite(sp.log))


def show_equation(lhs, rhs, name: str | None = None) -> None:
    """Display ``name = lhs = rhs`` after SymPy has proved ``lhs - rhs == 0``.

    Introduced in chapter *From the Gaussian likelihood to the MSE*. A wrong step raises
    ``AssertionError`` (so it fails the book build) instead of being displayed.
    """
    if name is not None and not isinstance(name, str):
        raise ValueError(f"name must be a LaTeX string or None, got {type(name).__name__}")
    difference = proved_difference(lhs, rhs)
    if difference != 0:
        raise AssertionError(f"SymPy could not prove the step: lhs - rhs = {difference}")
    parts = [name] if name else []
    for side in (sp.latex(lhs), sp.latex(rhs)):
        if side not in parts:  # SymPy may print both sides alike
            parts.append(side)
    display(Math(" = ".join(parts)))
