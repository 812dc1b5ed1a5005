"""The bounds tour example runs as a script and prints the expected findings."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest


def test_bounds_tour_runs(capsys: pytest.CaptureFixture[str]) -> None:
    path = Path(__file__).resolve().parents[1] / "examples" / "bounds_tour.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "polynomials of degree <= 4: 2.150502" in out
    assert "degree 2: Aland 115/12 = 9.583333, exact LP with 20 players 9.583333 (= 115/12)" in out
    assert (
        "degree 3: Aland 1163/28 = 41.535714, exact LP with 20 players 41.535714 (= 1163/28)" in out
    )
    assert "claim 4/3 survived: False" in out
    assert "claim 2.16 for quartics survived: True" in out
    assert "at d = 2: 1.625752" in out
