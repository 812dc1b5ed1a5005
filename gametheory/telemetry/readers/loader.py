"""``load(path)``: detect telemetry formats and read them into the tidy schemas.

Detection looks at the file name and its first bytes, never at the extension alone:

========================  ==============================================================
format                    recognised by
========================  ==============================================================
``aiperf-jsonl``          ``.jsonl`` whose first record has a ``metrics`` object
``aiperf-json``           JSON with ``records``, ``schema_version`` or aiperf metric keys
``aiperf-server-metrics`` aiperf 0.13's ``server_metrics_export.json`` (``metrics_phase``)
``genai-perf-json``       the same, named ``*genai_perf*``
``aiperf-csv``            CSV whose first field is ``Metric`` (``*genai_perf*``: genai-perf)
``aiconfigurator``        CSV with ``silicon_ttft_ms`` and ``silicon_data_source`` columns
``prometheus``            text with ``# TYPE`` / ``# HELP`` lines (``.prom``, ``.txt``, ...)
``router-log``            text with ``Formula for`` / ``Selected worker`` lines
========================  ==============================================================

aiperf 0.13's artifact folder holds ``profile_export.jsonl`` (requests),
``profile_export_aiperf.json`` (the summary row; the CSV beside it is not read twice)
and ``server_metrics_export.json``, read as one scrape of ``samples`` (the CSV of the
same export is not read twice either).

A folder is walked recursively; every recognised file is read, Prometheus scrapes of
one folder form one time series (in name order), and a per-request file without an
aggregate beside it also yields a sweep row. Unrecognised files, files that cannot be
read (truncated or corrupt compression, past the decompression limit, unreadable),
folders that cannot be listed and entries that are not files (dangling links, pipes)
are listed in the notes of the result, never silently ignored; when nothing at all
could be read, the first such error is raised.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from gametheory.errors import TelemetryError
from gametheory.telemetry.aggregate import deployment_from_path, summarize_requests
from gametheory.telemetry.files import decompression_limit, find_beside, plain_name, read_head
from gametheory.telemetry.readers.aiconfigurator import read_aiconfigurator
from gametheory.telemetry.readers.aiperf import read_aiperf_aggregate, read_aiperf_records
from gametheory.telemetry.readers.aiperf_server import read_aiperf_server_metrics
from gametheory.telemetry.readers.genai_perf import read_genai_perf
from gametheory.telemetry.readers.prometheus import read_prometheus
from gametheory.telemetry.readers.router_logs import read_router_log
from gametheory.telemetry.schemas import SCHEMAS, conform, empty
from gametheory.telemetry.validation import ReadReport, read_report

__all__ = ["FORMATS", "TelemetryData", "detect_format", "load"]

FORMATS = (
    "aiperf-jsonl",
    "aiperf-json",
    "aiperf-server-metrics",
    "aiperf-csv",
    "genai-perf-json",
    "genai-perf-csv",
    "aiconfigurator",
    "prometheus",
    "router-log",
)

_HEAD = 65536


@dataclass(frozen=True)
class TelemetryData:
    """Everything read from one or more paths, in the four tidy schemas.

    Attributes
    ----------
    requests, sweep, decisions, samples
        The frames (empty frames of the schema when a kind is absent).
    reports
        One :class:`ReadReport` per file or series read.
    notes
        Files that were not recognised, and other remarks.
    """

    requests: pd.DataFrame
    sweep: pd.DataFrame
    decisions: pd.DataFrame
    samples: pd.DataFrame
    reports: tuple[ReadReport, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def skipped(self) -> int:
        """Rows skipped over all files."""
        return sum(r.skipped for r in self.reports)


def _head(path: Path) -> str:
    data = read_head(path, _HEAD)
    return data.removeprefix(b"\xef\xbb\xbf").decode("utf-8", errors="replace")


def detect_format(path: str | Path) -> str | None:
    """The telemetry format of ``path`` (one of :data:`FORMATS`), None if unrecognised."""
    p = Path(path)
    name = plain_name(p).lower()
    head = _head(p)
    first = next((ln for ln in head.splitlines() if ln.strip()), "")
    genai = "genai_perf" in name or "genai-perf" in name
    if name.endswith(".jsonl"):
        return "aiperf-jsonl" if '"metrics"' in first else None
    if name.endswith(".json"):
        stripped = head.lstrip()
        if not stripped.startswith("{"):
            return None
        if '"metrics_phase"' in head or name.startswith("server_metrics_export"):
            return "aiperf-server-metrics"
        keys = ('"records"', '"schema_version"', '"request_latency"', '"time_to_first_token"')
        if any(k in head for k in keys):
            return "genai-perf-json" if genai else "aiperf-json"
        return None
    if name.endswith(".csv"):
        if first.split(",")[0].strip().strip('"').lower() == "metric":
            return "genai-perf-csv" if genai else "aiperf-csv"
        if "silicon_ttft_ms" in first and "silicon_data_source" in first:
            return "aiconfigurator"
        return None
    if "Formula for" in head or "Selected worker" in head:
        return "router-log"
    if "# TYPE " in head or "# HELP " in head:
        return "prometheus"
    return None


def _files(paths: Iterable[Path], notes: list[str]) -> list[Path]:
    """The files under ``paths``; what cannot be listed or is not a file goes to ``notes``."""
    out: list[Path] = []

    def unlisted(exc: OSError) -> None:
        notes.append(f"cannot list folder {exc.filename}: {exc.strerror or exc}")

    for p in paths:
        if p.is_dir():
            found: list[Path] = []
            for folder, _dirs, names in os.walk(p, onerror=unlisted, followlinks=False):
                for name in names:
                    entry = Path(folder) / name
                    if entry.is_file():
                        found.append(entry)
                    else:
                        kind = "a dangling link" if entry.is_symlink() else "not a regular file"
                        notes.append(f"skipped {entry}: {kind}")
            out += sorted(found)
        elif p.is_file():
            out.append(p)
        else:
            raise TelemetryError("no such file or folder", file=str(p))
    return out


def _concat(frames: list[pd.DataFrame], kind: str) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty(kind)
    return conform(pd.concat(frames, ignore_index=True), kind)


def load(
    paths: str | Path | Sequence[str | Path],
    *,
    progress: Callable[[int, int, Path], None] | None = None,
    max_decompressed: int | None = None,
) -> TelemetryData:
    """Read every recognised telemetry file under ``paths`` (see the module docstring).

    Parameters
    ----------
    paths
        A file, a folder, or a sequence of them.
    progress
        Called as ``progress(i, n, file)`` before each file (for progress displays).
    max_decompressed
        Bytes a compressed file may expand to (default
        :data:`~gametheory.telemetry.files.MAX_DECOMPRESSED`, 1 GiB).

    Raises
    ------
    TelemetryError
        If a path does not exist, or nothing could be read (the first file's error, or
        "no recognised telemetry files"); files that fail beside readable ones are listed
        in ``notes``.
    """
    if max_decompressed is not None:
        with decompression_limit(max_decompressed):
            return load(paths, progress=progress)
    roots = [Path(paths)] if isinstance(paths, (str, Path)) else [Path(p) for p in paths]
    notes: list[str] = []
    failures: list[TelemetryError] = []
    files = _files(roots, notes)
    parts: dict[str, list[pd.DataFrame]] = {kind: [] for kind in SCHEMAS}
    reports: list[ReadReport] = []
    scrapes: dict[Path, list[Path]] = {}
    aggregates = {f.parent for f in files if "profile_export_" in f.name}
    readers: dict[str, tuple[str, Callable[[Path], pd.DataFrame]]] = {
        "aiperf-json": ("sweep", read_aiperf_aggregate),
        "aiperf-csv": ("sweep", read_aiperf_aggregate),
        "genai-perf-json": ("sweep", read_genai_perf),
        "genai-perf-csv": ("sweep", read_genai_perf),
        "aiconfigurator": ("sweep", read_aiconfigurator),
        "aiperf-server-metrics": ("samples", read_aiperf_server_metrics),
        "router-log": ("decisions", read_router_log),
    }
    for i, f in enumerate(files):
        if progress is not None:
            progress(i, len(files), f)
        try:
            fmt = detect_format(f)
        except TelemetryError as exc:
            failures.append(exc)
            continue
        if (
            fmt is None
            and plain_name(f).startswith("server_metrics_export.")
            and find_beside(f, "server_metrics_export.json")
        ):
            notes.append(f"{f}: the JSON export beside it was used instead")
            continue
        if fmt is None:
            notes.append(f"not a recognised telemetry file: {f}")
            continue
        if fmt == "prometheus":
            scrapes.setdefault(f.parent, []).append(f)
            continue
        if fmt in ("aiperf-csv", "genai-perf-csv") and find_beside(
            f, Path(plain_name(f)).with_suffix(".json").name
        ):
            notes.append(f"{f}: the JSON export beside it was used instead")
            continue
        try:
            if fmt == "aiperf-jsonl":
                reqs = read_aiperf_records(f)
                parts["requests"].append(reqs)
                reports.append(read_report(reqs))
                if f.parent not in aggregates:
                    row = summarize_requests(
                        reqs, deployment=deployment_from_path(f), source=str(f)
                    )
                    parts["sweep"].append(conform(pd.DataFrame([row]), "sweep"))
                continue
            kind, reader = readers[fmt]
            frame = reader(f)
        except TelemetryError as exc:
            failures.append(exc)
            continue
        parts[kind].append(frame)
        reports.append(read_report(frame))
    for group in scrapes.values():
        try:
            samples = read_prometheus(sorted(group))
        except TelemetryError as exc:
            failures.append(exc)
            continue
        parts["samples"].append(samples)
        reports.append(read_report(samples))
    notes += [f"unreadable: {exc}" for exc in failures]
    if not reports:
        if failures:
            raise failures[0]
        raise TelemetryError("no recognised telemetry files", file=",".join(str(r) for r in roots))
    sweep = _concat(parts["sweep"], "sweep")
    if len(sweep):
        sweep = sweep.sort_values(["deployment", "concurrency"], kind="stable", ignore_index=True)
    offset = 0
    for frame in parts["decisions"]:
        # Decision ids restart in every log: make them unique across files.
        frame["decision"] = frame["decision"] + offset
        if len(frame):
            offset = int(frame["decision"].max()) + 1
    return TelemetryData(
        requests=_concat(parts["requests"], "requests"),
        sweep=sweep,
        decisions=_concat(parts["decisions"], "decisions"),
        samples=_concat(parts["samples"], "samples"),
        reports=tuple(reports),
        notes=tuple(notes),
    )
