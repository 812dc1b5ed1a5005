"""The cache-affinity regimes example runs as a script and tells the regime story."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest


def test_affinity_regimes_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "affinity_regimes.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    match = re.search(r"affinity: ([\d.]+) below the knee, ([\d.]+) past it", out)
    assert match is not None
    below, past = float(match.group(1)), float(match.group(2))
    assert below < 1.05 and past > 3.0
    assert "has potential: False; converged: False; cycle: True" in out
    assert "restored: True" in out
    assert "exact=True" in out
