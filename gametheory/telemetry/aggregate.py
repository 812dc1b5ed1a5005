"""Benchmark aggregates (aiperf and genai-perf) to rows of the ``sweep`` schema.

Both tools export one statistics record per metric (``avg``, ``min``, ``max``, ``pNN``,
``std``) as JSON and as a two-section CSV: a per-metric table (``Metric,avg,min,...``),
a blank line, then a ``Metric,Value`` table of scalars. This module holds what the two
readers share: metric-name normalisation, unit conversion to milliseconds, the CSV
section parser (thousands separators allowed) and the per-request summariser.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gametheory.telemetry.validation import Skips, json_float, parse_number

__all__ = [
    "METRIC_ALIASES",
    "concurrency_from_config",
    "concurrency_from_path",
    "metrics_sweep_row",
    "ms_per",
    "parse_sections_csv",
    "summarize_requests",
]

#: Normalised metric names (lower case, words joined by ``_``) -> canonical tag.
METRIC_ALIASES: dict[str, str] = {
    "ttft": "ttft",
    "time_to_first_token": "ttft",
    "inter_token_latency": "itl",
    "itl": "itl",
    "request_latency": "latency",
    "request_throughput": "request_throughput",
    "output_token_throughput": "output_token_throughput",
    "request_count": "request_count",
}

#: Milliseconds per time unit, by the names aiperf and genai-perf write (aiperf's
#: ``MetricTimeUnit``: ns, us, ms, sec) and their spelled-out forms.
_TIME_SCALE = {
    "": 1.0,  # no unit: aiperf's durations are milliseconds
    "ms": 1.0,
    "msec": 1.0,
    "millisecond": 1.0,
    "milliseconds": 1.0,
    "s": 1e3,
    "sec": 1e3,
    "second": 1e3,
    "seconds": 1e3,
    "us": 1e-3,
    "µs": 1e-3,
    "μs": 1e-3,
    "usec": 1e-3,
    "microsecond": 1e-3,
    "microseconds": 1e-3,
    "ns": 1e-6,
    "nsec": 1e-6,
    "nanosecond": 1e-6,
    "nanoseconds": 1e-6,
}
_STATS = ("avg", "p50", "p90", "p99")


def normalise_name(name: str) -> tuple[str, str]:
    """Split ``"Time To First Token (ms)"`` into (``"time_to_first_token"``, ``"ms"``)."""
    unit = ""
    match = re.match(r"^(.*?)\s*\(([^)]*)\)\s*$", name)
    if match:
        name, unit = match.group(1), match.group(2)
    key = re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")
    return key, unit.strip().lower()


def ms_per(unit: str) -> float | None:
    """Milliseconds in one ``unit`` (case-insensitive; ``""`` is ms); None when the unit is
    not a time unit gametheory knows, so a reader can name it instead of guessing."""
    return _TIME_SCALE.get(unit.strip().lower())


def concurrency_from_config(config: Any) -> float:
    """Concurrency stated in a benchmark's input config, NaN if absent.

    Looks at aiperf's ``loadgen.concurrency`` (early and mid-2025 exports),
    ``phases[].concurrency`` (0.8), and genai-perf's ``concurrency`` or
    ``perf_analyzer.stimulus.concurrency``.
    """
    if not isinstance(config, Mapping):
        return float("nan")
    candidates: list[Any] = [
        config.get("concurrency"),
        (config.get("loadgen") or {}).get("concurrency")
        if isinstance(config.get("loadgen"), Mapping)
        else None,
    ]
    phases = config.get("phases")
    if isinstance(phases, list):
        for phase in phases:
            if isinstance(phase, Mapping) and phase.get("name", "profiling") == "profiling":
                candidates.append(phase.get("concurrency"))
    pa = config.get("perf_analyzer")
    if isinstance(pa, Mapping) and isinstance(pa.get("stimulus"), Mapping):
        candidates.append(pa["stimulus"].get("concurrency"))
    for value in candidates:
        number = json_float(value)
        if number is not None and math.isfinite(number) and number > 0:
            return number
    return float("nan")


_CONC_RE = re.compile(r"concurrency[_-]?(\d+)(?!.*concurrency)", re.IGNORECASE)


def concurrency_from_path(path: Path) -> float:
    """Concurrency from an artifact folder name (``...-concurrency8``, ``concurrency_8``)."""
    for part in reversed(path.parts):
        match = _CONC_RE.search(part)
        if match:
            return float(match.group(1))
    return float("nan")


def deployment_from_path(path: Path) -> str:
    """A deployment name from an artifact folder, without its concurrency suffix."""
    folder = path.parent.name if path.suffix else path.name
    return re.sub(r"[-_]?concurrency[_-]?\d+$", "", folder, flags=re.IGNORECASE) or folder


def metrics_sweep_row(
    metrics: Mapping[str, Mapping[str, float]],
    *,
    deployment: str,
    concurrency: float,
    source: str,
    policy: str | None = None,
) -> dict[str, Any]:
    """One ``sweep`` row from canonical metric statistics.

    ``metrics`` maps canonical tags (``ttft``, ``itl``, ``latency``,
    ``request_throughput``, ``output_token_throughput``, ``request_count``) to their
    statistics, durations already in milliseconds.
    """
    row: dict[str, Any] = {
        "deployment": deployment,
        "policy": policy,
        "concurrency": concurrency,
        "source": source,
        "n_runs": 1,
    }
    for tag, prefix in (("ttft", "ttft_ms"), ("itl", "itl_ms")):
        stats = metrics.get(tag, {})
        for stat in _STATS:
            row[f"{prefix}_{stat}"] = stats.get(stat, np.nan)
    lat = metrics.get("latency", {})
    row["latency_ms_p50"] = lat.get("p50", np.nan)
    row["latency_ms_p99"] = lat.get("p99", np.nan)
    for tag in ("request_throughput", "output_token_throughput"):
        row[tag] = metrics.get(tag, {}).get("avg", np.nan)
    count = metrics.get("request_count", {})
    row["n_requests"] = count.get("avg", count.get("value", np.nan))
    return row


def parse_sections_csv(text: str, skips: Skips) -> dict[str, dict[str, float]]:
    """Parse a two-section aggregate CSV into canonical metric statistics.

    Rows of unknown metrics are ignored (they are not part of the sweep schema); rows
    with the wrong number of fields, unparseable or negative values, or a repeated
    metric are skipped and counted in ``skips``.
    """
    metrics: dict[str, dict[str, float]] = {}
    header: list[str] | None = None
    seen: set[tuple[str, str]] = set()
    reader = csv.reader(io.StringIO(text))
    for lineno, fields in enumerate(reader, start=1):
        if not fields or all(not f.strip() for f in fields):
            header = None
            continue
        if fields[0].strip().lower() == "metric":
            header = [f.strip().lower() for f in fields]
            continue
        if header is None:
            skips.add("row outside a Metric table", lineno)
            continue
        if len(fields) != len(header):
            skips.add("wrong number of fields", lineno)
            continue
        key, unit = normalise_name(fields[0])
        tag = METRIC_ALIASES.get(key)
        if tag is None:
            continue
        try:
            values = [parse_number(f) for f in fields[1:]]
        except ValueError:
            skips.add(f"unparseable number in {key}", lineno)
            continue
        stats = dict(zip(header[1:], values))
        if "value" in stats:
            stats = {"avg": stats["value"]}
        if any(v < 0 or math.isinf(v) for v in stats.values()):
            skips.add(f"negative or infinite value in {key}", lineno)
            continue
        if tag in ("ttft", "itl", "latency"):
            factor = ms_per(unit)
            if factor is None:
                skips.add(f"unknown time unit {unit!r} in {key}", lineno)
                continue
            stats = {k: factor * v for k, v in stats.items()}
        marker = (tag, ",".join(sorted(stats)))
        if marker in seen:
            skips.add(f"duplicate metric {key}", lineno)
            continue
        seen.add(marker)
        metrics.setdefault(tag, {}).update(stats)
    return metrics


def summarize_requests(
    requests: pd.DataFrame,
    *,
    deployment: str,
    concurrency: float | None = None,
    policy: str | None = None,
    source: str = "",
) -> dict[str, Any]:
    """A ``sweep`` row recomputed from a ``requests`` frame.

    Follows aiperf: only requests without an error count (cancelled requests are
    errors), percentiles are NumPy's linear-interpolation percentiles, throughput is
    the successful requests divided by the span from the first start to the last end.
    """
    ok = requests[requests["error"].isna()]
    metrics: dict[str, dict[str, float]] = {}
    for tag, col in (("ttft", "ttft_ms"), ("itl", "itl_ms"), ("latency", "latency_ms")):
        vals = ok[col].to_numpy(dtype=np.float64)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            p50, p90, p99 = np.percentile(vals, [50, 90, 99])
            metrics[tag] = {"avg": float(vals.mean()), "p50": p50, "p90": p90, "p99": p99}
    metrics["request_count"] = {"avg": float(len(ok))}
    start = requests["start_ns"].to_numpy(dtype=np.float64, na_value=np.nan)
    end = start + requests["latency_ms"].to_numpy(dtype=np.float64) * 1e6
    if len(ok) and np.isfinite(start).any() and np.isfinite(end).any():
        span_s = (np.nanmax(end) - np.nanmin(start)) / 1e9
        if span_s > 0:
            metrics["request_throughput"] = {"avg": len(ok) / span_s}
            tokens = ok["output_tokens"].to_numpy(dtype=np.float64)
            metrics["output_token_throughput"] = {"avg": float(np.nansum(tokens)) / span_s}
    if concurrency is None:
        conc = requests["concurrency"].dropna()
        concurrency = float(conc.iloc[0]) if len(conc) else float("nan")
    return metrics_sweep_row(
        metrics, deployment=deployment, concurrency=concurrency, source=source, policy=policy
    )
