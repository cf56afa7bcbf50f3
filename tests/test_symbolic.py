"""vaebook.symbolic: a derivation step is displayed only when SymPy proves it."""

import pytest
import sympy as sp

from vaebook.symbolic import proved_difference, show_equation


def test_a_true_step_is_displayed(capsys):
    x = sp.Symbol("x")
    show_equation((x + 1) ** 2, x**2 + 2 * x + 1, name="f")
    assert "Math object" in capsys.readouterr().out  # IPython.display prints the repr in pytest
    assert proved_difference((x + 1) ** 2, x**2 + 2 * x + 1) == 0


def test_logarithms_of_positive_symbols_are_expanded():
    sigma = sp.Symbol("sigma", positive=True)
    assert (
        proved_difference(sp.log(2 * sp.pi * sigma**2), sp.log(2 * sp.pi) + 2 * sp.log(sigma)) == 0
    )


def test_a_wrong_step_raises_instead_of_being_displayed():
    x = sp.Symbol("x")
    with pytest.raises(AssertionError, match="could not prove"):
        show_equation((x + 1) ** 2, x**2 + 1)
    sigma = sp.Symbol("sigma", positive=True)
    with pytest.raises(AssertionError):
        show_equation(sp.log(2 * sp.pi * sigma**2), sp.log(2 * sp.pi) + sp.log(sigma))
