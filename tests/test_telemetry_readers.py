"""Readers of real telemetry formats: aiperf, genai-perf, Prometheus, Dynamo router logs,
aiconfigurator silicon tables."""

from __future__ import annotations

import json
from pathlib import Path

import genai_perf_exports
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import TelemetryError
from gametheory.telemetry import (
    SCHEMAS,
    histogram_quantile,
    increase,
    rate,
    read_aiconfigurator,
    read_aiperf_aggregate,
    read_aiperf_records,
    read_aiperf_sweep,
    read_genai_perf,
    read_prometheus,
    read_report,
    read_router_log,
    series,
)
from gametheory.telemetry.aggregate import summarize_requests
from gametheory.telemetry.schemas import conform

DATA = Path(__file__).parent / "data" / "telemetry"


def _has_schema(frame: pd.DataFrame, kind: str) -> None:
    cols = SCHEMAS[kind]
    assert list(frame.columns) == [c.name for c in cols]
    for c in cols:
        assert str(frame[c.name].dtype) == str(pd.Series([], dtype=c.dtype).dtype), c.name


# --- aiperf -------------------------------------------------------------------------


def test_aiperf_records_recompute_aggregate(shared_data: Path) -> None:
    run = shared_data / "telemetry" / "aiperf-run1"
    reqs = read_aiperf_records(run / "profile_export.jsonl")
    _has_schema(reqs, "requests")
    assert len(reqs) == 100 and read_report(reqs).skipped == 0
    assert int(reqs["cancelled"].sum()) == 11
    assert (reqs["concurrency"] == 100).all()  # from the aggregate's input config
    row = summarize_requests(reqs, deployment="gpt-oss-20b")
    agg = json.loads((run / "profile_export_aiperf.json").read_text())["records"]
    assert row["n_requests"] == agg["request_count"]["avg"] == 89
    assert row["ttft_ms_p50"] == pytest.approx(agg["ttft"]["p50"], rel=1e-12)
    assert row["ttft_ms_p99"] == pytest.approx(agg["ttft"]["p99"], rel=1e-12)
    assert row["ttft_ms_avg"] == pytest.approx(agg["ttft"]["avg"], rel=1e-12)
    assert row["request_throughput"] == pytest.approx(agg["request_throughput"]["avg"], rel=1e-6)


def test_aiperf_aggregate_generations_share_schema(shared_data: Path) -> None:
    tel = shared_data / "telemetry"
    early = read_aiperf_aggregate(tel / "aiperf-run1" / "profile_export_aiperf.json")
    early_csv = read_aiperf_aggregate(tel / "aiperf-run1" / "profile_export_aiperf.csv")
    v08 = read_aiperf_aggregate(tel / "aiperf-0.8-schema" / "profile_export_aiperf.json")
    v08_csv = read_aiperf_aggregate(tel / "aiperf-0.8-schema" / "profile_export_aiperf.csv")
    for frame in (early, early_csv, v08, v08_csv):
        _has_schema(frame, "sweep")
        assert len(frame) == 1
    assert early["concurrency"].iloc[0] == 100
    assert early["deployment"].iloc[0] == "openai/gpt-oss-20b"
    assert early["ttft_ms_p99"].iloc[0] == pytest.approx(3833.3894000399996)
    assert early_csv["ttft_ms_p99"].iloc[0] == pytest.approx(3833.39)
    assert early_csv["n_requests"].iloc[0] == 89
    assert v08["concurrency"].iloc[0] == 4
    assert v08["deployment"].iloc[0] == "mock-model"
    assert read_report(v08).format == "aiperf-json-1.0"
    assert v08["latency_ms_p99"].iloc[0] == pytest.approx(15.14387014)
    assert v08_csv["latency_ms_p99"].iloc[0] == pytest.approx(15.14)
    assert v08_csv["request_throughput"].iloc[0] == pytest.approx(1854.93)


