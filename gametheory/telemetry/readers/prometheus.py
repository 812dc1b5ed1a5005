"""Prometheus text exposition -> the ``samples`` schema, and PromQL-style quantiles.

Scrapes of the Dynamo frontend (``dynamo_frontend_*``), Dynamo workers with the engines'
own families (``vllm:*``, ``sglang:*``, ``lmcache:*``) and NVIDIA DCGM exporters
(``DCGM_FI_*``) are parsed with ``prometheus_client``'s text parser. A list of files
(or a folder, in name order) is a series of scrapes: each becomes a ``scrape`` index
and, where the exposition carries timestamps, a ``time``, so a counter or gauge
becomes a time series (:func:`series`, and :func:`rate` for counters).

:func:`histogram_quantile` reproduces PromQL's ``histogram_quantile`` (Prometheus
``promql/quantile.go``): buckets sorted by upper bound, cumulative counts made
monotonic, the rank ``q * count`` located by linear interpolation inside its bucket,
the lowest bucket starting at 0 when its bound is positive, and the upper bound of
the last finite bucket returned when the rank falls in the ``+Inf`` bucket.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from prometheus_client.parser import text_string_to_metric_families

from gametheory.errors import TelemetryError
from gametheory.telemetry.files import plain_suffix, read_bytes
from gametheory.telemetry.schemas import conform
from gametheory.telemetry.validation import Skips, attach, decode_text

__all__ = ["histogram_quantile", "increase", "rate", "read_prometheus", "series"]

FloatArray = NDArray[np.float64]


def _float(value: Any) -> float:
    """A sample's value or time as a float; an integer beyond a float is an infinity (the
    text format allows +Inf), never an OverflowError."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _label_text(labels: dict[str, str]) -> str:
    return ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "le")


def _families(text: str) -> list[Any]:
    return list(text_string_to_metric_families(text))


_PARSE_ERRORS = (ValueError, TypeError, IndexError, KeyError)


def _clean_text(text: str, skips: Skips) -> str:
    """Drop (and count) the lines the parser rejects, keeping ``# TYPE`` context."""
    good: list[str] = []
    for lineno, line in enumerate(text.split("\n"), start=1):
        context = [ln for ln in good if ln.startswith("# ")]
        try:
            _families("\n".join([*context, line]) + "\n")
        except _PARSE_ERRORS:
            skips.add("malformed exposition line", lineno)
            continue
        good.append(line)
    return "\n".join(good) + "\n"


def _parse_scrape(text: str, scrape: int, source: str, skips: Skips) -> list[dict[str, Any]]:
    """Parse one scrape; lines the parser rejects are skipped and counted."""
    try:
        families = _families(text)
    except _PARSE_ERRORS:
        text = _clean_text(text, skips)
        try:
            families = _families(text)
        except _PARSE_ERRORS as exc:
            raise TelemetryError(f"unparseable exposition: {exc}", file=source) from None
    rows: list[dict[str, Any]] = []
    for fam in families:
        for s in fam.samples:
            le = s.labels.get("le")
            try:
                le_value = math.nan if le is None else float(le)
            except ValueError:
                at = text.find(f'le="{le}"')
                skips.add(f"non-numeric le in {s.name}", text[: max(at, 0)].count("\n") + 1)
                continue
            rows.append(
                {
                    "scrape": scrape,
                    "time": math.nan if s.timestamp is None else _float(s.timestamp),
                    "family": fam.name,
                    "type": fam.type,
                    "metric": s.name,
                    "labels": _label_text(s.labels),
                    "le": le_value,
                    "value": _float(s.value),
                    "source": source,
                }
            )
    return rows


