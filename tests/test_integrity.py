"""The tamper check of the assignments' hidden tests (vaebook.integrity)."""

import types

import pytest
import sympy

from vaebook import likelihoods, training
from vaebook.integrity import Tampered, assert_genuine


def test_the_installed_functions_are_genuine():
    assert_genuine(
        "sympy.simplify",
        "sympy.diff",
        "sympy.symbols",
        "sympy.expand_log",
        "vaebook.likelihoods.effective_sigma",
        "vaebook.training.train_vae",
        "vaebook.training.evaluate",
        "vaebook.experiment.run_sigma_sweep",
    )


def test_a_lambda_in_place_of_simplify_is_caught(monkeypatch):
    monkeypatch.setattr(sympy, "simplify", lambda *args, **kwargs: sympy.Integer(0))
    with pytest.raises(
        Tampered,
        match=r"^sympy.simplify has been replaced: its code comes "
        r"from .*test_integrity\.py$",
    ):
        assert_genuine("sympy.simplify")


def test_a_fake_that_claims_the_real_file_and_line_is_caught(monkeypatch):
    real = sympy.simplify.__code__
    fake = compile("def simplify(expr, *args, **kwargs):\n    return 0\n", real.co_filename, "exec")
    code = next(c for c in fake.co_consts if isinstance(c, types.CodeType))
    code = code.replace(co_firstlineno=real.co_firstlineno)
    monkeypatch.setattr(sympy, "simplify", types.FunctionType(code, {}))
    with pytest.raises(Tampered, match=r"its code is not the code in .*simplify\.py$"):
        assert_genuine("sympy.simplify")


def test_a_function_from_another_package_is_caught(monkeypatch):
    monkeypatch.setattr(likelihoods, "effective_sigma", sympy.simplify)
    with pytest.raises(
        Tampered,
        match=r"^vaebook.likelihoods.effective_sigma has been "
        r"replaced: its code comes from .*sympy",
    ):
        assert_genuine("vaebook.likelihoods.effective_sigma")


def test_a_callable_object_is_caught(monkeypatch):
    class Always:
        def __call__(self, *args, **kwargs):
            return 0

    monkeypatch.setattr(sympy, "diff", Always())
    with pytest.raises(Tampered, match=r"^sympy.diff has been replaced: a Always, not a "):
        assert_genuine("sympy.diff")


def test_a_replaced_function_behind_a_genuine_wrapper_is_caught(monkeypatch):
    wrapped = training.evaluate.__wrapped__
    monkeypatch.setattr(training.evaluate, "__wrapped__", lambda *args, **kwargs: None)
    with pytest.raises(Tampered, match=r"^vaebook.training.evaluate has been replaced"):
        assert_genuine("vaebook.training.evaluate")
    monkeypatch.setattr(training.evaluate, "__wrapped__", wrapped)
    assert_genuine("vaebook.training.evaluate")


def test_a_missing_function_is_caught(monkeypatch):
    monkeypatch.delattr(sympy, "expand_log")
    with pytest.raises(Tampered, match=r"^sympy.expand_log has been replaced: a NoneType"):
        assert_genuine("sympy.expand_log")
