"""The controller service against a real Prometheus server (Debian's ``prometheus``).

A ``prometheus_client`` exporter on loopback stands in for Dynamo's frontend: it exposes
``dynamo_frontend_time_to_first_token_seconds`` with Dynamo's buckets, and the test
decides what the requests' TTFTs are. A real Prometheus scrapes it every second; the
service polls Prometheus's HTTP API, switches regimes and pushes ``(omega, tau)`` to a
loopback endpoint; Prometheus and that endpoint are killed mid-run and restarted. Every
loop here is bounded in count and time, and everything started is stopped.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry, Histogram, start_http_server
from servers import free_port, sigterm, start_cli, start_prometheus, stop_prometheus

from gametheory.cli import main
from gametheory.control.detector import EWMADetector
from gametheory.control.policy import AdaptiveController
from gametheory.control.service import (
    PAPER_MAPPING,
    ControlService,
    PrometheusClient,
    PrometheusUnavailable,
)
from gametheory.errors import GameError, TelemetryError

BUCKETS = (0, 0.0022, 0.0047, 0.01, 0.022, 0.047, 0.1, 0.22, 0.47, 1, 2.2, 4.7, 10, 22, 48)
QUERY = (
    "histogram_quantile(0.99, sum by (le) "
    "(rate(dynamo_frontend_time_to_first_token_seconds_bucket[4s])))"
)


class Frontend:
    """A loopback exporter whose requests take ``ttft`` seconds to their first token."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.hist = Histogram(
            "dynamo_frontend_time_to_first_token_seconds",
            "Time to first token",
            buckets=BUCKETS,
            registry=self.registry,
        )
        self.port = free_port()
        self.server, _ = start_http_server(self.port, addr="127.0.0.1", registry=self.registry)
        self.ttft = 0.05
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._traffic, daemon=True)
        self.thread.start()

    def _traffic(self) -> None:
        deadline = time.monotonic() + 120  # bounded in time whatever the test does
        while not self.done.is_set() and time.monotonic() < deadline:
            for _ in range(20):
                self.hist.observe(self.ttft)
            self.done.wait(0.1)

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def frontend(prometheus_binary: str) -> Iterator[Frontend]:
    fe = Frontend()  # after the skip for a missing prometheus binary, so a skip starts nothing
    yield fe
    fe.close()


@pytest.fixture
def prometheus(prometheus_binary: str, tmp_path: Path, frontend: Frontend) -> Iterator[str]:
    proc, url = start_prometheus(tmp_path, frontend.port)
    yield url
    stop_prometheus(proc)


class Receiver:
    """A loopback endpoint recording the router parameters pushed to it (on ``port``,
    default a free one)."""

    def __init__(self, port: int = 0) -> None:
        received: list[dict[str, Any]] = []
        self.received = received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                received.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/router"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _wait_for(service: ControlService, regime: str, polls: int) -> list[dict[str, Any]]:
    seen = []
    for _ in range(polls):
        seen.append(service.poll(time.monotonic()))
        if seen[-1]["status"] == "ok" and seen[-1]["regime"] == regime:
            return seen
        time.sleep(1.0)
    raise AssertionError(f"no switch to {regime} in {polls} polls: {seen[-3:]}")


@pytest.mark.slow
def test_the_service_switches_with_the_ttft_seen_by_prometheus(
    prometheus: str, frontend: Frontend
) -> None:
    receiver = Receiver()
    records: list[dict[str, Any]] = []
    service = ControlService(
        PrometheusClient(prometheus),
        AdaptiveController(EWMADetector(0.5, 1.0, alpha=0.6, min_dwell_s=0.0), PAPER_MAPPING),
        query=QUERY,
        interval_s=1.0,
        push_url=receiver.url,
        emit=records.append,
    )
    server = service.serve(port := free_port())
    try:
        service.check()
        first = _wait_for(service, "below", 15)  # series appear after two scrapes
        assert first[-1]["status"] == "ok" and first[-1]["ttft_p99_s"] < 0.5
        frontend.ttft = 3.0  # the prefill queue builds up: past the knee
        up = _wait_for(service, "saturated", 15)
        assert up[-1]["changed"] and (up[-1]["omega"], up[-1]["tau"]) == (0.1, 0.8)
        assert up[-1]["ttft_p99_s"] > 1.0
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/decision", timeout=5) as r:
            assert json.loads(r.read())["regime"] == "saturated"
        frontend.ttft = 0.05  # load drops: back below once the window has passed
        down = _wait_for(service, "below", 20)
        assert (down[-1]["omega"], down[-1]["tau"]) == (1.0, 0.0)
    finally:
        server.shutdown()
        server.server_close()
        receiver.close()
    pushed = [(p["omega"], p["tau"]) for p in receiver.received]
    assert pushed[0] == (1.0, 0.0)  # the first decision is always pushed
    assert (0.1, 0.8) in pushed and pushed[-1] == (1.0, 0.0)
    assert records and all(isinstance(json.dumps(r), str) for r in records)


def test_empty_nan_and_rejected_queries(prometheus: str) -> None:
    client = PrometheusClient(prometheus)
    assert client.query("absent_metric_of_this_test") is None
    nan = client.query("vector(0) / 0")
    assert nan is not None and nan != nan
    assert client.query("vector(2)") == 2.0
    with pytest.raises(TelemetryError, match=r"PromQL error \(bad_data\)"):
        client.query("histogram_quantile(0.99, ")
    records: list[dict[str, Any]] = []
    service = ControlService(client, query="vector(0) / 0", emit=records.append)
    before = service.controller.parameters
    assert service.poll(0.0)["status"] == "no signal (NaN)"
    service.query = "absent_metric_of_this_test"
    assert service.poll(1.0)["status"] == "no signal (empty result)"
    assert service.controller.parameters == before and len(records) == 2


