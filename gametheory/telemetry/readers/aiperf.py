"""Readers for NVIDIA aiperf exports.

* ``profile_export.jsonl``: one JSON record per request
  (``{"metadata": {...}, "metrics": {tag: {"value", "unit"}}, "error": ...}``)
  -> the ``requests`` schema (:func:`read_aiperf_records`).
* ``profile_export_aiperf.json`` in its three generations -- early
  ``{"records": {tag: stats}}``, the flat mid-2025 layout (one top-level key per metric)
  and 0.8 (flat plus ``schema_version``) -- and the two-section CSV
  ``profile_export_aiperf.csv`` -> one ``sweep`` row (:func:`read_aiperf_aggregate`).
* A folder of runs (``...-concurrency8/``, ``concurrency_16/`` ...) -> a ``sweep``
  (:func:`read_aiperf_sweep`).

Concurrency comes from the input config (``loadgen.concurrency`` or
``phases[].concurrency``), else from the artifact folder name.
"""

from __future__ import annotations

import importlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gametheory.errors import TelemetryError
from gametheory.telemetry.aggregate import (
    METRIC_ALIASES,
    concurrency_from_config,
    concurrency_from_path,
    deployment_from_path,
    metrics_sweep_row,
    ms_per,
    normalise_name,
    parse_sections_csv,
    summarize_requests,
)
from gametheory.telemetry.files import find_beside, plain_suffix, read_bytes
from gametheory.telemetry.schemas import conform, empty
from gametheory.telemetry.validation import (
    Skips,
    attach,
    json_float,
    parse_number,
    read_report,
    read_text,
)

__all__ = ["read_aiperf_aggregate", "read_aiperf_records", "read_aiperf_sweep"]

#: Per-request metric tag -> (requests column, is a duration).
_RECORD_METRICS: dict[str, tuple[str, bool]] = {
    "ttft": ("ttft_ms", True),
    "inter_token_latency": ("itl_ms", True),
    "request_latency": ("latency_ms", True),
    "input_sequence_length": ("input_tokens", False),
    "output_sequence_length": ("output_tokens", False),
}
_NUMERIC = [col for col, _ in _RECORD_METRICS.values()]


def _path(path: str | Path) -> Path:
    p = Path(path)
    if not p.exists():
        raise TelemetryError("no such file or folder", file=str(p))
    return p


def _fast_records(data: bytes) -> pd.DataFrame | None:
    """Parse well-formed jsonl with pyarrow's multithreaded reader, None if it cannot."""
    try:
        # Optional dependency (pandas' own optional engine), without type stubs.
        pa: Any = importlib.import_module("pyarrow")
        pj: Any = importlib.import_module("pyarrow.json")
    except ImportError:
        return None
    if data.startswith(b"\xef\xbb\xbf") or b"\r" in data or b"\n\n" in data or data[:1] == b"\n":
        return None
    if not data.isascii():
        # pyarrow does not validate UTF-8: let the line parser find bad lines.
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return None
    value = pa.struct([("value", pa.float64()), ("unit", pa.string())])
    schema = pa.schema(
        [
            (
                "metadata",
                pa.struct(
                    [
                        ("x_request_id", pa.string()),
                        ("timestamp_ns", pa.int64()),
                        ("worker_id", pa.string()),
                    ]
                ),
            ),
            ("metrics", pa.struct([(tag, value) for tag in _RECORD_METRICS])),
            ("error", pa.struct([("code", pa.int64()), ("type", pa.string())])),
        ]
    )
    options = pj.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pj.read_json(pa.BufferReader(data), parse_options=options)
    except pa.ArrowException:
        # Any line the schema does not fit: the line parser reads the file and names it.
        return None
    if table.column("metrics").null_count:
        return None
    flat = table.flatten().flatten()
    units = {
        tag: flat.column(f"metrics.{tag}.unit").drop_null().unique().to_pylist()
        for tag, (_, duration) in _RECORD_METRICS.items()
        if duration
    }
    out = pd.DataFrame(
        {
            "request_id": flat.column("metadata.x_request_id").to_pandas(),
            "worker": flat.column("metadata.worker_id").to_pandas(),
            "start_ns": flat.column("metadata.timestamp_ns").to_pandas(),
            "error": flat.column("error.type").to_pandas(),
            "error_code": flat.column("error.code").to_pandas(),
            "has_error": table.column("error").is_valid().to_pandas(),
        }
    )
    for tag, (col, duration) in _RECORD_METRICS.items():
        vals = flat.column(f"metrics.{tag}.value").to_numpy(zero_copy_only=False)
        if duration:
            if len(units[tag]) > 1:
                return None
            factor = ms_per(units[tag][0] if units[tag] else "ms")
            if factor is None:
                return None  # the line parser names the unit
            vals = factor * vals
        out[col] = vals
    return out


