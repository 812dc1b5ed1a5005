"""Simulator output as telemetry: the tidy schemas and the real tools' file shapes.

The simulator has no private format (DESIGN.md, "How data flows"). A run yields the
``requests``, ``decisions`` and ``samples`` frames of
:mod:`gametheory.telemetry.schemas`, built through
:func:`~gametheory.telemetry.schemas.conform` (the schema validator every reader uses)
and carrying a :class:`~gametheory.telemetry.validation.ReadReport` like a reader's
frames. The writers produce the files of the real tools, so that the library's own
readers parse a simulated run exactly as a real one:

* :func:`write_aiperf`: an aiperf ``profile_export.jsonl`` (one record per request),
  read by :func:`~gametheory.telemetry.read_aiperf_records`;
* :func:`router_log_lines` / :func:`write_router_log`: Dynamo KV-router scheduler
  lines (the v0.6 ``Formula for ... Selected worker`` shape, with a tracing span
  carrying the request id), read by :func:`~gametheory.telemetry.read_router_log`;
* :func:`write_prometheus`: one Prometheus text exposition per scrape (the Dynamo
  frontend's TTFT histogram, request counter and in-flight gauge, with timestamps),
  read by :func:`~gametheory.telemetry.read_prometheus`;
* :func:`write_telemetry`: all three in an aiperf-like artifact folder, read back in
  one call by :func:`~gametheory.telemetry.load`.

Times: a run starts at the fixed epoch :data:`EPOCH_NS` (so that equal seeds give
byte-identical files); ``start_ns`` and decision times are nanoseconds since the Unix
epoch and sample times Unix seconds, as the schemas require.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from gametheory.control.policy import TTFT_FAMILY
from gametheory.errors import GameError, TelemetryError
from gametheory.sim.results import SimulationResult
from gametheory.sim.workloads import Workload
from gametheory.telemetry.aggregate import summarize_requests
from gametheory.telemetry.schemas import conform
from gametheory.telemetry.validation import ReadReport, attach

__all__ = [
    "EPOCH_NS",
    "TTFT_BUCKETS",
    "TTFT_FAMILY",
    "decisions_frame",
    "requests_frame",
    "router_log_lines",
    "samples_frame",
    "sweep_row",
    "write_aiperf",
    "write_prometheus",
    "write_router_log",
    "write_telemetry",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: TTFT histogram bucket bounds (s) of Dynamo's frontend, as its ``/metrics`` exposes them
#: (``dynamo_frontend_time_to_first_token_seconds``, ``../shared/data/telemetry/dynamo-metrics``).
TTFT_BUCKETS = (
    0.0, 0.0022, 0.0047, 0.01, 0.022, 0.047, 0.1, 0.22, 0.47,
    1.0, 2.2, 4.7, 10.0, 22.0, 48.0, 100.0, 220.0, 480.0, math.inf,
)  # fmt: skip
#: Simulated time 0 in nanoseconds since the Unix epoch (2025-10-09T08:53:20Z).
EPOCH_NS = 1_760_000_000_000_000_000
_REQUESTS_TOTAL = "dynamo_frontend_requests_total"
_INFLIGHT = "dynamo_frontend_inflight_requests"
_SCHEDULER = "dynamo_llm::kv_router::scheduler"


def _report(frame: pd.DataFrame, source: str, kind: str) -> pd.DataFrame:
    return attach(frame, ReadReport(source=source, format=f"simulator-{kind}", rows=len(frame)))


def requests_frame(
    arrive: FloatArray,
    first: FloatArray,
    done: FloatArray,
    workload: Workload,
    worker: IntArray,
    concurrency: float,
    *,
    source: str,
) -> pd.DataFrame:
    """The ``requests`` schema of the completed requests, in request order.

    Parameters
    ----------
    arrive, first, done
        Arrival, first-token and completion times (s; NaN if never reached).
    workload
        The workload (token counts).
    worker
        Decode worker index of each request.
    concurrency
        Closed-loop concurrency (NaN for an open loop).
    source
        Value of the ``source`` column.
    """
    ok = np.isfinite(done)
    out = workload.output_tokens.astype(np.float64)
    ttft = (first - arrive) * 1e3
    latency = (done - arrive) * 1e3
    itl = np.where(out > 1, (done - first) * 1e3 / np.maximum(out - 1, 1), np.nan)
    frame = pd.DataFrame(
        {
            "request_id": np.flatnonzero(ok).astype(str),
            "worker": np.char.add("decode-", worker[ok].astype(str)),
            "start_ns": EPOCH_NS + np.round(arrive[ok] * 1e9).astype(np.int64),
            "ttft_ms": ttft[ok],
            "itl_ms": itl[ok],
            "latency_ms": latency[ok],
            "input_tokens": workload.input_tokens[ok].astype(np.float64),
            "output_tokens": out[ok],
            "concurrency": concurrency,
            "source": source,
        }
    )
    return _report(conform(frame, "requests"), source, "requests")


def decisions_frame(
    request: IntArray,
    cached: FloatArray,
    load: FloatArray,
    prompt: FloatArray,
    chosen: IntArray,
    time_s: FloatArray,
    omega: float,
    *,
    source: str = "simulator",
) -> pd.DataFrame:
    """The ``decisions`` schema: one row per decision x candidate decode worker.

    Parameters
    ----------
    request
        Request index of each decision (decisions in routing order).
    cached, load
        ``(decisions, workers)`` cached prompt blocks and active KV blocks seen by the
        router.
    prompt
        Prompt blocks of each decision's request.
    chosen
        Chosen worker of each decision.
    time_s
        Decision times (s).
    omega
        Reference weight of the prefill term in the logged cost (Dynamo's logit
        ``omega * (prompt - cached) + load``).
    source
        Value of the ``source`` column.
    """
    n, m = cached.shape
    prefill = (prompt[:, None] - cached).ravel()
    decode = load.ravel()
    frame = pd.DataFrame(
        {
            "decision": np.repeat(np.arange(n), m),
            "time": pd.to_datetime(
                EPOCH_NS + np.repeat(np.round(time_s * 1e9).astype(np.int64), m), utc=True
            ),
            "request_id": np.repeat(request, m).astype(str),
            "worker": np.tile(np.arange(m), n).astype(str),
            "cost": omega * prefill + decode,
            "prefill_weight": omega,
            "prefill_blocks": prefill,
            "prefill_cost": omega * prefill,
            "decode_blocks": decode,
            "cached_blocks": cached.ravel(),
            "chosen": (chosen[:, None] == np.arange(m)[None, :]).ravel(),
            "source": source,
        }
    )
    return _report(conform(frame, "decisions"), source, "decisions")


def samples_frame(
    arrive: FloatArray, first: FloatArray, poll_s: float, *, source: str = "simulator"
) -> pd.DataFrame:
    """Prometheus-like scrapes every ``poll_s`` (the ``samples`` schema).

    Scrape ``k`` is taken at simulated time ``(k + 1) poll_s`` up to the last first
    token and holds the Dynamo frontend's cumulative TTFT histogram (buckets
    :data:`TTFT_BUCKETS`, ``_sum``, ``_count``), the requests counter and the
    in-flight gauge (requests arrived but without a first token yet). ``time`` is in
    Unix seconds (simulated time plus :data:`EPOCH_NS`).
    """
    ok = np.isfinite(first)
    by_first = np.argsort(first[ok], kind="stable")
    t_first = first[ok][by_first]
    ttft = (first - arrive)[ok][by_first]
    horizon = float(t_first[-1]) if t_first.size else 0.0
    k = max(1, math.ceil(horizon / poll_s - 1e-12))
    times = poll_s * np.arange(1, k + 1, dtype=np.float64)
    counts = np.searchsorted(t_first, times, side="right")
    bounds = np.asarray(TTFT_BUCKETS)
    # Bucket of each first token (smallest bound >= ttft), counted cumulatively in
    # first-token order, then read at each scrape's count.
    bucket = np.searchsorted(bounds, ttft, side="left")
    onehot = np.zeros((ttft.size + 1, bounds.size))
    onehot[np.arange(1, ttft.size + 1), bucket] = 1.0
    cum = np.cumsum(np.cumsum(onehot, axis=0)[counts], axis=1)
    sums = np.concatenate([[0.0], np.cumsum(ttft)])[counts]
    started = np.searchsorted(np.sort(arrive[np.isfinite(arrive)]), times, side="right")
    stamp = EPOCH_NS / 1e9 + times
    frames = [
        pd.DataFrame(
            {
                "scrape": np.repeat(np.arange(k), bounds.size),
                "time": np.repeat(stamp, bounds.size),
                "family": TTFT_FAMILY,
                "type": "histogram",
                "metric": f"{TTFT_FAMILY}_bucket",
                "labels": "",
                "le": np.tile(bounds, k),
                "value": cum.ravel(),
            }
        )
    ]
    for family, kind, metric, values in (
        (TTFT_FAMILY, "histogram", f"{TTFT_FAMILY}_sum", sums),
        (TTFT_FAMILY, "histogram", f"{TTFT_FAMILY}_count", counts.astype(np.float64)),
        (
            _REQUESTS_TOTAL.removesuffix("_total"),
            "counter",
            _REQUESTS_TOTAL,
            started.astype(np.float64),
        ),
        (_INFLIGHT, "gauge", _INFLIGHT, (started - counts).astype(np.float64)),
    ):
        frames.append(
            pd.DataFrame(
                {
                    "scrape": np.arange(k),
                    "time": stamp,
                    "family": family,
                    "type": kind,
                    "metric": metric,
                    "labels": "",
                    "le": np.nan,
                    "value": values,
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    rank = {f"{TTFT_FAMILY}_bucket": 0, f"{TTFT_FAMILY}_sum": 1, f"{TTFT_FAMILY}_count": 2}
    rank |= {_REQUESTS_TOTAL: 3, _INFLIGHT: 4}
    order = np.lexsort(
        (frame["le"].to_numpy(), frame["metric"].map(rank).to_numpy(), frame["scrape"].to_numpy())
    )
    frame = frame.iloc[order].reset_index(drop=True).assign(source=source)
    return _report(conform(frame, "samples"), source, "samples")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")


def write_aiperf(result: SimulationResult, path: str | Path) -> Path:
    """Write the run's requests as an aiperf ``profile_export.jsonl``; return the path.

    Each line is an aiperf per-request record: ``metadata`` (``x_request_id``,
    ``timestamp_ns``, ``worker_id``), ``metrics`` (``ttft``, ``request_latency``,
    ``inter_token_latency`` in ms, ``input_sequence_length`` and
    ``output_sequence_length`` in tokens) and ``error: null``. Values are written with
    ``repr`` precision, so :func:`~gametheory.telemetry.read_aiperf_records` returns
    the ``requests`` frame unchanged (but for ``source`` and ``concurrency``, which
    aiperf takes from its artifact folder).
    """
    p = Path(path)
    f = result.requests
    cols = [
        f[c].to_numpy(dtype=np.float64).tolist()
        for c in ("ttft_ms", "latency_ms", "itl_ms", "input_tokens", "output_tokens")
    ]
    lines = []
    for rid, worker, start, ttft, lat, itl, isl, osl in zip(
        f["request_id"].tolist(), f["worker"].tolist(), f["start_ns"].tolist(), *cols
    ):
        itl_part = (
            ""
            if math.isnan(itl)
            else f', "inter_token_latency": {{"value": {itl!r}, "unit": "ms"}}'
        )
        lines.append(
            f'{{"metadata": {{"x_request_id": "{rid}", "timestamp_ns": {start}, '
            f'"worker_id": "{worker}"}}, "metrics": {{"ttft": {{"value": {ttft!r}, '
            f'"unit": "ms"}}, "request_latency": {{"value": {lat!r}, "unit": "ms"}}{itl_part}, '
            f'"input_sequence_length": {{"value": {isl!r}, "unit": "tokens"}}, '
            f'"output_sequence_length": {{"value": {osl!r}, "unit": "tokens"}}}}, "error": null}}'
        )
    _write(p, lines)
    return p


def _write(path: Path, lines: list[str]) -> None:
    try:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    except OSError as exc:
        raise TelemetryError(f"cannot write: {exc.strerror}", file=str(path)) from None


def router_log_lines(decisions: pd.DataFrame) -> list[str]:
    """Dynamo KV-router scheduler log lines (v0.6 shape) for a ``decisions`` frame.

    Per decision, one ``Formula for <worker> with <n> cached blocks: <logit> = <w> *
    prefill_blocks + decode_blocks = <w> * <p> + <d>`` line per candidate and a
    ``Selected worker`` line, each prefixed by an RFC 3339 timestamp and a tracing
    span ``request{request_id="..."}``. Costs are written with 6 decimals.
    """
    if decisions.empty:
        return []
    d = decisions.sort_values(["decision", "worker"], kind="stable")
    dec = d["decision"].to_numpy(dtype=np.int64)
    stamps = d["time"].dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").tolist()
    prefix = [
        f'{s} INFO request{{request_id="{r}"}}: {_SCHEDULER}:'
        for s, r in zip(stamps, d["request_id"].astype(str).tolist())
    ]
    vals = d[["cost", "prefill_weight", "prefill_blocks", "decode_blocks", "cached_blocks"]]
    rows = zip(prefix, d["worker"].tolist(), *(vals[c].tolist() for c in vals.columns))
    formula = [
        f"{pre} Formula for {w} with {c:.0f} cached blocks: {cost:.6f} = {wt:g} * "
        f"prefill_blocks + decode_blocks = {wt:g} * {p:.6f} + {load:.6f}"
        for pre, w, cost, wt, p, load, c in rows
    ]
    chosen = d["chosen"].to_numpy(dtype=bool)
    starts = np.flatnonzero(np.r_[True, dec[1:] != dec[:-1]])
    ends = np.r_[starts[1:], dec.size]
    total = np.add.reduceat(d["decode_blocks"].to_numpy(dtype=np.float64), starts)
    lines: list[str] = []
    workers = d["worker"].tolist()
    costs = d["cost"].to_numpy(dtype=np.float64)
    cached = d["cached_blocks"].to_numpy(dtype=np.float64)
    for a, b, tot in zip(starts.tolist(), ends.tolist(), total.tolist()):
        lines.extend(formula[a:b])
        picks = a + np.flatnonzero(chosen[a:b])
        if picks.size != 1:
            raise TelemetryError(
                f"decision {dec[a]} has {picks.size} chosen candidates, expected 1",
                field="chosen",
            )
        k = int(picks[0])
        lines.append(
            f"{prefix[k]} Selected worker: {workers[k]}, logit: {costs[k]:.6f}, "
            f"cached blocks: {cached[k]:.0f}, total blocks: {tot:.0f}"
        )
    return lines


def write_router_log(result: SimulationResult, path: str | Path) -> Path:
    """Write the run's decisions as a Dynamo router log and return the path."""
    p = Path(path)
    _write(p, router_log_lines(result.decisions))
    return p


