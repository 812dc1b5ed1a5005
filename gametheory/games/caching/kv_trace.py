"""Block request rates of the hierarchical KV cache from a Mooncake trace.

A Mooncake trace is JSON lines ``{timestamp (ms), input_length, output_length,
hash_ids}``: the ``hash_ids`` name the 512-token prefix blocks of the request's input.
Each request is routed to one of ``n_workers`` workers (round-robin in arrival order, or
uniformly at random); block ``k`` of a request with ``L`` input tokens covers ``min(B, L -
B k)`` tokens (at least 1) for blocks of ``B`` tokens, and a block's size is its largest
coverage over the trace. The rate of block ``b`` at worker ``u`` is

``rate[u, b] = #{requests routed to u that contain b} / duration``,

with ``duration`` the trace's time span unless given. Keeping only the ``k`` most
requested blocks keeps the share ``coverage`` of all block requests.

References
----------
Qin, R. et al. (2025). Mooncake: a KVCache-centric disaggregated architecture for LLM
serving. FAST 2025 (the traces: ``hash_ids`` of 512-token blocks).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import scipy.sparse as sps
from numpy.typing import NDArray

from gametheory.errors import GameError, TelemetryError
from gametheory.games.caching.validation import check_count, nonnegative_array

__all__ = ["TraceRates", "read_trace", "trace_rates"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class TraceRates(NamedTuple):
    """Request rates of the kept blocks of a trace and what they cover."""

    rates: sps.csr_array
    """Requests per second of each block at each worker, ``(n_workers, n_blocks)``."""
    tokens: FloatArray
    """Tokens of each kept block (its largest coverage in the trace)."""
    block_ids: list[int]
    """Hash id of each kept block, increasing."""
    coverage: float
    """Share of the trace's block requests that fall on the kept blocks."""
    n_requests: int
    """Requests read from the trace."""


def read_trace(
    path: Path, max_requests: int | None
) -> tuple[FloatArray, IntArray, IntArray, IntArray]:
    """Timestamps, input lengths, concatenated hash ids and ids per request of a trace.

    Raises
    ------
    TelemetryError
        On an unreadable file or a malformed record (naming file, line and field), or a
        trace without requests.
    GameError
        If ``max_requests`` is not a positive integer.
    """
    limit = None if max_requests is None else check_count(max_requests, "max_requests")
    stamps: list[float] = []
    lengths: list[int] = []
    ids: list[list[int]] = []
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise TelemetryError(f"cannot open trace: {exc}", file=str(path)) from exc
    with handle:
        for lineno, line in enumerate(handle, start=1):
            if limit is not None and len(stamps) >= limit:
                break
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TelemetryError(f"not JSON: {exc.msg}", file=str(path), line=lineno) from exc
            if not isinstance(rec, dict):
                raise TelemetryError("record is not an object", file=str(path), line=lineno)
            for key in ("timestamp", "input_length", "hash_ids"):
                if key not in rec:
                    raise TelemetryError("missing field", file=str(path), line=lineno, field=key)
            ts, length, hashes = rec["timestamp"], rec["input_length"], rec["hash_ids"]
            if isinstance(ts, bool) or not isinstance(ts, (int, float)) or not np.isfinite(ts):
                raise TelemetryError(
                    f"not a number: {ts!r}", file=str(path), line=lineno, field="timestamp"
                )
            if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                raise TelemetryError(
                    f"not a nonnegative integer: {length!r}",
                    file=str(path),
                    line=lineno,
                    field="input_length",
                )
            if not isinstance(hashes, list) or not all(
                isinstance(h, int) and not isinstance(h, bool) for h in hashes
            ):
                raise TelemetryError(
                    "must be a list of integers", file=str(path), line=lineno, field="hash_ids"
                )
            stamps.append(float(ts))
            lengths.append(length)
            ids.append(hashes)
    if not stamps:
        raise TelemetryError("the trace has no requests", file=str(path))
    counts = np.array([len(h) for h in ids], dtype=np.int64)
    flat = np.fromiter((h for hs in ids for h in hs), dtype=np.int64, count=int(counts.sum()))
    return np.array(stamps), np.array(lengths, dtype=np.int64), flat, counts


def trace_rates(
    path: Path,
    n_workers: int,
    block_tokens: int,
    *,
    routing: Literal["round-robin", "random"],
    seed: int | np.random.Generator | None,
    top_blocks: int | None,
    max_requests: int | None,
    duration: float | None,
) -> TraceRates:
    """Route the requests of a trace to workers and count each block's request rate.

    Parameters are those of
    :meth:`~gametheory.games.caching.kv.HierarchicalKVCachingGame.from_trace`, with
    ``block_tokens`` the tokens of a full block.

    Raises
    ------
    TelemetryError
        On an unreadable file or a malformed record (see :func:`read_trace`).
    GameError
        On an unknown routing, a trace spanning no time without ``duration``, or a bad
        ``duration``, ``top_blocks`` or ``max_requests``.
    """
    stamps, lengths, ids, counts = read_trace(path, max_requests)
    n_req = len(stamps)
    if routing == "round-robin":
        worker = np.arange(n_req, dtype=np.int64) % n_workers
    elif routing == "random":
        worker = np.random.default_rng(seed).integers(0, n_workers, size=n_req)
    else:
        raise GameError(f"routing must be 'round-robin' or 'random', got {routing!r}")
    if duration is None:
        span = (stamps.max() - stamps.min()) / 1000.0
        if span <= 0:
            raise GameError("the trace spans no time: pass duration (seconds)")
        seconds = float(span)
    else:
        seconds = float(nonnegative_array(duration, "duration"))
        if seconds <= 0:
            raise GameError(f"duration must be positive, got {duration!r}")
    req = np.repeat(np.arange(n_req), counts)
    pos = np.arange(len(ids)) - np.repeat(np.cumsum(counts) - counts, counts)
    tokens = np.clip(lengths[req] - pos * block_tokens, 1, block_tokens)
    uniq, col = np.unique(ids, return_inverse=True)
    size_tokens = np.zeros(len(uniq))
    np.maximum.at(size_tokens, col, tokens)
    popularity = np.bincount(col, minlength=len(uniq))
    keep = np.arange(len(uniq))
    coverage = 1.0
    if top_blocks is not None:
        k = check_count(top_blocks, "top_blocks")
        keep = np.lexsort((uniq, -popularity))[:k]
        keep.sort()
        coverage = float(popularity[keep].sum() / popularity.sum())
    remap = np.full(len(uniq), -1, dtype=np.int64)
    remap[keep] = np.arange(len(keep))
    sel = remap[col] >= 0
    rates = sps.coo_array(
        (np.full(int(sel.sum()), 1.0 / seconds), (worker[req[sel]], remap[col[sel]])),
        shape=(n_workers, len(keep)),
    ).tocsr()
    return TraceRates(
        rates=rates,
        tokens=size_tokens[keep],
        block_ids=[int(v) for v in uniq[keep]],
        coverage=coverage,
        n_requests=n_req,
    )
