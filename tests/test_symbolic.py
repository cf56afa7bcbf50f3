"""vaebook.symbolic: a derivation step is displayed only when SymPy proves it."""

import pytest
import sympy as sp

from vaebook.symbolic import book_latex, proved_difference, show_check, show_equation


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


# --- the book's notation ----------------------------------------------------------------------

x, mu = sp.symbols("x mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
DENSITY = sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / (sigma * sp.sqrt(2 * sp.pi))
LOG_PIXEL = -((x - mu) ** 2) / (2 * sigma**2) - sp.log(2 * sp.pi * sigma**2) / 2


def shown_latex(capsys, monkeypatch, *args, **kwargs) -> str:
    """The LaTeX that show_equation hands to the page."""
    import vaebook.symbolic as symbolic

    shown = []
    monkeypatch.setattr(symbolic, "display", lambda item: shown.append(item.data))
    show_equation(*args, **kwargs)
    (latex,) = shown
    return latex


def test_sympy_s_own_printer_writes_what_the_book_does_not():
    # the reason for book_latex: if SymPy starts printing (x - μ)², this test says so
    assert r"- \mu + x" in sp.latex(LOG_PIXEL)
    assert r"\frac{\log{\left(2 \pi \sigma^{2} \right)}}{2}" in sp.latex(LOG_PIXEL)
    assert r"\sqrt{2} e" in sp.latex(DENSITY)


def test_the_page_shows_the_gaussian_log_density_in_the_book_s_notation(capsys, monkeypatch):
    latex = shown_latex(capsys, monkeypatch, sp.log(DENSITY), LOG_PIXEL, r"\log p")
    rhs = latex.split(" = ")[-1]
    assert rhs == (
        r"- \frac{\left(x - \mu\right)^{2}}{2 \sigma^{2}} "
        r"- \frac{1}{2} \log{\left(2 \pi \sigma^{2} \right)}"
    )
    assert r"\left(x - \mu\right)^{2}" in latex and r"- \mu + x" not in latex
    # the density inside the logarithm: one root, as the prose writes 1/(σ√(2π))
    assert r"{\sigma \sqrt{2 \pi}}" in latex and r"\sqrt{2} e" not in latex


def test_indexed_pixels_read_x_i_minus_x_hat_i_and_the_constant_reads_d_over_2():
    D = sp.Symbol("D", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    xs, xh = sp.IndexedBase("x", real=True), sp.IndexedBase(r"\hat{x}", real=True)
    sse = sp.Sum((xs[i] - xh[i]) ** 2, (i, 1, D))
    latex = book_latex(-sse / (2 * sigma**2) - D * sp.log(2 * sp.pi * sigma**2) / 2)
    assert latex == (
        r"- \frac{\sum_{i=1}^{D} \left({x}_{i} - {\hat{x}}_{i}\right)^{2}}{2 \sigma^{2}} "
        r"- \frac{D}{2} \log{\left(2 \pi \sigma^{2} \right)}"
    )


@pytest.mark.parametrize(
    "expr, expected",
    [
        (sp.Symbol("S") + 2 * sp.Symbol("K") * sigma**2, r"S + 2 K \sigma^{2}"),
        (sp.Symbol("K") + sp.Symbol("S") / (2 * sigma**2), r"\frac{S}{2 \sigma^{2}} + K"),
        (-sp.log(sigma) / 2, r"- \frac{1}{2} \log{\left(\sigma \right)}"),
        (sp.sqrt(2 * sp.pi) * x, r"\sqrt{2 \pi} x"),
        (x / 2, r"\frac{x}{2}"),
    ],
)
def test_book_latex_orders_and_writes_terms_as_the_prose_does(expr, expected):
    assert book_latex(expr) == expected
    assert sp.latex(expr) != expected or expr == x / 2  # SymPy alone would print it otherwise


def test_a_step_that_needs_an_assumption_is_proved_with_it_and_shown_with_it(capsys, monkeypatch):
    D, j = sp.symbols("D j", integer=True, positive=True)
    i = sp.Symbol("i", integer=True, positive=True)
    xs, xh = sp.IndexedBase("x", real=True), sp.IndexedBase(r"\hat{x}", real=True)
    gradient = sp.Derivative(sp.Sum((xs[i] - xh[i]) ** 2, (i, 1, D)), xh[j])
    with pytest.raises(AssertionError, match="Piecewise"):  # without it: two cases
        show_equation(gradient, 2 * (xh[j] - xs[j]))
    latex = shown_latex(capsys, monkeypatch, gradient, 2 * (xh[j] - xs[j]), assuming=j <= D)
    assert latex.endswith(r"\qquad \text{for } j \leq D") and "cases" not in latex
    with pytest.raises(AssertionError, match="could not prove"):  # and it must still be true
        show_equation(gradient, 2 * (xs[j] - xh[j]), assuming=j <= D)


# --- one line per numerical check ----------------------------------------------------------


def test_a_check_shows_one_line_with_the_statement_the_numbers_and_a_tick(capsys):
    show_check("All six implementations agree", True, "largest difference 3e-12")
    assert capsys.readouterr().out == "✔ All six implementations agree: largest difference 3e-12\n"


def test_a_check_keeps_its_details_for_a_fold_out(capsys):
    from vaebook.claims import _Verdict

    verdict = _Verdict(True, "All agree", "largest difference 3e-12", "Six <values>.")
    html = verdict._repr_html_()
    assert html.startswith('<details class="vaebook-check"')
    assert "<summary" in html and "✔ All agree: largest difference 3e-12</summary>" in html
    assert "Six &lt;values&gt;." in html.split("</summary>")[1]  # escaped, after the line
    assert str(verdict).splitlines() == ["✔ All agree: largest difference 3e-12", "  Six <values>."]
    assert "<details" not in _Verdict(True, "All agree", "3e-12")._repr_html_()


def test_a_check_that_fails_shows_a_cross_and_raises(capsys):
    with pytest.raises(AssertionError, match=r"does not hold: All agree \(difference 0.1\)"):
        show_check("All agree", False, "difference 0.1")
    assert capsys.readouterr().out.startswith("✘ All agree: difference 0.1")


def test_a_check_takes_numpy_and_torch_booleans():
    import numpy as np
    import torch

    show_check("agree", np.all(np.array([1.0]) < 2), "1 < 2")
    show_check("agree", torch.tensor(1.0) < 2, "1 < 2")
    with pytest.raises(AssertionError):
        show_check("agree", torch.tensor(3.0) < 2, "3 < 2")


def test_the_derivation_shows_its_checks_instead_of_hiding_bare_asserts():
    """Issue 28: seven "Show code cell source" toggles hid nothing but asserts."""
    import re
    from pathlib import Path

    chapter = (Path(__file__).resolve().parents[1] / "book" / "gaussian-likelihood.md").read_text()
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", chapter, re.S)
    hidden = [cell for cell in cells if "hide-input" in cell or "remove-input" in cell]
    asserts = [cell for cell in cells if re.search(r"^\s*assert\b", cell, re.M)]
    assert not hidden and not asserts, (hidden + asserts)[:1]
    assert sum(cell.count("show_check(") for cell in cells) >= 8
    assert "Piecewise" not in chapter and "assuming=" in chapter
