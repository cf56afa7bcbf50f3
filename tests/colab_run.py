"""Run one published notebook top to bottom, then report on it (tests/colab.py).

Started by the Python of a fresh virtual environment, in a folder that holds only the notebook:
the kernel is that Python, as in Colab. After the notebook's own cells, one more cell prints a
line ``REPORT {json}``: where ``vaebook`` was imported from; for every slider of the page
(``vaebook.widgets.FrameSlider``'s ipywidgets view: slider, image, numbers) whether moving it
changed the image and the numbers; and, for an assignment, the interpreter otter-grader saw and
what each public check said. With ``--allow-errors`` the report also lists the cells that
raised (an unanswered assignment raises where the student has not written code yet).

With ``--colab`` the kernel is made to look like Colab's where a notebook can tell: a first,
extra cell makes ``google.colab`` importable, and one after the notebook's first cell (its
install cell) makes otter-grader's interpreter check, which reads the shell's class name, say
Colab.

Usage: python colab_run.py NOTEBOOK [--colab] [--allow-errors]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARKER = "REPORT"
CELL_TIMEOUT = 600

LOOK_LIKE_COLAB = """
import sys, types
sys.modules.setdefault("google", types.ModuleType("google"))
sys.modules["google.colab"] = types.ModuleType("google.colab")
"""

OTTER_SEES_COLAB = """
import otter.check.utils
otter.check.utils.IPythonInterpreter.COLAB.value.running = lambda: True
"""

CHECK_CELL = f"""
import json, os, sys
import ipywidgets
import vaebook

sliders = []
for box in list(ipywidgets.widgets.widget._instances.values()):
    parts = getattr(box, "children", ())
    if not (isinstance(box, ipywidgets.VBox) and len(parts) == 3
            and isinstance(parts[0], ipywidgets.SelectionSlider)):
        continue
    slider, image, numbers = parts
    before = (slider.index, bytes(image.value), numbers.value)
    slider.index = (slider.index + 1) % len(slider.options)   # as a reader's drag would
    after = (slider.index, bytes(image.value), numbers.value)
    sliders.append({{"frames": len(slider.options), "moved": after[0] != before[0],
                    "image_changed": after[1] != before[1],
                    "numbers_changed": after[2] != before[2]}})
report = {{"prefix": sys.prefix, "vaebook": vaebook.__file__, "sliders": sliders}}
if "grader" in globals():
    report["otter_interpreter"] = str(getattr(grader.interpreter, "name", None))
    report["checks"] = {{}}
    for question in sorted(PUBLIC_CHECKS):
        try:
            result = grader.check(question)
            report["checks"][question] = ("passed" if result.passed_all_public
                                          else "failed: " + repr(result)[:300])
        except Exception as error:  # what a student would see instead of the check's result
            report["checks"][question] = f"error: {{type(error).__name__}}: {{error}}"
print("{MARKER} " + json.dumps(report), flush=True)
"""


def report_line(outputs: list) -> str:
    """The ``REPORT {json}`` line among a check cell's outputs; exits with the reason if the
    cell raised or printed none. The kernel may deliver one ``print`` in several stream
    messages (``"REPORT"``, ``" {...}"``), so the cell's stdout is read whole, as a reader
    sees it, not message by message."""
    for output in outputs:
        if output.get("output_type") == "error":
            sys.exit(f"the check cell failed: {output.get('ename')}: {output.get('evalue')}")
    stdout = "".join(
        output.get("text", "")
        for output in outputs
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )
    for line in stdout.splitlines():
        if line.startswith(MARKER + " "):
            return line
    sys.exit(f"the check cell printed no report: {outputs}")


def main() -> None:
    path = Path(sys.argv[1]).resolve()
    colab, allow_errors = "--colab" in sys.argv[2:], "--allow-errors" in sys.argv[2:]
    notebook = nbformat.read(path, as_version=4)
    if colab:
        notebook.cells.insert(1, nbformat.v4.new_code_cell(OTTER_SEES_COLAB))
        notebook.cells.insert(0, nbformat.v4.new_code_cell(LOOK_LIKE_COLAB))
    notebook.cells.append(nbformat.v4.new_code_cell(CHECK_CELL))
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=allow_errors,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()
    print(report_line(notebook.cells[-1].outputs))


if __name__ == "__main__":
    main()
