"""The simulator against the wall clock: Dynamo's metrics served live, router set live.

:class:`LiveRun` is the observer :func:`gametheory.sim.engine.simulate` calls at every
event and request milestone. It paces the simulation so that simulated time ``t`` is
processed at wall time ``start + t / speedup`` (1x by default, 60x in the tests), feeds
a :class:`~gametheory.sim.exporter.DynamoExporter`, and takes router parameters and a
closed-loop concurrency set from another thread. :meth:`LiveRun.serve` exposes, on a
loopback port:

``GET /metrics``
    Dynamo's frontend and worker families (Prometheus text format), for a real
    Prometheus to scrape.
``GET /router`` / ``POST /router``
    The router parameters and their change log / new ones, as
    ``{"omega": ..., "tau": ...}`` or with Dynamo's per-request names
    ``{"overlap_score_weight": ..., "router_temperature": ...}`` (either key may be
    left out). They take effect from the next routing decision on, as Dynamo's
    ``nvext.router_config_override`` does for the requests that carry it. 409 when the
    policy is not the KV router, 400 on a malformed body.
``GET /load`` / ``POST /load``
    The closed-loop concurrency / a new one, ``{"concurrency": N}`` (409 open loop).
``GET /status``
    Simulated and wall time, lag, requests done.

:func:`serve_simulation` runs it all until the workload is done, ``duration_s``
simulated seconds have passed or :attr:`LiveRun.stop` is set.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pandas as pd
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from gametheory.control._http import BadRequestBody, read_json_body
from gametheory.errors import GameError, shown
from gametheory.sim.engine import simulate
from gametheory.sim.exporter import DynamoExporter
from gametheory.sim.results import LiveRunResult
from gametheory.sim.routing import AdaptivePolicy, KVRouterPolicy, Policy
from gametheory.sim.serving.cluster import Cluster
from gametheory.sim.workloads import Workload

__all__ = ["LiveRun", "serve_simulation"]

_AHEAD_S = 0.002  # sleep only when the schedule is this far ahead of the wall clock
_MAX_USERS = 1_000_000  # closed-loop users a POST /load may ask for


class _Conflict(GameError):
    """A well-formed request the run cannot honour (HTTP 409)."""


def _parameters(policy: Policy) -> tuple[float, float] | None:
    if isinstance(policy, KVRouterPolicy):
        return policy.omega, policy.tau
    if isinstance(policy, AdaptivePolicy):
        return policy.controller.parameters
    return None


def _number(body: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        if key in body:
            value = body[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise GameError(f"{key} must be a number, got {value!r}")
            if isinstance(value, int) and abs(value) >= 2**1023:  # no float holds it
                raise GameError(
                    f"{key} must be finite and nonnegative, got a {value.bit_length()}-bit integer"
                )
            if not (math.isfinite(value) and value >= 0):
                raise GameError(f"{key} must be finite and nonnegative, got {value!r}")
            return float(value)
    return None


@dataclass
class LiveRun:
    """Pacing, live metrics and live router parameters for one simulation.

    Parameters
    ----------
    cluster, workload, policy
        As for :func:`~gametheory.sim.engine.simulate`.
    concurrency
        Closed-loop users at the start (0 for an open-loop workload).
    speedup
        Simulated seconds per wall-clock second (``math.inf``: as fast as possible).
    duration_s
        Stop after this many simulated seconds (None: when the workload is done).
    """

    cluster: Cluster
    workload: Workload
    policy: Policy
    concurrency: int = 0
    speedup: float = 1.0
    duration_s: float | None = None
    stop: threading.Event = field(default_factory=threading.Event)
    router_log: list[dict[str, Any]] = field(default_factory=list)
    load_log: list[dict[str, Any]] = field(default_factory=list)
    sim_time: float = 0.0
    max_lag_s: float = 0.0
    stopped_by: str = "workload"

    def __post_init__(self) -> None:
        if not self.speedup > 0:
            raise GameError(f"speedup must be positive, got {self.speedup!r}")
        if self.duration_s is not None and not self.duration_s > 0:
            raise GameError(f"duration_s must be positive, got {self.duration_s!r}")
        closed = self.workload.arrival_s is None
        if closed and self.concurrency < 1:
            raise GameError("a closed-loop workload needs concurrency >= 1")
        bs = self.workload.block_size
        self.exporter = DynamoExporter(
            self.cluster.decode.model.name,
            self.cluster.n_decode,
            max(1, self.cluster.kv_capacity_tokens() // bs),
            bs,
            self.cluster.decode_batch_limit,
            self.cluster.prefill_max_tokens,
        )
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.exporter)
        self._input: list[int] = self.workload.input_tokens.astype(int).tolist()
        self._output: list[int] = self.workload.output_tokens.astype(int).tolist()
        self._pending: tuple[float, float] | None = None
        self._lock = threading.Lock()
        self._logged: tuple[float, float] | None = None
        self._start = math.nan
        self.done = 0
        if closed:
            self._log_load(0.0)

    # -- the event loop's side ------------------------------------------------------

    def _wall(self) -> float:
        return time.monotonic() - self._start if math.isfinite(self._start) else 0.0

    def tick(self, now: float) -> bool:
        """Apply pending router parameters, stop when asked, wait for the wall clock."""
        if math.isnan(self._start):
            self._start = time.monotonic()
        self.sim_time = now
        if self._pending is not None:
            with self._lock:
                pending, self._pending = self._pending, None
            if pending is not None and isinstance(self.policy, KVRouterPolicy):
                self.policy.omega, self.policy.tau = pending
        if self.duration_s is not None and now > self.duration_s:
            self.stopped_by = "duration"
            return False
        if math.isfinite(self.speedup):
            ahead = self._start + now / self.speedup - time.monotonic()
            if ahead > _AHEAD_S:
                self.stop.wait(ahead)
            elif ahead < 0:
                self.max_lag_s = max(self.max_lag_s, -ahead)
        if self.stop.is_set():
            self.stopped_by = "stop"
            return False
        return True

    def arrived(self, request: int, worker: int, now: float) -> None:
        """Record the routing decision; log the router parameters when they change."""
        self.exporter.arrived(worker, self._input[request], self._output[request])
        params = _parameters(self.policy)
        if params is not None and params != self._logged:
            self._logged = params
            self.router_log.append(
                {
                    "sim_time_s": now,
                    "wall_time_s": self._wall(),
                    "request": request,
                    "omega": params[0],
                    "tau": params[1],
                }
            )

    def first_token(self, request: int, ttft_s: float) -> None:
        """Observe the TTFT."""
        self.exporter.first_token(ttft_s)

    def finished(self, request: int, worker: int, latency_s: float, ttft_s: float) -> None:
        """Observe the duration, output tokens and inter-token gaps."""
        self.done += 1
        self.exporter.finished(
            worker, latency_s, ttft_s, self._input[request], self._output[request]
        )

    # -- the control side (any thread) ------------------------------------------------

    def set_router(self, body: dict[str, Any]) -> tuple[float, float]:
        """New router parameters from ``{"omega", "tau"}`` or Dynamo's
        ``{"overlap_score_weight", "router_temperature"}`` (a key left out keeps its
        value); they apply from the next decision on. Returns the parameters set.

        Raises
        ------
        GameError
            When the policy is not the KV router, or on a value that is not a finite,
            nonnegative number.
        """
        if not isinstance(self.policy, KVRouterPolicy):
            raise _Conflict(f"the {self.policy.name} policy has no settable router parameters")
        omega = _number(body, "omega", "overlap_score_weight")
        tau = _number(body, "tau", "router_temperature")
        if omega is None and tau is None:
            raise GameError("give omega and/or tau (or overlap_score_weight, router_temperature)")
        with self._lock:
            current = self._pending or (self.policy.omega, self.policy.tau)
            new = (current[0] if omega is None else omega, current[1] if tau is None else tau)
            self._pending = new
        return new

    def set_concurrency(self, value: Any) -> int:
        """A new closed-loop concurrency (fewer users: the extra requests finish first).

        Raises
        ------
        GameError
            Open loop, or a value that is not an integer in 1-1,000,000.
        """
        if self.workload.arrival_s is None:
            if (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 1 <= value <= _MAX_USERS
            ):
                raise GameError(
                    f"concurrency must be an integer in 1-{_MAX_USERS}, got {shown(value)}"
                )
            self.concurrency = value
            self._log_load(self.sim_time)
            return value
        raise _Conflict("an open-loop workload has no concurrency to set")

    def _log_load(self, now: float) -> None:
        row = {"sim_time_s": now, "wall_time_s": self._wall(), "concurrency": self.concurrency}
        self.load_log.append(row)

    def status(self) -> dict[str, Any]:
        """Simulated and wall time, lag, requests done and in flight, parameters."""
        params = _parameters(self.policy)
        return {
            "sim_time_s": self.sim_time,
            "wall_time_s": self._wall(),
            "speedup": self.speedup,
            "max_lag_s": self.max_lag_s,
            "requests_done": self.done,
            "in_flight": sum(self.exporter.inflight),
            "concurrency": self.concurrency if self.workload.arrival_s is None else None,
            "router": None if params is None else {"omega": params[0], "tau": params[1]},
        }

    def serve(self, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
        """Serve ``/metrics``, ``/router``, ``/load`` and ``/status`` in a background
        thread (``port`` 0: any free port, see ``server.server_address``).

        Raises
        ------
        GameError
            When the port cannot be bound (in use, or not allowed).
        """
        try:
            server = ThreadingHTTPServer((host, port), _handler(self))
        except OSError as exc:
            raise GameError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def run(self, seed: int = 0) -> LiveRunResult:
        """Simulate, paced, until done, ``duration_s`` or :attr:`stop`."""
        closed = self.workload.arrival_s is None
        result = simulate(
            self.cluster,
            self.workload,
            self.policy,
            concurrency=self.concurrency if closed else None,
            seed=seed,
            observer=self,
        )
        wall = self._wall()
        columns = ["sim_time_s", "wall_time_s", "request", "omega", "tau"]
        return LiveRunResult(
            run=result,
            router_log=pd.DataFrame(self.router_log, columns=columns),
            load_log=pd.DataFrame(self.load_log, columns=[*columns[:2], "concurrency"]),
            speedup=self.speedup,
            sim_s=self.sim_time,
            wall_s=wall,
            max_lag_s=self.max_lag_s,
            requests_per_wall_s=self.done / wall if wall > 0 else math.nan,
            stopped_by=self.stopped_by,
        )


def _handler(live: LiveRun) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10.0  # seconds a client may take to send its request: no slow drip holds it

        def _send(self, code: int, body: bytes, kind: str = "application/json") -> None:
            self.send_response(code)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code: int, doc: Any) -> None:
            self._send(code, json.dumps(doc).encode())

        def do_GET(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            if path == "/metrics":
                self._send(200, generate_latest(live.registry), CONTENT_TYPE_LATEST)
            elif path == "/router":
                self._json(200, {"router": live.status()["router"], "log": live.router_log})
            elif path == "/load":
                self._json(200, {"concurrency": live.status()["concurrency"]})
            elif path == "/status":
                self._json(200, live.status())
            else:
                self._json(404, {"error": f"no {path!r}; try /metrics, /router, /load, /status"})

        def do_POST(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            if path not in ("/router", "/load"):
                self._json(404, {"error": f"cannot POST to {path!r}; try /router or /load"})
                return
            try:
                body = read_json_body(self)
            except BadRequestBody as exc:
                self._json(exc.status, {"error": str(exc)})
                return
            except OSError:  # the client was too slow (see timeout) or went away
                return
            if not isinstance(body, dict):
                self._json(400, {"error": "the body must be a JSON object"})
                return
            try:
                if path == "/router":
                    omega, tau = live.set_router(body)
                    self._json(200, {"omega": omega, "tau": tau})
                else:
                    self._json(200, {"concurrency": live.set_concurrency(body.get("concurrency"))})
            except GameError as exc:
                self._json(409 if isinstance(exc, _Conflict) else 400, {"error": str(exc)})

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def serve_simulation(
    cluster: Cluster,
    workload: Workload,
    policy: Policy,
    *,
    port: int,
    concurrency: int | None = None,
    speedup: float = 1.0,
    duration_s: float | None = None,
    seed: int = 0,
    host: str = "127.0.0.1",
    stop: threading.Event | None = None,
) -> LiveRunResult:
    """Simulate ``workload`` paced at ``speedup`` while serving Dynamo's metrics on
    ``host:port`` (see the module docs for the endpoints); the server stops with the run.

    Raises
    ------
    GameError
        On a port that cannot be bound, a nonpositive speed-up or duration, or a
        closed-loop workload without a concurrency.

    Examples
    --------
    >>> from gametheory.sim import Cluster, paper_workload
    >>> from gametheory.sim.routing import KVRouterPolicy
    >>> cluster = Cluster.build(n_prefill=1, n_decode=2, tp_prefill=4, tp_decode=4)
    >>> live = serve_simulation(cluster, paper_workload(100), KVRouterPolicy(), port=0,
    ...                         concurrency=8, speedup=math.inf)
    >>> live.stopped_by, len(live.run.requests), live.router_log["omega"].tolist()
    ('workload', 100, [1.0])
    """
    live = LiveRun(
        cluster,
        workload,
        policy,
        concurrency=concurrency or 0,
        speedup=speedup,
        duration_s=duration_s,
        stop=stop if stop is not None else threading.Event(),
    )
    server = live.serve(port, host)
    try:
        return live.run(seed)
    finally:
        server.shutdown()
        server.server_close()
