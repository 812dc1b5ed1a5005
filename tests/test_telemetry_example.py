"""The telemetry tour example runs as a script and prints the expected findings."""

from __future__ import annotations

import re
import runpy
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def test_telemetry_tour_runs(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "telemetry_tour.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    if SHARED_DATA.is_dir():
        assert "knee 64 (interval 32-64, first post-knee 128) on ttft_ms_avg" in out
        assert "model PoA at demand" in out
    assert "fixture log: 2 decisions, PoA-hat (window 1) 1.000" in out
    greedy = float(re.search(r"greedy: PoA-hat ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    random = float(re.search(r"random: PoA-hat ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    assert greedy < random
