"""Reader for aiperf's server-metrics export (``server_metrics_export.json``, aiperf 0.13).

While it profiles, aiperf 0.13 scrapes the Prometheus endpoint of the server it loads
(``<url>/metrics`` by default, e.g. the Dynamo frontend's ``dynamo_frontend_*``
families) and writes, for the profiling phase, one entry per metric family::

    {"schema_version": "1.1", "summary": {"phase_time_ranges": {"profiling":
        {"start_ns": ..., "end_ns": ...}}, ...},
     "metrics": {"<family>": {"type": "histogram", "series": [{"endpoint_url": ...,
        "labels": {...}, "stats": {"count": n, "sum": s, ...},
        "buckets": {"<le>": cumulative count, ..., "+Inf": n}}]}}}

:func:`read_aiperf_server_metrics` turns it into the ``samples`` schema as one scrape
taken at the end of the profiling phase, so that
:func:`~gametheory.telemetry.readers.prometheus.histogram_quantile` and
:func:`~gametheory.telemetry.readers.prometheus.series` apply unchanged:

* a histogram gives ``<family>_bucket`` (one row per ``le``), ``<family>_sum`` and
  ``<family>_count``: the observations of the phase;
* a counter gives ``<family>_total`` with the phase's increase (``stats.total``);
* a gauge gives ``<family>`` with its average over the phase (``stats.avg``).

Each series' ``endpoint_url`` becomes the label ``instance`` (``host:port``), as
Prometheus labels a scrape target. Series of other types, or with non-numeric values,
are skipped and counted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from gametheory.errors import TelemetryError
from gametheory.telemetry.schemas import conform
from gametheory.telemetry.validation import Skips, attach, read_text

__all__ = ["read_aiperf_server_metrics"]

_NOTE = (
    "one scrape at the end of the profiling phase: histograms and counters count the "
    "phase's observations, gauges are the phase's averages"
)


def _value(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x)


def _phase_end(doc: Mapping[str, Any]) -> float:
    """Unix seconds of the end of the profiling phase, NaN when not stated."""
    summary = doc.get("summary")
    if not isinstance(summary, Mapping):
        return math.nan
    ranges = summary.get("phase_time_ranges")
    phase = doc.get("metrics_phase", "profiling")
    if isinstance(ranges, Mapping) and isinstance(ranges.get(phase), Mapping):
        end = _value(ranges[phase].get("end_ns"))
        if end is not None:
            return end / 1e9
    return math.nan


def _labels(series: Mapping[str, Any]) -> str:
    labels = series.get("labels")
    pairs = {str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {}
    url = series.get("endpoint_url")
    if isinstance(url, str) and url:
        pairs.setdefault("instance", urlsplit(url).netloc or url)
    return ",".join(f'{k}="{v}"' for k, v in sorted(pairs.items()))


def _series_rows(
    family: str, kind: str, series: Mapping[str, Any]
) -> list[tuple[str, float, float]]:
    """``(metric, le, value)`` rows of one series; raises ValueError on a bad value."""
    stats = series.get("stats")
    stats = stats if isinstance(stats, Mapping) else {}
    nan = math.nan
    if kind == "histogram":
        buckets = series.get("buckets")
        if not isinstance(buckets, Mapping) or not buckets:
            raise ValueError("histogram without buckets")
        rows: list[tuple[str, float, float]] = []
        for le, count in buckets.items():
            value = _value(count)
            if value is None:
                raise ValueError(f"non-numeric bucket {le!r}")
            rows.append((f"{family}_bucket", float(le), value))
        # a histogram with no observation in the phase has a count of 0 and no sum
        empty = _value(stats.get("count")) == 0 and stats.get("sum") is None
        for stat in ("sum", "count"):
            value = 0.0 if empty else _value(stats.get(stat))
            if value is None:
                raise ValueError(f"non-numeric {stat}")
            rows.append((f"{family}_{stat}", nan, value))
        return rows
    stat = "total" if kind == "counter" else "avg"
    value = _value(stats.get(stat))
    if value is None:
        raise ValueError(f"non-numeric {stat}")
    return [(f"{family}_total" if kind == "counter" else family, nan, value)]


def read_aiperf_server_metrics(path: str | Path) -> pd.DataFrame:
    """Read aiperf's ``server_metrics_export.json`` into the ``samples`` schema.

    Parameters
    ----------
    path
        The export (plain or compressed).

    Returns
    -------
    pandas.DataFrame
        ``samples`` schema (one scrape, see the module docstring), with
        ``attrs["read_report"]``; series of unsupported types or with non-numeric
        values are skipped and counted under a reason naming the family, numbered by
        the family's position in the file.

    Raises
    ------
    TelemetryError
        If the file is not JSON, or has no ``metrics`` object.
    """
    p = Path(path)
    text = read_text(p)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TelemetryError(f"not valid JSON: {exc.msg}", file=str(p), line=exc.lineno) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), Mapping):
        raise TelemetryError("no metrics object", file=str(p), field="metrics")
    skips = Skips()
    skips.notes.append(_NOTE)
    time = _phase_end(doc)
    rows: list[dict[str, Any]] = []
    for index, (family, entry) in enumerate(doc["metrics"].items(), start=1):
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        if kind not in ("histogram", "counter", "gauge"):
            skips.add(f"metric type {kind!r} not read", index)
            continue
        series = entry.get("series")
        if not isinstance(series, list):
            skips.add(f"{family}: no series list", index)
            continue
        for one in series:
            try:
                if not isinstance(one, Mapping):
                    raise ValueError("series is not an object")
                parts = _series_rows(str(family), str(kind), one)
            except ValueError as exc:
                skips.add(f"{family}: {exc}", index)
                continue
            labels = _labels(one)
            rows += [
                {
                    "scrape": 0,
                    "time": time,
                    "family": family,
                    "type": kind,
                    "metric": metric,
                    "labels": labels,
                    "le": le,
                    "value": value,
                    "source": str(p),
                }
                for metric, le, value in parts
            ]
    frame = conform(pd.DataFrame(rows), "samples")
    return attach(frame, skips.report(str(p), "aiperf-server-metrics", len(frame)))
