"""Benchmark: the router front on a real Dynamo 1.6 (issue 25).

1. *Added latency per request.* The same 1P/2D mocker deployment (speed-up 1, 128-token
   prompts, 32 output tokens) is loaded twice with the same closed loop of streaming
   completions (``users`` at a time, ``requests`` in all): once with the frontend's own KV
   router (``deploy(..., front=False)``), once through the router front
   (``front=True``). Reported: TTFT and request latency P50/P99 measured by the client,
   and the front minus the frontend direct.
2. *Poll-to-applied delay.* With the front running, ``POST /router`` alternating between
   Dynamo's defaults and the saturated row, timed from the request to the front's 200
   (the pair is then in force for the next decision); the first push of a pair also
   builds its routers.

Run: ``python benchmarks/bench_front.py [users] [requests]``.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np

from gametheory.deploy import deploy

PROMPT = "the quick brown fox jumps over the lazy dog " * 3  # 132 tokens (characters)


def _one(url: str) -> tuple[float, float]:
    body = {"model": "llama", "prompt": PROMPT, "max_tokens": 32, "ignore_eos": True}
    body["stream"] = True
    req = urllib.request.Request(
        url + "/v1/completions", json.dumps(body).encode(), {"content-type": "application/json"}
    )
    t0 = time.perf_counter()
    first = float("nan")
    with urllib.request.urlopen(req, timeout=60) as r:
        for line in r:
            if line.startswith(b"data: {") and first != first:
                first = time.perf_counter() - t0
    return first, time.perf_counter() - t0


def _load(url: str, users: int, requests: int) -> np.ndarray:
    out: list[tuple[float, float]] = []
    counter = iter(range(requests))
    lock = threading.Lock()

    def user() -> None:
        while True:
            with lock:
                if next(counter, None) is None:
                    return
            out.append(_one(url))

    threads = [threading.Thread(target=user) for _ in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    return np.array(out) * 1e3


def _row(name: str, ms: np.ndarray) -> dict[str, float]:
    p = {
        "ttft_p50": float(np.percentile(ms[:, 0], 50)),
        "ttft_p99": float(np.percentile(ms[:, 0], 99)),
        "latency_p50": float(np.percentile(ms[:, 1], 50)),
        "latency_p99": float(np.percentile(ms[:, 1], 99)),
    }
    print(name, {k: round(v, 1) for k, v in p.items()}, flush=True)
    return p


def main(users: int = 8, requests: int = 200) -> None:
    print("load average", os.getloadavg())
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for front in (False, True):
            with deploy(f"{tmp}/{front}", "1P2D", front=front) as d:
                _load(d.url, users, 2 * users)  # warm-up
                rows[front] = _row("front" if front else "direct", _load(d.url, users, requests))
                if front:
                    assert d.router_url is not None
                    delays = []
                    for k in range(20):
                        pair = {"omega": 0.1, "tau": 0.8} if k % 2 == 0 else {"omega": 1, "tau": 0}
                        req = urllib.request.Request(d.router_url, json.dumps(pair).encode())
                        t0 = time.perf_counter()
                        with urllib.request.urlopen(req, timeout=20) as r:
                            r.read()
                        delays.append((time.perf_counter() - t0) * 1e3)
                    print(
                        "poll-to-applied ms: median",
                        round(statistics.median(delays), 2),
                        "max",
                        round(max(delays), 2),
                    )
    added = {k: round(rows[True][k] - rows[False][k], 1) for k in rows[True]}
    print("front minus direct (ms)", added)
    print("load average", os.getloadavg())


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
