"""The adaptive controller as a service next to a deployment, polling Prometheus.

Every ``interval_s`` the service asks Prometheus's HTTP API (``/api/v1/query``) for the
TTFT P99 with a PromQL query (by default :data:`DEFAULT_QUERY`, ``histogram_quantile``
of the rate of Dynamo's frontend TTFT buckets over 30 s), feeds it to the detector of an
:class:`~gametheory.control.policy.AdaptiveController`, and emits the router parameters
``(omega, tau)`` of the regime: as one JSON line per poll, on an HTTP endpoint
(``GET /decision``) and, when a push URL is given, as a JSON ``POST`` of
``{"omega": ..., "tau": ...}`` (a simulator's parameter endpoint, or a proxy that sets
Dynamo's per-request ``nvext.router_config_override``).

Whatever Prometheus answers, a poll that yields no usable TTFT is a *no signal* poll: its
JSON line says why in ``status`` (``"no signal (...)"``) and the last decision is kept.
That covers an empty result (no series yet), NaN (no requests in the window), a negative
or infinite value, an answer of the wrong shape (:class:`PrometheusAnswerError`, naming
the field), a query Prometheus rejects while running, and a Prometheus that does not
answer in time (:class:`PrometheusUnavailable`: down, restarting, an HTTP 5xx, or an
answer still incomplete when the total deadline ``timeout_s`` passes). At start,
:meth:`ControlService.check` requires a proper answer. A push the router does not
acknowledge with a 2xx status is retried at later polls with exponential backoff (1, 2,
4, ... polls, at most ``max_backoff_s``) until it lands; each line shows the setting the
controller ``intended`` and the one the router last ``applied``. The paper's controller
polls every 5 s and, when saturated, sets ``tau = 0.8`` and ``omega = 0.1``.
"""

from __future__ import annotations

import json
import math
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gametheory.control._http import AnswerTooLarge, ExchangeFailed, exchange
from gametheory.control.detector import EWMADetector, Regime
from gametheory.control.policy import TTFT_FAMILY, AdaptiveController
from gametheory.errors import GameError, TelemetryError

