"""The simulator served live: Dynamo's metrics, router and load endpoints, and the loop
simulator -> real Prometheus -> controller -> simulator's router.

The loop test runs the simulated 1P/2D Llama-3.1-70B B200 deployment at 60x the wall
clock, a real Prometheus (Debian's package) scraping it every second, and the
controller service polling Prometheus every second and pushing ``(omega, tau)`` to the
simulator. Below the knee (16 users, TTFT P99 about 0.1 s) the router keeps Dynamo's
defaults; a step to 256 users (P99 about 2.6 s) must switch it to the paper's saturated
row within the detector's delay plus one scrape, and the step back must switch it back.
Every loop is bounded in count and time; everything started is stopped.
"""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from servers import free_port, sigterm, start_cli, start_prometheus, stop_prometheus

from gametheory.control.detector import EWMADetector, Regime
from gametheory.control.policy import AdaptiveController
from gametheory.control.service import PAPER_MAPPING, ControlService, PrometheusClient
from gametheory.errors import GameError
from gametheory.sim import Cluster, paper_workload, poisson_arrivals
from gametheory.sim.live import LiveRun, serve_simulation
from gametheory.sim.output import TTFT_BUCKETS
from gametheory.sim.results import LiveRunResult
from gametheory.sim.routing import KVRouterPolicy, make_policy

QUERY = (
    "histogram_quantile(0.99, sum by (le) "
    "(rate(dynamo_frontend_time_to_first_token_seconds_bucket[4s])))"
)
SCRAPE_S = 1.0
POLL_S = 1.0
#: HTTP round trips (query, push) and the simulated queue building up at 60x.
MARGIN_S = 0.5

CLUSTER = Cluster.build(n_prefill=1, n_decode=2, tp_prefill=4, tp_decode=4)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def _post(url: str, doc: Any) -> tuple[int, Any]:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=5) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


class Served:
    """A :class:`LiveRun` simulating in a background thread and serving on a free port."""

    def __init__(self, live: LiveRun) -> None:
        self.live = live
        self.server = live.serve(0)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.result: list[LiveRunResult] = []
        self.thread = threading.Thread(target=lambda: self.result.append(live.run()), daemon=True)
        self.thread.start()

    def stop(self) -> None:
        """Stop the run and the server (whatever state the test left them in)."""
        self.live.stop.set()
        self.thread.join(30)
        self.server.shutdown()
        self.server.server_close()

    def close(self) -> LiveRunResult:
        self.stop()
        assert not self.thread.is_alive() and self.result
        return self.result[0]


@pytest.fixture
def served() -> Iterator[Served]:
    live = LiveRun(CLUSTER, paper_workload(200_000), KVRouterPolicy(), concurrency=16, speedup=60)
    s = Served(live)
    yield s
    if s.thread.is_alive():
        s.stop()


