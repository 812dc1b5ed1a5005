"""``gametheory control``: the adaptive router controller as a service, polling Prometheus.

Settings come from a TOML file (``--config``) and flags on top::

    prometheus = "http://127.0.0.1:9090"
    query = "histogram_quantile(0.99, sum by (le) (rate(...bucket[30s])))"
    interval_s = 5
    push = "http://127.0.0.1:8000/router"   # optional: POST {"omega", "tau"} on changes
    serve = 9101                            # optional: GET /decision on 127.0.0.1
    [detector]                              # EWMA on TTFT P99, seconds
    low_s = 0.5
    high_s = 1.0
    alpha = 0.3
    hysteresis = 0.1
    min_dwell_s = 5
    [mapping]                               # regime -> [omega, tau]
    below = [1.0, 0.0]
    transition = [1.0, 0.0]
    saturated = [0.1, 0.8]

Each poll prints one JSON line. SIGINT and SIGTERM stop it after the current poll.
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

from gametheory.cli._checks import read_toml
from gametheory.control.detector import EWMADetector, Regime
from gametheory.control.policy import AdaptiveController
from gametheory.control.service import (
    DEFAULT_QUERY,
    PAPER_MAPPING,
    ControlService,
    PrometheusClient,
)
from gametheory.errors import GameError

__all__ = ["register", "service_from"]

_TOP = {"prometheus", "query", "interval_s", "push", "serve", "detector", "mapping"}
_DETECTOR = {"low_s", "high_s", "alpha", "hysteresis", "min_dwell_s"}
_KNOWN = {"": _TOP, "detector": _DETECTOR, "mapping": {"below", "transition", "saturated"}}


def _number(table: dict[str, Any], key: str, default: float) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GameError(f"{key} must be a number, got {value!r}")
    return float(value)


def service_from(
    config: dict[str, Any], args: argparse.Namespace
) -> tuple[ControlService, int | None]:
    """The service and the port to serve on, from TOML values and flags."""
    url = args.prometheus or config.get("prometheus")
    if not url:
        raise GameError(
            "give the Prometheus address: --prometheus URL or prometheus = ... in --config"
        )
    det = dict(config.get("detector", {}))
    for key in _DETECTOR:
        flag = getattr(args, key, None)
        if flag is not None:
            det[key] = flag
    detector = EWMADetector(
        _number(det, "low_s", 0.5),
        _number(det, "high_s", 1.0),
        _number(det, "alpha", 0.3),
        _number(det, "hysteresis", 0.1),
        _number(det, "min_dwell_s", 5.0),
    )
    mapping = dict(PAPER_MAPPING)
    for name, value in config.get("mapping", {}).items():
        if not (isinstance(value, list) and len(value) == 2):
            raise GameError(f"mapping.{name} must be [omega, tau], got {value!r}")
        mapping[Regime[name.upper()]] = (float(value[0]), float(value[1]))
    interval = args.interval if args.interval is not None else _number(config, "interval_s", 5.0)
    service = ControlService(
        PrometheusClient(str(url), timeout_s=args.timeout),
        AdaptiveController(detector, mapping),
        query=args.query or config.get("query", DEFAULT_QUERY),
        interval_s=interval,
        push_url=args.push or config.get("push"),
    )
    port = args.serve if args.serve is not None else config.get("serve")
    return service, None if port is None else int(port)


def _run(args: argparse.Namespace) -> int:
    config = read_toml(args.config, _KNOWN) if args.config is not None else {}
    service, port = service_from(config, args)
    service.check()
    server = service.serve(port) if port is not None else None

    def stop(signum: int, frame: object) -> None:
        service.stop.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        service.run(args.max_polls)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if server is not None:
            server.shutdown()
            server.server_close()
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``control`` subcommand."""
    p = subparsers.add_parser(
        "control",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument("--prometheus", help="Prometheus address, e.g. http://127.0.0.1:9090")
    p.add_argument("--config", type=Path, help="TOML settings (see the module docs)")
    p.add_argument("--query", help="PromQL giving TTFT P99 in seconds")
    p.add_argument("--interval", type=float, help="seconds between polls (default 5)")
    p.add_argument("--low-s", dest="low_s", type=float, help="EWMA lower threshold (s)")
    p.add_argument("--high-s", dest="high_s", type=float, help="EWMA upper threshold (s)")
    p.add_argument("--min-dwell-s", dest="min_dwell_s", type=float)
    p.add_argument("--push", help="URL to POST {omega, tau} to when they change")
    p.add_argument("--serve", type=int, help="serve GET /decision on this loopback port")
    p.add_argument("--timeout", type=float, default=5.0, help="seconds per HTTP request")
    p.add_argument("--max-polls", type=int, help="stop after this many polls")
    p.set_defaults(func=_run)
