"""Run an example notebook's code cells in order, the way Jupyter would.

Cells run in one namespace with the notebook's folder as working directory; a cell
that is a single expression is evaluated and its value kept (Jupyter displays it), and
``display(...)`` records what it is given. Used by ``tests/test_examples.py``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@dataclass
class NotebookRun:
    """What a notebook left: its namespace, what it displayed, its cell values."""

    namespace: dict[str, Any]
    shown: list[Any]
    values: list[Any]


def run_notebook(name: str, monkeypatch: pytest.MonkeyPatch) -> NotebookRun:
    """Execute ``examples/<name>`` top to bottom."""
    path = EXAMPLES / name
    notebook = json.loads(path.read_text())
    assert notebook["nbformat"] == 4
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] for c in cells), f"commit {name} without outputs"
    monkeypatch.chdir(EXAMPLES)
    matplotlib.use("Agg")
    run = NotebookRun(namespace={"__name__": "__main__"}, shown=[], values=[])
    run.namespace["display"] = run.shown.append
    for cell in cells:
        source = "".join(cell["source"])
        try:
            code = compile(source, str(path), "eval")
        except SyntaxError:
            exec(compile(source, str(path), "exec"), run.namespace)
            continue
        run.values.append(eval(code, run.namespace))
    return run