def test_an_unreachable_prometheus_keeps_the_last_decision() -> None:
    client = PrometheusClient(f"http://127.0.0.1:{free_port()}", timeout_s=1.0)
    with pytest.raises(PrometheusUnavailable, match="cannot reach Prometheus"):
        client.query("vector(1)")
    service = ControlService(client, emit=lambda record: None)
    record = service.poll(0.0)
    assert record["status"] == (
        f"no signal (prometheus unavailable: {client.url}: cannot reach Prometheus: "
        "Connection refused)"
    )
    assert (record["omega"], record["tau"]) == PAPER_MAPPING[service.controller.regime]


def test_command_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    assert main(["control", "--prometheus", closed, "--timeout", "1"]) == 2
    assert "cannot reach Prometheus" in capsys.readouterr().err
    assert main(["control"]) == 2
    assert "give the Prometheus address" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("prometheus = \n")
    assert main(["control", "--config", str(bad)]) == 2
    assert f"{bad}: not valid TOML" in capsys.readouterr().err
    unknown = tmp_path / "unknown.toml"
    unknown.write_text('prometheus = "x"\n[detector]\nlow = 1\n')
    assert main(["control", "--config", str(unknown)]) == 2
    assert "unknown [detector] keys ['low']" in capsys.readouterr().err


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = int(s.getsockname()[1])
        service = ControlService(PrometheusClient("http://127.0.0.1:1"), emit=lambda r: None)
        with pytest.raises(GameError, match=f"cannot serve on 127.0.0.1:{port}"):
            service.serve(port)


def test_sigterm_stops_the_service_cleanly(prometheus: str, tmp_path: Path) -> None:
    proc = start_cli("control", "--prometheus", prometheus, "--query", "vector(0.2)",
                     "--interval", "0.3", "--max-polls", "200")  # fmt: skip
    try:
        time.sleep(4.0)
    finally:
        out, err = sigterm(proc, 20)
    assert proc.returncode == 0, err.decode()
    lines = [json.loads(line) for line in out.decode().splitlines()]
    assert 1 <= len(lines) < 200
    assert all(rec["status"] == "ok" and rec["ttft_p99_s"] == 0.2 for rec in lines)


def _until(records: list[dict[str, Any]], condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}: {records[-3:]}")


@pytest.mark.slow
def test_prometheus_and_the_router_killed_and_restarted_mid_run(
    prometheus_binary: str, tmp_path: Path, frontend: Frontend
) -> None:
    prom_port, router_port = free_port(), free_port()
    proc, url = start_prometheus(tmp_path, frontend.port, prom_port)
    router = Receiver(router_port)
    records: list[dict[str, Any]] = []
    service = ControlService(
        PrometheusClient(url, timeout_s=1.0),
        AdaptiveController(EWMADetector(0.5, 1.0, alpha=0.6, min_dwell_s=0.0), PAPER_MAPPING),
        query=QUERY,
        interval_s=0.5,
        push_url=router.url,
        emit=records.append,
        max_backoff_s=2.0,
    )
    loop = threading.Thread(target=service.run, kwargs={"max_polls": 300}, daemon=True)
    refused = (
        f"no signal (prometheus unavailable: {url}: cannot reach Prometheus: Connection refused)"
    )
    try:
        loop.start()
        _until(records, lambda: any(r["status"] == "ok" for r in records), 20, "a signal")
        assert records[-1]["applied"] == [1.0, 0.0] and router.received == [
            {"omega": 1.0, "tau": 0.0}
        ]
        proc.kill()  # no goodbye: SIGKILL mid-run
        proc.wait(10)
        killed = len(records)
        _until(records, lambda: [r["status"] for r in records[killed:]].count(refused) >= 3, 10,
               "three polls of the dead Prometheus")  # fmt: skip
        router.close()  # the router goes down too
        frontend.ttft = 3.0  # and the deployment saturates meanwhile
        outage = records[killed:]
        assert all(r["status"].startswith("no signal (prometheus unavailable: ") for r in outage)
        assert {(r["regime"], r["omega"], r["tau"], r["changed"]) for r in outage} == {
            ("below", 1.0, 0.0, False)
        }  # the last decision is kept
        proc, again = start_prometheus(tmp_path, frontend.port, prom_port)
        assert again == url
        _until(records, lambda: any(r["regime"] == "saturated" for r in records), 30,
               "the switch after the restart")  # fmt: skip
        switch = next(r for r in records if r["regime"] == "saturated")
        assert switch["status"] == "ok" and switch["ttft_p99_s"] > 1.0 and switch["changed"]
        assert switch["pushed"] == "failed: Connection refused" and switch["push_failures"] == 1
        assert (switch["intended"], switch["applied"]) == ([0.1, 0.8], [1.0, 0.0])
        router = Receiver(router_port)  # the router is back, on its address
        _until(records, lambda: records[-1]["applied"] == [0.1, 0.8], 15, "the retried push")
    finally:
        service.stop.set()
        loop.join(10)
        stop_prometheus(proc)
        router.close()
    assert not loop.is_alive()
    assert router.received == [{"omega": 0.1, "tau": 0.8}]  # landed once, on the new router
    first, landed = (r for r in records if r.get("pushed") == "HTTP 204")
    assert first is records[0] and first["intended"] == first["applied"] == [1.0, 0.0]
    assert landed["intended"] == landed["applied"] == [0.1, 0.8]
    tries = [r["pushed"] for r in records[records.index(switch) : records.index(landed)]]
    assert tries and all(t == "failed: Connection refused" for t in tries)
