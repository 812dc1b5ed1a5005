"""Reader for NVIDIA Dynamo KV-router scheduler logs -> the ``decisions`` schema.

For each request the router prints one line per candidate worker and then the choice.
Old shape (v0.6)::

    Formula for <worker> with <n> cached blocks: <logit> = <w> * prefill_blocks
        + decode_blocks = <w> * <p> + <d>
    Selected worker: <worker>, logit: <x>, cached blocks: <n>, total blocks: <t>

New shape::

    Formula for worker_id=<worker> ... with <n> cached blocks: <logit> =
        prefill_load_scale * adjusted_prefill_blocks + decode_blocks = <w> * <p> + <d>
        (raw_prefill_blocks: <r>, overlap_credit_blocks: <c>)

Structured shape (Dynamo 1.6, ``dynamo_kv_router::scheduling::selector``), one line per
decision of each stage, the chosen worker only::

    Selected worker router_mode="kv" request_id="<id>" worker_id=<worker>
        worker_type=prefill|decode dp_rank=<r> logit=<x> effective_cached_blocks=<n>
        host_pinned_blocks=<h> disk_blocks=<k> total_kv_blocks=Some(<t>)

(the decode line has no ``effective_cached_blocks`` or ``total_kv_blocks``; a query
that books nothing logs ``request_id="-"``), and for a request sent to a given worker::

    Selected pinned worker: worker_type=decode, worker_id=<worker> dp_rank=<r>,
        logit: <x>, effective cached blocks: <n> request_id="<id>"

The same records in Dynamo's JSON-lines logging (``DYN_LOGGING_JSONL=1``: ``{"time": ...,
"message": "Selected worker", "worker_id": ..., "logit": ...}``) are read alike. Each such
line is one decision with a single, chosen candidate: ``cost`` is the logit,
``cached_blocks`` the effective cached blocks, ``stage`` the worker type, and a
worker of a data-parallel rank other than 0 is named ``<worker>-dp<r>``. The other
candidates' costs are not in this log.

ANSI colour codes are stripped. Consecutive candidate lines followed by a ``Selected
worker`` line form one decision; the logit is the router's cost (lower is better), its
prefill part ``w * p`` depends on the request and its decode part ``d`` on the worker's
current load, which is what the PoA-hat estimator needs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gametheory.telemetry.files import read_bytes
from gametheory.telemetry.schemas import conform
from gametheory.telemetry.validation import Skips, attach, parse_number

__all__ = ["parse_router_lines", "read_router_log"]

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_NUM = r"[-+]?(?:\d[\d,]*(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+|nan|NaN|inf|-inf)"
_FORMULA = re.compile(
    r"Formula for (?:worker_id=)?(?P<worker>[^\s:,]+)"
    r"(?:[^:]*?with (?P<cached>" + _NUM + r") cached blocks)?[^:]*:\s*"
    r"(?P<logit>" + _NUM + r")\s*=.*?=\s*(?P<w>" + _NUM + r")\s*\*\s*(?P<p>" + _NUM + r")"
    r"\s*\+\s*(?P<d>" + _NUM + r")"
    r"(?:\s*\(raw_prefill_blocks:\s*(?P<raw>" + _NUM + r")"
    r"(?:,\s*overlap_credit_blocks:\s*(?P<credit>" + _NUM + r"))?\))?"
)
_SELECTED = re.compile(
    r"Selected worker:\s*(?:worker_id=)?(?P<worker>[^\s,]+)[^,]*,\s*logit:\s*(?P<logit>"
    + _NUM
    + r")"
)
_STRUCTURED = re.compile(r"Selected worker\s+router_mode=")
_PINNED = re.compile(
    r"Selected pinned worker:\s*worker_type=(?P<stage>\w+),\s*worker_id=(?P<worker>[^\s,]+)"
    r"\s+dp_rank=(?P<rank>\d+),\s*logit:\s*(?P<logit>" + _NUM + r"),"
    r"\s*effective cached blocks:\s*(?P<cached>" + _NUM + r")"
)
_PAIR = re.compile(r"(\w+)=(\"(?:[^\"\\]|\\.)*\"|\S+)")
_SOME = re.compile(r"^Some\((.*)\)$")
_TIME = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}T[\d:.]+Z?)")
_REQUEST = re.compile(r"request_id[=:]\s*\"?(?P<rid>[\w.-]+)")


def _num(text: str | None) -> float:
    return float("nan") if text is None else parse_number(text)


def _field(pairs: dict[str, str], key: str) -> float:
    """A numeric ``key=value`` field (``Some(x)`` unwrapped, ``None`` as NaN)."""
    text = pairs.get(key)
    if text is None or text == "None":
        return float("nan")
    some = _SOME.match(text)
    return parse_number(some.group(1) if some else text)


def _pinned(text: str) -> dict[str, str] | None:
    """The fields of a ``Selected pinned worker:`` message, None if it is not one."""
    pinned = _PINNED.search(text)
    if pinned is None:
        return None
    pairs = {
        "worker_id": pinned["worker"],
        "worker_type": pinned["stage"],
        "dp_rank": pinned["rank"],
        "logit": pinned["logit"],
        "effective_cached_blocks": pinned["cached"],
    }
    rid = _REQUEST.search(text[pinned.end() :])
    if rid is not None:
        pairs["request_id"] = rid["rid"]
    return pairs


def _json_pairs(line: str) -> tuple[dict[str, str], str | None] | None:
    """Fields and timestamp of a JSON-lines log record (``DYN_LOGGING_JSONL=1``) of a
    selection; None for any other line."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("message"), str):
        return None
    message, stamp = record["message"], record.get("time")
    stamp = stamp if isinstance(stamp, str) else None
    if message.startswith("Selected pinned worker:"):
        pairs = _pinned(message)
        if pairs is not None and "request_id" in record:
            pairs["request_id"] = str(record["request_id"])
        return (pairs, stamp) if pairs is not None else ({}, stamp)
    if message != "Selected worker":
        return None
    return {str(k): str(v) for k, v in record.items() if v is not None}, stamp


