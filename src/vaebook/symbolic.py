"""Display a step of a derivation only after SymPy has proved it, in the book's notation.

Introduced in chapter *From the Gaussian likelihood to the MSE*. :func:`show_equation` prints
with :func:`book_latex`, which orders and writes terms as the prose does:
``-(x - μ)²/(2σ²) - ½ log(2πσ²)`` where SymPy's own printer writes ``(-μ + x)²`` and
``log(2πσ²)/2``. :func:`show_check` shows a numerical check as one line that says what was
checked, with the numbers, after the check has held.
"""

from __future__ import annotations

from numbers import Number

import sympy as sp
from IPython.display import Math, display
from sympy.printing.latex import LatexPrinter

from vaebook._verdict import Verdict


def _check_expression(name: str, side) -> None:
    if isinstance(side, bool) or not isinstance(side, (sp.Basic, Number)):
        raise ValueError(
            f"{name} must be a SymPy expression or a number, got {type(side).__name__}"
        )


def _check_assumption(assuming) -> None:
    if assuming is not None and not isinstance(assuming, sp.logic.boolalg.Boolean):
        raise ValueError(
            "assuming must be a SymPy condition such as j <= D, or None, got "
            f"{type(assuming).__name__}"
        )


def proved_difference(lhs, rhs, assuming=None) -> sp.Expr:
    """Return ``lhs - rhs`` simplified; zero when SymPy proves the two sides equal.

    Used behind the scenes in chapter *From the Gaussian likelihood to the MSE*. Sums and products
    are evaluated, logarithms expanded (the symbols' assumptions make this valid) and inverse
    hyperbolic functions rewritten as logarithms before simplifying. ``assuming``, a SymPy
    condition such as ``j <= D``, is what the symbols' own assumptions cannot say (SymPy
    :func:`~sympy.refine` applies it to the difference).
    """
    for name, side in (("lhs", lhs), ("rhs", rhs)):
        _check_expression(name, side)
    _check_assumption(assuming)
    difference = sp.expand(sp.expand_log(sp.expand((lhs - rhs).doit()), force=True))
    difference = sp.simplify(difference.doit().rewrite(sp.log))
    if assuming is not None:
        difference = sp.simplify(sp.refine(difference, assuming))
    return difference


class _BookPrinter(LatexPrinter):
    """SymPy's LaTeX printer, writing sums and products the way the book's prose does."""

    def _as_ordered_terms(self, expr, order=None):
        terms = super()._as_ordered_terms(expr, order=order)
        if not isinstance(expr, sp.Add):
            return terms

        def place(term):
            # x - μ, not -μ + x; the squared error before the normalising log; S + 2σ²K
            return (
                term.has(sp.log),
                term.could_extract_minus_sign(),
                sp.fraction(term, exact=True)[1] == 1,
                sp.count_ops(term),
            )

        return sorted(terms, key=place)  # stable: ties keep SymPy's order

    def _print_Mul(self, expr):
        if expr.could_extract_minus_sign() and expr.as_coeff_Mul()[0].is_negative:
            return "- " + self._print(-expr)
        factors = sp.Mul.make_args(expr)
        roots = [
            f
            for f in factors
            if f.is_Rational or (f.is_Pow and f.base.is_number and abs(f.exp) == sp.S.Half)
        ]
        rest = sp.Mul(*[f for f in factors if f not in roots])
        number = sp.Mul(*roots)
        if any(not f.is_Rational for f in roots) and rest != 1:
            # √2 / (2√π σ) -> 1 / (σ √(2π)): one root, as the density is written
            square = number**2
            numerator, denominator = sp.fraction(rest, exact=True)
            if square < 1:
                bottom = f"{self._print(denominator)} \\sqrt{{{self._print(1 / square)}}}"
                if denominator == 1:
                    bottom = f"\\sqrt{{{self._print(1 / square)}}}"
                return rf"\frac{{{self._print(numerator)}}}{{{bottom}}}"
            return rf"\sqrt{{{self._print(square)}}} {self.parenthesize(rest, 50)}"
        coefficient, rest = expr.as_coeff_Mul()
        if coefficient.is_Rational and not coefficient.is_Integer and sp.fraction(rest)[1] == 1:
            # log(2πσ²)/2 -> ½ log(2πσ²), D log(2πσ²)/2 -> D/2 log(2πσ²)
            parts = sp.Mul.make_args(rest)
            applied = [f for f in parts if isinstance(f, (sp.Function, sp.Sum, sp.Product))]
            if applied:
                top = sp.Mul(coefficient.p, *[f for f in parts if f not in applied])
                tail = " ".join(self._print(f) for f in applied)
                return rf"\frac{{{self._print(top)}}}{{{self._print(coefficient.q)}}} {tail}"
        return super()._print_Mul(expr)


