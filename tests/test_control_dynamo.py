"""The adaptive controller on a real Dynamo 1.6: the router front, real Prometheus, the loop.

A real 1P/2D deployment of mocker workers with the router front
(:mod:`gametheory.deploy.front`) between the frontend and the workers, a real Prometheus
scraping the frontend every second, the controller service polling it and pushing
``(omega, tau)`` to the front's ``/router``, and a bounded closed-loop load of streaming
completions stepped from below the knee to above it and back. The front's own log must
show the switch to the saturated row within the detector's delay (plus a scrape, the
saturated TTFT itself, which must pass before it is observed, and a margin) and the
switch back; its decisions must show the temperature's effect (at 0 every decision takes
the least-cost worker; at 0.8 some do not).

Skips with the reason when the ``dynamo`` extra or Prometheus is absent (checked before
anything starts). Every loop is bounded in count and time; every process is stopped by
the launcher's own stop in teardown.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dynamo.mocker", reason="the dynamo extra is not installed")
pytest.importorskip("dynamo.frontend", reason="the dynamo extra is not installed")
if shutil.which("prometheus") is None:
    pytest.skip("the prometheus binary is not installed", allow_module_level=True)

from gametheory.control.detector import EWMADetector, Regime
from gametheory.control.policy import AdaptiveController
from gametheory.control.service import PAPER_MAPPING, ControlService, PrometheusClient
from gametheory.deploy import DynamoDeployment, deploy

QUERY = (
    "histogram_quantile(0.99, sum by (le) "
    "(rate(dynamo_frontend_time_to_first_token_seconds_bucket[3s])))"
)
SCRAPE_S = 1.0
POLL_S = 0.5
MARGIN_S = 1.0  # HTTP round trips, Prometheus' rule of at least two samples in a window
LOW_USERS, HIGH_USERS = 2, 24
OSL = 48
PROMPT = "the quick brown fox jumps over the lazy dog " * 6


class Load:
    """Closed-loop users streaming completions; ``users`` of them active at a time."""

    def __init__(self, url: str, model: str, n_threads: int, deadline_s: float) -> None:
        self.url, self.model = url + "/v1/completions", model
        self.users = 0
        self.done = 0
        self.errors: list[str] = []
        self.stop = threading.Event()
        self.deadline = time.monotonic() + deadline_s
        self.threads = [
            threading.Thread(target=self._user, args=(i,), daemon=True) for i in range(n_threads)
        ]
        for t in self.threads:
            t.start()

    def _user(self, i: int) -> None:
        while not self.stop.is_set() and time.monotonic() < self.deadline:
            if i >= self.users:
                time.sleep(0.02)
                continue
            body = {
                "model": self.model,
                "prompt": f"{i} {self.done} {PROMPT}",
                "max_tokens": OSL,
                "ignore_eos": True,
                "stream": True,
            }
            req = urllib.request.Request(
                self.url, json.dumps(body).encode(), {"content-type": "application/json"}
            )
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    r.read()
                self.done += 1
            except OSError as exc:
                self.errors.append(str(exc))

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(35)


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.loads(r.read())


def _post(url: str, doc: Any) -> tuple[int, Any]:
    req = urllib.request.Request(
        url, json.dumps(doc).encode(), {"content-type": "application/json"}
    )
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _until(condition: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[DynamoDeployment]:
    d = deploy(tmp_path, "1P2D", front=True, prometheus=True, speedup_ratio=2.0, max_num_seqs=4)
    with d:
        yield d


def _decisions(d: DynamoDeployment) -> list[dict[str, Any]]:
    return [json.loads(line) for line in d.decision_log.read_text().splitlines() if line]


def test_front_takes_the_router_contract_and_rejects_bad_bodies(stack: DynamoDeployment) -> None:
    url = stack.router_url
    assert url is not None
    assert _get(url)["router"] == {"omega": 1.0, "tau": 0.0}
    assert _post(url, {"tau": "hot"})[0] == 400
    assert _post(url, {"omega": -1})[0] == 400
    assert _post(url, [1, 2])[0] == 400
    assert _post(url, {"overlap_score_weight": 0.5, "router_temperature": 0.2}) == (
        200,
        {"omega": 0.5, "tau": 0.2},
    )
    doc = _get(url)
    assert doc["router"] == {"omega": 0.5, "tau": 0.2}
    assert [(r["omega"], r["tau"]) for r in doc["log"]] == [(1.0, 0.0), (0.5, 0.2)]


@pytest.mark.slow
def test_the_loop_on_a_real_dynamo_switches_the_front_at_the_knee_and_back(
    stack: DynamoDeployment,
) -> None:
    assert stack.prometheus_url is not None and stack.router_url is not None
    records: list[dict[str, Any]] = []
    detector = EWMADetector(0.3, 0.6, alpha=0.6, min_dwell_s=0.0)
    service = ControlService(
        PrometheusClient(stack.prometheus_url),
        AdaptiveController(detector, dict(PAPER_MAPPING)),
        query=QUERY,
        interval_s=POLL_S,
        push_url=stack.router_url,
        emit=records.append,
    )
    control = threading.Thread(target=service.run, kwargs={"max_polls": 240}, daemon=True)
    load = Load(stack.url, stack.spec.served_name, HIGH_USERS, deadline_s=90)
    load.users = LOW_USERS
    try:
        service.check()
        control.start()
        _until(lambda: sum(r["status"] == "ok" for r in records) >= 4, 30, "4 TTFT P99 signals")
        ok = [r for r in records if r["status"] == "ok"]
        assert all(r["regime"] == "below" for r in records), records[-4:]
        assert max(r["ttft_p99_s"] for r in ok) < 0.27  # under the exit threshold
        state = dataclasses.replace(detector)  # the detector just before the step
        step = time.time()
        load.users = HIGH_USERS
        _until(lambda: _get(stack.router_url)["router"]["tau"] == 0.8, 30, "the switch")
        up = _get(stack.router_url)["log"][-1]
        saturated = [r["ttft_p99_s"] for r in records if r["regime"] == "saturated"]
        polls = state.polls_to_switch(min(saturated), Regime.SATURATED)
        assert polls is not None
        bound = (polls + 1) * POLL_S + SCRAPE_S + max(saturated) + MARGIN_S
        assert 0 < up["time"] - step <= bound, (up["time"] - step, bound, polls, records[-6:])
        assert (up["omega"], up["tau"]) == (0.1, 0.8)
        assert min(saturated) > 0.66  # the P99 Prometheus saw past the knee
        n_hot = up["decision"]
        _until(lambda: len(_decisions(stack)) > n_hot + 40, 20, "40 decisions at tau 0.8")
        load.users = LOW_USERS
        _until(lambda: _get(stack.router_url)["router"]["tau"] == 0.0, 40, "the switch back")
        down = _get(stack.router_url)["log"][-1]
        assert down["time"] > up["time"] and (down["omega"], down["tau"]) == (1.0, 0.0)
    finally:
        service.stop.set()
        control.join(10)
        load.close()
    assert not load.errors, load.errors[:3]
    log = _get(stack.router_url)["log"]
    assert [(r["omega"], r["tau"]) for r in log] == [(1.0, 0.0), (0.1, 0.8), (1.0, 0.0)]
    rows = _decisions(stack)
    # every decision carries the pair in force: the change log's decision numbers split them
    for r in rows:
        expected = (0.1, 0.8) if up["decision"] <= r["decision"] < down["decision"] else (1, 0)
        assert (r["omega"], r["tau"]) == expected, r
    decode = [r for r in rows if r["stage"] == "decode" and r["still"]]
    cold = [r for r in decode if r["tau"] == 0.0]
    hot = [r for r in decode if r["tau"] == 0.8]
    assert cold and all(r["greedy"] for r in cold)  # a temperature of 0 takes the least cost
    assert len(hot) >= 20 and sum(not r["greedy"] for r in hot) >= 2  # 0.8 spreads
    pushed = [r for r in records if "pushed" in r]
    assert [r["pushed"] for r in pushed] == ["HTTP 200"] * 3
    assert records[-1]["applied"] == [1.0, 0.0]