def _structured(line: str, stamp: str | None) -> dict[str, Any] | str:
    """The decision row of a Dynamo 1.6 ``Selected worker`` line, or why it is skipped."""
    found = _json_pairs(line) if line.startswith("{") else None
    if found is not None:
        pairs, stamp = found
    else:
        pinned = _pinned(line)
        pairs = (
            pinned
            if pinned is not None
            else {k: v.strip('"') for k, v in _PAIR.findall(line[line.index("Selected worker") :])}
        )
    return _row_of(pairs, stamp)


def _row_of(pairs: dict[str, str], stamp: str | None) -> dict[str, Any] | str:
    """The decision row of a selection's fields, or why it is skipped."""
    worker = pairs.get("worker_id")
    if worker is None or "logit" not in pairs:
        return "malformed Selected line"
    try:
        cost, cached, rank = _field(pairs, "logit"), _field(pairs, "effective_cached_blocks"), 0.0
        if "dp_rank" in pairs:
            rank = _field(pairs, "dp_rank")
    except ValueError:
        return "unparseable number in Selected line"
    if not np.isfinite(cost):
        return "NaN or infinite cost term"
    if cost < 0 or (np.isfinite(cached) and cached < 0):
        return "negative cost term"
    if np.isfinite(rank) and rank > 0:
        worker = f"{worker}-dp{int(rank)}"
    return {
        "time": stamp,
        "request_id": pairs.get("request_id"),
        "worker": worker,
        "cost": cost,
        "cached_blocks": cached,
        "chosen": True,
        "stage": pairs.get("worker_type"),
    }