def write_prometheus(result: SimulationResult, folder: str | Path) -> list[Path]:
    """Write each scrape of ``result.samples`` as a Prometheus text exposition.

    Files are ``scrape_00000.prom``, ``scrape_00001.prom``, ... in ``folder`` (created
    if needed); samples carry millisecond timestamps. Returns the paths in order.
    """
    out = Path(folder)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TelemetryError(f"cannot create folder: {exc.strerror}", file=str(out)) from None
    s = result.samples
    paths: list[Path] = []
    scrape = s["scrape"].to_numpy(dtype=np.int64)
    if scrape.size == 0:
        return paths
    starts = np.flatnonzero(np.r_[True, scrape[1:] != scrape[:-1]])
    ends = np.r_[starts[1:], scrape.size]
    fam, kind, metric = (s[c].astype(str).tolist() for c in ("family", "type", "metric"))
    le, value, time = (s[c].to_numpy(dtype=np.float64).tolist() for c in ("le", "value", "time"))
    for a, b in zip(starts.tolist(), ends.tolist()):
        lines: list[str] = []
        typed: set[str] = set()
        for j in range(a, b):
            name = metric[j] if kind[j] == "counter" else fam[j]
            if name not in typed:
                typed.add(name)
                lines.append(f"# TYPE {name} {kind[j]}")
            label = "" if math.isnan(le[j]) else f'{{le="{_le(le[j])}"}}'
            lines.append(f"{metric[j]}{label} {value[j]!r} {round(time[j] * 1e3)}")
        p = out / f"scrape_{int(scrape[a]):05d}.prom"
        _write(p, lines)
        paths.append(p)
    return paths


