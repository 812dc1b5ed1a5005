"""Workloads: request lengths, KV block hash chains and (for open loops) arrival times.

A request's prompt is a chain of KV blocks of ``block_size`` tokens; equal block ids
mean equal prefixes up to that block (the hash-chain convention of vLLM's automatic
prefix caching and of the Mooncake traces, Qin et al., FAST 2025). Workloads:

* :func:`paper_workload`: ``templates`` prompt templates sharing a prefix, each
  request a template plus a private suffix, ``input_tokens`` long, with a fixed
  output length (the workload of the paper behind the project: 5 templates, 128
  input tokens).
* :func:`poisson_arrivals`: open-loop Poisson arrivals at a given rate for any
  workload (without arrival times a workload runs as a closed loop at a concurrency
  ``C``, as aiperf does: ``C`` users, each sending its next request when the last
  one completes).
* :func:`mooncake_trace`: replay of a Mooncake trace (JSON lines with ``timestamp``
  in ms, ``input_length``, ``output_length`` and 512-token ``hash_ids``).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError

__all__ = ["Workload", "mooncake_trace", "paper_workload", "poisson_arrivals"]

IntArray = NDArray[np.int64]
FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class Workload:
    """Requests to serve.

    Attributes
    ----------
    input_tokens, output_tokens
        Lengths per request.
    blocks
        KV block ids of each prompt (a hash chain).
    block_size
        Tokens per block.
    arrival_s
        Arrival times in seconds for an open loop; None for a closed loop.
    name
        Short description.
    """

    input_tokens: IntArray
    output_tokens: IntArray
    blocks: tuple[tuple[int, ...], ...]
    block_size: int
    arrival_s: FloatArray | None
    name: str

    def __post_init__(self) -> None:
        n = self.input_tokens.size
        if n == 0:
            raise GameError("workload has no requests")
        if self.output_tokens.size != n or len(self.blocks) != n:
            raise GameError(
                "input_tokens, output_tokens and blocks must have one entry per request"
            )
        if np.any(self.input_tokens < 1) or np.any(self.output_tokens < 1):
            raise GameError("every request needs at least one input and one output token")
        if self.block_size < 1:
            raise GameError(f"block_size must be >= 1, got {self.block_size}")
        lengths = np.fromiter((len(c) for c in self.blocks), dtype=np.int64, count=n)
        over = np.flatnonzero(lengths > -(-self.input_tokens // self.block_size))
        if over.size:
            r = int(over[0])
            raise GameError(
                f"request {r} has {lengths[r]} blocks for {self.input_tokens[r]} input tokens "
                f"(at most ceil(input / {self.block_size}))"
            )
        if self.arrival_s is not None and (
            self.arrival_s.size != n or np.any(np.diff(self.arrival_s) < 0)
        ):
            raise GameError("arrival_s must give one nondecreasing time per request")

    @property
    def n_requests(self) -> int:
        """Number of requests."""
        return int(self.input_tokens.size)

    def head(self, n: int) -> Workload:
        """The first ``n`` requests."""
        if not 1 <= n <= self.n_requests:
            raise GameError(f"n must be in 1..{self.n_requests}, got {n}")
        arrivals = None if self.arrival_s is None else self.arrival_s[:n]
        return replace(
            self,
            input_tokens=self.input_tokens[:n],
            output_tokens=self.output_tokens[:n],
            blocks=self.blocks[:n],
            arrival_s=arrivals,
        )


def paper_workload(
    n_requests: int,
    *,
    templates: int = 5,
    input_tokens: int = 128,
    output_tokens: int = 128,
    shared_tokens: int = 96,
    block_size: int = 16,
    template_skew: float = 0.0,
    output_tokens_stddev: float = 0.0,
    seed: int = 0,
) -> Workload:
    """The paper's workload: prompt templates with a shared prefix, fixed lengths.

    Parameters
    ----------
    n_requests
        Number of requests.
    templates
        Number of prompt templates (drawn uniformly per request).
    input_tokens, output_tokens
        Fixed prompt and output lengths.
    shared_tokens
        Length of a template's prefix (the rest of the prompt is private).
    block_size
        KV block size in tokens (16 in vLLM and Dynamo by default).
    template_skew
        Zipf exponent s of template popularity: template k (from 0) is drawn with
        probability proportional to ``(k + 1) ** -s``; 0 (the paper) is uniform.
    output_tokens_stddev
        Standard deviation of the output lengths (aiperf's ``--output-tokens-stddev``):
        each is drawn from a normal distribution around ``output_tokens``, rounded and
        kept at least 1. With fixed lengths (0, the default) closed-loop users that
        start together keep returning together; a few percent of jitter spreads them.
    seed
        Seed of the template draws.
    """
    if n_requests < 1 or templates < 1:
        raise GameError(f"n_requests and templates must be >= 1, got {n_requests}, {templates}")
    if not 0 <= shared_tokens <= input_tokens:
        raise GameError(f"shared_tokens must be in 0..{input_tokens}, got {shared_tokens}")
    if not (math.isfinite(template_skew) and template_skew >= 0):
        raise GameError(f"template_skew must be finite and >= 0, got {template_skew!r}")
    if not (math.isfinite(output_tokens_stddev) and output_tokens_stddev >= 0):
        raise GameError(
            f"output_tokens_stddev must be finite and >= 0, got {output_tokens_stddev!r}"
        )
    rng = np.random.default_rng(seed)
    if template_skew == 0:
        pick = rng.integers(templates, size=n_requests)
    else:
        weight = np.arange(1, templates + 1, dtype=np.float64) ** -template_skew
        pick = rng.choice(templates, size=n_requests, p=weight / weight.sum())
    n_blocks = -(-input_tokens // block_size)
    n_shared = shared_tokens // block_size
    prefix = np.arange(templates * n_shared, dtype=np.int64).reshape(templates, n_shared)
    start = templates * n_shared
    n_private = n_blocks - n_shared
    private = start + np.arange(n_requests * n_private, dtype=np.int64).reshape(
        n_requests, n_private
    )
    chains = np.concatenate([prefix[pick], private], axis=1)
    outputs = np.full(n_requests, output_tokens, dtype=np.int64)
    if output_tokens_stddev > 0:
        drawn = rng.normal(output_tokens, output_tokens_stddev, size=n_requests)
        outputs = np.maximum(np.rint(drawn), 1).astype(np.int64)
    return Workload(
        input_tokens=np.full(n_requests, input_tokens, dtype=np.int64),
        output_tokens=outputs,
        blocks=tuple(tuple(int(b) for b in row) for row in chains.tolist()),
        block_size=block_size,
        arrival_s=None,
        name=f"{templates} templates, {input_tokens} in / {output_tokens} out"
        + (f", Zipf {template_skew:g}" if template_skew else "")
        + (f", output sd {output_tokens_stddev:g}" if output_tokens_stddev else ""),
    )


def poisson_arrivals(workload: Workload, rate: float, *, seed: int = 0) -> Workload:
    """``workload`` with open-loop Poisson arrivals at ``rate`` requests per second."""
    if not np.isfinite(rate) or rate <= 0:
        raise GameError(f"rate must be positive, got {rate!r}")
    gaps = np.random.default_rng(seed).exponential(1.0 / rate, size=workload.n_requests)
    return replace(
        workload,
        arrival_s=np.cumsum(gaps) - gaps[0],
        name=f"{workload.name}, Poisson {rate:g}/s",
    )


def mooncake_trace(
    path: str | Path, *, n_requests: int | None = None, time_scale: float = 1.0
) -> Workload:
    """Replay a Mooncake trace (512-token hash blocks) as an open-loop workload.

    Parameters
    ----------
    path
        ``conversation_trace.jsonl`` or ``synthetic_trace.jsonl`` of the Mooncake
        release (JSON lines ``{timestamp, input_length, output_length, hash_ids}``).
    n_requests
        Read only the first ``n_requests`` lines.
    time_scale
        Multiply inter-arrival times by this (below 1 replays faster, a higher load).

    Raises
    ------
    GameError
        If the file cannot be read or a line lacks a field.
    """
    p = Path(path)
    if time_scale <= 0:
        raise GameError(f"time_scale must be positive, got {time_scale!r}")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise GameError(f"cannot read trace {p}: {exc.strerror}") from None
    if n_requests is not None:
        lines = lines[:n_requests]
    stamps, ins, outs, chains = [], [], [], []
    for k, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            stamps.append(float(rec["timestamp"]))
            ins.append(int(rec["input_length"]))
            outs.append(max(1, int(rec["output_length"])))
            chains.append(tuple(int(h) for h in rec["hash_ids"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise GameError(f"{p}, line {k}: not a Mooncake trace record ({exc})") from None
    arrivals = np.asarray(stamps) / 1e3
    arrivals = (arrivals - arrivals[0]) * time_scale if arrivals.size else arrivals
    return Workload(
        input_tokens=np.asarray(ins, dtype=np.int64),
        output_tokens=np.asarray(outs, dtype=np.int64),
        blocks=tuple(chains),
        block_size=512,
        arrival_s=np.maximum.accumulate(arrivals) if arrivals.size else arrivals,
        name=f"Mooncake {p.stem}",
    )
