"""What moves the simulated knee: each deployment setting applied in turn."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from gametheory.errors import GameError
from gametheory.sim import PAPER_STEPS, SweepGrid, knee_ablation


@pytest.fixture(scope="module")
def ablation() -> pd.DataFrame:
    base = SweepGrid(concurrency=(1, 4, 16, 64, 128, 256), seeds=(0,), min_requests=200)
    return knee_ablation(base).set_index(["step", "topology"])


def test_decode_slots_are_the_historical_1p2d_knee(ablation: pd.DataFrame) -> None:
    # TP1 with 48-request batches: 1P/2D's 96 decode slots fill, throughput stops
    # scaling (elasticity ~0 between C = 128 and 256) at about 48 req/s
    row = ablation.loc[("historical", "1P/2D")]
    assert row["plateau"] == 256 and abs(row["elasticity_top"]) < 0.1
    assert row["request_throughput_top"] == pytest.approx(47.8, rel=0.05)
    # vLLM's 1024 slots remove that plateau
    slots = ablation.loc[("1024 decode slots", "1P/2D")]
    assert math.isnan(slots["plateau"]) and slots["elasticity_top"] > 0.6
    assert slots["request_throughput_top"] > 2.5 * row["request_throughput_top"]


def test_paper_deployment_does_not_saturate(ablation: pd.DataFrame) -> None:
    for topo in ("1P/5D", "1P/2D"):
        paper = ablation.loc[("vLLM step times", topo)]
        assert math.isnan(paper["plateau"]) and paper["elasticity_top"] > 0.6
        jitter = ablation.loc[("10% output jitter", topo)]
        assert jitter["flat"] and math.isnan(jitter["knee"])
        # the warm-up cut removes the cold first wave from the P99
        before = ablation.loc[("historical", topo), "ttft_ms_p99_top"]
        after = ablation.loc[("warm-up left out", topo), "ttft_ms_p99_top"]
        assert after < before
    assert PAPER_STEPS[0][0] == "historical"


def test_bad_steps() -> None:
    with pytest.raises(GameError, match="at least one step"):
        knee_ablation(steps=())
    with pytest.raises(GameError, match="unknown grid fields"):
        knee_ablation(steps=(("x", "y", {"gpus": 3}),))
