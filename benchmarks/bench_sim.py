"""Benchmark: the discrete-event cluster simulator.

Target (issue 8): 10,000 requests of the paper's workload on Llama-3.1-70B / B200
1P/5D (TP 4) at concurrency 256 simulate in under 5 s. Also timed: the same run for
every router, the KV router on a lagging view of the workers (``state_interval_s``
0.1 and 1 s, optimistic and frozen), a replay of the Mooncake traces (512-token hash blocks; needs
../shared/data), and writing the run as telemetry files and reading them back with
:func:`gametheory.telemetry.load`.

Each figure is the best of ``repeats`` runs (the machine is shared).

Run: ``python benchmarks/bench_sim.py [n_requests] [repeats]``.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from gametheory.sim import (
    Cluster,
    make_policy,
    mooncake_trace,
    paper_workload,
    simulate,
    write_telemetry,
)
from gametheory.telemetry import load, poa_hat

T = TypeVar("T")
TRACES = Path(__file__).resolve().parents[2] / "shared" / "data" / "traces"


def best(fn: Callable[[], T], repeats: int) -> tuple[float, T]:
    """Best wall time of ``repeats`` calls and the last result."""
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    assert out is not None
    return min(times), out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    cluster = Cluster.build(n_prefill=1, n_decode=5, tp_prefill=4, tp_decode=4)
    workload = paper_workload(n)
    print(f"{cluster.name}, TP 4, {workload.name}, {n} requests, C = 256")
    for name in ("kv", "round_robin", "least_loaded", "cache_aware", "adaptive"):
        dt, run = best(
            lambda name=name: simulate(cluster, workload, make_policy(name), concurrency=256),
            repeats,
        )
        flag = f"  (target 5 s: {dt / 5.0:.2f}x of budget)" if name == "kv" else ""
        print(
            f"  {name:13s} {dt:6.3f} s  {run.iterations / dt / 1e3:6.0f} k events/s  "
            f"simulated {run.duration_s:6.1f} s, {run.request_throughput:6.1f} req/s, "
            f"TTFT p99 {run.requests['ttft_ms'].quantile(0.99):7.1f} ms{flag}"
        )
    for lag in (0.1, 1.0):
        for optimistic in (True, False):
            dt, run = best(
                lambda lag=lag, optimistic=optimistic: simulate(
                    cluster,
                    workload,
                    "kv",
                    concurrency=256,
                    state_interval_s=lag,
                    optimistic_state=optimistic,
                ),
                repeats,
            )
            view = "optimistic" if optimistic else "frozen"
            print(
                f"  kv, lag {lag:3.1f} s {view:10s} {dt:6.3f} s  "
                f"({dt / 5.0:.2f}x of the 5 s budget), {run.request_throughput:6.1f} req/s, "
                f"TTFT p99 {run.requests['ttft_ms'].quantile(0.99):7.1f} ms"
            )
    _, run = best(lambda: simulate(cluster, workload, "kv", concurrency=256), 1)
    dt, res = best(lambda: poa_hat(run.decisions), 1)
    print(f"  PoA-hat over {n} decisions: {res.poa_hat:.3f} in {dt:.3f} s")
    with tempfile.TemporaryDirectory() as tmp:
        dt_w, _ = best(lambda: write_telemetry(run, tmp), 1)
        dt_r, data = best(lambda: load(tmp), 1)
        print(
            f"  telemetry files: write {dt_w:.3f} s, load {dt_r:.3f} s "
            f"({len(data.requests)} requests, {len(data.decisions)} decision rows)"
        )
    if not TRACES.is_dir():
        print(f"Mooncake traces not found at {TRACES}; replay skipped")
        return
    replay = Cluster.build(n_prefill=2, n_decode=4, tp_prefill=4, tp_decode=4)
    for trace in ("conversation_trace", "synthetic_trace"):
        dt_load, w = best(lambda trace=trace: mooncake_trace(TRACES / f"{trace}.jsonl"), 1)
        dt, run = best(lambda w=w: simulate(replay, w, "kv"), 1)
        print(
            f"Mooncake {trace} ({w.n_requests} requests, read in {dt_load:.2f} s) on "
            f"{replay.name}: {dt:.2f} s, {run.iterations / dt / 1e3:.0f} k events/s, "
            f"simulated {run.duration_s:.0f} s, TTFT p50 "
            f"{run.requests['ttft_ms'].median():.0f} ms"
        )


if __name__ == "__main__":
    main()