def _number(value: Any) -> float | None:
    """A JSON value as a float; None when it is not a number."""
    if isinstance(value, str):
        try:
            return parse_number(value)
        except ValueError:
            return None
    return json_float(value)


def _wide(value: Any) -> bool:
    """An integer no 64-bit column holds."""
    return isinstance(value, int) and not -(2**63) <= value < 2**63


def _slow_records(data: bytes, skips: Skips) -> pd.DataFrame:
    """Line-by-line parse that skips and counts every malformed record."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    rows: list[dict[str, Any]] = []
    loads = json.loads
    for lineno, raw in enumerate(data.split(b"\n"), start=1):
        raw = raw.strip()
        if not raw:
            continue
        try:
            rec = loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            skips.add("not UTF-8", lineno)
            continue
        except ValueError:
            skips.add("not valid JSON (truncated?)", lineno)
            continue
        if not isinstance(rec, dict) or not isinstance(rec.get("metrics"), dict):
            skips.add("not an aiperf record (no metrics object)", lineno)
            continue
        meta_raw, err_raw = rec.get("metadata"), rec.get("error")
        meta: dict[str, Any] = meta_raw if isinstance(meta_raw, dict) else {}
        err: dict[str, Any] | None = err_raw if isinstance(err_raw, dict) else None
        code = None if err is None else err.get("code")
        ints = {"timestamp_ns": meta.get("timestamp_ns"), "error.code": code}
        wide = next((name for name, value in ints.items() if _wide(value)), None)
        if wide is not None:
            skips.add(f"{wide} beyond a 64-bit integer", lineno)
            continue
        row: dict[str, Any] = {
            "line": lineno,
            "request_id": meta.get("x_request_id"),
            "worker": meta.get("worker_id"),
            "start_ns": meta.get("timestamp_ns")
            if isinstance(meta.get("timestamp_ns"), int)
            else None,
            "error": None if err is None else str(err.get("type", "error")),
            "error_code": err.get("code") if err and isinstance(err.get("code"), int) else None,
            "has_error": err is not None or rec.get("error") not in (None, {}),
        }
        bad: str | None = None
        for tag, (col, duration) in _RECORD_METRICS.items():
            entry = rec["metrics"].get(tag)
            if entry is None:
                row[col] = math.nan
                continue
            value = _number(entry.get("value")) if isinstance(entry, dict) else None
            if value is None:
                bad = f"non-numeric value in field {tag}"
                break
            factor = ms_per(str(entry.get("unit", "ms"))) if duration else 1.0
            if factor is None:
                bad = f"unknown time unit {entry.get('unit')!r} in field {tag}"
                break
            row[col] = factor * value
        if bad is not None:
            skips.add(bad, lineno)
            continue
        rows.append(row)
    return pd.DataFrame(
        rows,
        columns=[
            "line",
            "request_id",
            "worker",
            "start_ns",
            "error",
            "error_code",
            "has_error",
            *_NUMERIC,
        ],
    )


def _records_concurrency(path: Path) -> float:
    """Concurrency of a per-request file: the aggregate JSON beside it, else the folder."""
    beside = find_beside(path, "profile_export_aiperf.json")
    if beside is not None:
        try:
            doc = json.loads(read_bytes(beside).decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            doc = None
        if isinstance(doc, dict):
            conc = concurrency_from_config(doc.get("input_config"))
            if not math.isnan(conc):
                return conc
    return concurrency_from_path(path)


def read_aiperf_records(path: str | Path, *, concurrency: float | None = None) -> pd.DataFrame:
    """Read an aiperf per-request ``profile_export.jsonl`` into the ``requests`` schema.

    Well-formed files are parsed with pyarrow's multithreaded JSON reader; any
    irregularity (BOM, CRLF, blank lines, NaN, strings, truncation) switches to a
    line-by-line parse that skips and counts each bad record. After parsing, rows with
    a negative or infinite duration or token count, and repeated request ids, are
    skipped and counted (vectorised). NaN values are kept as missing.

    Parameters
    ----------
    path
        The jsonl file.
    concurrency
        Benchmark concurrency; by default from the input config of the aggregate
        ``profile_export_aiperf.json`` beside the file, else the artifact folder name.

    Returns
    -------
    pandas.DataFrame
        ``requests`` schema, with ``attrs["read_report"]`` (a ReadReport).
    """
    p = _path(path)
    data = read_bytes(p)
    skips = Skips()
    frame = _fast_records(data)
    if frame is None:
        frame = _slow_records(data, skips)
    else:
        frame.insert(0, "line", np.arange(1, len(frame) + 1))
    lines = frame["line"].to_numpy()
    keep = np.ones(len(frame), dtype=bool)
    for col in _NUMERIC:
        vals = frame[col].to_numpy(dtype=np.float64)
        for reason, mask in (
            (f"negative {col}", vals < 0),
            (f"infinite {col}", np.isinf(vals)),
        ):
            mask &= keep
            skips.add_mask(reason, mask, lines)
            keep &= ~mask
    ids = frame["request_id"]
    dup = (ids.duplicated(keep="first") & ids.notna()).to_numpy() & keep
    skips.add_mask("duplicate request_id", dup, lines)
    keep &= ~dup
    frame = frame.loc[keep]
    error = frame["error"].where(~frame["has_error"].astype(bool) | frame["error"].notna(), "error")
    code = frame["error_code"]
    cancelled = (code == 499).fillna(False).astype(bool) | error.fillna("").str.contains(
        "Cancel", regex=False
    )
    conc = _records_concurrency(p) if concurrency is None else float(concurrency)
    out = frame.drop(columns=["line", "has_error"]).assign(
        error=error, cancelled=cancelled.to_numpy(), concurrency=conc, source=str(p)
    )
    result = conform(out, "requests")
    return attach(result, skips.report(str(p), "aiperf-jsonl", len(result)))


def _line_of(text: str, key: str) -> int:
    idx = text.find(f'"{key}"')
    return text[:idx].count("\n") + 1 if idx >= 0 else 1


def _json_metrics(
    doc: Mapping[str, Any], text: str, source: str, skips: Skips
) -> dict[str, dict[str, float]]:
    """Canonical metric statistics from an aggregate JSON of any generation."""
    nested = doc.get("records")
    records: Mapping[str, Any] = nested if isinstance(nested, Mapping) else doc
    metrics: dict[str, dict[str, float]] = {}
    for key, entry in records.items():
        tag = METRIC_ALIASES.get(normalise_name(str(key))[0])
        if tag is None:
            continue
        if not isinstance(entry, Mapping):
            skips.add(f"metric {key} is not an object", _line_of(text, str(key)))
            continue
        unit = str(entry.get("unit", "ms"))
        stats: dict[str, float] = {}
        bad = False
        for stat in ("avg", "p50", "p90", "p99", "value"):
            if entry.get(stat) is None:
                continue
            value = _number(entry[stat])
            if value is None or value < 0 or not math.isfinite(value):
                bad = True
                break
            stats["avg" if stat == "value" else stat] = value
        if bad:
            skips.add(
                f"negative, non-finite or non-numeric statistic in {key}", _line_of(text, str(key))
            )
            continue
        if tag in ("ttft", "itl", "latency"):
            factor = ms_per(unit)
            if factor is None:
                skips.add(f"unknown time unit {unit!r} in {key}", _line_of(text, str(key)))
                continue
            stats = {k: factor * v for k, v in stats.items()}
        metrics[tag] = stats
    return metrics


def _model_name(config: Any) -> str | None:
    if not isinstance(config, Mapping):
        return None
    endpoint = config.get("endpoint")
    if isinstance(endpoint, Mapping) and isinstance(endpoint.get("model_names"), list):
        names = endpoint["model_names"]
        if names and isinstance(names[0], str):
            return names[0]
    models = config.get("models")
    if isinstance(models, Mapping) and isinstance(models.get("items"), list):
        items = models["items"]
        if items and isinstance(items[0], Mapping) and isinstance(items[0].get("name"), str):
            return str(items[0]["name"])
    model = config.get("model")
    if isinstance(model, list) and model and isinstance(model[0], str):
        return model[0]
    return model if isinstance(model, str) else None


def read_json_aggregate(
    p: Path, fmt: str, *, deployment: str | None, concurrency: float | None
) -> pd.DataFrame:
    """Shared JSON aggregate reader for aiperf (all generations) and genai-perf."""
    text = read_text(p)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TelemetryError(f"not valid JSON: {exc.msg}", file=str(p), line=exc.lineno) from None
    if not isinstance(doc, dict):
        raise TelemetryError("top level is not a JSON object", file=str(p), line=1)
    skips = Skips()
    metrics = _json_metrics(doc, text, str(p), skips)
    config = doc.get("input_config")
    conc = concurrency_from_config(config) if concurrency is None else float(concurrency)
    if math.isnan(conc):
        conc = concurrency_from_path(p)
    named_folder = not math.isnan(concurrency_from_path(p))
    name = (
        deployment
        or (deployment_from_path(p) if named_folder else None)
        or _model_name(config)
        or deployment_from_path(p)
    )
    row = metrics_sweep_row(metrics, deployment=name, concurrency=conc, source=str(p))
    result = conform(pd.DataFrame([row]), "sweep")
    if "schema_version" in doc:
        fmt = f"{fmt}-{doc['schema_version']}"
    return attach(result, skips.report(str(p), fmt, len(result)))


def read_csv_aggregate(
    p: Path, fmt: str, *, deployment: str | None, concurrency: float | None
) -> pd.DataFrame:
    """Shared two-section CSV aggregate reader for aiperf and genai-perf."""
    skips = Skips()
    metrics = parse_sections_csv(read_text(p), skips)
    conc = concurrency_from_path(p) if concurrency is None else float(concurrency)
    name = deployment or deployment_from_path(p)
    row = metrics_sweep_row(metrics, deployment=name, concurrency=conc, source=str(p))
    result = conform(pd.DataFrame([row]), "sweep")
    return attach(result, skips.report(str(p), fmt, len(result)))


def read_aiperf_aggregate(
    path: str | Path, *, deployment: str | None = None, concurrency: float | None = None
) -> pd.DataFrame:
    """Read ``profile_export_aiperf.json`` (any generation) or ``.csv`` into one sweep row.

    Durations are converted to milliseconds from each metric's unit. The deployment is
    the artifact folder name without its ``-concurrencyN`` suffix when the folder is
    named so (a sweep), else the model name in the input config (JSON) or the folder;
    concurrency comes from the config or the folder name (``...-concurrency8``).

    Raises
    ------
    TelemetryError
        If the file is missing, not UTF-8, or (JSON) not valid JSON, naming the line.
    """
    p = _path(path)
    if plain_suffix(p) == ".csv":
        return read_csv_aggregate(p, "aiperf-csv", deployment=deployment, concurrency=concurrency)
    return read_json_aggregate(p, "aiperf-json", deployment=deployment, concurrency=concurrency)


def read_aiperf_sweep(folder: str | Path, *, deployment: str | None = None) -> pd.DataFrame:
    """Read every aiperf run under ``folder`` into one ``sweep`` frame.

    Each run folder contributes its aggregate JSON (else its CSV, else a row recomputed
    from its ``profile_export.jsonl``). Rows are sorted by deployment and concurrency;
    the read reports of the runs are merged.
    """
    root = _path(folder)
    rows: list[pd.DataFrame] = []
    skips = Skips()
    run_dirs = sorted({f.parent for f in root.rglob("profile_export*") if f.is_file()})
    for run in run_dirs:
        agg_json = find_beside(run / "_", "profile_export_aiperf.json")
        agg_csv = find_beside(run / "_", "profile_export_aiperf.csv")
        jsonl = find_beside(run / "_", "profile_export.jsonl")
        if agg_json is not None:
            part = read_aiperf_aggregate(agg_json, deployment=deployment)
        elif agg_csv is not None:
            part = read_aiperf_aggregate(agg_csv, deployment=deployment)
        elif jsonl is not None:
            reqs = read_aiperf_records(jsonl)
            row = summarize_requests(
                reqs, deployment=deployment or deployment_from_path(jsonl), source=str(jsonl)
            )
            part = attach(conform(pd.DataFrame([row]), "sweep"), read_report(reqs))
        else:
            continue
        rep = read_report(part)
        for reason, count in rep.reasons.items():
            skips.add(f"{rep.source}: {reason}", rep.first_lines[reason], count)
        rows.append(part)
    if not rows:
        raise TelemetryError("no aiperf exports found", file=str(root))
    frame = pd.concat(rows, ignore_index=True) if len(rows) > 1 else rows[0]
    frame = frame.sort_values(["deployment", "concurrency"], kind="stable", ignore_index=True)
    result = conform(frame, "sweep") if len(frame) else empty("sweep")
    return attach(result, skips.report(str(root), "aiperf-sweep", len(result)))