def book_latex(expr) -> str:
    """LaTeX of a SymPy expression in the book's notation.

    Used behind the scenes in chapter *From the Gaussian likelihood to the MSE* (by
    :func:`show_equation`). The terms of a sum read as the prose writes them: positive terms
    before negative ones, so ``x - \\mu`` and not ``- \\mu + x``; the squared error before the
    logarithms of the normalising constant; fractions before plain terms. A rational factor
    in front of a logarithm or a sum is written as a fraction, ``\\frac{1}{2} \\log(2 \\pi
    \\sigma^2)``, and a product of square roots such as ``\\sqrt{2} / (2 \\sqrt{\\pi})`` as
    one root, ``1 / \\sqrt{2 \\pi}``. Only the printing changes, never the expression.
    """
    if isinstance(expr, bool) or not isinstance(expr, (sp.Basic, Number)):
        raise ValueError(f"expr must be a SymPy expression or a number, got {type(expr).__name__}")
    return _BookPrinter().doprint(expr)


def show_equation(lhs, rhs, name: str | None = None, assuming=None) -> None:
    """Display ``name = lhs = rhs`` after SymPy has proved ``lhs - rhs == 0``.

    Introduced in chapter *From the Gaussian likelihood to the MSE*. A wrong step raises
    ``AssertionError`` (so it fails the book build) instead of being displayed. Both sides are
    printed by :func:`book_latex`. ``assuming`` (a SymPy condition such as ``j <= D``) is used
    in the proof and shown after the equation.
    """
    if name is not None and not isinstance(name, str):
        raise ValueError(f"name must be a LaTeX string or None, got {type(name).__name__}")
    difference = proved_difference(lhs, rhs, assuming)
    if difference != 0:
        raise AssertionError(f"SymPy could not prove the step: lhs - rhs = {difference}")
    parts = [name] if name else []
    for side in (book_latex(lhs), book_latex(rhs)):
        if side not in parts:  # SymPy may print both sides alike
            parts.append(side)
    condition = rf" \qquad \text{{for }} {book_latex(assuming)}" if assuming is not None else ""
    display(Math(" = ".join(parts) + condition))


def show_check(statement: str, holds, numbers: str, details: str = "") -> None:
    """Show a numerical check as one line, ``✔ statement: numbers``; raise if it fails.

    Introduced in chapter *From the Gaussian likelihood to the MSE*. ``holds`` is the check
    itself (a bool, such as ``gap < 1e-10``); ``numbers`` what was measured, in words
    (``"largest difference 3e-12 (tolerance 1e-10)"``); ``details``, optional, is shown on
    demand (a fold-out on the website). A check that does not hold is shown with ✘ and
    raises ``AssertionError``, which fails the book build.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"statement must be a non-empty string, got {statement!r}")
    if not isinstance(numbers, str):
        raise ValueError(f"numbers must be a string, got {type(numbers).__name__}")
    if not isinstance(details, str):
        raise ValueError(f"details must be a string, got {type(details).__name__}")
    if getattr(holds, "dtype", None) is not None and getattr(holds, "shape", None) == ():
        holds = holds.item()  # a NumPy or PyTorch 0-d boolean
    if not isinstance(holds, bool):
        raise ValueError(f"holds must be True or False, got {type(holds).__name__}")
    verdict = Verdict(holds, statement, numbers, details)
    display(verdict)
    if not holds:
        raise AssertionError(f"the check does not hold: {statement} ({numbers})")
