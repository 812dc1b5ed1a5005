"""Reader for aiconfigurator silicon tables -> the ``sweep`` schema.

NVIDIA aiconfigurator ships real end-to-end measurements (``silicon_ttft_ms``,
``silicon_tpot_ms``) of aggregated and disaggregated (xPyD) deployments on H100, H200,
B200, B300, GB200 and GB300 systems. One row is one deployment at one concurrency; the
concurrency is written inside ``silicon_data_source`` (``silicon_concurrency=N``).

A *deployment* is everything but the load: model, system, backend and version,
precision, mode, ISL x OSL, quantisation, and the per-stage parallelism and worker
counts. The source does not say whether the silicon values are means or medians; they
are stored as ``ttft_ms_avg`` / ``itl_ms_avg``. Throughput is derived by Little's law:
each of the ``C`` concurrent users completes a request every
``TTFT + (OSL - 1) * TPOT``, so ``request_throughput = C / (TTFT + (OSL - 1) TPOT)``
and ``output_token_throughput = OSL * request_throughput``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from gametheory.errors import TelemetryError
from gametheory.telemetry.schemas import conform
from gametheory.telemetry.validation import Skips, attach, parse_number, read_text

__all__ = ["DEPLOYMENT_FIELDS", "read_aiconfigurator"]

REQUIRED = (
    "silicon_data_source",
    "model_path",
    "system",
    "mode",
    "isl",
    "osl",
    "silicon_ttft_ms",
    "silicon_tpot_ms",
)

#: Columns whose values together name a deployment (absent columns are ignored).
DEPLOYMENT_FIELDS = (
    "model_path",
    "system",
    "backend",
    "backend_version",
    "precision",
    "mode",
    "isl",
    "osl",
    "gemm_quant_mode",
    "moe_quant_mode",
    "tp_size",
    "pp_size",
    "attention_dp_size",
    "moe_tp_size",
    "moe_ep_size",
    "prefill_num_workers",
    "prefill_tp_size",
    "prefill_pp_size",
    "prefill_attention_dp_size",
    "prefill_moe_tp_size",
    "prefill_moe_ep_size",
    "decode_num_workers",
    "decode_tp_size",
    "decode_pp_size",
    "decode_attention_dp_size",
    "decode_moe_tp_size",
    "decode_moe_ep_size",
)

_NUMERIC = ("isl", "osl", "silicon_ttft_ms", "silicon_tpot_ms")


def _to_number(values: pd.Series) -> np.ndarray:
    """Numbers from strings (thousands separators allowed); unparseable -> NaN."""
    plain = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64)
    retry = np.isnan(plain) & values.str.strip().ne("").to_numpy(dtype=bool)
    for i in np.flatnonzero(retry):
        try:
            plain[i] = parse_number(values.iloc[i])
        except ValueError:
            plain[i] = np.nan
    return plain


def _stage(frame: pd.DataFrame, prefix: str) -> pd.Series:
    def col(name: str) -> pd.Series:
        full = f"{prefix}{name}"
        if full not in frame.columns:
            return pd.Series([""] * len(frame), index=frame.index)
        return frame[full].str.replace(r"\.0$", "", regex=True)

    return (
        "tp"
        + col("tp_size")
        + "pp"
        + col("pp_size")
        + "dp"
        + col("attention_dp_size")
        + "ep"
        + col("moe_ep_size")
        + "mtp"
        + col("moe_tp_size")
    )


def deployment_names(frame: pd.DataFrame) -> pd.Series:
    """Readable deployment keys, e.g. ``Llama-3.1-70B|b200_sxm|trtllm|fp8|agg|1024x1024|tp2...``."""
    model = frame["model_path"].str.rsplit("/", n=1).str[-1]
    backend = frame.get("backend", pd.Series([""] * len(frame), index=frame.index))
    version = frame.get("backend_version", pd.Series([""] * len(frame), index=frame.index))
    precision = frame.get("precision", pd.Series([""] * len(frame), index=frame.index))
    base = (
        model
        + "|"
        + frame["system"]
        + "|"
        + backend
        + version.where(version == "", "-" + version)
        + "|"
        + precision
        + "|"
        + frame["mode"]
        + "|"
        + frame["isl"]
        + "x"
        + frame["osl"]
    )
    workers = frame.get(
        "prefill_num_workers", pd.Series([""] * len(frame), index=frame.index)
    ).str.replace(r"\.0$", "", regex=True)
    dworkers = frame.get(
        "decode_num_workers", pd.Series([""] * len(frame), index=frame.index)
    ).str.replace(r"\.0$", "", regex=True)
    disagg = (
        workers
        + "P("
        + _stage(frame, "prefill_")
        + ")"
        + dworkers
        + "D("
        + _stage(frame, "decode_")
        + ")"
    )
    shape = _stage(frame, "").where(frame["mode"] != "disagg", disagg)
    quant = frame.get("gemm_quant_mode", pd.Series([""] * len(frame), index=frame.index))
    return base + "|" + quant + "|" + shape


def read_aiconfigurator(path: str | Path) -> pd.DataFrame:
    """Read an aiconfigurator silicon CSV into a ``sweep`` frame, one row per
    deployment x concurrency, sorted by deployment and concurrency.

    Rows with the wrong number of fields, no ``silicon_concurrency``, or a missing,
    non-numeric or negative TTFT/TPOT/ISL/OSL are skipped and counted. Repeated
    measurements of the same deployment and concurrency are averaged (``n_runs``
    says how many) and noted in the report.

    Raises
    ------
    TelemetryError
        If the file is unreadable, not UTF-8, or lacks a required column (line 1).
    """
    p = Path(path)
    text = read_text(p)
    skips = Skips()
    reader = csv.reader(io.StringIO(text))
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    for fields in reader:
        if header is None:
            header = [h.strip() for h in fields]
            continue
        if not fields or all(not f.strip() for f in fields):
            continue
        if len(fields) != len(header):
            skips.add("wrong number of fields", reader.line_num)
            continue
        rows.append(fields)
        lines.append(reader.line_num)
    if header is None:
        raise TelemetryError("empty file", file=str(p), line=1)
    for col in REQUIRED:
        if col not in header:
            raise TelemetryError("missing required column", file=str(p), line=1, field=col)
    if len(set(header)) != len(header):
        raise TelemetryError("repeated column name", file=str(p), line=1, field="header")
    raw = pd.DataFrame(rows, columns=header, dtype="string").fillna("")
    line_no = np.asarray(lines, dtype=np.int64)
    keep = np.ones(len(raw), dtype=bool)
    conc = _to_number(
        raw["silicon_data_source"].str.extract(r"silicon_concurrency=([\d,.]+)")[0].fillna("")
    )
    mask = ~(conc > 0)
    skips.add_mask("no silicon_concurrency in silicon_data_source", mask & keep, line_no)
    keep &= ~mask
    nums = {col: _to_number(raw[col]) for col in _NUMERIC}
    for col in _NUMERIC:
        bad = ~np.isfinite(nums[col]) & keep
        skips.add_mask(f"missing or non-numeric {col}", bad, line_no)
        keep &= ~bad
        neg = (nums[col] < 0) & keep
        skips.add_mask(f"negative {col}", neg, line_no)
        keep &= ~neg
    raw = raw.loc[keep]
    ttft, tpot = nums["silicon_ttft_ms"][keep], nums["silicon_tpot_ms"][keep]
    osl, c = nums["osl"][keep], conc[keep]
    cycle_s = (ttft + np.maximum(osl - 1.0, 0.0) * tpot) / 1e3
    with np.errstate(divide="ignore"):
        rps = np.where(cycle_s > 0, c / cycle_s, np.nan)
    for name in ("isl", "osl"):
        raw[name] = raw[name].str.replace(r"\.0$", "", regex=True)
    frame = pd.DataFrame(
        {
            "deployment": deployment_names(raw).to_numpy(),
            "concurrency": c,
            "ttft_ms_avg": ttft,
            "itl_ms_avg": tpot,
            "request_throughput": rps,
            "output_token_throughput": rps * osl,
        }
    )
    grouped = frame.groupby(["deployment", "concurrency"], sort=True)
    merged = grouped.mean().reset_index()
    merged["n_runs"] = grouped.size().to_numpy()
    extra = int((merged["n_runs"] - 1).sum())
    if extra:
        skips.notes.append(
            f"{extra} repeated measurements (same deployment and concurrency) averaged"
        )
    skips.notes.append("throughput derived by Little's law from TTFT, TPOT and OSL")
    merged["source"] = str(p)
    result = conform(merged, "sweep")
    return attach(result, skips.report(str(p), "aiconfigurator-silicon", len(result)))
