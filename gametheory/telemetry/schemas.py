"""The four tidy telemetry schemas every reader returns.

Each schema is a tuple of :class:`Column` (name, pandas dtype, unit, meaning). Readers
build their frames through :func:`conform`, so a frame of a given kind always has exactly
these columns, in this order, with these dtypes, whatever format it came from.

``requests``
    One row per request (aiperf ``profile_export.jsonl``, simulator output).
``sweep``
    One row per deployment x policy x concurrency, with latency percentiles and
    throughput (aiperf / genai-perf aggregates, aiconfigurator silicon tables).
``decisions``
    One row per routing decision x candidate worker, with the router's cost terms and
    whether that candidate was chosen (Dynamo KV-router logs).
``samples``
    One row per Prometheus sample per scrape (metric time series).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pandas as pd

from gametheory.errors import TelemetryError

__all__ = [
    "DECISIONS",
    "REQUESTS",
    "SAMPLES",
    "SCHEMAS",
    "SWEEP",
    "Column",
    "conform",
    "empty",
]


class Column(NamedTuple):
    """One column of a tidy schema: name, pandas dtype, unit and meaning."""

    name: str
    dtype: str
    unit: str
    description: str


REQUESTS: tuple[Column, ...] = (
    Column("request_id", "string", "", "request identifier (aiperf x_request_id)"),
    Column("worker", "string", "", "worker that issued or served the request"),
    Column("start_ns", "Int64", "ns", "request start, nanoseconds since the Unix epoch"),
    Column("ttft_ms", "float64", "ms", "time to first token"),
    Column("itl_ms", "float64", "ms", "mean inter-token latency of the request"),
    Column("latency_ms", "float64", "ms", "end-to-end request latency"),
    Column("input_tokens", "float64", "tokens", "input sequence length"),
    Column("output_tokens", "float64", "tokens", "output sequence length"),
    Column("error", "string", "", "error type, <NA> when the request succeeded"),
    Column("error_code", "Int64", "", "error code (HTTP status), <NA> on success"),
    Column("cancelled", "bool", "", "the request was cancelled by the client"),
    Column("concurrency", "float64", "requests", "benchmark concurrency, NaN if unknown"),
    Column("source", "string", "", "file the row was read from"),
)

SWEEP: tuple[Column, ...] = (
    Column("deployment", "string", "", "deployment key (model, system, parallelism, ...)"),
    Column("policy", "string", "", "routing or benchmark policy, <NA> if not stated"),
    Column("concurrency", "float64", "requests", "concurrent requests (the load)"),
    Column("n_requests", "float64", "requests", "successful requests measured"),
    Column("ttft_ms_avg", "float64", "ms", "mean time to first token (or unstated centre)"),
    Column("ttft_ms_p50", "float64", "ms", "median time to first token"),
    Column("ttft_ms_p90", "float64", "ms", "90th percentile time to first token"),
    Column("ttft_ms_p99", "float64", "ms", "99th percentile time to first token"),
    Column("itl_ms_avg", "float64", "ms", "mean inter-token latency (TPOT)"),
    Column("itl_ms_p50", "float64", "ms", "median inter-token latency"),
    Column("itl_ms_p90", "float64", "ms", "90th percentile inter-token latency"),
    Column("itl_ms_p99", "float64", "ms", "99th percentile inter-token latency"),
    Column("latency_ms_p50", "float64", "ms", "median end-to-end latency"),
    Column("latency_ms_p99", "float64", "ms", "99th percentile end-to-end latency"),
    Column("request_throughput", "float64", "requests/s", "completed requests per second"),
    Column("output_token_throughput", "float64", "tokens/s", "generated tokens per second"),
    Column("n_runs", "Int64", "", "measurements merged into this row (duplicates averaged)"),
    Column("source", "string", "", "file the row was read from"),
)

DECISIONS: tuple[Column, ...] = (
    Column("decision", "Int64", "", "0-based index of the routing decision in the input"),
    Column("time", "datetime64[ns, UTC]", "", "log timestamp of the candidate line"),
    Column("request_id", "string", "", "request identifier, <NA> when not logged"),
    Column("worker", "string", "", "candidate worker id"),
    Column("cost", "float64", "blocks", "router cost (Dynamo's logit; lower is better)"),
    Column("prefill_weight", "float64", "", "weight on the prefill term (prefill_load_scale)"),
    Column("prefill_blocks", "float64", "blocks", "prefill blocks still to compute"),
    Column("prefill_cost", "float64", "blocks", "prefill_weight * prefill_blocks"),
    Column("decode_blocks", "float64", "blocks", "decode blocks active on the worker (load)"),
    Column("cached_blocks", "float64", "blocks", "prefix blocks already cached (overlap)"),
    Column("chosen", "bool", "", "the router selected this candidate"),
    Column("stage", "string", "", "worker pool of the decision (prefill, decode), <NA> if one"),
    Column("source", "string", "", "file the row was read from"),
)

SAMPLES: tuple[Column, ...] = (
    Column("scrape", "Int64", "", "0-based index of the scrape (file) in the series"),
    Column("time", "float64", "s", "sample timestamp (Unix seconds), NaN if not exposed"),
    Column("family", "string", "", "metric family name"),
    Column("type", "string", "", "family type: counter, gauge, histogram, summary, ..."),
    Column("metric", "string", "", "sample name (with _bucket/_sum/_count suffixes)"),
    Column("labels", "string", "", "labels other than le, as sorted k=v pairs"),
    Column("le", "float64", "", "histogram bucket upper bound, NaN for other samples"),
    Column("value", "float64", "", "sample value, in the family's own unit"),
    Column("source", "string", "", "file the row was read from"),
)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "requests": REQUESTS,
    "sweep": SWEEP,
    "decisions": DECISIONS,
    "samples": SAMPLES,
}


def _schema(kind: str) -> tuple[Column, ...]:
    try:
        return SCHEMAS[kind]
    except KeyError:
        raise TelemetryError(
            f"unknown schema {kind!r}; expected one of {sorted(SCHEMAS)}", field="kind"
        ) from None


def empty(kind: str) -> pd.DataFrame:
    """An empty frame of schema ``kind`` with the schema's columns and dtypes."""
    return conform(pd.DataFrame(), kind)