__all__ = [
    "DEFAULT_QUERY",
    "PAPER_MAPPING",
    "ControlService",
    "PrometheusAnswerError",
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
    """Prometheus gave no complete answer in time (down, restarting, an HTTP error status,
    the total deadline passed, or the address is wrong)."""


class PrometheusAnswerError(TelemetryError):
    """Prometheus (or whatever answers at its address) sent something that is not an
    instant-query result of the expected shape; :attr:`field` names the part at fault
    (``None`` for the body as a whole)."""


def _check_address(url: Any, name: str) -> None:
    parts = urllib.parse.urlsplit(url) if isinstance(url, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise GameError(f"{name} must be an http:// or https:// URL, got {url!r}")


def _text(value: Any) -> str:
    """``str(value)`` made printable and short: what a server sent, safe to print."""
    text = "".join(c if c.isprintable() else "?" for c in str(value))
    return text if len(text) <= 200 else text[:197] + "..."


def _shown(value: Any) -> str:
    """``repr(value)`` made printable and short."""
    return _text(repr(value))


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)


def _sample(sample: Any, where: str, url: str) -> float:
    """The value of a ``[time, "value"]`` pair."""
    if not (isinstance(sample, list) and len(sample) == 2):
        raise PrometheusAnswerError(
            f"expected a [time, value] pair, got {_shown(sample)}", file=url, field=where
        )
    value = sample[1]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise PrometheusAnswerError(
        f"expected a number, got {_shown(value)}", file=url, field=f"{where}[1]"
    )


def _value_of(doc: Any, url: str) -> float | None:
    """The value of a decoded ``/api/v1/query`` answer (see :meth:`PrometheusClient.query`)."""
    if not isinstance(doc, dict):
        raise PrometheusAnswerError(f"expected a JSON object, got {_kind(doc)}", file=url)
    status = doc.get("status")
    if status == "error":
        error_type, error = _text(doc.get("errorType", "?")), _text(doc.get("error", ""))
        raise TelemetryError(f"PromQL error ({error_type}): {error}", file=url)
    if status != "success":
        raise PrometheusAnswerError(
            f"expected 'success' or 'error', got {_shown(status)}", file=url, field="status"
        )
    data = doc.get("data")
    if not isinstance(data, dict):
        raise PrometheusAnswerError(
            f"expected an object, got {_kind(data)}", file=url, field="data"
        )
    kind, result = data.get("resultType"), data.get("result")
    if kind == "scalar":
        return _sample(result, "data.result", url)
    if kind != "vector":
        raise PrometheusAnswerError(
            f"expected 'vector' or 'scalar', got {_shown(kind)}", file=url, field="data.resultType"
        )
    if not isinstance(result, list):
        raise PrometheusAnswerError(
            f"expected a list, got {_kind(result)}", file=url, field="data.result"
        )
    if not result:
        return None
    first = result[0]
    if not isinstance(first, dict):
        raise PrometheusAnswerError(
            f"expected an object, got {_kind(first)}", file=url, field="data.result[0]"
        )
    if "value" not in first:
        raise PrometheusAnswerError("missing", file=url, field="data.result[0].value")
    return _sample(first["value"], "data.result[0].value", url)


@dataclass(frozen=True)
class PrometheusClient:
    """Instant queries against Prometheus's HTTP API.

    Parameters
    ----------
    url
        Base address, e.g. ``http://127.0.0.1:9090``.
    timeout_s
        Total deadline of one query, in seconds: connecting, the headers and the whole
        body (a server that sends one byte at a time does not extend it).
    max_bytes
        Largest answer read (16 MiB by default); a longer one is a failed query.
    """

    url: str
    timeout_s: float = 5.0
    max_bytes: int = 16 * 2**20

    def __post_init__(self) -> None:
        _check_address(self.url, "url")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise GameError(f"timeout_s must be a finite number > 0, got {self.timeout_s!r}")
        if isinstance(self.max_bytes, bool) or not (
            isinstance(self.max_bytes, int) and self.max_bytes >= 1
        ):
            raise GameError(f"max_bytes must be a whole number >= 1, got {self.max_bytes!r}")

    def query(self, promql: str) -> float | None:
        """The value of ``promql`` now: None for an empty result, NaN when Prometheus says
        NaN, the first sample when the result has several series.

        Raises
        ------
        PrometheusUnavailable
            When Prometheus cannot be reached, answers with an HTTP error status other
            than 400 and 422, or has not finished answering within ``timeout_s``.
        PrometheusAnswerError
            When the answer is not JSON or not an instant-query result (a list body,
            ``null``, ``data`` that is not an object, a value that is not a number, a
            missing ``value``, ...) or longer than ``max_bytes``; its ``field`` names the
            part at fault.
        TelemetryError
            When Prometheus rejects the query (the message is Prometheus's).
        """
        address = (
            self.url.rstrip("/") + "/api/v1/query?" + urllib.parse.urlencode({"query": promql})
        )
        try:
            answer = exchange(address, deadline_s=self.timeout_s, max_bytes=self.max_bytes)
        except AnswerTooLarge as exc:
            raise PrometheusAnswerError(str(exc), file=self.url) from None
        except ExchangeFailed as exc:
            raise PrometheusUnavailable(f"cannot reach Prometheus: {exc}", file=self.url) from None
        if answer.status not in (200, 400, 422):
            raise PrometheusUnavailable(f"HTTP {answer.status} from Prometheus", file=self.url)
        try:
            doc = json.loads(answer.body)
        except (ValueError, RecursionError):
            raise PrometheusAnswerError(
                f"not JSON (HTTP {answer.status}, {len(answer.body)} bytes)", file=self.url
            ) from None
        return _value_of(doc, self.url)


def _no_signal(value: float | None) -> str | None:
    """Why a queried value is no TTFT signal, or None when it is one."""
    if value is None:
        return "empty result"
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return f"infinite value {value!r}"
    if value < 0:
        return f"negative TTFT P99 {value!r} s"
    return None


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
        Where to ``POST`` the intended ``{"omega", "tau"}`` until the router has it (None:
        no push).
    emit
        Called with each decision record (default: print it as a JSON line).
    max_backoff_s
        Longest wait between two attempts of a push that keeps failing (at least one
        poll).

    Attributes
    ----------
    applied
        The ``(omega, tau)`` the router last acknowledged (None before the first push
        lands).
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
    max_backoff_s: float = 60.0
    last: dict[str, Any] = field(default_factory=dict)
    stop: threading.Event = field(default_factory=threading.Event)
    applied: tuple[float, float] | None = field(default=None, init=False)
    _polls: int = field(default=0, init=False, repr=False)
    _pending: tuple[float, float] | None = field(default=None, init=False, repr=False)
    _failures: int = field(default=0, init=False, repr=False)
    _attempt_at: int = field(default=0, init=False, repr=False)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.interval_s) and self.interval_s > 0):
            raise GameError(f"interval_s must be positive, got {self.interval_s!r}")
        if not (math.isfinite(self.max_backoff_s) and self.max_backoff_s > 0):
            raise GameError(f"max_backoff_s must be positive, got {self.max_backoff_s!r}")
        if self.push_url is not None:
            _check_address(self.push_url, "push_url")

    def check(self) -> None:
        """Run the query once: Prometheus must answer and accept it (errors at start)."""
        self.client.query(self.query)

    def _signal(self) -> tuple[float | None, str | None]:
        """The queried TTFT P99, or None and why there is none."""
        try:
            value = self.client.query(self.query)
        except PrometheusUnavailable as exc:
            return None, f"prometheus unavailable: {exc}"
        except PrometheusAnswerError as exc:
            return None, f"malformed answer: {exc}"
        except TelemetryError as exc:
            return None, f"query failed: {exc}"
        reason = _no_signal(value)
        return (value, None) if reason is None else (None, reason)

    def poll(self, now: float) -> dict[str, Any]:
        """One poll: query, update the controller, push until the router has the intended
        setting; the record (also emitted)."""
        before = self.controller.parameters
        record: dict[str, Any] = {"time": round(now, 3)}
        value, reason = self._signal()
        if value is not None:
            try:
                self.controller.update(now, value)
            except GameError as exc:
                reason = f"the detector refused {value!r}: {exc}"
        if reason is None:
            record |= {"status": "ok", "ttft_p99_s": value}
        else:
            record |= {"status": f"no signal ({reason})", "ttft_p99_s": None}
        omega, tau = self.controller.parameters
        record |= {"regime": self.controller.regime.name.lower(), "omega": omega, "tau": tau}
        record["changed"] = (omega, tau) != before
        if self.push_url is not None:
            self._deliver((omega, tau), record)
        self._polls += 1
        self.last = record
        self.emit(record)
        return record

    def _deliver(self, intended: tuple[float, float], record: dict[str, Any]) -> None:
        """Push ``intended`` when the router does not have it and a retry is due."""
        if intended == self.applied:
            self._pending, self._failures = None, 0
        else:
            if intended != self._pending:  # a new setting: try at once
                self._pending, self._failures, self._attempt_at = intended, 0, self._polls
            if self._polls >= self._attempt_at:
                landed, outcome = self._push(*intended)
                record["pushed"] = outcome
                if landed:
                    self.applied, self._pending, self._failures = intended, None, 0
                else:
                    self._failures += 1
                    most = max(1, int(self.max_backoff_s // self.interval_s))
                    self._attempt_at = self._polls + min(2 ** min(self._failures - 1, 30), most)
                    record["push_failures"] = self._failures
            if self._pending is not None:
                polls = self._attempt_at - self._polls
                record["retry_in_s"] = round(polls * self.interval_s, 3)
        record["intended"] = list(intended)
        record["applied"] = None if self.applied is None else list(self.applied)

    def _push(self, omega: float, tau: float) -> tuple[bool, str]:
        """POST the pair; whether the router acknowledged it (2xx), and what it said."""
        body = json.dumps({"omega": omega, "tau": tau}).encode()
        try:
            answer = exchange(
                str(self.push_url),
                data=body,
                headers={"Content-Type": "application/json"},
                deadline_s=self.client.timeout_s,
                max_bytes=0,
                redirects=False,
            )
        except ExchangeFailed as exc:
            return False, f"failed: {exc}"
        if 200 <= answer.status < 300:
            return True, f"HTTP {answer.status}"
        return False, f"failed: HTTP {answer.status}"

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
