"""The command line: `gametheory demo` and the parser."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from gametheory.cli import main
from gametheory.cli.demo import demo_rows


def test_demo_rows_match_known_answers() -> None:
    rows = {r.instance: r for r in demo_rows(players=300)}
    assert rows["Pigou, x^2"].poa == pytest.approx(1.625752, abs=1e-6)
    assert rows["Braess with shortcut"].equilibrium_cost == pytest.approx(2.0, abs=1e-6)
    assert rows["M/M/1 links u=(4,1), r=3"].optimum_cost == pytest.approx(2.5, abs=1e-6)
    assert rows["3-player affine (5/2)"].poa == 2.5
    assert rows["fair cost sharing, n=4"].poa == 4.0
    assert all(r.within_bound for r in rows.values())


def test_demo_command_prints_table_and_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--players", "200", "--no-sim"]) == 0
    out = capsys.readouterr().out
    assert "Pigou, x^4" in out and "2.150502" in out
    assert "simulation" not in out
    assert main(["demo", "--players", "200", "--json", "--no-sim"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["instance"] for d in data} >= {"Pigou, x^1", "3-player affine (5/2)"}


def test_demo_runs_reduced_simulation_study(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_dir = tmp_path / "demo"
    assert main(["demo", "--players", "200", "--json", "--out", str(out_dir)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {d["instance"] for d in data["games"]} >= {"Pigou, x^1"}
    sim = data["simulation"]
    assert {r["topology"] for r in sim["regimes"]} == {"1P/5D", "1P/2D"}
    # the paper's deployment has no knee up to C = 256 (JSON null)
    assert all(r["knee"] is None or 1 <= r["knee"] <= 256 for r in sim["regimes"])
    for a in sim["adaptive"]:
        assert a["poa_reduction_ci"][0] <= a["poa_reduction"] <= a["poa_reduction_ci"][1]
        assert a["seeds"] == 8
    card = sim["scorecard"]
    claims = {r["claim"] for r in card}
    assert "PoA-hat plateau below the knee" in claims
    assert "PoA-hat reduction, adaptive vs static" in claims
    assert {r["topology"] for r in card} >= {"1P/2D", "1P/2D (TP1, 48 slots)"}
    assert all(r["holds"] == (r["reason"] == "") for r in card)
    for o in sim["optimum"]:
        assert o["all_exact"] and o["true_poa"] >= 1 - 1e-9
    names = {p.name for p in out_dir.iterdir()}
    assert {
        "regimes.csv",
        "summary.csv",
        "adaptive.csv",
        "optimum.csv",
        "detector.csv",
        "scorecard.csv",
    } <= names
    assert {"heatmap_1P5D.png", "heatmap_1P2D.png", "curves_1P5D.png", "curves_1P2D.png"} <= names
    table = pd.read_csv(out_dir / "regimes.csv")
    # Reduced grid: the paper's 11 concurrencies x 2 x 2 (omega, tau) x 2 topologies.
    assert len(table) == 11 * 4 * 2
    assert table["poa_hat"].notna().all()
    curves = pd.read_csv(out_dir / "curves.csv")
    assert set(curves["policy_name"]) == {
        "kv",
        "adaptive",
        "cache_aware",
        "round_robin",
        "least_loaded",
    }


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "demo" in capsys.readouterr().out


def test_the_study_on_two_processes_gives_the_figures_of_one() -> None:
    """The demo spreads the study's cells over processes (``--workers``): each cell is
    seeded on its own, so the tables are those of a run in one process."""
    from concurrent.futures import ProcessPoolExecutor

    from gametheory.sim.studies.study import StudyConfig, simulation_study

    serial = simulation_study(StudyConfig.quick())
    with ProcessPoolExecutor(2) as pool:
        parallel = simulation_study(StudyConfig.quick(), pool)
    pd.testing.assert_frame_equal(parallel.regimes.table, serial.regimes.table)
    pd.testing.assert_frame_equal(parallel.scorecard.table, serial.scorecard.table)
    assert [a.poa_reduction for a in parallel.adaptive] == [
        a.poa_reduction for a in serial.adaptive
    ]
