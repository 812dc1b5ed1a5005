"""Simulator output is telemetry: schemas, and round trips through the library's own
readers (aiperf records, Dynamo router logs, Prometheus scrapes, ``load``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gametheory.control import AdaptiveController, parameters_from_scrape
from gametheory.sim import (
    EPOCH_NS,
    Cluster,
    make_policy,
    paper_workload,
    poisson_arrivals,
    router_log_lines,
    simulate,
    sweep_row,
    write_aiperf,
    write_prometheus,
    write_router_log,
    write_telemetry,
)
from gametheory.sim.results import SimulationResult
from gametheory.telemetry import (
    histogram_quantile,
    load,
    poa_hat,
    read_aiperf_records,
    read_prometheus,
    read_report,
    read_router_log,
)
from gametheory.telemetry.schemas import SCHEMAS, conform


@pytest.fixture(scope="module")
def run() -> SimulationResult:
    cluster = Cluster.build(n_prefill=1, n_decode=3, tp_prefill=4, tp_decode=4)
    return simulate(
        cluster, paper_workload(500, output_tokens=64), make_policy("kv", tau=0.2), concurrency=32
    )


@pytest.mark.parametrize("kind", ["requests", "decisions", "samples"])
def test_frames_conform_to_schemas(run: SimulationResult, kind: str) -> None:
    frame = getattr(run, kind)
    assert list(frame.columns) == [c.name for c in SCHEMAS[kind]]
    assert [str(t) for t in frame.dtypes] == [c.dtype for c in SCHEMAS[kind]]
    pd.testing.assert_frame_equal(conform(frame, kind), frame, check_exact=True)
    report = read_report(frame)
    assert report.format == f"simulator-{kind}"
    assert report.rows == len(frame) and report.skipped == 0


def _same(a: pd.DataFrame, b: pd.DataFrame, skip: tuple[str, ...] = ("source",)) -> None:
    cols = [c for c in a.columns if c not in skip]
    pd.testing.assert_frame_equal(
        a[cols].reset_index(drop=True), b[cols].reset_index(drop=True), check_exact=False
    )


def test_aiperf_round_trip(run: SimulationResult, tmp_path: Path) -> None:
    path = write_aiperf(run, tmp_path / "profile_export.jsonl")
    back = read_aiperf_records(path, concurrency=32)
    assert read_report(back).skipped == 0
    # repr precision: the values come back exactly
    _same(run.requests, back)
    pd.testing.assert_series_equal(run.requests["ttft_ms"], back["ttft_ms"], check_exact=True)


def test_router_log_round_trip(run: SimulationResult, tmp_path: Path) -> None:
    lines = router_log_lines(run.decisions)
    assert len(lines) == 500 * 4  # three candidates and a Selected line per decision
    assert "Formula for 0 with" in lines[0] and 'request{request_id="0"}' in lines[0]
    back = read_router_log(write_router_log(run, tmp_path / "router.log"))
    assert read_report(back).skipped == 0
    a = run.decisions
    for col in ("decision", "request_id", "worker", "chosen"):
        pd.testing.assert_series_equal(a[col], back[col])
    for col in ("cost", "prefill_blocks", "decode_blocks", "cached_blocks", "prefill_weight"):
        np.testing.assert_allclose(back[col], a[col], atol=1e-6)
    # timestamps to the microsecond
    gap = (back["time"] - a["time"]).dt.total_seconds().abs().max()
    assert gap < 1e-6
    # the estimator gives the same answer on the log as on the simulator's own frame
    assert poa_hat(back).poa_hat == pytest.approx(poa_hat(a).poa_hat, rel=1e-6)


def test_prometheus_round_trip(run: SimulationResult, tmp_path: Path) -> None:
    paths = write_prometheus(run, tmp_path / "metrics")
    assert len(paths) == run.samples["scrape"].nunique()
    back = read_prometheus(tmp_path / "metrics")
    _same(run.samples, back)
    # sample times are Unix seconds: simulated time + the epoch
    assert back["time"].min() == pytest.approx(EPOCH_NS / 1e9 + 1.0)
    # the last scrape's histogram counts every request, and quantiles agree with the data
    last = back[back["scrape"] == back["scrape"].max()]
    family = "dynamo_frontend_time_to_first_token_seconds"
    count = last.loc[last["metric"] == f"{family}_count", "value"].iloc[0]
    assert count == 500
    p50 = float(histogram_quantile(0.5, last, family)["quantile"].iloc[0])
    ttft = run.requests["ttft_ms"].to_numpy() / 1e3
    bounds = np.array([0.05, 0.1, 0.25, 0.5])
    k = np.searchsorted(bounds, np.median(ttft))
    assert bounds[k - 1] <= p50 <= bounds[k]


def test_controller_reads_simulated_scrapes(run: SimulationResult, tmp_path: Path) -> None:
    write_prometheus(run, tmp_path / "m")
    table = parameters_from_scrape(read_prometheus(tmp_path / "m"), AdaptiveController())
    assert len(table) == run.samples["scrape"].nunique()
    assert np.all(np.isfinite(table["omega"])) and np.all(table["ttft_p99_s"].dropna() > 0)


def test_load_round_trip(run: SimulationResult, tmp_path: Path) -> None:
    folder = write_telemetry(run, tmp_path)
    assert folder.name.endswith("-concurrency32")
    data = load(tmp_path)
    assert data.notes == ()
    assert data.skipped == 0
    _same(run.requests, data.requests)
    _same(run.samples, data.samples)
    np.testing.assert_allclose(data.decisions["cost"], run.decisions["cost"], atol=1e-6)
    assert len(data.sweep) == 1
    row = data.sweep.iloc[0]
    ours = sweep_row(run)
    assert row["concurrency"] == 32 and ours["concurrency"] == 32
    for col in ("n_requests", "ttft_ms_p50", "ttft_ms_p99", "itl_ms_avg", "request_throughput"):
        assert row[col] == pytest.approx(ours[col], rel=1e-9)
    assert ours["request_throughput"] == pytest.approx(run.request_throughput, rel=1e-6)


def test_open_loop_folder_and_empty_log(tmp_path: Path) -> None:
    cluster = Cluster.build(n_prefill=1, n_decode=2, tp_prefill=4, tp_decode=4)
    w = poisson_arrivals(paper_workload(50), rate=10.0)
    res = simulate(cluster, w, "round_robin")
    assert write_telemetry(res, tmp_path).name.endswith("-open-loop")
    assert router_log_lines(res.decisions.iloc[0:0]) == []


def test_samples_are_cumulative(run: SimulationResult) -> None:
    s = run.samples
    family = "dynamo_frontend_time_to_first_token_seconds"
    count = s[s["metric"] == f"{family}_count"].sort_values("scrape")["value"].to_numpy()
    started = s[s["metric"] == "dynamo_frontend_requests_total"]["value"].to_numpy()
    inflight = s[s["metric"] == "dynamo_frontend_inflight_requests"]["value"].to_numpy()
    assert np.all(np.diff(count) >= 0) and np.all(np.diff(started) >= 0)
    np.testing.assert_array_equal(inflight, started - count)
    buckets = s[s["metric"] == f"{family}_bucket"]
    per = buckets.pivot(index="scrape", columns="le", values="value").to_numpy()
    assert np.all(np.diff(per, axis=1) >= 0)  # cumulative over bounds
    np.testing.assert_array_equal(per[:, -1], count)  # +Inf bucket = count
    # first tokens in each scrape interval: exactly those whose first token is that old
    first_s = (run.requests["start_ns"].to_numpy() - EPOCH_NS) / 1e9 + run.requests[
        "ttft_ms"
    ].to_numpy() / 1e3
    times = s[s["metric"] == f"{family}_count"]["time"].to_numpy() - EPOCH_NS / 1e9
    expect = [(first_s <= t + 1e-9).sum() for t in times]
    np.testing.assert_array_equal(count, expect)