def _write_jsonl(path: Path, ttfts: list[float], *, start: int = 0) -> None:
    lines = []
    for i, t in enumerate(ttfts):
        rec = {
            "metadata": {"x_request_id": f"r{start + i}", "timestamp_ns": 10**18 + i * 10**6},
            "metrics": {
                "ttft": {"value": t, "unit": "ms"},
                "request_latency": {"value": 10 * t, "unit": "ms"},
                "output_sequence_length": {"value": 100, "unit": "tokens"},
            },
            "error": None,
        }
        lines.append(json.dumps(rec))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def test_aiperf_sweep_folder_concurrency_from_names(tmp_path: Path) -> None:
    _write_jsonl(tmp_path / "llama-concurrency4" / "profile_export.jsonl", [10.0, 20.0, 30.0])
    _write_jsonl(tmp_path / "llama-concurrency16" / "profile_export.jsonl", [40.0, 50.0])
    _write_jsonl(tmp_path / "run" / "concurrency_8" / "profile_export.jsonl", [15.0, 25.0])
    sweep = read_aiperf_sweep(tmp_path, deployment="llama")
    _has_schema(sweep, "sweep")
    assert sweep["concurrency"].tolist() == [4.0, 8.0, 16.0]
    assert sweep["ttft_ms_p50"].tolist() == [20.0, 20.0, 45.0]
    assert sweep["n_requests"].tolist() == [3.0, 2.0, 2.0]


def test_aiperf_records_fast_and_slow_paths_agree(tmp_path: Path) -> None:
    fast = tmp_path / "a" / "profile_export.jsonl"
    _write_jsonl(fast, [1.5, 2.5, 3.5, 4.5])
    slow = tmp_path / "b" / "profile_export.jsonl"
    slow.parent.mkdir()
    slow.write_bytes(b"\xef\xbb\xbf" + fast.read_bytes().replace(b"\n", b"\r\n"))
    a, b = read_aiperf_records(fast), read_aiperf_records(slow)
    pd.testing.assert_frame_equal(a.drop(columns="source"), b.drop(columns="source"))


def test_aiperf_records_count_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "profile_export.jsonl"
    _write_jsonl(path, [1.0, -2.0, 3.0])
    text = path.read_text()
    first = text.splitlines()[0]
    path.write_text(text + first + "\n" + '{"metadata": {"x_request_id": "tr\n')
    frame = read_aiperf_records(path)
    rep = read_report(frame)
    assert len(frame) == 2
    assert rep.skipped == 3
    assert rep.reasons == {
        "negative ttft_ms": 1,
        "duplicate request_id": 1,
        "not valid JSON (truncated?)": 1,
    }
    assert rep.first_lines["negative ttft_ms"] == 2


def test_aiperf_errors_name_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "profile_export_aiperf.json"
    bad.write_text('{\n  "records": {\n    "ttft": {"avg": 1.0,\n')
    with pytest.raises(TelemetryError) as info:
        read_aiperf_aggregate(bad)
    assert info.value.file == str(bad) and info.value.line == 4
    with pytest.raises(TelemetryError, match="no such file"):
        read_aiperf_records(tmp_path / "missing.jsonl")


# --- genai-perf ---------------------------------------------------------------------


def test_genai_perf_json_and_csv_with_thousands_separators(tmp_path: Path) -> None:
    root = genai_perf_exports.write_sweep(tmp_path)
    deployment = genai_perf_exports.DEPLOYMENT
    js = read_genai_perf(root / f"{deployment}-concurrency8" / "profile_export_genai_perf.json")
    csv = read_genai_perf(root / f"{deployment}-concurrency32" / "profile_export_genai_perf.csv")
    _has_schema(js, "sweep")
    _has_schema(csv, "sweep")
    assert js["concurrency"].iloc[0] == 8 and csv["concurrency"].iloc[0] == 32
    assert js["ttft_ms_p99"].iloc[0] == 402.3
    assert csv["ttft_ms_p99"].iloc[0] == 2401.0
    assert csv["ttft_ms_avg"].iloc[0] == 1024.5
    assert csv["latency_ms_p50"].iloc[0] == 3400.0
    assert csv["output_token_throughput"].iloc[0] == 1845.2
    assert csv["n_requests"].iloc[0] == 1000
    assert csv["deployment"].iloc[0] == js["deployment"].iloc[0] == "llama-3-8b-openai-chat"


