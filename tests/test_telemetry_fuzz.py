"""Fuzzing every reader: each mangled input either loads with its skipped rows counted
or raises TelemetryError naming file and line; never another exception, never a
silent drop."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable
from pathlib import Path

import genai_perf_exports
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gametheory.errors import TelemetryError
from gametheory.telemetry import (
    read_aiconfigurator,
    read_aiperf_aggregate,
    read_aiperf_records,
    read_genai_perf,
    read_prometheus,
    read_report,
    read_router_log,
)

DATA = Path(__file__).parent / "data" / "telemetry"
_NUMBER = re.compile(rb"(?<![\w.])\d+(?:\.\d+)?")


def _jsonl() -> bytes:
    lines = []
    for i in range(6):
        rec = {
            "metadata": {"x_request_id": f"r{i}", "timestamp_ns": 1759522419154829652 + i},
            "metrics": {
                "ttft": {"value": 1234.5 + i, "unit": "ms"},
                "request_latency": {"value": 9876.5 + i, "unit": "ms"},
                "inter_token_latency": {"value": 22.5, "unit": "ms"},
                "output_sequence_length": {"value": 200, "unit": "tokens"},
            },
            "error": None if i % 3 else {"code": 499, "type": "RequestCancellationError"},
        }
        lines.append(json.dumps(rec))
    return ("\n".join(lines) + "\n").encode()


_AGG_JSON = json.dumps(
    {
        "records": {
            "ttft": {"unit": "ms", "avg": 2343.2, "p50": 2369.3, "p99": 3833.4},
            "request_latency": {"unit": "ms", "avg": 9059.6, "p50": 9097.3, "p99": 9297.6},
            "request_throughput": {"unit": "requests/sec", "avg": 9.55},
            "request_count": {"unit": "requests", "avg": 89.0},
        },
        "input_config": {"loadgen": {"concurrency": 100}},
    },
    indent=2,
).encode()

_AGG_CSV = (
    b"Metric,avg,min,max,p1,p50,p99\r\n"
    b"Time to First Token (ms),2343.22,464.66,3853.86,581.20,2369.32,3833.39\r\n"
    b"Request Latency (ms),9059.65,7936.97,9299.77,8180.93,9097.35,9297.61\r\n"
    b"\r\nMetric,Value\r\n"
    b"Request Count,89.00\r\nRequest Throughput (requests/sec),9.55\r\n"
)

_PROM = (
    (DATA / "dcgm_scrape.prom").read_bytes()
    + b"# HELP lat_seconds Latency.\n# TYPE lat_seconds histogram\n"
    + b'lat_seconds_bucket{le="0.1"} 3\nlat_seconds_bucket{le="1"} 9\n'
    + b'lat_seconds_bucket{le="+Inf"} 10\nlat_seconds_sum 4.5\nlat_seconds_count 10\n'
    + b"# TYPE served counter\nserved_total 1234\n"
)


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """``base`` after one of the mutations the acceptance criteria list."""
    kind = draw(
        st.sampled_from(
            [
                "truncate",
                "reorder",
                "crlf",
                "bom",
                "non_utf8",
                "thousands",
                "nan",
                "negative",
                "duplicate",
                "overflow",
                "huge_int",
                "infinity",
            ]
        )
    )
    lines = base.split(b"\n")
    if kind == "truncate":
        return base[: draw(st.integers(0, len(base)))]
    if kind == "reorder":
        return b"\n".join(draw(st.permutations(lines)))
    if kind == "crlf":
        return base.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if kind == "bom":
        return b"\xef\xbb\xbf" + base
    if kind == "duplicate":
        i = draw(st.integers(0, len(lines) - 1))
        return b"\n".join([*lines[: i + 1], lines[i], *lines[i + 1 :]])
    if kind == "non_utf8":
        i = draw(st.integers(0, len(lines) - 1))
        j = draw(st.integers(0, len(lines[i])))
        lines[i] = lines[i][:j] + b"\xff\xfe" + lines[i][j:]
        return b"\n".join(lines)
    numbers = list(_NUMBER.finditer(base))
    if not numbers:
        return base
    m = numbers[draw(st.integers(0, len(numbers) - 1))]
    token = m.group(0)
    if kind == "thousands":
        whole, _, frac = token.partition(b".")
        new = b"1,234," + whole.rjust(3, b"0")[-3:] + (b"." + frac if frac else b"")
    elif kind == "nan":
        new = b"NaN"
    elif kind == "overflow":
        new = b"1e400"  # beyond a float
    elif kind == "huge_int":
        new = b"1" + b"0" * 400  # an integer no float holds
    elif kind == "infinity":
        new = b"Infinity"
    else:
        new = b"-" + token
    return base[: m.start()] + new + base[m.end() :]


def _check(reader: Callable[[Path], pd.DataFrame], path: Path, data: bytes) -> pd.DataFrame | None:
    path.write_bytes(data)
    try:
        frame = reader(path)
    except TelemetryError as exc:
        assert exc.file is not None, str(exc)
        assert exc.line is not None or exc.field is not None, str(exc)
        return None
    report = read_report(frame)
    assert report.rows == len(frame)
    assert report.skipped == sum(report.reasons.values())
    return frame


_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(data=mutated(_jsonl()))
def test_fuzz_aiperf_jsonl(tmp_path: Path, data: bytes) -> None:
    frame = _check(read_aiperf_records, tmp_path / "profile_export.jsonl", data)
    assert frame is not None  # per-record problems never abort the file
    body = data.removeprefix(b"\xef\xbb\xbf")
    records = [ln for ln in body.split(b"\n") if ln.strip()]
    assert len(frame) + read_report(frame).skipped == len(records)


@_SETTINGS
@given(data=mutated((DATA / "kv_router_new_shape.log").read_bytes()))
def test_fuzz_router_log(tmp_path: Path, data: bytes) -> None:
    frame = _check(read_router_log, tmp_path / "router.log", data)
    assert frame is not None
    candidates = sum(b"Formula for" in ln for ln in data.split(b"\n"))
    assert len(frame) <= candidates <= len(frame) + read_report(frame).skipped


@_SETTINGS
@given(data=mutated(_PROM))
def test_fuzz_prometheus(tmp_path: Path, data: bytes) -> None:
    frame = _check(read_prometheus, tmp_path / "scrape.prom", data)
    if frame is None:
        return
    text = data.removeprefix(b"\xef\xbb\xbf").decode()
    samples = [
        ln for ln in text.replace("\r", "\n").split("\n") if ln.strip() and not ln.startswith("#")
    ]
    assert len(frame) <= len(samples) <= len(frame) + read_report(frame).skipped


@_SETTINGS
@given(data=mutated((DATA / "silicon_tiny.csv").read_bytes()))
def test_fuzz_aiconfigurator(tmp_path: Path, data: bytes) -> None:
    frame = _check(read_aiconfigurator, tmp_path / "silicon.csv", data)
    if frame is None:
        return
    text = data.removeprefix(b"\xef\xbb\xbf").decode().replace("\r\n", "\n").replace("\r", "\n")
    records = [r for r in csv.reader(io.StringIO(text)) if any(f.strip() for f in r)][1:]
    assert int(frame["n_runs"].sum()) + read_report(frame).skipped == len(records)


@_SETTINGS
@given(json_data=mutated(_AGG_JSON), csv_data=mutated(_AGG_CSV))
def test_fuzz_aiperf_aggregates(tmp_path: Path, json_data: bytes, csv_data: bytes) -> None:
    for name, data in (("profile_export_aiperf.json", json_data), ("x.csv", csv_data)):
        frame = _check(read_aiperf_aggregate, tmp_path / name, data)
        assert frame is None or len(frame) == 1


@_SETTINGS
@given(
    json_data=mutated(genai_perf_exports.json_export()),
    csv_data=mutated(genai_perf_exports.csv_export()),
)
def test_fuzz_genai_perf(tmp_path: Path, json_data: bytes, csv_data: bytes) -> None:
    for name, data in (("profile_export_genai_perf.json", json_data), ("g.csv", csv_data)):
        frame = _check(read_genai_perf, tmp_path / name, data)
        assert frame is None or len(frame) == 1
