"""Every example notebook in ``examples/`` runs top to bottom and shows its findings."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
from matplotlib.figure import Figure
from notebooks import EXAMPLES, run_notebook

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
Capture = pytest.CaptureFixture[str]


def test_every_notebook_has_a_test() -> None:
    tested = {"affinity_regimes", "bounds_tour", "finite_games", "kv_caching"}
    tested |= {"pd_resource_game", "reproduce_the_paper", "telemetry_tour"}
    assert {p.stem for p in EXAMPLES.glob("*.ipynb")} == tested


def test_affinity_regimes(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    run_notebook("affinity_regimes.ipynb", monkeypatch)
    out = capsys.readouterr().out
    match = re.search(r"affinity: ([\d.]+) below the knee, ([\d.]+) past it", out)
    assert match is not None
    below, past = float(match.group(1)), float(match.group(2))
    assert below < 1.05 and past > 3.0
    assert "has potential: False; converged: False; cycle: True" in out
    assert "restored: True" in out
    assert "exact=True" in out


def test_bounds_tour(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    run_notebook("bounds_tour.ipynb", monkeypatch)
    out = capsys.readouterr().out
    assert "polynomials of degree <= 4: 2.150502" in out
    assert "degree 2: Aland 115/12 = 9.583333, exact LP with 20 players 9.583333 (= 115/12)" in out
    assert (
        "degree 3: Aland 1163/28 = 41.535714, exact LP with 20 players 41.535714 (= 1163/28)" in out
    )
    assert "claim 4/3 survived: False" in out
    assert "claim 2.16 for quartics survived: True" in out
    assert "at d = 2: 1.625752" in out


def test_finite_games(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    run_notebook("finite_games.ipynb", monkeypatch)
    out = capsys.readouterr().out
    assert "best CE welfare 10.5" in out
    assert "Lemke-Howson found one of them: True" in out


def test_kv_caching(shared_data: Path, monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    assert (shared_data / "traces" / "conversation_trace.jsonl").is_file()
    run_notebook("kv_caching.ipynb", monkeypatch)
    out = capsys.readouterr().out
    assert "K6, d = 1, alpha = 2: worst NE 7, best NE 7, optimum 7" in out
    assert "star n = 5, alpha = 1.9: worst NE 8.6, best NE 5.9, optimum 5.9 at [0]" in out
    assert "line n = 14, alpha = 14: worst NE 105, best NE 63, optimum 52 at [3, 10]" in out
    assert "cluster 3x8, alpha = 6: worst NE 77, optimum 39" in out
    assert "paradox: True" in out
    assert "clique + outlier n = 16: PoA 7.4766 (closed form 7.4766, n/2 = 8)" in out
    assert "full trace: 12,031 requests, " in out
    assert "n_workers=24, n_nodes=3, n_blocks=182790" in out
    assert "full game equilibrium: 0.2721 s/s" in out and "converged True" in out
    assert "equilibrium / optimum = 1.0142 (oracle exact-dp, optimum optimal)" in out


def test_pd_resource_game(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    run_notebook("pd_resource_game.ipynb", monkeypatch)
    out = capsys.readouterr().out
    assert "KKT solver agrees: True" in out
    assert "Rosen uniqueness condition holds: True" in out
    assert "all 5 splits (k, 6 - k)" in out
    assert "PoA(worst GNE) inf" in out
    assert "claim game at 8 req/s: 1 equilibrium" in out


def test_telemetry_tour(monkeypatch: pytest.MonkeyPatch, capsys: Capture) -> None:
    run_notebook("telemetry_tour.ipynb", monkeypatch)
    out = capsys.readouterr().out
    if SHARED_DATA.is_dir():
        assert "knee 64 (interval 32-64, first post-knee 128) on ttft_ms_avg" in out
        assert "model PoA at demand" in out
    assert "fixture log: 2 decisions, PoA-hat (window 1) 1.000" in out
    greedy = float(re.search(r"greedy: PoA-hat ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    random = float(re.search(r"random: PoA-hat ([\d.]+)", out).group(1))  # type: ignore[union-attr]
    assert greedy < random


def test_reproduce_the_paper(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAMETHEORY_STUDY", "quick")
    run = run_notebook("reproduce_the_paper.ipynb", monkeypatch)
    figures = [s for s in run.shown if isinstance(s, Figure)]
    assert len(figures) == 2  # heatmaps and policy curves of the one quick topology
    frames = [v for v in run.values if isinstance(v, pd.DataFrame)]
    summary, adaptive, optimum, detector, transient = frames
    assert summary["topology"].tolist() == ["1P/2D"]
    assert adaptive["concurrency"].tolist() == [256]
    assert adaptive["ci_low"].iloc[0] <= adaptive["poa_reduction"].iloc[0]
    assert (optimum["true_poa"] >= 1.0 - 1e-9).all() and optimum["all_windows_exact"].all()
    assert len(detector) > 0 and len(transient) > 0
