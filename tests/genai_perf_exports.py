"""genai-perf exports rendered by the tests (no genai-perf run is in ../shared/data).

genai-perf writes ``profile_export_genai_perf.csv`` (a per-metric statistics table, then a
``Metric,Value`` table, numbers with thousands separators) and
``profile_export_genai_perf.json`` (one object per metric plus ``input_config``). These
helpers render both from the figures the reader tests assert, so the expected values
are stated once, here.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

DEPLOYMENT = "llama-3-8b-openai-chat"
STATS = ("avg", "min", "max", "p99", "p95", "p90", "p75", "p50", "p25")

#: Statistics table of the concurrency-32 CSV export, in the order of ``STATS``.
CSV_STATS = {
    "Time To First Token (ms)": (
        1024.5,
        310.2,
        2480.75,
        2401.0,
        1990.1,
        1700.0,
        1200.3,
        980.4,
        650.0,
    ),
    "Inter Token Latency (ms)": (12.4, 9.1, 20.2, 19.8, 17.0, 15.5, 13.2, 12.1, 11.0),
    "Request Latency (ms)": (
        3456.7,
        1210.0,
        6020.0,
        5990.0,
        5400.0,
        5100.0,
        4000.0,
        3400.0,
        2800.0,
    ),
    "Output Sequence Length (tokens)": (
        200.0,
        180.0,
        220.0,
        219.0,
        215.0,
        210.0,
        205.0,
        200.0,
        195.0,
    ),
    "Input Sequence Length (tokens)": (2048.0,) * 9,
}
#: ``Metric,Value`` table of the same export.
CSV_VALUES = {
    "Output Token Throughput (per sec)": "1,845.20",
    "Request Throughput (per sec)": "9.23",
    "Request Count (count)": "1,000",
}

#: The concurrency-8 JSON export.
JSON_EXPORT = {
    "request_throughput": {"unit": "requests/sec", "avg": 4.12},
    "request_latency": {"unit": "ms", "avg": 1930.4, "p99": 2480.1, "p50": 1910.2, "min": 1650.0},
    "time_to_first_token": {"unit": "ms", "avg": 180.6, "p99": 402.3, "p50": 170.2, "min": 101.5},
    "inter_token_latency": {"unit": "ms", "avg": 8.7, "p99": 11.2, "p50": 8.6, "min": 7.2},
    "output_token_throughput": {"unit": "tokens/sec", "avg": 824.0},
    "output_sequence_length": {"unit": "tokens", "avg": 200.0, "p99": 219.0, "p50": 200.0},
    "input_sequence_length": {"unit": "tokens", "avg": 2048.0, "p99": 2048.0, "p50": 2048.0},
    "input_config": {
        "model": ["meta-llama/Meta-Llama-3-8B-Instruct"],
        "endpoint_type": "chat",
        "service_kind": "openai",
        "streaming": True,
        "concurrency": 8,
        "request_count": 100,
    },
}


def csv_export() -> bytes:
    """The CSV export, with thousands separators as genai-perf writes them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Metric", *STATS])
    for name, values in CSV_STATS.items():
        writer.writerow([name, *(f"{v:,.2f}" for v in values)])
    writer.writerow([])
    writer.writerow(["Metric", "Value"])
    for name, value in CSV_VALUES.items():
        writer.writerow([name, value])
    return out.getvalue().encode()


def json_export() -> bytes:
    """The JSON export."""
    return json.dumps(JSON_EXPORT, indent=2).encode()


def write_sweep(root: Path) -> Path:
    """Write both exports as a genai-perf artifact folder with two runs; return it."""
    folder = root / "genai-perf"
    for concurrency, name, data in (
        (8, "profile_export_genai_perf.json", json_export()),
        (32, "profile_export_genai_perf.csv", csv_export()),
    ):
        run = folder / f"{DEPLOYMENT}-concurrency{concurrency}"
        run.mkdir(parents=True)
        (run / name).write_bytes(data)
    return folder