def read_prometheus(paths: str | Path | Sequence[str | Path]) -> pd.DataFrame:
    """Read one or more Prometheus text scrapes into the ``samples`` schema.

    Parameters
    ----------
    paths
        A scrape file, a folder of ``*.prom``/``*.txt`` scrapes (taken in name order)
        or a sequence of files, each one scrape of a series.

    Returns
    -------
    pandas.DataFrame
        ``samples`` schema, with ``attrs["read_report"]``. Lines the parser rejects are
        skipped and counted; a non-UTF-8 file raises TelemetryError naming the line.
    """
    if isinstance(paths, (str, Path)):
        p = Path(paths)
        files = (
            sorted(f for f in p.iterdir() if plain_suffix(f) in {".prom", ".txt", ".log"})
            if p.is_dir()
            else [p]
        )
        source = str(p)
    else:
        files = [Path(f) for f in paths]
        source = ",".join(str(f) for f in files)
    if not files:
        raise TelemetryError("no scrape files", file=source)
    skips = Skips()
    rows: list[dict[str, Any]] = []
    for i, f in enumerate(files):
        text = decode_text(read_bytes(f), str(f))
        rows += _parse_scrape(text if text.endswith("\n") else text + "\n", i, str(f), skips)
    frame = conform(pd.DataFrame(rows), "samples")
    index = np.arange(1, len(frame) + 1)
    dup = frame.duplicated(["scrape", "metric", "labels", "le"], keep="first").to_numpy()
    skips.add_mask("duplicate sample", dup, index)
    monotone = frame["type"].isin(["counter", "histogram"]).to_numpy() & ~frame[
        "metric"
    ].str.endswith("_sum").to_numpy(dtype=bool)
    negative = monotone & (frame["value"].to_numpy() < 0) & ~dup
    skips.add_mask("negative counter or bucket value", negative, index)
    frame = conform(frame.loc[~(dup | negative)].reset_index(drop=True), "samples")
    return attach(frame, skips.report(source, "prometheus-text", len(frame)))


def _select(samples: pd.DataFrame, metric: str, labels: dict[str, str] | None) -> pd.DataFrame:
    sel = samples[samples["metric"] == metric]
    for key, value in (labels or {}).items():
        sel = sel[sel["labels"].str.contains(f'{key}="{value}"', regex=False)]
    return sel


def _quantile(q: float, bounds: np.ndarray, counts: np.ndarray) -> float:
    """PromQL bucketQuantile on sorted upper bounds and cumulative counts."""
    if math.isnan(q):
        return math.nan
    if q < 0:
        return -math.inf
    if q > 1:
        return math.inf
    if bounds.size < 2 or not math.isinf(bounds[-1]) or bounds[-1] < 0:
        return math.nan
    counts = np.maximum.accumulate(counts)
    total = counts[-1]
    if total == 0 or math.isnan(total):
        return math.nan
    rank = q * total
    b = int(np.searchsorted(counts, rank, side="left"))
    if b == bounds.size - 1:
        return float(bounds[-2])
    if b == 0 and bounds[0] <= 0:
        return float(bounds[0])
    start, end = (0.0, bounds[b]) if b == 0 else (bounds[b - 1], bounds[b])
    below = 0.0 if b == 0 else counts[b - 1]
    in_bucket = counts[b] - below
    if in_bucket == 0:
        return float(end)
    return float(start + (end - start) * (rank - below) / in_bucket)


def histogram_quantile(
    q: float,
    samples: pd.DataFrame,
    family: str,
    *,
    by: Iterable[str] | None = None,
    labels: dict[str, str] | None = None,
) -> pd.DataFrame:
    """PromQL ``histogram_quantile(q, family_bucket)`` per scrape and label set.

    Parameters
    ----------
    q
        Quantile in [0, 1] (outside: -inf / +inf, as PromQL).
    samples
        A ``samples`` frame.
    family
        Histogram family name (without ``_bucket``).
    by
        Label names to keep; buckets of series differing only in other labels are summed
        first (``sum by (le, ...)``). None keeps every label.
    labels
        Only series with these label values.

    Returns
    -------
    pandas.DataFrame
        Columns ``scrape``, ``time``, ``labels`` and ``quantile``.
    """
    sel = _select(samples, f"{family}_bucket", labels)
    if sel.empty:
        raise TelemetryError(f"no buckets of histogram {family!r}", field="family")
    sel = sel.copy()
    if by is not None:
        keep = set(by)
        sel["labels"] = sel["labels"].map(
            lambda text: ",".join(p for p in text.split(",") if p and p.split("=")[0] in keep)
        )
    grouped = sel.groupby(["scrape", "labels", "le"], dropna=False, sort=True).agg(
        value=("value", "sum"), time=("time", "first")
    )
    out: list[dict[str, Any]] = []
    for (scrape, lab), part in grouped.groupby(level=[0, 1], sort=True):
        bounds = part.index.get_level_values("le").to_numpy(dtype=np.float64)
        counts = part["value"].to_numpy(dtype=np.float64)
        out.append(
            {
                "scrape": scrape,
                "time": part["time"].iloc[0],
                "labels": lab,
                "quantile": _quantile(q, bounds, counts),
            }
        )
    return pd.DataFrame(out, columns=["scrape", "time", "labels", "quantile"])