def _until(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.mark.slow
def test_the_loop_switches_the_router_at_the_knee_and_back(
    prometheus_binary: str, served: Served, tmp_path: Path
) -> None:
    proc, prometheus = start_prometheus(tmp_path, served.server.server_address[1])
    records: list[dict[str, Any]] = []
    detector = EWMADetector(0.5, 1.0, alpha=0.6, min_dwell_s=0.0)
    service = ControlService(
        PrometheusClient(prometheus),
        AdaptiveController(detector, dict(PAPER_MAPPING)),
        query=QUERY,
        interval_s=POLL_S,
        push_url=served.url + "/router",
        emit=records.append,
    )
    control = threading.Thread(target=service.run, kwargs={"max_polls": 150}, daemon=True)
    live = served.live
    try:
        service.check()
        control.start()
        _until(lambda: any(r["status"] == "ok" for r in records), 20, "a TTFT P99 from Prometheus")
        _until(lambda: len([r for r in records if r["status"] == "ok"]) >= 3, 10, "3 signals")
        assert all(r["regime"] == "below" for r in records)
        below = [r["ttft_p99_s"] for r in records if r["status"] == "ok"]
        assert max(below) < 0.45  # under the detector's exit threshold: below the knee
        state = dataclasses.replace(detector)  # the detector just before the step
        assert _post(served.url + "/load", {"concurrency": 256}) == (200, {"concurrency": 256})
        step = live.load_log[-1]
        _until(lambda: live.router_log[-1]["omega"] == 0.1, 30, "the switch to (0.1, 0.8)")
        up = live.router_log[-1]
        saturated = [r["ttft_p99_s"] for r in records if r["regime"] == "saturated"]
        polls = state.polls_to_switch(min(saturated), Regime.SATURATED)
        assert polls is not None
        bound = (polls + 1) * POLL_S + SCRAPE_S + MARGIN_S
        delay = up["wall_time_s"] - step["wall_time_s"]
        assert 0 < delay <= bound, (delay, bound, polls, records[-5:])
        assert (up["omega"], up["tau"]) == (0.1, 0.8) and up["sim_time_s"] > step["sim_time_s"]
        assert min(saturated) > 1.1  # the P99 Prometheus saw past the knee
        assert _post(served.url + "/load", {"concurrency": 16})[0] == 200
        back = live.load_log[-1]
        _until(lambda: live.router_log[-1]["omega"] == 1.0, 40, "the switch back to (1, 0)")
        down = live.router_log[-1]
        assert down["wall_time_s"] > back["wall_time_s"]
    finally:
        service.stop.set()
        control.join(10)
        stop_prometheus(proc)
    result = served.close()
    log = result.router_log
    assert [(o, t) for o, t in zip(log["omega"], log["tau"], strict=True)] == [
        (1.0, 0.0),
        (0.1, 0.8),
        (1.0, 0.0),
    ]
    assert log["request"].is_monotonic_increasing and log["sim_time_s"].is_monotonic_increasing
    assert result.load_log["concurrency"].tolist() == [16, 256, 16]
    assert result.stopped_by == "stop" and result.sim_s > 60 * 5
    assert result.max_lag_s < 1.0  # the simulator kept up with 60x while serving
    pushed = [r for r in records if "pushed" in r]
    assert all(r["pushed"] == "HTTP 200" for r in pushed) and len(pushed) == 3


def _families(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/metrics", timeout=5) as r:
        text = r.read().decode()
    return {f.name: f for f in text_string_to_metric_families(text)}


def test_metrics_have_dynamo_names_types_buckets_and_count_the_run() -> None:
    live = LiveRun(CLUSTER, paper_workload(300), KVRouterPolicy(), concurrency=16, speedup=math.inf)
    server = live.serve(0)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        result = live.run()
        fams = _families(url)
    finally:
        server.shutdown()
        server.server_close()
    kinds = {
        "dynamo_frontend_requests": "counter",
        "dynamo_frontend_inflight_requests": "gauge",
        "dynamo_frontend_time_to_first_token_seconds": "histogram",
        "dynamo_frontend_inter_token_latency_seconds": "histogram",
        "dynamo_frontend_request_duration_seconds": "histogram",
        "dynamo_frontend_input_sequence_tokens": "histogram",
        "dynamo_frontend_output_sequence_tokens": "histogram",
        "dynamo_frontend_output_tokens": "counter",
        "dynamo_frontend_model_total_kv_blocks": "gauge",
        "dynamo_component_inflight_requests": "gauge",
        "dynamo_component_kvstats_active_blocks": "gauge",
        "dynamo_component_kvstats_total_blocks": "gauge",
        "dynamo_component_kvstats_gpu_cache_usage_percent": "gauge",
    }
    assert {name: fams[name].type for name in kinds} == kinds
    req = fams["dynamo_frontend_requests"].samples[0]
    assert req.labels == {
        "endpoint": "chat_completions",
        "model": "Llama-3.1-70B",
        "request_type": "stream",
        "status": "success",
    }
    assert req.value == 300 == len(result.run.requests)
    ttft = {
        s.labels["le"]: s.value
        for s in fams["dynamo_frontend_time_to_first_token_seconds"].samples
        if s.name.endswith("_bucket")
    }
    assert list(ttft) == ["+Inf" if math.isinf(b) else f"{b:g}" for b in TTFT_BUCKETS]
    # The served histogram counts the run's TTFTs bucket by bucket.
    measured = result.run.requests["ttft_ms"].to_numpy() / 1e3
    for le, count in ttft.items():
        assert count == (measured <= float(le)).sum()
    tokens = fams["dynamo_frontend_output_tokens"].samples[0].value
    assert tokens == result.run.requests["output_tokens"].sum()
    itl_count = next(
        s.value
        for s in fams["dynamo_frontend_inter_token_latency_seconds"].samples
        if s.name.endswith("_count")
    )
    assert itl_count == (result.run.requests["output_tokens"] - 1).sum()
    idle = [s.value for s in fams["dynamo_component_kvstats_active_blocks"].samples]
    assert idle == [0.0, 0.0]  # every request finished, every block released
    assert [s.labels["worker_id"] for s in fams["dynamo_component_inflight_requests"].samples] == [
        "0",
        "1",
    ]


def test_router_and_load_endpoints_take_effect_and_reject_bad_input(served: Served) -> None:
    url = served.url
    _until(lambda: served.live.done > 50, 20, "requests to finish")
    status = _get(url + "/status")
    assert status["router"] == {"omega": 1.0, "tau": 0.0} and status["concurrency"] == 16
    assert _post(url + "/router", {"router_temperature": 0.5}) == (200, {"omega": 1.0, "tau": 0.5})
    assert _post(url + "/router", {"overlap_score_weight": 0.2}) == (
        200,
        {"omega": 0.2, "tau": 0.5},
    )
    _until(lambda: served.live.router_log[-1]["omega"] == 0.2, 10, "the new parameters")
    assert _get(url + "/router")["router"] == {"omega": 0.2, "tau": 0.5}
    for body, needle in [
        (b"{not json", "not JSON"),
        ([1, 2], "JSON object"),
        ({"omega": -1}, "finite and nonnegative"),
        ({"tau": "hot"}, "must be a number"),
        ({}, "give omega and/or tau"),
    ]:
        code, doc = _post(url + "/router", body)
        assert code == 400 and needle in doc["error"], (body, doc)
    for value in (0, 2.5, "8", True):
        code, doc = _post(url + "/load", {"concurrency": value})
        assert code == 400 and "must be an integer in 1-1000000" in doc["error"]
    assert _post(url + "/nowhere", {})[0] == 404
    with pytest.raises(urllib.error.HTTPError, match="404"):
        _get(url + "/nowhere")
    result = served.close()
    assert result.stopped_by == "stop"
    assert result.router_log[["omega", "tau"]].values.tolist()[-1] == [0.2, 0.5]


def test_conflicts_port_in_use_and_bad_settings() -> None:
    work = poisson_arrivals(paper_workload(200), 20.0, seed=1)
    live = LiveRun(CLUSTER, work, make_policy("round_robin"), speedup=math.inf)
    server = live.serve(0)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        code, doc = _post(url + "/load", {"concurrency": 4})
        assert code == 409 and "open-loop" in doc["error"]
        code, doc = _post(url + "/router", {"omega": 1.0})
        assert code == 409 and "round_robin policy" in doc["error"]
        with pytest.raises(
            GameError, match=f"cannot serve on 127.0.0.1:{server.server_address[1]}"
        ):
            live.serve(server.server_address[1])
        assert _get(url + "/router")["router"] is None
    finally:
        server.shutdown()
        server.server_close()
    for kwargs, needle in [
        ({"speedup": 0.0}, "speedup must be positive"),
        ({"speedup": 1.0, "duration_s": -1.0}, "duration_s must be positive"),
    ]:
        with pytest.raises(GameError, match=needle):
            LiveRun(CLUSTER, work, KVRouterPolicy(), **kwargs)
    with pytest.raises(GameError, match="concurrency >= 1"):
        LiveRun(CLUSTER, paper_workload(10), KVRouterPolicy())


def test_pacing_follows_the_wall_clock_and_duration_stops_it() -> None:
    started = time.monotonic()
    live = serve_simulation(
        CLUSTER,
        paper_workload(50_000),
        KVRouterPolicy(),
        port=0,
        concurrency=32,
        speedup=100.0,
        duration_s=150.0,
    )
    wall = time.monotonic() - started
    assert live.stopped_by == "duration" and 150.0 <= live.sim_s < 151.0
    assert 1.5 - 0.05 <= live.wall_s <= wall  # 150 simulated s at 100x take 1.5 s
    assert live.wall_s < 1.5 + 0.5
    assert not live.run.converged and len(live.run.requests) > 1000
    assert live.requests_per_wall_s == pytest.approx(len(live.run.requests) / live.wall_s)


def test_the_command_line_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    proc = start_cli("simulate", "--topology", "1P2D", "--serve", str(port), "--speedup", "60",
                     "--out", str(tmp_path), "--json")  # fmt: skip

    def done(n: int) -> Callable[[], bool]:
        return lambda: bool(_get(f"http://127.0.0.1:{port}/status")["requests_done"] > n)

    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status is None:
            try:
                status = _get(f"http://127.0.0.1:{port}/status")
            except OSError:
                time.sleep(0.2)
        assert status is not None and status["speedup"] == 60
        _until(done(50), 20, "requests to finish")
        assert _post(f"http://127.0.0.1:{port}/router", {"omega": 0.1, "tau": 0.8})[0] == 200
        _until(done(400), 20, "more requests to finish")
    finally:
        out, err = sigterm(proc, 60)
    assert proc.returncode == 0, err.decode()
    assert "serving Dynamo metrics on http://127.0.0.1" in err.decode()
    summary = json.loads(out)
    assert summary["stopped_by"] == "stop" and summary["router_changes"] == 2
    changes = (Path(summary["folder"]) / "router_changes.csv").read_text().splitlines()
    assert changes[0] == "sim_time_s,wall_time_s,request,omega,tau" and len(changes) == 3
    assert (Path(summary["folder"]) / "profile_export.jsonl").is_file()


def test_the_command_line_rejects_a_port_in_use_and_pacing_without_serving(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gametheory.cli import main

    live = LiveRun(CLUSTER, paper_workload(10), KVRouterPolicy(), concurrency=1)
    server = live.serve(0)
    try:
        port = server.server_address[1]
        assert main(["simulate", "--serve", str(port), "--requests", "20"]) == 2
        assert f"cannot serve on 127.0.0.1:{port}" in capsys.readouterr().err
    finally:
        server.shutdown()
        server.server_close()
    assert main(["simulate", "--duration", "10"]) == 2
    assert "add --serve PORT" in capsys.readouterr().err
