"""The adaptive controller as a service next to a deployment, polling Prometheus.

Every ``interval_s`` the service asks Prometheus's HTTP API (``/api/v1/query``) for the
TTFT P99 with a PromQL query (by default :data:`DEFAULT_QUERY`, ``histogram_quantile``
of the rate of Dynamo's frontend TTFT buckets over 30 s), feeds it to the detector of an
:class:`~gametheory.control.policy.AdaptiveController`, and emits the router parameters
``(omega, tau)`` of the regime: as one JSON line per poll, on an HTTP endpoint
(``GET /decision``) and, when a push URL is given, as a JSON ``POST`` of
``{"omega": ..., "tau": ...}`` whenever they change (a simulator's parameter endpoint, or
a proxy that sets Dynamo's per-request ``nvext.router_config_override``). An empty
result (no series yet), NaN (no requests in the window) or an unreachable Prometheus
(a restart) is reported in the JSON line and the last decision is kept; a query that
Prometheus rejects is an error at start. The paper's controller polls every 5 s and, when
saturated, sets ``tau = 0.8`` and ``omega = 0.1``.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gametheory.control.detector import EWMADetector, Regime
from gametheory.control.policy import TTFT_FAMILY, AdaptiveController
from gametheory.errors import GameError, TelemetryError

__all__ = [
    "DEFAULT_QUERY",
    "PAPER_MAPPING",
    "ControlService",
    "PrometheusClient",
    "PrometheusUnavailable",
]

DEFAULT_QUERY = f"histogram_quantile(0.99, sum by (le) (rate({TTFT_FAMILY}_bucket[30s])))"
"""TTFT P99 (seconds) over the last 30 s of Dynamo's frontend histogram."""

PAPER_MAPPING: dict[Regime, tuple[float, float]] = {
    Regime.BELOW: (1.0, 0.0),
    Regime.TRANSITION: (1.0, 0.0),
    Regime.SATURATED: (0.1, 0.8),
}
"""Regime -> ``(omega, tau)`` as the paper ran it: Dynamo's defaults until saturation."""


class PrometheusUnavailable(TelemetryError):
    """Prometheus did not answer (down, restarting, or the address is wrong)."""


@dataclass(frozen=True)
class PrometheusClient:
    """Instant queries against Prometheus's HTTP API.

    Parameters
    ----------
    url
        Base address, e.g. ``http://127.0.0.1:9090``.
    timeout_s
        Seconds to wait for an answer.
    """

    url: str
    timeout_s: float = 5.0

    def query(self, promql: str) -> float | None:
        """The value of ``promql`` now: None for an empty result, NaN when Prometheus says
        NaN, the first sample when the result has several series.

        Raises
        ------
        PrometheusUnavailable
            When Prometheus cannot be reached.
        TelemetryError
            When Prometheus rejects the query (the message is Prometheus's) or answers
            something that is not a query result.
        """
        address = (
            self.url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        )
        try:
            with urllib.request.urlopen(address, timeout=self.timeout_s) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            body = exc.read()
            if exc.code not in (400, 422):
                raise PrometheusUnavailable(
                    f"HTTP {exc.code} from Prometheus", file=self.url
                ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise PrometheusUnavailable(
                f"cannot reach Prometheus: {reason}", file=self.url
            ) from None
        try:
            doc = json.loads(body)
        except ValueError:
            raise TelemetryError("not a Prometheus API answer", file=self.url) from None
        if doc.get("status") != "success":
            raise TelemetryError(
                f"PromQL error ({doc.get('errorType', '?')}): {doc.get('error', '')}", file=self.url
            )
        data = doc.get("data", {})
        kind, result = data.get("resultType"), data.get("result")
        if kind == "scalar":
            return float(result[1])
        if kind != "vector" or not isinstance(result, list):
            raise TelemetryError(f"expected a vector result, got {kind!r}", file=self.url)
        if not result:
            return None
        return float(result[0]["value"][1])


@dataclass
class ControlService:
    """Poll, detect, decide and emit, until stopped.

    Parameters
    ----------
    client
        The Prometheus client.
    controller
        Detector and regime mapping (default: EWMA on 0.5 s / 1.0 s with the paper's
        mapping, :data:`PAPER_MAPPING`).
    query
        PromQL giving TTFT P99 in seconds.
    interval_s
        Seconds between polls.
    push_url
        Where to ``POST`` new ``{"omega", "tau"}`` (None: no push).
    emit
        Called with each decision record (default: print it as a JSON line).
    """

    client: PrometheusClient
    controller: AdaptiveController = field(
        default_factory=lambda: AdaptiveController(EWMADetector(0.5, 1.0), dict(PAPER_MAPPING))
    )
    query: str = DEFAULT_QUERY
    interval_s: float = 5.0
    push_url: str | None = None
    emit: Callable[[dict[str, Any]], None] = field(
        default=lambda record: print(json.dumps(record), flush=True)
    )
    last: dict[str, Any] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise GameError(f"interval_s must be positive, got {self.interval_s!r}")

    def check(self) -> None:
        """Run the query once: Prometheus must answer and accept it (errors at start)."""
        self.client.query(self.query)

    def poll(self, now: float) -> dict[str, Any]:
        """One poll: query, update the controller, push on a change; the record."""
        before = self.controller.parameters
        record: dict[str, Any] = {"time": round(now, 3)}
        try:
            value = self.client.query(self.query)
        except PrometheusUnavailable as exc:
            value, record["status"] = None, f"prometheus unreachable: {exc}"
        except TelemetryError as exc:
            value, record["status"] = None, f"query failed: {exc}"
        if value is None or not math.isfinite(value):
            record.setdefault(
                "status", "no signal (empty result)" if value is None else "no signal (NaN)"
            )
            record["ttft_p99_s"] = None
        else:
            record["status"] = "ok"
            record["ttft_p99_s"] = value
            self.controller.update(now, value)
        omega, tau = self.controller.parameters
        record |= {"regime": self.controller.regime.name.lower(), "omega": omega, "tau": tau}
        record["changed"] = (omega, tau) != before
        if self.push_url is not None and (record["changed"] or not self.last):
            record["pushed"] = self._push(omega, tau)
        self.last = record
        self.emit(record)
        return record

    def _push(self, omega: float, tau: float) -> str:
        body = json.dumps({"omega": omega, "tau": tau}).encode()
        request = urllib.request.Request(
            str(self.push_url), data=body, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=self.client.timeout_s) as response:
                return f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            return f"failed: {getattr(exc, 'reason', exc)}"

    def run(self, max_polls: int | None = None) -> int:
        """Poll every ``interval_s`` until :attr:`stop` is set (or ``max_polls``); the
        number of polls."""
        polls = 0
        start = time.monotonic()
        while not self.stop.is_set() and (max_polls is None or polls < max_polls):
            self.poll(time.monotonic() - start)
            polls += 1
            next_at = start + polls * self.interval_s
            self.stop.wait(max(0.0, next_at - time.monotonic()))
        return polls

    def serve(self, port: int, host: str = "127.0.0.1") -> ThreadingHTTPServer:
        """Serve the last decision at ``GET /decision`` in a background thread.

        Raises
        ------
        GameError
            When the port cannot be bound (in use, or not allowed).
        """
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.rstrip("/") != "/decision":
                    self.send_error(404)
                    return
                body = json.dumps(service.last).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        try:
            server = ThreadingHTTPServer((host, port), Handler)
        except OSError as exc:
            raise GameError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server