# --- Prometheus ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "family"),
    [
        ("frontend_scrape.prom", "dynamo_frontend_time_to_first_token_seconds"),
        ("vllm_worker_scrape.prom", "vllm:kv_cache_usage_perc"),
        ("sglang_worker_scrape.prom", "sglang:cache_hit_rate"),
    ],
)
def test_dynamo_scrapes_parse(shared_data: Path, name: str, family: str) -> None:
    path = shared_data / "telemetry" / "dynamo-metrics" / name
    frame = read_prometheus(path)
    _has_schema(frame, "samples")
    sample_lines = [
        ln for ln in path.read_text().splitlines() if ln.strip() and not ln.startswith("#")
    ]
    assert len(frame) == len(sample_lines)
    assert read_report(frame).skipped == 0
    assert family in set(frame["family"])


def test_histogram_quantile_matches_hand_computation(shared_data: Path) -> None:
    frame = read_prometheus(shared_data / "telemetry" / "dynamo-metrics" / "frontend_scrape.prom")
    fam = "dynamo_frontend_inter_token_latency_seconds"
    # Buckets: le=0.0019 -> 21, le=0.0035 -> 298, ..., +Inf -> 299.
    # q=0.5: rank 149.5 in (0.0019, 0.0035]: 0.0019 + 0.0016 * (149.5 - 21) / 277.
    q50 = histogram_quantile(0.5, frame, fam)["quantile"].iloc[0]
    assert q50 == pytest.approx(0.0019 + 0.0016 * (149.5 - 21) / 277, rel=1e-12)
    q99 = histogram_quantile(0.99, frame, fam)["quantile"].iloc[0]
    assert q99 == pytest.approx(0.0019 + 0.0016 * (0.99 * 299 - 21) / 277, rel=1e-12)
    # Lowest bucket starts at 0 when its bound is positive; +Inf rank -> last finite bound.
    q0 = histogram_quantile(0.01, frame, fam)["quantile"].iloc[0]
    assert q0 == pytest.approx(0.0019 * (0.01 * 299) / 21)
    assert histogram_quantile(1.5, frame, fam)["quantile"].iloc[0] == np.inf


def test_rate_handles_counter_reset(tmp_path: Path) -> None:
    files = []
    for i, (a, b) in enumerate([(10, 100), (40, 130), (5, 190)]):  # series a resets
        f = tmp_path / f"s{i}.prom"
        f.write_text(
            "# TYPE tok counter\n"
            f'tok_total{{w="a"}} {a} {1000 * (60 + 10 * i)}\n'
            f'tok_total{{w="b"}} {b} {1000 * (60 + 10 * i)}\n'
        )
        files.append(f)
    frame = read_prometheus(files)
    r = rate(frame, "tok_total")
    assert r.index.tolist() == [70.0, 80.0]
    assert r.tolist() == pytest.approx([(30 + 30) / 10, (5 + 60) / 10])
    assert rate(frame, "tok_total", {"w": "b"}).tolist() == pytest.approx([3.0, 6.0])
    with pytest.raises(TelemetryError):
        rate(read_prometheus(DATA / "dcgm_scrape.prom"), "DCGM_FI_DEV_GPU_UTIL")


