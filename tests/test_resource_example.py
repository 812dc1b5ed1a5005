"""The P/D resource-game example runs as a script and prints the expected findings."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest


def test_pd_resource_game_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "pd_resource_game.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "KKT solver agrees: True" in out
    assert "Rosen uniqueness condition holds: True" in out
    assert "all 5 splits (k, 6 - k)" in out
    assert "PoA(worst GNE) inf" in out
    assert "claim game at 8 req/s: 1 equilibrium" in out