def parse_router_lines(lines: list[str], source: str, skips: Skips) -> pd.DataFrame:
    """Group decoded log lines into decision rows (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    pending: list[dict[str, Any]] = []
    pending_line = 0
    decision = 0

    def drop_pending(reason: str) -> None:
        nonlocal pending
        if pending:
            skips.add(reason, pending_line, len(pending))
        pending = []

    for lineno, raw in enumerate(lines, start=1):
        if "Formula for" not in raw and "Selected worker" not in raw and "pinned worker" not in raw:
            continue
        line = _ANSI.sub("", raw)
        tmatch = _TIME.match(line)
        stamp = tmatch.group(1) if tmatch else None
        rmatch = _REQUEST.search(line)
        rid = rmatch.group("rid") if rmatch else None
        if "Formula for" in line:
            m = _FORMULA.search(line)
            if m is None:
                skips.add("malformed Formula line", lineno)
                continue
            try:
                w, p, d = _num(m["w"]), _num(m["p"]), _num(m["d"])
                cost, cached = _num(m["logit"]), _num(m["cached"] or m["credit"])
            except ValueError:
                skips.add("unparseable number in Formula line", lineno)
                continue
            values = np.array([w, p, d, cost])
            if not np.all(np.isfinite(values)):
                skips.add("NaN or infinite cost term", lineno)
                continue
            if np.any(values < 0) or (np.isfinite(cached) and cached < 0):
                skips.add("negative cost term", lineno)
                continue
            if any(c["worker"] == m["worker"] for c in pending):
                drop_pending("candidate lines without a Selected line")
            if not pending:
                pending_line = lineno
            pending.append(
                {
                    "time": stamp,
                    "request_id": rid,
                    "worker": m["worker"],
                    "cost": cost,
                    "prefill_weight": w,
                    "prefill_blocks": p,
                    "prefill_cost": w * p,
                    "decode_blocks": d,
                    "cached_blocks": cached,
                }
            )
            continue
        structured = _STRUCTURED.search(line) or "Selected pinned worker:" in line
        if structured or (line.startswith("{") and '"message":"Selected worker"' in line):
            drop_pending("candidate lines without a Selected line")
            row = _structured(line, stamp)
            if isinstance(row, str):
                skips.add(row, lineno)
                continue
            rows.append({**row, "decision": decision})
            decision += 1
            continue
        s = _SELECTED.search(line)
        if s is None:
            skips.add("malformed Selected line", lineno)
            drop_pending("candidate lines without a Selected line")
            continue
        if not pending:
            skips.add("Selected line without candidate lines", lineno)
            continue
        chosen = [c["worker"] == s["worker"] for c in pending]
        if sum(chosen) != 1:
            drop_pending("selected worker is not among the candidates")
            continue
        request = rid or next((c["request_id"] for c in pending if c["request_id"]), None)
        for cand, flag in zip(pending, chosen):
            rows.append({**cand, "decision": decision, "chosen": flag, "request_id": request})
        decision += 1
        pending = []
    drop_pending("candidate lines without a Selected line")
    frame = pd.DataFrame(rows)
    if len(frame):
        frame["source"] = source
        stamps = pd.to_datetime(frame["time"], utc=True, errors="coerce", format="ISO8601")
        garbled = int((stamps.isna() & frame["time"].notna()).sum())
        if garbled:
            skips.notes.append(f"{garbled} unparseable timestamps kept as NaT")
        frame["time"] = stamps
    return conform(frame, "decisions")


_A = r"(?:\x1b\[[\d;]*m)*"  # any colour codes


def _kv(key: str, value: str) -> str:
    return rf"\s+{_A}{key}{_A}={_A}{value}"


_FAST = re.compile(
    rf"^\s*{_A}(\d{{4}}-\d{{2}}-\d{{2}}T[\d:.]+Z?){_A}[^\n]*?Selected worker"
    + _kv("router_mode", r'"?[\w-]+"?')
    + _kv("request_id", r'"([^"\n]*)"')
    + _kv("worker_id", r"(\d+)")
    + _kv("worker_type", r"(\w+)")
    + _kv("dp_rank", r"(\d+)")
    + _kv("logit", r"([-+.\deE]+)")
    + "(?:"
    + _kv("effective_cached_blocks", r"([-+.\deE]+)")
    + ")?[^\n]*$",
    re.M,
)


def _fast_structured(text: str, source: str) -> pd.DataFrame | None:
    """The decisions of a clean Dynamo 1.6 log in one pass of one regular expression.

    None when the log holds anything the per-line parser must judge (candidate or
    pinned lines, a ``Selected worker`` line of another shape, a bad number, a
    negative cost), so that the result and the read report are the same either way.
    """
    if "Formula for" in text or "pinned worker" in text or "Selected worker" not in text:
        return None
    found = _FAST.findall(text)
    if len(found) != text.count("Selected worker"):
        return None
    stamp, rid, worker, stage, rank, logit, cached = (list(c) for c in zip(*found))
    try:
        cost = np.array(logit, dtype=np.float64)
        hits = np.array([c or "nan" for c in cached], dtype=np.float64)
    except ValueError:
        return None
    if not np.all(np.isfinite(cost)) or np.any(cost < 0) or np.any(hits < 0):
        return None
    names = [w if r == "0" else f"{w}-dp{r}" for w, r in zip(worker, rank)]
    frame = pd.DataFrame(
        {
            "decision": np.arange(len(found)),
            "time": pd.to_datetime(stamp, utc=True, format="ISO8601"),
            "request_id": rid,
            "worker": names,
            "cost": cost,
            "cached_blocks": hits,
            "chosen": True,
            "stage": stage,
            "source": source,
        }
    )
    return conform(frame, "decisions")


def read_router_log(path: str | Path) -> pd.DataFrame:
    """Read a Dynamo KV-router log into the ``decisions`` schema.

    Lines other than candidate (``Formula for``) and ``Selected worker`` lines are
    ignored. Malformed, non-UTF-8, negative or NaN candidate lines, candidates left
    without a ``Selected`` line (a truncated log) and selections without candidates
    are skipped and counted in the attached :class:`ReadReport`.

    Returns
    -------
    pandas.DataFrame
        ``decisions`` schema, with ``attrs["read_report"]``.
    """
    p = Path(path)
    data = read_bytes(p)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    skips = Skips()
    if b"\r" not in data:
        try:
            fast = _fast_structured(data.decode("utf-8"), str(p))
        except UnicodeDecodeError:
            fast = None
        if fast is not None:
            return attach(fast, skips.report(str(p), "dynamo-router-log", len(fast)))
    lines: list[str] = []
    for lineno, raw in enumerate(data.replace(b"\r\n", b"\n").split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8").rstrip("\r"))
        except UnicodeDecodeError:
            if b"Formula for" in raw or b"Selected " in raw:
                skips.add("not UTF-8", lineno)
            lines.append("")
    frame = parse_router_lines(lines, str(p), skips)
    return attach(frame, skips.report(str(p), "dynamo-router-log", len(frame)))
