"""``gametheory deploy``: a real Dynamo xPyD deployment of mocker workers on loopback.

::

    gametheory deploy 1P2D --dir run/ --speedup-ratio 0.5            # serve until Ctrl-C
    gametheory deploy 1P5D --dir run/ --load 1 2 4 8 --requests 100  # an aiperf sweep
    gametheory deploy 1P5D --dir run/ --probe 16 --requests 160      # PoA-hat of the router

Without ``--load`` it prints one JSON line (URL, start-up time, folders) once the
deployment is ready and serves until SIGINT or SIGTERM (or ``--duration`` seconds);
with ``--load`` it runs aiperf at each concurrency (resumable, see
:mod:`gametheory.deploy.sweep`), prints one JSON line per cell and stops; with
``--probe`` it drives the decode pool through the router's binding
(:mod:`gametheory.deploy.probe`), prints PoA-hat and the logit check and stops (exit 1
when a chosen cost differs from the logged logit). Every process is stopped on exit, on
Ctrl-C and on error.
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from gametheory.cli._checks import flag, positive_float, positive_int
from gametheory.deploy.launcher import DynamoDeployment
from gametheory.deploy.probe import probe_router
from gametheory.deploy.spec import ROUTER_MODES, DeploymentSpec
from gametheory.deploy.sweep import SweepCell, load_sweep
from gametheory.telemetry.poa_hat import poa_hat
from gametheory.telemetry.readers.aiperf import read_aiperf_aggregate

__all__ = ["register"]


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``deploy`` subcommand."""
    p = sub.add_parser(
        "deploy",
        help="start a real Dynamo xPyD deployment of mocker workers (optionally load it)",
        description=__doc__.split("::")[0].strip() if __doc__ else None,
    )
    p.add_argument("topology", help="xPyD, e.g. 1P5D or 1P/2D")
    p.add_argument("--dir", type=Path, required=True, help="folder for model, logs, results")
    p.add_argument("--model", default="Llama-3.1-70B")
    p.add_argument("--gpu", default="B200")
    p.add_argument("--tp", type=flag(positive_int), default=4)
    p.add_argument("--block-size", type=flag(positive_int), default=64)
    p.add_argument("--max-num-seqs", type=flag(positive_int), default=48)
    p.add_argument("--max-num-batched-tokens", type=flag(positive_int), default=8192)
    p.add_argument("--speedup-ratio", type=flag(positive_float), default=1.0)
    p.add_argument("--router-mode", choices=ROUTER_MODES, default="kv")
    p.add_argument("--prometheus", action="store_true", help="also run Prometheus on it")
    p.add_argument(
        "--front",
        action="store_true",
        help="route through the router front (POST /router sets omega, tau; see 'router')",
    )
    p.add_argument("--duration", type=flag(positive_float), help="serve this long, then stop")
    p.add_argument("--load", type=flag(positive_int), nargs="+", help="aiperf concurrencies")
    p.add_argument(
        "--probe",
        type=flag(positive_int),
        metavar="C",
        help="drive the decode pool through the router binding at concurrency C, print PoA-hat",
    )
    p.add_argument(
        "--probe-pool", choices=("decode", "prefill"), default="decode", help="pool --probe drives"
    )
    p.add_argument("--requests", type=flag(positive_int), default=100, help="per concurrency")
    p.add_argument("--isl", type=flag(positive_int), default=128)
    p.add_argument("--osl", type=flag(positive_int), default=128)
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=_run)


def _spec(args: argparse.Namespace) -> DeploymentSpec:
    return DeploymentSpec.build(
        args.topology,
        model=args.model,
        gpu=args.gpu,
        tp=args.tp,
        block_size=args.block_size,
        max_num_seqs=args.max_num_seqs,
        max_num_batched_tokens=args.max_num_batched_tokens,
        speedup_ratio=args.speedup_ratio,
        router_mode=args.router_mode,
        prometheus=args.prometheus,
        front=args.front,
    )


def _print(record: dict[str, object]) -> None:
    print(json.dumps(record), flush=True)


def _cell(cell: SweepCell) -> None:
    row = read_aiperf_aggregate(cell.folder / "profile_export_aiperf.json").iloc[0]
    _print(
        {
            "concurrency": cell.concurrency,
            "resumed": cell.resumed,
            "seconds": None if math.isnan(cell.seconds) else round(cell.seconds, 2),
            "ttft_ms_p50": round(float(row["ttft_ms_p50"]), 3),
            "ttft_ms_p99": round(float(row["ttft_ms_p99"]), 3),
            "itl_ms_p50": round(float(row["itl_ms_p50"]), 3),
            "request_throughput": round(float(row["request_throughput"]), 3),
            "folder": str(cell.folder),
        }
    )


def _stop_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _run(args: argparse.Namespace) -> int:
    spec = _spec(args)
    previous = signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        if args.load:
            load_sweep(
                spec,
                args.dir,
                args.load,
                requests_per_level=args.requests,
                isl=args.isl,
                osl=args.osl,
                seed=args.seed,
                progress=_cell,
            )
            return 0
        if args.probe:
            with DynamoDeployment(spec, args.dir) as d:
                result = probe_router(
                    d,
                    Path(args.dir) / "probe",
                    concurrency=args.probe,
                    requests=args.requests,
                    isl=args.isl,
                    osl=args.osl,
                    seed=args.seed,
                    pool=args.probe_pool,
                )
            poa = poa_hat(result.decisions, seed=args.seed)
            _print(
                {
                    "concurrency": args.probe,
                    "pool": args.probe_pool,
                    "decisions": len(result.requests),
                    "logit_mismatches": result.logit_mismatches,
                    "poa_hat": round(poa.poa_hat, 4),
                    "ci": [round(poa.ci_low, 4), round(poa.ci_high, 4)],
                    "window": poa.window,
                    "ttft_ms_p50": round(float(result.requests["ttft_ms"].median()), 3),
                    "itl_ms_p50": round(float(result.requests["itl_ms"].median()), 3),
                    "folder": str(result.folder),
                }
            )
            return 0 if result.logit_mismatches == 0 else 1
        with DynamoDeployment(spec, args.dir) as d:
            _print(
                {
                    "url": d.url,
                    "metrics": d.url + "/metrics",
                    "model": spec.served_name,
                    "tokenizer": str(d.model_dir),
                    "topology": spec.topology,
                    "startup_s": round(d.startup_s, 3),
                    "logs": str(d.log_dir),
                    "prometheus": d.prometheus_url,
                    "router": d.router_url,
                    "decisions": str(d.decision_log) if spec.front else None,
                }
            )
            deadline = math.inf if args.duration is None else time.monotonic() + args.duration
            while time.monotonic() < deadline:
                d.check_alive()
                time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))
        return 0
    except KeyboardInterrupt:
        print("gametheory deploy: stopped", file=sys.stderr)
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