def _le(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))


def run_folder_name(deployment: str, policy: str, concurrency: float) -> str:
    """The name of a run's folder under :func:`write_telemetry`'s ``folder``:
    ``<deployment>-<policy>-concurrency<C>``, or ``-open-loop`` when ``concurrency`` is NaN."""
    suffix = "open-loop" if math.isnan(concurrency) else f"concurrency{int(concurrency)}"
    return f"{_slug(deployment)}-{_slug(policy)}-{suffix}"


def write_telemetry(result: SimulationResult, folder: str | Path) -> Path:
    """Write a run as a benchmark artifact folder and return it.

    Layout: ``folder/<deployment>-<policy>-concurrency<C>/`` (``-open-loop`` instead of
    the concurrency suffix for open-loop runs; :func:`run_folder_name`) holding
    ``profile_export.jsonl`` (:func:`write_aiperf`), ``router.log`` (:func:`write_router_log`) and
    ``metrics/scrape_*.prom`` (:func:`write_prometheus`).
    :func:`gametheory.telemetry.load` reads the folder back into the ``requests``,
    ``sweep``, ``decisions`` and ``samples`` frames.
    """
    run = Path(folder) / run_folder_name(result.deployment, result.policy, result.concurrency)
    try:
        run.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TelemetryError(f"cannot create folder: {exc.strerror}", file=str(run)) from None
    write_aiperf(result, run / "profile_export.jsonl")
    write_router_log(result, run / "router.log")
    write_prometheus(result, run / "metrics")
    return run


def sweep_row(result: SimulationResult, *, warmup_fraction: float = 0.0) -> dict[str, Any]:
    """The run summarised as one row of the ``sweep`` schema (a dict).

    Computed by :func:`gametheory.telemetry.aggregate.summarize_requests` (aiperf's
    statistics), so a simulated row and a row of a real aiperf run mean the same.
    ``warmup_fraction`` of the requests, the earliest started, are left out first (the
    role of aiperf's ``--warmup-request-count``: closed-loop users all start at once
    into empty prefix caches, and that first wave is not the steady state).

    Raises
    ------
    GameError
        If ``warmup_fraction`` is not in [0, 1).
    """
    if not 0.0 <= warmup_fraction < 1.0:
        raise GameError(f"warmup_fraction must be in [0, 1), got {warmup_fraction!r}")
    requests = result.requests
    if warmup_fraction > 0 and len(requests):
        order = np.argsort(requests["start_ns"].to_numpy(dtype=np.float64), kind="stable")
        skip = math.floor(warmup_fraction * len(requests))
        requests = requests.iloc[np.sort(order[skip:])]
    return summarize_requests(
        requests,
        deployment=result.deployment,
        concurrency=result.concurrency,
        policy=result.policy,
        source="simulator",
    )
