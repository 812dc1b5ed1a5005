"""The paper-reproduction notebook runs top to bottom (quick study) and shows its figures."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from matplotlib.figure import Figure

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "reproduce_the_paper.ipynb"


def test_notebook_runs_and_displays_its_figures(monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = json.loads(NOTEBOOK.read_text())
    assert notebook["nbformat"] == 4
    cells = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    assert all(not c["outputs"] for c in cells), "commit the notebook without outputs"
    monkeypatch.setenv("GAMETHEORY_STUDY", "quick")
    shown: list[Any] = []
    namespace: dict[str, Any] = {"display": shown.append}
    last_values = []
    for cell in cells:
        source = "".join(cell["source"])
        # A cell that is one expression is shown by Jupyter: keep its value.
        try:
            code = compile(source, str(NOTEBOOK), "eval")
        except SyntaxError:
            exec(compile(source, str(NOTEBOOK), "exec"), namespace)
            continue
        last_values.append(eval(code, namespace))
    figures = [s for s in shown if isinstance(s, Figure)]
    assert len(figures) == 2  # heatmaps and policy curves of the one quick topology
    frames = [v for v in last_values if isinstance(v, pd.DataFrame)]
    summary, adaptive, optimum, detector, transient = frames
    assert summary["topology"].tolist() == ["1P/2D"]
    assert adaptive["concurrency"].tolist() == [256]
    assert adaptive["ci_low"].iloc[0] <= adaptive["poa_reduction"].iloc[0]
    assert (optimum["true_poa"] >= 1.0 - 1e-9).all() and optimum["all_windows_exact"].all()
    assert len(detector) > 0 and len(transient) > 0
