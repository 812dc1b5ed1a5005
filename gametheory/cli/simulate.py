"""``gametheory simulate``: one simulated run of a disaggregated cluster, written as telemetry.

The run (:func:`gametheory.sim.engine.simulate`) is written in the real tools' formats
(:func:`gametheory.sim.output.write_telemetry`: an aiperf ``profile_export.jsonl``, a
Dynamo router log and Prometheus scrapes) that ``gametheory report`` and
:func:`gametheory.telemetry.load` read back, plus its ``requests`` and ``decisions``
frames as CSV or Parquet tables (``--tables``). The workload is the paper's (closed loop at
``--concurrency`` users, or open loop at ``--rate`` requests per second) or a Mooncake
trace (``--trace``). On a terminal a progress bar counts the completed requests
(``--quiet`` hides it); in a pipe there is none.

With ``--serve PORT`` the run is paced against the wall clock (``--speedup``, default
1x) while serving Dynamo's frontend and worker metrics on ``127.0.0.1:PORT/metrics``
for Prometheus to scrape, and taking router parameters (``POST /router``) and a new
concurrency (``POST /load``) while it runs (:mod:`gametheory.sim.live`). It stops when the
workload is done, after ``--duration`` simulated seconds, or on SIGINT/SIGTERM, and
then writes the telemetry as above plus ``router_changes.csv``.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import threading
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pandas as pd

from gametheory.cli import progress_bar
from gametheory.cli._checks import (
    flag,
    int_at_least,
    nonnegative_float,
    output_folder,
    port,
    positive_float,
    positive_int,
)
from gametheory.errors import GameError, TelemetryError
from gametheory.sim.engine import simulate
from gametheory.sim.live import LiveRun
from gametheory.sim.output import run_folder_name, sweep_row, write_telemetry
from gametheory.sim.results import SimulationResult
from gametheory.sim.routing import POLICIES, Policy, make_policy
from gametheory.sim.serving.cluster import Cluster, parse_topology
from gametheory.sim.serving.hardware import GPUS
from gametheory.sim.serving.models import MODELS
from gametheory.sim.workloads import Workload, mooncake_trace, paper_workload, poisson_arrivals
from gametheory.telemetry.poa_hat import poa_hat

__all__ = ["register", "write_table"]

#: Requests of the paper workload when serving live (a run is usually stopped before).
_SERVE_REQUESTS = 200_000


def write_table(frame: pd.DataFrame, path: Path) -> Path:
    """Write ``frame`` as CSV or Parquet by the suffix of ``path`` (without its attrs,
    such as the read report, which Parquet metadata cannot hold)."""
    frame = frame.copy(deep=False)
    frame.attrs = {}
    try:
        if path.suffix == ".parquet":
            frame.to_parquet(path, index=False)
        else:
            frame.to_csv(path, index=False)
    except OSError as exc:
        raise TelemetryError(f"cannot write: {exc.strerror or exc}", file=str(path)) from None
    return path


def _workload(args: argparse.Namespace) -> Workload:
    if args.trace is not None:
        return mooncake_trace(args.trace, n_requests=args.requests, time_scale=args.time_scale)
    work = paper_workload(
        args.requests or (_SERVE_REQUESTS if args.serve is not None else 400),
        templates=args.templates,
        input_tokens=args.input_tokens,
        output_tokens=args.output_tokens,
        shared_tokens=min(args.input_tokens, 96),
        seed=args.seed,
    )
    return work if args.rate is None else poisson_arrivals(work, args.rate, seed=args.seed)


def _summary(result: SimulationResult) -> dict[str, object]:
    row = sweep_row(result)
    est = poa_hat(result.decisions, n_bootstrap=100, seed=0)
    keep = ("deployment", "policy", "concurrency", "ttft_ms_p50", "ttft_ms_p99", "itl_ms_p50")
    out: dict[str, object] = {k: row[k] for k in keep}
    out["request_throughput"] = row["request_throughput"]
    out["requests"] = len(result.requests)
    out["poa_hat"] = est.poa_hat
    out["poa_hat_interval"] = [est.ci_low, est.ci_high]
    out["switches"] = int(result.switch_times.size)
    return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in out.items()}


def _run(args: argparse.Namespace) -> int:
    n_prefill, n_decode = parse_topology(args.topology)
    if args.rate is not None and args.trace is not None:
        raise GameError("--rate and --trace are two workloads: give one")
    open_loop = args.rate is not None or args.trace is not None
    if args.serve is None and (args.duration is not None or args.speedup != 1.0):
        raise GameError("--speedup and --duration pace a served run: add --serve PORT")
    cluster = Cluster.build(
        args.model,
        args.gpu,
        n_prefill,
        n_decode,
        tp_prefill=args.tp,
        tp_decode=args.tp,
        decode_batch_limit=args.decode_batch_limit,
    )
    policy = make_policy(args.policy, omega=args.omega, tau=args.tau)
    concurrency = None if open_loop else args.concurrency
    name = run_folder_name(cluster.name, policy.name, math.nan if open_loop else args.concurrency)
    with ExitStack() as folders:  # both checked before the run: no run is lost to a refusal
        run = folders.enter_context(output_folder(Path(args.out) / name, force=args.force))
        tables = None
        if args.tables is not None:
            tables = folders.enter_context(
                output_folder(args.tables, force=args.force, flag="--tables")
            )
        extra: dict[str, object] = {}
        if args.serve is not None:
            result, extra, changes = _serve(args, cluster, _workload(args), policy, concurrency)
        else:
            result = _simulate(args, cluster, _workload(args), policy, concurrency)
        write_telemetry(result, Path(args.out))
        if args.serve is not None:
            write_table(changes, run / "router_changes.csv")
        summary = _summary(result) | extra | {"folder": str(run)}
        if tables is not None:
            ext = ".parquet" if args.format == "parquet" else ".csv"
            for kind in ("requests", "decisions", "samples"):
                write_table(getattr(result, kind), tables / f"{kind}{ext}")
            summary["tables"] = str(tables)
    print(json.dumps(summary) if args.json else "\n".join(f"{k}: {v}" for k, v in summary.items()))
    return 0


class _Progress:
    """Observer of a run that advances a progress bar per completed request."""

    def __init__(self, bar: Any, concurrency: int | None) -> None:
        self.bar = bar
        self.concurrency = concurrency or 0

    def tick(self, now: float) -> bool:
        return True

    def arrived(self, request: int, worker: int, now: float) -> None:
        return None

    def first_token(self, request: int, ttft_s: float) -> None:
        return None

    def finished(self, request: int, worker: int, latency_s: float, ttft_s: float) -> None:
        self.bar.update(1)


def _simulate(
    args: argparse.Namespace,
    cluster: Cluster,
    workload: Workload,
    policy: Policy,
    concurrency: int | None,
) -> SimulationResult:
    """The run, with a progress bar of completed requests on a terminal."""
    bar = progress_bar(workload.n_requests, "req", args.quiet)
    observer = None if bar is None else _Progress(bar, concurrency)
    try:
        return simulate(
            cluster, workload, policy, concurrency=concurrency, seed=args.seed, observer=observer
        )
    finally:
        if bar is not None:
            bar.close()


def _serve(
    args: argparse.Namespace,
    cluster: Cluster,
    workload: Workload,
    policy: Policy,
    concurrency: int | None,
) -> tuple[SimulationResult, dict[str, object], pd.DataFrame]:
    """Run paced while serving; SIGINT/SIGTERM stop it cleanly."""
    live = LiveRun(
        cluster,
        workload,
        policy,
        concurrency=concurrency or 0,
        speedup=math.inf if args.speedup == 0 else args.speedup,
        duration_s=args.duration,
        stop=threading.Event(),
    )
    server = live.serve(args.serve)
    host, port = server.server_address[:2]
    print(
        f"serving Dynamo metrics on http://{host!s}:{port}/metrics "
        f"(POST /router, POST /load, GET /status) at {args.speedup:g}x; Ctrl-C stops",
        file=sys.stderr,
        flush=True,
    )

    def stop(signum: int, frame: object) -> None:
        live.stop.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        out = live.run(args.seed)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.shutdown()
        server.server_close()
    extra: dict[str, object] = {
        "stopped_by": out.stopped_by,
        "wall_s": round(out.wall_s, 3),
        "max_lag_s": round(out.max_lag_s, 4),
        "router_changes": len(out.router_log),
    }
    return out.run, extra, out.router_log


def add_deployment_arguments(parser: argparse.ArgumentParser) -> None:
    """The deployment flags shared by ``simulate`` and ``sweep``."""
    parser.add_argument("--model", type=str.lower, default="llama-3.1-70b", choices=sorted(MODELS))
    parser.add_argument("--gpu", type=str.lower, default="b200", choices=sorted(GPUS))
    parser.add_argument("--decode-batch-limit", type=flag(positive_int), default=48)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``simulate`` subcommand."""
    p = subparsers.add_parser(
        "simulate",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument("--topology", default="1P5D", help="xPyD deployment, e.g. 1P5D or 1P/2D")
    add_deployment_arguments(p)
    p.add_argument(
        "--tp", type=flag(positive_int), default=4, help="tensor parallelism of every instance"
    )
    p.add_argument("--policy", default="kv", choices=POLICIES)
    p.add_argument(
        "--omega", type=flag(nonnegative_float), default=1.0, help="KV router overlap weight"
    )
    p.add_argument("--tau", type=flag(nonnegative_float), default=0.0, help="KV router temperature")
    p.add_argument("--concurrency", type=flag(positive_int), default=32, help="closed-loop users")
    p.add_argument(
        "--rate", type=flag(positive_float), help="open loop: Poisson arrivals per second"
    )
    p.add_argument("--trace", type=Path, help="open loop: replay a Mooncake trace (JSONL)")
    p.add_argument(
        "--time-scale", type=flag(positive_float), default=1.0, help="trace time multiplier"
    )
    p.add_argument("--requests", type=flag(positive_int), help="requests (default 400; trace: all)")
    p.add_argument("--templates", type=flag(positive_int), default=5)
    p.add_argument("--input-tokens", type=flag(positive_int), default=128)
    p.add_argument("--output-tokens", type=flag(positive_int), default=128)
    p.add_argument("--seed", type=flag(int_at_least(0)), default=0)
    p.add_argument("--out", default="gametheory-sim", help="folder for the telemetry")
    p.add_argument(
        "--tables", type=Path, help="also write the requests, decisions and samples frames here"
    )
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="of --tables")
    p.add_argument(
        "--force", action="store_true", help="replace an earlier run's files in the folders"
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar on a terminal")
    p.add_argument(
        "--serve", type=flag(port), metavar="PORT", help="pace the run and serve live metrics here"
    )
    p.add_argument(
        "--speedup",
        type=flag(nonnegative_float),
        default=1.0,
        help="with --serve: simulated s per wall s (0: max)",
    )
    p.add_argument(
        "--duration", type=flag(positive_float), help="with --serve: stop after these simulated s"
    )
    p.set_defaults(func=_run)
