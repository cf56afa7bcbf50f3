"""tests/colab_run.py finds its report however the kernel split the check cell's stdout.

The kernel sends a ``print`` as one or more stream messages; on a loaded CI machine the
line ``REPORT {json}`` once arrived as ``"REPORT"`` and ``" {...}"`` (two outputs), and the
runner, reading each output alone, said the cell printed no report.
"""

from __future__ import annotations

import json

import pytest
from colab_run import MARKER, report_line

REPORT = {"prefix": "/venv", "vaebook": "/venv/vaebook/__init__.py", "sliders": []}
LINE = f"{MARKER} {json.dumps(REPORT)}"


def stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


@pytest.mark.parametrize(
    "pieces",
    [[LINE + "\n"], [MARKER, " " + json.dumps(REPORT) + "\n"], [LINE[:5], LINE[5:30], LINE[30:]]],
    ids=["one message", "split after the marker", "three pieces"],
)
def test_the_report_is_found_however_stdout_was_split(pieces):
    outputs = [stream("training...\n")] + [stream(piece) for piece in pieces]
    line = report_line(outputs)
    assert json.loads(line.split(" ", 1)[1]) == REPORT


def test_stderr_is_not_read_as_the_report():
    with pytest.raises(SystemExit, match="printed no report"):
        report_line([stream(LINE + "\n", name="stderr")])


def test_a_check_cell_that_raised_says_so():
    error = {"output_type": "error", "ename": "NameError", "evalue": "name 'x' is not defined"}
    with pytest.raises(SystemExit, match="check cell failed: NameError"):
        report_line([stream(LINE + "\n"), error])