def series(samples: pd.DataFrame, metric: str, labels: dict[str, str] | None = None) -> pd.Series:
    """The values of ``metric`` (matching ``labels``) over the scrapes, as a time series.

    Indexed by ``time`` when every scrape carries timestamps, else by ``scrape``; when
    several series match, their values are summed per scrape.
    """
    sel = _select(samples, metric, labels)
    if sel.empty:
        raise TelemetryError(f"no samples of {metric!r}", field="metric")
    key = "time" if sel["time"].notna().all() else "scrape"
    out = sel.groupby(key, sort=True)["value"].sum()
    out.name = metric
    return out


def _counter_increase(values: FloatArray) -> FloatArray:
    """Increase of cumulative counters between consecutive rows (scrapes); the first
    row's increase is its value (counted from 0). As PromQL's ``increase``, a decrease
    is a counter reset, after which the increase is the new value."""
    diff = np.diff(values, axis=0, prepend=np.zeros((1, values.shape[1])))
    out: FloatArray = np.where(diff < 0, values, diff)
    return out


def increase(
    samples: pd.DataFrame, metric: str, labels: dict[str, str] | None = None
) -> pd.DataFrame:
    """Per-scrape increase of every series of a counter (histogram buckets included).

    Scrape ``k``'s value is the increase since scrape ``k - 1`` (the first scrape's is
    everything since the process started), with counter resets handled as PromQL's
    ``increase``; series are told apart by their labels and ``le``. The result has the
    ``samples`` columns :func:`histogram_quantile` needs, so that
    ``histogram_quantile(0.99, increase(samples, f"{family}_bucket"), family)`` is the
    quantile of each scrape interval's observations.

    Parameters
    ----------
    samples
        A ``samples`` frame of one or more scrapes.
    metric
        Counter name (e.g. ``"..._bucket"`` of a histogram family).
    labels
        Only the series with these label values.

    Returns
    -------
    pandas.DataFrame
        ``scrape``, ``time`` (the scrape's timestamp, NaN without one), ``metric``,
        ``labels``, ``le`` and ``value`` (the increase), one row per scrape and series.

    Raises
    ------
    TelemetryError
        If the counter has no samples.
    """
    sel = _select(samples, metric, labels)
    if sel.empty:
        raise TelemetryError(f"no samples of {metric!r}", field="metric")
    wide = sel.pivot_table(
        index="scrape", columns=["labels", "le"], values="value", aggfunc="sum", dropna=False
    ).sort_index()
    values = _counter_increase(wide.to_numpy(dtype=np.float64))
    n_scrapes, n_columns = values.shape
    times = sel.groupby("scrape")["time"].first().reindex(wide.index).to_numpy(np.float64)
    frame = pd.DataFrame(
        {
            "scrape": np.repeat(wide.index.to_numpy(), n_columns),
            "time": np.repeat(times, n_columns),
            "metric": metric,
            "labels": np.tile(wide.columns.get_level_values("labels").to_numpy(), n_scrapes),
            "le": np.tile(wide.columns.get_level_values("le").to_numpy(np.float64), n_scrapes),
            "value": values.ravel(),
        }
    )
    return frame.dropna(subset=["value"]).reset_index(drop=True)


def rate(samples: pd.DataFrame, metric: str, labels: dict[str, str] | None = None) -> pd.Series:
    """Per-second rate of a counter between consecutive timestamped scrapes.

    As PromQL's ``rate``, a decrease is a counter reset: the increase over that
    interval is the value after the reset. Each series matching ``labels`` is
    differenced on its own, then the rates are summed per interval.

    Returns
    -------
    pandas.Series
        Rates indexed by the later scrape's time (Unix seconds).

    Raises
    ------
    TelemetryError
        If the counter has no samples or its scrapes carry no timestamps.
    """
    sel = _select(samples, metric, labels)
    if sel.empty:
        raise TelemetryError(f"no samples of {metric!r}", field="metric")
    if sel["time"].isna().any():
        raise TelemetryError("rate needs timestamped scrapes", field="time")
    wide = sel.pivot_table(index="time", columns="labels", values="value", aggfunc="sum")
    times = wide.index.to_numpy(dtype=np.float64)
    dt = np.diff(times)[:, None]
    per_series = _counter_increase(wide.to_numpy(dtype=np.float64))[1:] / dt
    out = pd.Series(np.nansum(per_series, axis=1), index=times[1:], name=metric)
    out.index.name = "time"
    return out
