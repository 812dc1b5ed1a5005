"""Benchmark: the live loop (issue 14): paced simulator throughput and the controller's
poll-to-decision latency.

1. *Paced throughput.* The simulated Llama-3.1-70B / B200 deployments (1P/2D and 1P/5D,
   TP 4, the paper's workload) run at 60x the wall clock while serving Dynamo's metrics,
   with a scraper fetching ``/metrics`` every second (as Prometheus does), for 300
   simulated seconds at 16, 64 and 256 users. Reported: requests simulated per
   simulated second and per wall second, the largest lag behind the schedule, and the
   headroom: the same run unpaced (``speedup = inf``, same process) in simulated seconds
   per wall second, divided by 60.
2. *Poll-to-decision latency.* A real Prometheus (Debian's ``prometheus``; skipped when
   absent) scrapes the simulator every second; :meth:`ControlService.poll` (PromQL query
   over HTTP, detector update, decision record) is timed over ``polls`` polls, and the
   polls that push a change to the simulator's ``/router`` separately.

Run: ``python benchmarks/bench_live_loop.py [polls]``.
"""

from __future__ import annotations

import math
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from gametheory.control.detector import EWMADetector
from gametheory.control.policy import AdaptiveController
from gametheory.control.service import PAPER_MAPPING, ControlService, PrometheusClient
from gametheory.errors import TelemetryError
from gametheory.sim import Cluster, paper_workload
from gametheory.sim.live import LiveRun
from gametheory.sim.routing import KVRouterPolicy

QUERY = (
    "histogram_quantile(0.99, sum by (le) "
    "(rate(dynamo_frontend_time_to_first_token_seconds_bucket[4s])))"
)


def _scraper(url: str, stop: threading.Event, times: list[float]) -> None:
    while not stop.wait(1.0):
        t0 = time.perf_counter()
        with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
            r.read()
        times.append(time.perf_counter() - t0)


def paced(cluster: Cluster, users: int, sim_s: float = 300.0) -> None:
    """One paced run with a 1 s scraper, and the same run unpaced."""
    work = paper_workload(int(users * sim_s))  # more than the run can finish
    live = LiveRun(cluster, work, KVRouterPolicy(), concurrency=users, speedup=60, duration_s=sim_s)
    server = live.serve(0)
    stop, scrapes = threading.Event(), []
    url = f"http://127.0.0.1:{server.server_address[1]}"
    scraper = threading.Thread(target=_scraper, args=(url, stop, scrapes), daemon=True)
    scraper.start()
    try:
        out = live.run()
    finally:
        stop.set()
        scraper.join(5)
        server.shutdown()
        server.server_close()
    fast = LiveRun(cluster, work, KVRouterPolicy(), concurrency=users, speedup=math.inf,
                   duration_s=sim_s)  # fmt: skip
    t0 = time.perf_counter()
    fast.run()
    unpaced = sim_s / (time.perf_counter() - t0)
    done = len(out.run.requests)
    print(
        f"{cluster.name:<26} C={users:<4} {done / out.sim_s:7.1f} req/sim-s "
        f"{out.requests_per_wall_s:8.1f} req/wall-s  wall {out.wall_s:5.2f} s  "
        f"max lag {out.max_lag_s * 1e3:6.1f} ms  scrape {statistics.median(scrapes) * 1e3:5.1f} ms"
        f"  headroom {unpaced / 60:5.1f}x"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def latency(polls: int) -> None:
    """Poll-to-decision latency against a real Prometheus scraping the simulator."""
    binary = shutil.which("prometheus")
    if binary is None:
        print("poll-to-decision: skipped (apt-get install prometheus)")
        return
    cluster = Cluster.build(n_prefill=1, n_decode=2, tp_prefill=4, tp_decode=4)
    live = LiveRun(cluster, paper_workload(300_000), KVRouterPolicy(), concurrency=16, speedup=60)
    server = live.serve(0)
    sim = threading.Thread(target=live.run, daemon=True)
    sim.start()
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: sim\n"
            f"    static_configs:\n      - targets: ['127.0.0.1:{server.server_address[1]}']\n"
        )
        proc = subprocess.Popen(
            [binary, f"--config.file={config}", f"--storage.tsdb.path={tmp}/tsdb",
             f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            service = ControlService(
                PrometheusClient(f"http://127.0.0.1:{port}"),
                AdaptiveController(EWMADetector(0.5, 1.0, alpha=0.6, min_dwell_s=0.0),
                                   dict(PAPER_MAPPING)),
                query=QUERY,
                interval_s=1.0,
                push_url=f"http://127.0.0.1:{server.server_address[1]}/router",
                emit=lambda record: None,
            )  # fmt: skip
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if service.client.query(QUERY) is not None:
                        break
                except TelemetryError:  # Prometheus still starting
                    pass
                time.sleep(0.5)
            plain, pushing = [], []
            for k in range(polls):
                if k == polls // 3:
                    live.set_concurrency(256)
                if k == 2 * polls // 3:
                    live.set_concurrency(16)
                t0 = time.perf_counter()
                record = service.poll(time.monotonic())
                dt = time.perf_counter() - t0
                (pushing if "pushed" in record else plain).append(dt)
                time.sleep(max(0.0, 1.0 - dt))
        finally:
            proc.terminate()
            proc.wait(10)
            live.stop.set()
            sim.join(30)
            server.shutdown()
            server.server_close()
    q = statistics.quantiles(plain, n=100) if len(plain) > 1 else plain * 99
    print(
        f"poll-to-decision over {len(plain)} polls: median {statistics.median(plain) * 1e3:.2f} ms,"
        f" p99 {q[98] * 1e3:.2f} ms; with a push ({len(pushing)} polls): "
        + ", ".join(f"{t * 1e3:.2f} ms" for t in pushing)
    )
    print(f"router log seen by the simulator: {[(r['omega'], r['tau']) for r in live.router_log]}")


def main() -> None:
    polls = int(sys.argv[1]) if len(sys.argv) > 1 else 30
    print("paced at 60x while serving /metrics (scraped every second)")
    for n_decode in (2, 5):
        cluster = Cluster.build(n_prefill=1, n_decode=n_decode, tp_prefill=4, tp_decode=4)
        for users in (16, 64, 256):
            paced(cluster, users)
    latency(polls)


if __name__ == "__main__":
    main()
