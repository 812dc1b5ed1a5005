"""The simulation-study example runs (tiny grid) and writes its tables and figures."""

from __future__ import annotations

import re
import runpy
import sys
from pathlib import Path

import pytest


def test_simulation_study_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "simulation_study.py"
    monkeypatch.setattr(sys, "argv", [str(path), "--quick", "--out", str(tmp_path)])
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "1P/2D C=256: PoA-hat reduction" in out
    true_poa = float(re.search(r"true PoA ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    assert true_poa >= 1.0
    assert "prefill_blocks" in out and "decode_blocks" in out
    assert (tmp_path / "heatmap_1P2D.png").stat().st_size > 5_000
    assert (tmp_path / "summary.csv").read_text().startswith("topology,knee")
