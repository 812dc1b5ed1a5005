"""The paper's adaptive experiment on a real Dynamo, in miniature.

Static ``kv(1, 0)`` against the controller (polling a real Prometheus that scrapes the
real frontend, pushing to the router front) on a 1P/2D deployment of mocker workers
that saturates at once (2 sequences a decode worker, speed-up 2, 16 users), two seeds:
:func:`gametheory.deploy.adaptive.dynamo_adaptive_comparison` and its scorecard rows.

Skips with the reason, before anything starts, when the ``dynamo`` extra, aiperf or
Prometheus is absent. Every process is stopped by the launcher.
"""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import pytest

pytest.importorskip("dynamo.mocker", reason="the dynamo extra is not installed")
pytest.importorskip("dynamo.frontend", reason="the dynamo extra is not installed")
if shutil.which("prometheus") is None:
    pytest.skip("the prometheus binary is not installed", allow_module_level=True)

from gametheory.deploy import DeploymentSpec
from gametheory.deploy.adaptive import (
    adaptive_thresholds,
    dynamo_adaptive_comparison,
    dynamo_adaptive_scorecard_rows,
    ttft_p99_reduction,
)
from gametheory.deploy.loadgen import find_aiperf

if find_aiperf() is None:
    pytest.skip("aiperf is not installed (pip install aiperf==0.13.0)", allow_module_level=True)

N_REQUESTS = 40


@pytest.mark.slow
def test_static_against_adaptive_on_a_real_dynamo_paired_over_seeds(tmp_path: Path) -> None:
    spec = DeploymentSpec.build("1P2D", speedup_ratio=2.0, max_num_seqs=2)
    low, high = adaptive_thresholds(spec)
    assert 0 < low < high
    result = dynamo_adaptive_comparison(
        spec, tmp_path, concurrency=16, n_requests=N_REQUESTS, seeds=(0, 1)
    )
    ps = result.per_seed
    assert ps["seed"].tolist() == [0, 1]
    assert result.converged  # every aiperf run completed its requests
    assert (ps["n_requests_static"] == N_REQUESTS).all()
    assert (ps["switches_static"] == 0).all()
    assert (ps["switches_adaptive"] >= 1).all()  # 16 users on 4 slots: past the threshold
    assert (ps["ttft_ms_p99_static"] > high * 1e3).all()
    for policy, pairs in (("static", {(1.0, 0.0)}), ("adaptive", {(1.0, 0.0), (0.1, 0.8)})):
        for seed in (0, 1):
            log = tmp_path / "1P2D" / f"seed{seed}-{policy}" / "logs" / "front_decisions.jsonl"
            rows = [json.loads(line) for line in log.read_text().splitlines() if line]
            assert {(r["omega"], r["tau"]) for r in rows} == pairs
            assert sum(r["stage"] == "decode" for r in rows) == N_REQUESTS
    for value, (lo, hi) in (
        (result.poa_reduction, result.poa_reduction_ci),
        (result.throughput_cost, result.throughput_cost_ci),
        ttft_p99_reduction(result),
    ):
        assert math.isfinite(lo) and lo <= value <= hi
    assert result.poa_reduction == pytest.approx(
        float((ps["poa_hat_static"] / ps["poa_hat_adaptive"]).mean())
    )
    rows = dynamo_adaptive_scorecard_rows(result)
    assert [r["claim"] for r in rows] == [
        "PoA-hat reduction, adaptive vs static",
        "TTFT P99 reduction, adaptive vs static",
    ]  # the paper states no throughput cost for 1P/2D
    assert {r["source"] for r in rows} == {"Dynamo mocker"}
    assert all(r["topology"] == "1P/2D" for r in rows)
