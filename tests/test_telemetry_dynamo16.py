"""Readers of what Dynamo 1.6 and aiperf 0.13 write, on excerpts of real files (the
files the real tools write in a test are read in tests/test_deploy_dynamo.py)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from gametheory.errors import TelemetryError
from gametheory.telemetry import (
    SCHEMAS,
    detect_format,
    histogram_quantile,
    load,
    read_report,
    read_router_log,
    series,
)
from gametheory.telemetry.readers.aiperf_server import read_aiperf_server_metrics

DATA = Path(__file__).parent / "data" / "telemetry"
LOG = DATA / "dynamo_1.6_frontend.log"
SERVER = DATA / "aiperf_0.13_server_metrics_export.json"

_LINE = (
    "2026-12-08T00:13:48.732059Z  INFO dynamo_kv_router::scheduling::selector: Selected worker "
    'router_mode="kv" request_id="{rid}" worker_id={wid} worker_type={stage} dp_rank={rank} '
    "logit={logit} effective_cached_blocks={cached} host_pinned_blocks=0 disk_blocks=0 "
    "total_kv_blocks=Some(16384)"
)


def _line(**kw: object) -> str:
    values: dict[str, object] = {
        "rid": "r1",
        "wid": "7",
        "stage": "prefill",
        "rank": 0,
        "logit": 2.0,
        "cached": 0.0,
    }
    values.update(kw)
    return _LINE.format(**values)


def test_dynamo_16_log_with_ansi_both_stages() -> None:
    frame = read_router_log(LOG)
    assert list(frame.columns) == [c.name for c in SCHEMAS["decisions"]]
    assert read_report(frame).skipped == 0
    assert len(frame) == 12 and frame["decision"].tolist() == list(range(12))
    assert frame["stage"].value_counts().to_dict() == {"prefill": 8, "decode": 4}
    assert frame["chosen"].all()
    # prefill logits grow by 2 blocks (128 tokens / 64) per request in flight
    assert frame.loc[frame["stage"] == "prefill", "cost"].tolist() == [2.0 * k for k in range(1, 9)]
    assert frame.loc[frame["stage"] == "decode", "cached_blocks"].isna().all()
    assert frame["time"].notna().all() and str(frame["time"].dt.tz) == "UTC"
    assert frame.loc[0, "request_id"] == "f5a0eb46-2d8b-4f42-a5ed-d6684a1275f1"
    assert detect_format(LOG) == "router-log"


def test_dynamo_16_bad_lines_are_counted(tmp_path: Path) -> None:
    lines = [
        _line(),
        _line(rid="r2", logit=-1.0),
        _line(rid="r3", logit="nan"),
        _line(rid="r4", logit="x1"),
        _line(rid="r5", cached=-3),
        _line(rid="r6", rank=1, stage="decode"),
        'Selected worker router_mode="kv" request_id="r7" worker_type=decode',
    ]
    path = tmp_path / "frontend.log"
    path.write_text("\n".join(lines) + "\n")
    frame = read_router_log(path)
    assert frame["request_id"].tolist() == ["r1", "r6"]
    assert frame["worker"].tolist() == ["7", "7-dp1"]
    assert read_report(frame).reasons == {
        "negative cost term": 2,
        "NaN or infinite cost term": 1,
        "unparseable number in Selected line": 1,
        "malformed Selected line": 1,
    }


def test_old_and_new_shapes_in_one_log(tmp_path: Path) -> None:
    old = (DATA / "kv_router_new_shape.log").read_text()
    path = tmp_path / "mixed.log"
    path.write_text(old + "\n" + _line(rid="late") + "\n")
    frame = read_router_log(path)
    assert frame["decision"].nunique() == 3
    assert frame["stage"].isna().sum() == 6 and frame["stage"].iloc[-1] == "prefill"


def test_server_metrics_export_is_a_scrape() -> None:
    frame = read_aiperf_server_metrics(SERVER)
    assert list(frame.columns) == [c.name for c in SCHEMAS["samples"]]
    rep = read_report(frame)
    assert rep.skipped == 0 and rep.format == "aiperf-server-metrics"
    assert (frame["scrape"] == 0).all()
    doc = json.loads(SERVER.read_text())
    assert frame["time"].iloc[0] == doc["summary"]["phase_time_ranges"]["profiling"]["end_ns"] / 1e9
    assert series(frame, "dynamo_frontend_requests_total").iloc[0] == 32.0
    ttft = doc["metrics"]["dynamo_frontend_time_to_first_token_seconds"]["series"][0]
    q = histogram_quantile(0.5, frame, "dynamo_frontend_time_to_first_token_seconds")
    # PromQL's interpolation inside the bucket holding the median (aiperf's own
    # p50_estimate interpolates differently, within the same bucket)
    bounds = [(float(le), n) for le, n in ttft["buckets"].items()]
    half = ttft["stats"]["count"] / 2
    b = next(i for i, (_, n) in enumerate(bounds) if n >= half)
    (lo, below), (hi, upto) = bounds[b - 1], bounds[b]
    expected = lo + (hi - lo) * (half - below) / (upto - below)
    assert q["quantile"].iloc[0] == pytest.approx(expected)
    assert lo <= ttft["stats"]["p50_estimate"] <= hi
    assert 'instance="127.0.0.1:' in q["labels"].iloc[0]
    gauge = frame[frame["family"] == "dynamo_frontend_inflight_requests"]
    avg = doc["metrics"]["dynamo_frontend_inflight_requests"]["series"][0]["stats"]["avg"]
    assert gauge["value"].tolist() == [avg]
    # a histogram without observations has count 0 and no sum: both read as 0
    empty = frame[frame["metric"].str.startswith("dynamo_frontend_tokenize_seconds_")]
    assert set(empty.loc[~empty["metric"].str.endswith("_bucket"), "value"]) == {0.0}


def test_server_metrics_bad_series_are_counted(tmp_path: Path) -> None:
    doc = json.loads(SERVER.read_text())
    doc["metrics"]["broken"] = {"type": "counter", "series": [{"stats": {"total": "many"}}]}
    doc["metrics"]["odd"] = {"type": "info", "series": []}
    doc["metrics"]["nobuckets"] = {"type": "histogram", "series": [{"stats": {"count": 1}}]}
    path = tmp_path / "server_metrics_export.json"
    path.write_text(json.dumps(doc))
    rep = read_report(read_aiperf_server_metrics(path))
    assert rep.reasons == {
        "broken: non-numeric total": 1,
        "metric type 'info' not read": 1,
        "nobuckets: histogram without buckets": 1,
    }
    path.write_text('{"schema_version": "1.1"}')
    with pytest.raises(TelemetryError, match="metrics"):
        read_aiperf_server_metrics(path)
    path.write_text("{")
    with pytest.raises(TelemetryError, match="not valid JSON"):
        read_aiperf_server_metrics(path)


def test_loader_reads_server_metrics_as_samples_not_a_summary_row(tmp_path: Path) -> None:
    (tmp_path / "server_metrics_export.json").write_text(SERVER.read_text())
    (tmp_path / "server_metrics_export.csv").write_text("# AIPerf Server Metrics Export (CSV)\n")
    assert detect_format(tmp_path / "server_metrics_export.json") == "aiperf-server-metrics"
    data = load(tmp_path)
    assert len(data.sweep) == 0
    assert len(data.samples) == len(read_aiperf_server_metrics(SERVER))
    assert any("JSON export beside it was used" in n for n in data.notes)
    assert isinstance(data.samples, pd.DataFrame)


def test_dynamo_16_query_and_pinned_lines(tmp_path: Path) -> None:
    # what the router binding logs for best_worker() without a request id, then for a
    # request sent to the chosen worker (tests/test_deploy_dynamo.py makes the real ones)
    query = _line(rid="-", stage="decode", logit=4.0).replace(" effective_cached_blocks=0.0", "")
    pinned = (
        "2026-12-08T00:20:29.085422Z  INFO dynamo_kv_router::scheduling::selector: Selected "
        "pinned worker: worker_type=decode, worker_id=14014035533388012099 dp_rank=0, "
        'logit: 4.000, effective cached blocks: 0.00 request_id="a4f58614-7574"'
    )
    path = tmp_path / "probe_router.log"
    path.write_text(f"{query}\n{pinned}\n")
    frame = read_router_log(path)
    assert read_report(frame).skipped == 0
    assert frame["request_id"].tolist() == ["-", "a4f58614-7574"]
    assert frame["worker"].tolist() == ["7", "14014035533388012099"]
    assert frame["cost"].tolist() == [4.0, 4.0]
    assert frame["cached_blocks"].isna().tolist() == [True, False]
    assert frame["stage"].tolist() == ["decode", "decode"]


def test_one_pass_reading_equals_the_line_parser(tmp_path: Path) -> None:
    from gametheory.telemetry.readers.router_logs import _fast_structured, parse_router_lines
    from gametheory.telemetry.validation import Skips

    text = LOG.read_text()
    plain = tmp_path / "plain.log"
    plain.write_text(re.sub(r"\x1b\[[0-9;]*m", "", text))
    for path in (LOG, plain):
        content = path.read_text()
        assert _fast_structured(content, str(path)) is not None
        slow = parse_router_lines(content.splitlines(), str(path), Skips())
        pd.testing.assert_frame_equal(read_router_log(path), slow)
    # anything irregular goes to the line parser, which names it
    bad = tmp_path / "bad.log"
    bad.write_text(text + _line(logit=-2.0) + "\n")
    assert _fast_structured(bad.read_text(), str(bad)) is None
    assert read_report(read_router_log(bad)).reasons == {"negative cost term": 1}


def test_poa_hat_refuses_a_log_of_chosen_workers_only() -> None:
    from gametheory.telemetry import poa_hat

    with pytest.raises(TelemetryError, match="single candidate"):
        poa_hat(read_router_log(LOG))


def test_dynamo_16_json_lines_log(tmp_path: Path) -> None:
    # two records of a real frontend run with DYN_LOGGING_JSONL=1 (file and line trimmed)
    lines = [
        '{"time":"2026-12-08T00:59:39.862268Z","level":"INFO","target":"dynamo_kv_router::'
        'scheduling::selector","message":"Selected worker","disk_blocks":0,"dp_rank":"0",'
        '"effective_cached_blocks":0.0,"host_pinned_blocks":0,"logit":2.8125,"request_id":'
        '"d2420ba0-c029-42b1-bd0d-2806387de56f","router_mode":"kv","total_kv_blocks":'
        '"Some(55065)","worker_id":13205310165092700716,"worker_type":"prefill"}',
        '{"time":"2026-12-08T00:59:39.909819Z","level":"INFO","target":"dynamo_kv_router::'
        'scheduling::selector","message":"Selected worker","disk_blocks":0,"dp_rank":"0",'
        '"host_pinned_blocks":0,"logit":2.0,"request_id":"d2420ba0-c029-42b1-bd0d-2806387de56f",'
        '"router_mode":"kv","worker_id":12036509201726598931,"worker_type":"decode"}',
        '{"time":"2026-12-08T00:59:40Z","level":"INFO","message":"Selected worker","logit":-1,'
        '"worker_id":1}',
        '{"time":"2026-12-08T00:59:41Z","level":"INFO","message":"http response sent"}',
    ]
    path = tmp_path / "frontend.log"
    path.write_text("\n".join(lines) + "\n")
    frame = read_router_log(path)
    assert frame["stage"].tolist() == ["prefill", "decode"]
    assert frame["cost"].tolist() == [2.8125, 2.0]
    assert frame["worker"].tolist() == ["13205310165092700716", "12036509201726598931"]
    assert frame["cached_blocks"].isna().tolist() == [False, True]
    assert str(frame["time"].iloc[0]) == "2026-12-08 00:59:39.862268+00:00"
    assert read_report(frame).reasons == {"negative cost term": 1}
