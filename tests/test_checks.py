"""The shared input checks (vaebook._checks): each message tested once, here.

tests/test_bad_inputs.py checks that every public function reaches a clear message; this file
checks the messages and return values of the checks themselves.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch

from vaebook import _checks


@pytest.mark.parametrize(
    "value, minimum, message",
    [
        (0, 1, "n must be an integer >= 1, got 0"),
        (True, 0, "n must be an integer >= 0, got True"),
        (2.0, 1, "n must be an integer >= 1, got 2.0"),
        ("3", 1, "n must be an integer >= 1, got '3'"),
        (1, 2, "n must be an integer >= 2, got 1"),
    ],
)
def test_check_int_refuses(value, minimum, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _checks.check_int(value, "n", minimum)


def test_check_int_accepts_python_and_numpy_integers_and_returns_int():
    for value in (3, np.int64(3), np.uint8(3)):
        result = _checks.check_int(value, "n")
        assert result == 3 and type(result) is int
    assert _checks.check_int(0, "gap", minimum=0) == 0
    assert _checks.check_seed(0) == 0
    with pytest.raises(ValueError, match=r"^seed must be an integer >= 0, got -1$"):
        _checks.check_seed(-1)


@pytest.mark.parametrize(
    "value, allow_zero, message",
    [
        ("1", False, "lr must be a number, got '1'"),
        (True, False, "lr must be a number, got True"),
        (math.nan, False, "lr must be a number, got nan"),
        (0.0, False, "lr must be finite and > 0, got 0.0"),
        (-1, True, "lr must be finite and >= 0, got -1"),
        (math.inf, True, "lr must be finite and >= 0, got inf"),
    ],
)
def test_check_number_refuses(value, allow_zero, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        _checks.check_number(value, "lr", allow_zero=allow_zero)


def test_check_number_returns_a_float():
    assert _checks.check_number(2, "lr") == 2.0 and type(_checks.check_number(2, "lr")) is float
    assert _checks.check_number(0, "kl_weight", allow_zero=True) == 0.0
    assert _checks.check_number(np.float32(0.5), "lr") == 0.5


def test_check_dtype():
    assert _checks.check_dtype(torch.float64) is torch.float64
    for bad in (torch.int64, "float32", None):
        with pytest.raises(ValueError, match="^dtype must be a floating-point torch dtype"):
            _checks.check_dtype(bad)


def test_the_shared_messages_are_written_in_one_place():
    """No module but _checks spells the checks' messages: they call the checks instead."""
    from pathlib import Path

    import vaebook

    phrases = (
        'f"{name} must be an integer >=',
        "must be a floating-point torch dtype",
        'f"{name} must be finite and',
        'f"{name} must be a number, got',
    )
    source = Path(vaebook.__file__).parent
    spelled = {
        path.name: [phrase for phrase in phrases if phrase in path.read_text()]
        for path in source.glob("*.py")
        if path.name != "_checks.py"
    }
    assert not {name: found for name, found in spelled.items() if found}
    checks = (source / "_checks.py").read_text()
    assert all(phrase in checks for phrase in phrases)