def conform(frame: pd.DataFrame, kind: str) -> pd.DataFrame:
    """Return ``frame`` with exactly the columns of schema ``kind``, cast to its dtypes.

    Missing columns are added as missing values (NaN / <NA> / False); extra columns are
    an error, so no reader can leak an undocumented column.

    Raises
    ------
    TelemetryError
        For an unknown schema, an undocumented column, or a value that cannot be cast.
    """
    columns = _schema(kind)
    names = [c.name for c in columns]
    extra = [c for c in frame.columns if c not in names]
    if extra:
        raise TelemetryError(f"columns not in the {kind} schema: {extra}", field=str(extra[0]))
    out: dict[str, pd.Series] = {}
    n = len(frame)
    for col in columns:
        dtype: Any = col.dtype
        if col.name in frame.columns:
            values = frame[col.name]
        elif col.dtype == "bool":
            values = pd.Series([False] * n, index=frame.index)
        else:
            values = pd.Series([None] * n, index=frame.index, dtype="object")
        try:
            if col.dtype.startswith("datetime64"):
                out[col.name] = pd.to_datetime(values, utc=True).astype(dtype)
            elif col.dtype == "float64":
                out[col.name] = pd.to_numeric(values).astype("float64")
            else:
                out[col.name] = values.astype(dtype)
        except (TypeError, ValueError) as exc:
            raise TelemetryError(f"cannot cast to {col.dtype}: {exc}", field=col.name) from exc
    return pd.DataFrame(out, index=pd.RangeIndex(n))
