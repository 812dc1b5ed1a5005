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
    tested = {*EXPECTED, "affinity_regimes", "reproduce_the_paper", "telemetry_tour"}
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


EXPECTED = {
    "bounds_tour": [
        "polynomials of degree <= 4: 2.150502",
        "degree 2: Aland 115/12 = 9.583333, exact LP with 20 players 9.583333 (= 115/12)",
        "degree 3: Aland 1163/28 = 41.535714, exact LP with 20 players 41.535714 (= 1163/28)",
        "claim 4/3 survived: False",
        "claim 2.16 for quartics survived: True",
        "at d = 2: 1.625752",
    ],
    "finite_games": ["best CE welfare 10.5", "Lemke-Howson found one of them: True"],
    "kv_caching": [
        "K6, d = 1, alpha = 2: worst NE 7, best NE 7, optimum 7",
        "star n = 5, alpha = 1.9: worst NE 8.6, best NE 5.9, optimum 5.9 at [0]",
        "line n = 14, alpha = 14: worst NE 105, best NE 63, optimum 52 at [3, 10]",
        "cluster 3x8, alpha = 6: worst NE 77, optimum 39",
        "paradox: True",
        "clique + outlier n = 16: PoA 7.4766 (closed form 7.4766, n/2 = 8)",
        "full trace: 12,031 requests, ",
        "n_workers=24, n_nodes=3, n_blocks=182790",
        "full game equilibrium: 0.2721 s/s",
        "converged True",
        "equilibrium / optimum = 1.0142 (oracle exact-dp, optimum optimal)",
    ],
    "pd_resource_game": [
        "KKT solver agrees: True",
        "Rosen uniqueness condition holds: True",
        "all 5 splits (k, 6 - k)",
        "PoA(worst GNE) inf",
        "claim game at 8 req/s: 1 equilibrium",
    ],
}
"""Lines each notebook must print (its known answers)."""
NEEDS_SHARED_DATA = {"kv_caching"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_prints_its_known_answers(
    name: str, monkeypatch: pytest.MonkeyPatch, capsys: Capture, request: pytest.FixtureRequest
) -> None:
    if name in NEEDS_SHARED_DATA:
        request.getfixturevalue("shared_data")  # skips when ../shared/data is absent
    run_notebook(f"{name}.ipynb", monkeypatch)
    out = capsys.readouterr().out
    missing = [line for line in EXPECTED[name] if line not in out]
    assert not missing, f"{name} did not print: {missing}"


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
    summary, adaptive, optimum, detector, transient, variants, card = frames
    assert summary["topology"].tolist() == ["1P/2D"]
    assert adaptive["concurrency"].tolist() == [256]
    assert adaptive["ci_low"].iloc[0] <= adaptive["poa_reduction"].iloc[0]
    # the paper's deployment does not saturate: no switch, so no transient to show
    assert adaptive["switches"].iloc[0] == 0 and transient.empty
    assert (optimum["true_poa"] >= 1.0 - 1e-9).all() and optimum["all_windows_exact"].all()
    assert len(detector) > 0
    assert set(variants["variant"]) >= {"paper", "capacity", "measured-latency"}
    assert variants["adaptive_ratio"].notna().all()
    assert len(card) > 0 and (card["holds"] == (card["reason"] == "")).all()