def test_scrape_series_and_dcgm(tmp_path: Path) -> None:
    texts = [
        f'# TYPE reqs counter\nreqs_total{{model="m"}} {v} {1700000000000 + 15000 * i}\n'
        for i, v in enumerate((3, 7, 12))
    ]
    files = []
    for i, text in enumerate(texts):
        f = tmp_path / f"scrape_{i}.prom"
        f.write_text(text)
        files.append(f)
    frame = read_prometheus(tmp_path)
    s = series(frame, "reqs_total")
    assert s.tolist() == [3.0, 7.0, 12.0]
    assert s.index.tolist() == [1700000000.0, 1700000015.0, 1700000030.0]
    assert rate(frame, "reqs_total").tolist() == pytest.approx([4 / 15, 5 / 15])
    dcgm = read_prometheus(DATA / "dcgm_scrape.prom")
    util = dcgm[dcgm["family"] == "DCGM_FI_DEV_GPU_UTIL"]["value"].tolist()
    assert util == [87.0, 64.0]


# --- Dynamo router logs -------------------------------------------------------------


def test_router_log_sample_one_decision(shared_data: Path) -> None:
    frame = read_router_log(
        shared_data / "telemetry" / "dynamo-router-logs" / "kv_router_scheduler_v0.6.log"
    )
    _has_schema(frame, "decisions")
    assert len(frame) == 2 and frame["decision"].nunique() == 1
    assert frame["cost"].tolist() == [0.812, 0.812]
    assert frame["chosen"].tolist() == [True, False]
    assert frame["worker"].iloc[0] == "2733854498618856965"


def test_router_log_new_shape_with_ansi() -> None:
    frame = read_router_log(DATA / "kv_router_new_shape.log")
    assert frame["decision"].tolist() == [0, 0, 0, 1, 1, 1]
    assert frame["worker"].tolist() == ["7001", "7002", "7003"] * 2
    assert frame["prefill_cost"].tolist() == [2.5, 6.5, 6.5, 3.0, 1.0, 3.0]
    assert frame["decode_blocks"].tolist() == [4.0, 1.0, 2.0, 10.0, 1.0, 2.0]
    assert frame["cached_blocks"].tolist() == [4.0, 0.0, 0.0, 0.0, 2.0, 0.0]
    assert frame.loc[frame["chosen"], "worker"].tolist() == ["7001", "7002"]


def test_router_log_truncated_counts_orphans(tmp_path: Path) -> None:
    lines = (DATA / "kv_router_new_shape.log").read_bytes().split(b"\n")
    path = tmp_path / "cut.log"
    path.write_bytes(b"\n".join(lines[:7]))  # second decision lacks its Selected line
    frame = read_router_log(path)
    rep = read_report(frame)
    assert len(frame) == 3
    assert rep.reasons == {"candidate lines without a Selected line": 2}


# --- aiconfigurator -----------------------------------------------------------------


def test_aiconfigurator_sweeps(shared_data: Path) -> None:
    sweep = read_aiconfigurator(shared_data / "telemetry" / "aiconfigurator" / "silicon_sample.csv")
    _has_schema(sweep, "sweep")
    rep = read_report(sweep)
    assert rep.reasons == {"no silicon_concurrency in silicon_data_source": 19}
    assert int(sweep["n_runs"].sum()) + rep.skipped == 5221
    levels = sweep.groupby("deployment")["concurrency"].nunique()
    assert (levels >= 5).sum() == 467
    llama = levels[levels.index.str.startswith("Llama-3.1-70B|b200_sxm|")]
    assert len(llama) == 48 and (llama >= 5).all()
    name = "Llama-3.1-70B|b200_sxm|trtllm|fp8|agg|8192x1024|fp8|tp1pp1dp1ep1mtp1"
    one = sweep[sweep["deployment"] == name]
    assert one["concurrency"].tolist() == [4.0, 8.0, 16.0, 32.0, 64.0, 128.0]
    # Little's law: C / (TTFT + (OSL - 1) TPOT).
    row = one.iloc[0]
    assert row["request_throughput"] == pytest.approx(
        4 / ((row["ttft_ms_avg"] + 1023 * row["itl_ms_avg"]) / 1e3)
    )


