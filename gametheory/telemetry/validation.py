"""Read reports and the shared checks every telemetry reader applies.

A reader never drops data silently: each row it skips is counted under a reason in a
:class:`ReadReport`, attached to the returned frame as ``frame.attrs["read_report"]``
(see :func:`read_report`). Problems that make a whole file unreadable raise
:class:`~gametheory.errors.TelemetryError` naming the file, line and field.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gametheory.errors import TelemetryError
from gametheory.telemetry.files import read_bytes

__all__ = [
    "ReadReport",
    "Skips",
    "attach",
    "decode_text",
    "json_float",
    "parse_number",
    "read_report",
    "read_text",
]


@dataclass(frozen=True)
class ReadReport:
    """What a reader did with its input.

    Attributes
    ----------
    source
        The file (or folder) read.
    format
        The detected format, e.g. ``"aiperf-jsonl"``.
    rows
        Rows in the returned frame.
    skipped
        Input rows or records left out.
    reasons
        Skipped count per reason (e.g. ``{"not valid JSON (truncated?)": 2}``).
    first_lines
        For each reason, the first 1-based line (or record) number it occurred at.
    notes
        Other facts worth knowing (duplicates merged, values derived, ...).
    """

    source: str
    format: str
    rows: int
    skipped: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    first_lines: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def __str__(self) -> str:
        head = f"{self.source} [{self.format}]: {self.rows} rows, {self.skipped} skipped"
        parts = [head]
        for reason, count in sorted(self.reasons.items()):
            parts.append(f"  {count} x {reason} (first at line {self.first_lines[reason]})")
        parts += [f"  note: {note}" for note in self.notes]
        return "\n".join(parts)


class Skips:
    """Accumulates skipped rows by reason while a reader runs."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.first: dict[str, int] = {}
        self.notes: list[str] = []

    def add(self, reason: str, line: int, count: int = 1) -> None:
        """Record ``count`` skipped rows for ``reason``, the first at ``line``."""
        if count <= 0:
            return
        self.counts[reason] += count
        self.first[reason] = min(self.first.get(reason, line), line)

    def add_mask(self, reason: str, mask: np.ndarray, lines: np.ndarray) -> None:
        """Record the rows where boolean ``mask`` holds, with their line numbers."""
        n = int(np.count_nonzero(mask))
        if n:
            self.add(reason, int(lines[mask].min()), n)

    def report(self, source: str, fmt: str, rows: int) -> ReadReport:
        """Freeze the accumulated counts into a :class:`ReadReport`."""
        return ReadReport(
            source=source,
            format=fmt,
            rows=rows,
            skipped=int(sum(self.counts.values())),
            reasons=dict(self.counts),
            first_lines=dict(self.first),
            notes=tuple(self.notes),
        )


def attach(frame: pd.DataFrame, report: ReadReport) -> pd.DataFrame:
    """Attach ``report`` to ``frame`` (``frame.attrs["read_report"]``) and return it."""
    frame.attrs["read_report"] = report
    return frame


def read_report(frame: pd.DataFrame) -> ReadReport:
    """The :class:`ReadReport` a reader attached to ``frame``.

    Raises
    ------
    TelemetryError
        If the frame was not produced by a telemetry reader.
    """
    report = frame.attrs.get("read_report")
    if not isinstance(report, ReadReport):
        raise TelemetryError("frame has no read report (not produced by a reader)", field="attrs")
    return report


def decode_text(data: bytes, source: str) -> str:
    """Decode file bytes as UTF-8 (a BOM is removed; CRLF and CR become LF).

    Raises
    ------
    TelemetryError
        If the bytes are not UTF-8, naming the line of the first bad byte.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TelemetryError(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x})", file=source, line=line
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def read_text(path: Path) -> str:
    """Read ``path`` (plain or compressed) as text with :func:`decode_text`; a missing
    file is a TelemetryError."""
    return decode_text(read_bytes(path), str(path))


_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?([eE][+-]?\d+)?$")


def parse_number(text: str) -> float:
    """Parse a number written with optional thousands separators (``"1,234.5"``).

    Returns NaN for an empty cell or a literal ``nan``; raises ValueError otherwise.
    """
    s = text.strip().strip('"').strip()
    if s == "" or s.lower() in {"nan", "n/a", "na", "null", "none"}:
        return float("nan")
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    return float(s)


def json_float(value: Any) -> float | None:
    """A JSON number as a float (an integer beyond a float as an infinity, never an
    OverflowError); None when it is not a number (a bool, a string, an object)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if abs(value) < 2**1023:
            return float(value)
        return math.inf if value > 0 else -math.inf
    if isinstance(value, float):
        return value
    return None
