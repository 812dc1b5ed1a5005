"""Benchmark: a real NVIDIA Dynamo 1.6.1 deployment of mocker workers (issue 24).

1. *Start-up.* ``deploy(...)`` of 1P/2D and 1P/5D (Llama-3.1-70B, B200, TP 4), three
   times each: seconds from the first process start until every worker is registered
   and ``/v1/models`` lists the model, and the time to build the model folder and the
   timing tables before it.
2. *Reading a 100,000-line Dynamo 1.6 router log* (the ``Selected worker`` lines of a
   real frontend log, colour codes kept, repeated): :func:`read_router_log` (one
   regular-expression pass) against the line parser it falls back to.
3. *Capacity.* aiperf 0.13 at rising concurrency on 1P/5D at a given speed-up: the
   measured ITL P50 against the mocker's own timing table (the step-time model at the
   mean batch ``C / 5``), aiperf's effective concurrency and the request rate; the
   deployment holds while ITL stays within 10% of the table (a lagging mocker shows as a
   longer ITL) and aiperf keeps at least 75% of the requests it may have in flight
   (``min(C, decode slots)``; a lagging client or frontend shows as a lower effective
   concurrency, averaged over ramp-up and drain).
4. *Sweep.* 1P/5D and 1P/2D over the paper's concurrency grid, 128/128 tokens: aiperf
   cells (:func:`load_sweep`), the router probe at each concurrency (PoA-hat with every
   candidate's cost), and the simulator's twin of each cell; knee of both, and the rows
   of the reproduction scorecard the real sweeps give (source "Dynamo mocker").
5. *Adaptive* (issue 25). The paper's adaptive experiment through the router front
   (:func:`~gametheory.deploy.adaptive.dynamo_adaptive_comparison`): static ``kv(1, 0)``
   against the controller polling a real Prometheus, paired over ``--seeds``, on each
   ``--topologies`` at C = 256 with the paper's 48 decode slots a worker, and on the
   deployment that saturates inside what the front carries (``--adaptive-seqs``
   sequences a decode worker, at ``--adaptive-levels``); beside the simulator's
   comparison of the same runs (:func:`~gametheory.deploy.adaptive.simulator_adaptive_twin`)
   and the scorecard rows (source "Dynamo mocker").
6. *Detection* (issue 25). The EWMA detector's false-switch rate and delay on the real
   frontend's TTFT histogram scraped by a real Prometheus every second
   (:func:`~gametheory.deploy.detection.detection_trace`, then
   :func:`~gametheory.deploy.detection.detection_rates`): 1P/2D through the router front
   at speed-up 2 with 4 sequences a decode worker, 2 users stepped to 24 and back
   ``--cycles`` times, beside the simulator's Monte Carlo at the trace's levels and noise.

Run: ``python benchmarks/bench_dynamo.py [part ...] [--out DIR] [--speedup S]``, parts
``startup``, ``log``, ``capacity``, ``sweep``, ``adaptive``, ``detection`` (default
all but the last two). Prints Markdown tables and
the machine's load average before and after each part.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd

from gametheory.deploy import DeploymentSpec, deploy
from gametheory.deploy.adaptive import (
    adaptive_thresholds,
    dynamo_adaptive_comparison,
    dynamo_adaptive_scorecard_rows,
    simulator_adaptive_twin,
    ttft_p99_reduction,
)
from gametheory.deploy.compare import compare_rows, dynamo_scorecard_rows, simulator_twin
from gametheory.deploy.detection import detection_rates, detection_trace
from gametheory.deploy.launcher import DynamoDeployment
from gametheory.deploy.loadgen import run_aiperf
from gametheory.deploy.probe import probe_router
from gametheory.deploy.sweep import PAPER_CONCURRENCIES, load_sweep
from gametheory.sim.output import sweep_row
from gametheory.sim.studies.results import AdaptiveComparisonResult, ScorecardResult
from gametheory.telemetry import detect_knee, poa_hat, read_aiperf_aggregate, read_router_log
from gametheory.telemetry.readers.router_logs import parse_router_lines
from gametheory.telemetry.validation import Skips

ROOT = Path(__file__).resolve().parents[1]


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def startup(out: Path) -> None:
    print(f"## Start-up ({_load()})\n")
    print("| topology | build model + tables (s) | start to ready, median (min-max) of 3 (s) |")
    print("|---|---|---|")
    for topo in ("1P2D", "1P5D"):
        times, builds = [], []
        for k in range(3):
            d = deploy(out / f"start-{topo}-{k}", topo)
            t = time.perf_counter()
            d.prepare()
            builds.append(time.perf_counter() - t)
            with d:
                times.append(d.startup_s)
        print(
            f"| {topo} | {statistics.median(builds):.2f} | {statistics.median(times):.2f} "
            f"({min(times):.2f}-{max(times):.2f}) |"
        )
    print(f"\n({_load()})\n")


def log(out: Path) -> None:
    print(f"## Reading a 100,000-line Dynamo 1.6 router log ({_load()})\n")
    sample = ROOT / "tests" / "data" / "telemetry" / "dynamo_1.6_frontend.log"
    lines = [ln for ln in sample.read_text().splitlines() if "Selected worker" in ln]
    path = out / "frontend-100k.log"
    path.write_text("\n".join((lines * (100_000 // len(lines) + 1))[:100_000]) + "\n")
    fast, slow = [], []
    for _ in range(3):
        t = time.perf_counter()
        frame = read_router_log(path)
        fast.append(time.perf_counter() - t)
        text = path.read_text().splitlines()
        t = time.perf_counter()
        parse_router_lines(text, str(path), Skips())
        slow.append(time.perf_counter() - t)
    size = path.stat().st_size / 1e6
    print("| reader | rows | best of 3 (s) |")
    print("|---|---|---|")
    print(f"| read_router_log ({size:.0f} MB) | {len(frame)} | {min(fast):.2f} |")
    print(f"| line parser (decoded lines given) | {len(frame)} | {min(slow):.2f} |")
    print(f"\nratio line parser / read_router_log: {min(slow) / min(fast):.1f}x ({_load()})\n")


def capacity(out: Path, speedup: float, levels: tuple[int, ...]) -> None:
    print(f"## Capacity of the 2 cores, 1P/5D at speed-up {speedup:g} ({_load()})\n")
    print("| C | requests | ITL P50 (ms) | table (ms) | ratio | effective C | req/s | holds |")
    print("|---|---|---|---|---|---|---|---|")
    with deploy(out / "capacity", "1P5D", speedup_ratio=speedup) as d:
        step = d.spec.step_model()
        for c in levels:
            n = max(40, 3 * c)
            folder = run_aiperf(
                d.url, "llama", d.model_dir, out / f"capacity-c{c}", concurrency=c, request_count=n
            )
            summary = folder / "profile_export_aiperf.json"
            row = read_aiperf_aggregate(summary).iloc[0]
            doc = pd.read_json(summary, typ="series")
            effective = float(doc["effective_concurrency"]["avg"])
            batch = c / d.spec.n_decode
            table = float(step.decode_step_time(batch, batch * (128 + 64))) * 1e3 / speedup
            ratio = float(row["itl_ms_p50"]) / table
            slots = min(c, d.spec.n_decode * d.spec.max_num_seqs)
            holds = ratio <= 1.1 and effective >= 0.75 * slots
            print(
                f"| {c} | {n} | {row['itl_ms_p50']:.2f} | {table:.2f} | {ratio:.2f} | "
                f"{effective:.0f} of {slots} | {row['request_throughput']:.1f} | "
                f"{'yes' if holds else 'no'} |"
            )
    print(f"\n({_load()})\n")


def _probe_cells(spec: DeploymentSpec, out: Path, grid: tuple[int, ...]) -> dict[int, float]:
    poa: dict[int, float] = {}
    with DynamoDeployment(spec, out / f"probe-{spec.topology.replace('/', '')}") as d:
        for c in grid:
            result = probe_router(d, d.workdir / f"c{c}", concurrency=c, requests=max(40, 2 * c))
            if result.logit_mismatches:
                print(f"  probe C = {c}: {result.logit_mismatches} logit mismatches")
            poa[c] = poa_hat(result.decisions).poa_hat
    return poa


def sweep(out: Path, speedup: float, grid: tuple[int, ...]) -> None:
    rows: list[dict[str, object]] = []
    for topo in ("1P5D", "1P2D"):
        spec = DeploymentSpec.build(topo, speedup_ratio=speedup)
        print(f"## Sweep {spec.topology} at speed-up {speedup:g} ({_load()})\n")
        t0 = time.perf_counter()
        cells = load_sweep(spec, out / "sweep", grid, requests_per_level=40)
        t_sweep = time.perf_counter() - t0
        real = pd.concat(
            [read_aiperf_aggregate(c.folder / "profile_export_aiperf.json") for c in cells],
            ignore_index=True,
        )
        t0 = time.perf_counter()
        probe = _probe_cells(spec, out, grid)
        t_probe = time.perf_counter() - t0
        twins, sim_poa = [], {}
        for c in grid:
            result = simulator_twin(spec, c, max(40, 2 * c))
            twins.append(sweep_row(result))
            sim_poa[c] = poa_hat(result.decisions).poa_hat
        sim = pd.DataFrame(twins)
        table = compare_rows(real, sim, speedup_ratio=speedup)
        wide = table.pivot(index="concurrency", columns="metric", values=["dynamo", "simulator"])
        print(
            "| C | TTFT P50 D / S (ms) | TTFT P99 D / S (ms) | ITL P50 D / S (ms) | "
            "req/s D / S | PoA-hat D / S |"
        )
        print("|---|---|---|---|---|---|")
        for c in grid:
            w = wide.loc[float(c)]
            cell = [
                f"{w[('dynamo', m)]:.1f} / {w[('simulator', m)]:.1f}"
                for m in ("ttft_ms_p50", "ttft_ms_p99", "itl_ms_p50", "request_throughput")
            ]
            print(f"| {c} | " + " | ".join(cell) + f" | {probe[c]:.3f} / {sim_poa[c]:.3f} |")
        for name, frame in (("Dynamo mocker", real), ("simulator", sim)):
            frame = frame.assign(deployment=spec.topology)
            if name == "Dynamo mocker":
                frame = frame.assign(
                    ttft_ms_p99=frame["ttft_ms_p99"] * speedup,
                    request_throughput=frame["request_throughput"] / speedup,
                )
            knee = detect_knee(frame, "ttft_ms_p99")
            print(f"\nknee ({name}): {knee.knee if knee.converged else 'none'}", end="")
        print(f"\n\naiperf cells {t_sweep:.0f} s, probe cells {t_probe:.0f} s ({_load()})\n")
        table.to_csv(out / f"compare-{topo}.csv", index=False)
        rows += dynamo_scorecard_rows(spec.topology, real, probe)
    card = ScorecardResult(
        table=pd.DataFrame(rows), n_holds=0, converged=True, iterations=len(rows), method=""
    )
    print("## Scorecard rows of the real sweeps\n")
    print(card.to_markdown() + "\n")


def _figures(r: AdaptiveComparisonResult) -> list[str]:
    ttft, ttft_ci = ttft_p99_reduction(r)
    ps = r.per_seed
    return [
        f"{r.poa_reduction:.3f} [{r.poa_reduction_ci[0]:.3f}, {r.poa_reduction_ci[1]:.3f}]",
        f"{ttft:.3f} [{ttft_ci[0]:.3f}, {ttft_ci[1]:.3f}]",
        f"{100 * r.throughput_cost:.1f}% [{100 * r.throughput_cost_ci[0]:.1f}, "
        f"{100 * r.throughput_cost_ci[1]:.1f}]",
        f"{ps['poa_hat_static'].mean():.3f} / {ps['poa_hat_adaptive'].mean():.3f}",
        f"{ps['ttft_ms_p99_static'].mean():.0f} / {ps['ttft_ms_p99_adaptive'].mean():.0f}",
        f"{ps['request_throughput_static'].mean():.1f} / "
        f"{ps['request_throughput_adaptive'].mean():.1f}",
        f"{ps['switches_adaptive'].mean():.1f}",
    ]


def adaptive(
    out: Path,
    speedup: float,
    topologies: tuple[str, ...],
    seeds: tuple[int, ...],
    seqs: int,
    levels: tuple[int, ...],
    n_requests: int,
) -> None:
    rows: list[dict[str, object]] = []
    print(
        "| deployment | C | source | PoA-hat reduction (95% CI) | TTFT P99 reduction "
        "(95% CI) | throughput cost (95% CI) | PoA-hat static / adaptive | "
        "TTFT P99 static / adaptive (ms) | req/s static / adaptive | switches | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for topo, level in zip(topologies, levels, strict=True):
        for max_seqs, c in ((seqs, level), (48, 256)):
            spec = DeploymentSpec.build(topo, speedup_ratio=speedup, max_num_seqs=max_seqs)
            before = _load()
            real = dynamo_adaptive_comparison(
                spec,
                out / f"adaptive-seqs{max_seqs}",
                concurrency=c,
                n_requests=n_requests,
                seeds=seeds,
            )
            twin = simulator_adaptive_twin(spec, concurrency=c, n_requests=n_requests, seeds=seeds)
            name = f"{spec.topology}, {max_seqs} seqs/decode"
            for source, r in (("Dynamo mocker", real), ("simulator", twin)):
                cells = " | ".join(_figures(r))
                print(f"| {name} | {c} | {source} | {cells} | {before} |", flush=True)
            real.per_seed.to_csv(out / f"adaptive-{topo}-seqs{max_seqs}.csv", index=False)
            for row in dynamo_adaptive_scorecard_rows(real):
                rows.append(row | {"topology": f"{row['topology']} ({max_seqs} seqs, C = {c})"})
    card = ScorecardResult(
        table=pd.DataFrame(rows), n_holds=0, converged=True, iterations=len(rows), method=""
    )
    print(f"\n## Scorecard rows of the adaptive comparisons ({_load()})\n")
    print(card.to_markdown() + "\n")


def detection(out: Path, cycles: int) -> None:
    spec = DeploymentSpec.build("1P2D", speedup_ratio=2.0, max_num_seqs=4)
    thresholds = adaptive_thresholds(spec)
    before = _load()
    with deploy(
        out / "detection", "1P2D", front=True, prometheus=True, speedup_ratio=2.0, max_num_seqs=4
    ) as d:
        trace = detection_trace(d, cycles=cycles)
    trace.to_csv(out / "detection-trace.csv", index=False)
    table = detection_rates(trace, thresholds)
    print(f"## Detection on the real frontend's TTFT histogram ({before}; after: {_load()})\n")
    print(f"EWMA thresholds {thresholds[0]:.3f} / {thresholds[1]:.3f} s, alpha 0.6, no dwell\n")
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for row in table.itertuples(index=False):
        cells = [f"{v:.3g}" if isinstance(v, float) else str(v) for v in row]
        print("| " + " | ".join(cells) + " |")
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("parts", nargs="*", default=["startup", "log", "capacity", "sweep"])
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--speedup", type=float, default=1.0)
    parser.add_argument("--grid", type=int, nargs="+", default=list(PAPER_CONCURRENCIES))
    parser.add_argument("--levels", type=int, nargs="+", default=[8, 32, 64, 128, 256])
    parser.add_argument("--topologies", nargs="+", default=["1P2D", "1P5D"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--adaptive-seqs", type=int, default=4)
    parser.add_argument("--adaptive-levels", type=int, nargs="+", default=[32, 64])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--cycles", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        for part in args.parts:
            if part == "startup":
                startup(out)
            elif part == "log":
                log(out)
            elif part == "capacity":
                capacity(out, args.speedup, tuple(args.levels))
            elif part == "sweep":
                sweep(out, args.speedup, tuple(args.grid))
            elif part == "detection":
                detection(out, args.cycles)
            elif part == "adaptive":
                adaptive(
                    out,
                    args.speedup,
                    tuple(args.topologies),
                    tuple(args.seeds),
                    args.adaptive_seqs,
                    tuple(args.adaptive_levels),
                    args.requests,
                )
            else:
                raise SystemExit(f"unknown part {part!r}")


if __name__ == "__main__":
    main()