def test_aiconfigurator_missing_column(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("id,model_path\n1,x\n")
    with pytest.raises(TelemetryError) as info:
        read_aiconfigurator(path)
    assert info.value.line == 1 and info.value.field == "silicon_data_source"


def test_aiperf_flat_mid2025_layout(tmp_path: Path) -> None:
    run = tmp_path / "qwen-concurrency16"
    run.mkdir()
    doc = {
        "ttft": {"tag": "ttft", "unit": "s", "avg": 0.25, "p50": 0.2, "p90": 0.4, "p99": 0.9},
        "inter_token_latency": {"unit": "ms", "avg": 11.0, "p50": 10.5, "p99": 19.0},
        "request_throughput": {"unit": "requests/sec", "avg": 31.5},
        "request_count": {"unit": "requests", "avg": 1000},
        "input_config": {"endpoint": {"model_names": ["Qwen/Qwen3-0.6B"]}},
    }
    (run / "profile_export_aiperf.json").write_text(json.dumps(doc))
    frame = read_aiperf_aggregate(run / "profile_export_aiperf.json")
    row = frame.iloc[0]
    assert row["concurrency"] == 16  # from the folder name
    assert row["deployment"] == "qwen"
    assert row["ttft_ms_p99"] == pytest.approx(900.0)  # seconds converted to ms
    assert row["itl_ms_p50"] == 10.5 and row["n_requests"] == 1000


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(0, 50), min_size=1, max_size=8),
    q=st.floats(0.0, 1.0),
)
def test_histogram_quantile_properties(counts: list[int], q: float) -> None:
    bounds = np.cumsum(np.arange(1, len(counts) + 1, dtype=float))
    cumulative = np.cumsum(counts)
    rows = [
        {
            "scrape": 0,
            "family": "h",
            "type": "histogram",
            "metric": "h_bucket",
            "labels": "",
            "le": b,
            "value": float(c),
        }
        for b, c in zip([*bounds, np.inf], [*cumulative, cumulative[-1]])
    ]
    frame = conform(pd.DataFrame(rows), "samples")
    value = histogram_quantile(q, frame, "h")["quantile"].iloc[0]
    if cumulative[-1] == 0:
        assert np.isnan(value)
        return
    assert 0.0 <= value <= bounds[-1]
    # The fraction of observations at or below the estimate is at least q's rank,
    # counting the bucket it falls in fully.
    bucket = int(np.searchsorted(bounds, value, side="left"))
    assert cumulative[min(bucket, len(counts) - 1)] >= q * cumulative[-1] - 1e-9
    higher = histogram_quantile(min(1.0, q + 0.1), frame, "h")["quantile"].iloc[0]
    assert higher >= value - 1e-12


def test_increase_per_scrape_with_resets_and_labels(shared_data: Path) -> None:
    one = read_prometheus(shared_data / "telemetry" / "dynamo-metrics" / "frontend_scrape.prom")
    # Three scrapes: the file, every counter tripled, then the file again (a reset).
    scrapes = pd.concat(
        [one, one.assign(scrape=1, value=one["value"] * 3), one.assign(scrape=2)],
        ignore_index=True,
    )
    tokens = increase(scrapes, "dynamo_frontend_output_tokens_total")
    assert tokens["value"].tolist() == [300.0, 600.0, 300.0]
    family = "dynamo_frontend_time_to_first_token_seconds"
    buckets = increase(scrapes, f"{family}_bucket", {"model": "qwen/qwen3-0.6b"})
    assert buckets.groupby("scrape")["value"].max().tolist() == [1.0, 2.0, 1.0]
    # The quantile of each interval's observations equals that of the first scrape.
    q = histogram_quantile(0.5, buckets, family, by=())["quantile"].to_numpy()
    np.testing.assert_allclose(q, q[0])
    with pytest.raises(TelemetryError, match="no samples"):
        increase(scrapes, f"{family}_bucket", {"model": "other"})
