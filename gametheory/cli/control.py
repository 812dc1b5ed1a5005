"""``gametheory control``: the adaptive router controller as a service, polling Prometheus.

Settings come from a TOML file (``--config``) and flags on top::

    prometheus = "http://127.0.0.1:9090"
    query = "histogram_quantile(0.99, sum by (le) (rate(...bucket[30s])))"
    interval_s = 5
    timeout_s = 5                           # total deadline of one query or push
    push = "http://127.0.0.1:8000/router"   # optional: POST {"omega", "tau"} until applied
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

Each key is checked as its flag is, with the same message. Each poll prints one JSON
line. SIGINT and SIGTERM stop it after the current poll.
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path
from typing import Any

from gametheory.cli._checks import (
    flag,
    float_in,
    http_url,
    nonnegative_float,
    port,
    positive_float,
    positive_int,
    read_toml,
    setting,
)
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

_TOP = {"prometheus", "query", "interval_s", "timeout_s", "push", "serve", "detector", "mapping"}
#: [detector] key (and flag dest) -> (EWMADetector parameter, check, default)
_DETECTOR: dict[str, tuple[str, Any, float]] = {
    "low_s": ("low", positive_float, 0.5),
    "high_s": ("high", positive_float, 1.0),
    "alpha": ("alpha", float_in(0, 1), 0.3),
    "hysteresis": ("hysteresis", float_in(0, 1), 0.1),
    "min_dwell_s": ("min_dwell_s", nonnegative_float, 5.0),
}
_MAPPING = {"below", "transition", "saturated"}
_KNOWN = {"": _TOP, "detector": set(_DETECTOR), "mapping": _MAPPING}


def _promql(value: Any) -> str:
    """A PromQL query: a string with something in it."""
    if not isinstance(value, str) or not value.strip():
        raise GameError(f"must be a PromQL query (a nonempty string), got {value!r}")
    return value


def _pair(value: Any) -> tuple[float, float]:
    """``[omega, tau]``: two finite numbers >= 0."""
    if isinstance(value, list) and len(value) == 2:
        try:
            return nonnegative_float(value[0]), nonnegative_float(value[1])
        except GameError:
            pass
    raise GameError(f"must be [omega, tau], two numbers >= 0, got {value!r}")


def service_from(
    config: dict[str, Any], args: argparse.Namespace, source: Path | str | None = None
) -> tuple[ControlService, int | None]:
    """The service and the port to serve on, from TOML values and flags.

    Flags (already checked by their ``type=``) override the settings file's keys, which
    are checked here with the same checks; ``source`` names the file in messages.

    Raises
    ------
    GameError
        Naming the key (and ``source``) of a bad setting, or when no Prometheus address
        is given.
    """

    def table(section: str) -> dict[str, Any]:
        found = config.get(section, {}) if section else config
        if not isinstance(found, dict):
            prefix = f"{source}: " if source is not None else ""
            raise GameError(f"{prefix}{section} must be a table ([{section}]), got {found!r}")
        return found

    def pick(name: str, key: str, check: Any, default: Any, section: str = "") -> Any:
        given = getattr(args, name, None)
        if given is not None:
            return given
        return setting(table(section), key, check, default, source=source, section=section)

    url = pick("prometheus", "prometheus", http_url, None)
    if url is None:
        raise GameError(
            "give the Prometheus address: --prometheus URL or prometheus = ... in --config"
        )
    detector = EWMADetector(
        **{
            param: pick(key, key, check, default, "detector")
            for key, (param, check, default) in _DETECTOR.items()
        }
    )
    mapping = dict(PAPER_MAPPING)
    pairs = table("mapping")
    for name in sorted(_MAPPING & set(pairs)):
        regime = Regime[name.upper()]
        mapping[regime] = setting(
            pairs, name, _pair, PAPER_MAPPING[regime], source=source, section="mapping"
        )
    service = ControlService(
        PrometheusClient(url, timeout_s=pick("timeout", "timeout_s", positive_float, 5.0)),
        AdaptiveController(detector, mapping),
        query=pick("query", "query", _promql, DEFAULT_QUERY),
        interval_s=pick("interval", "interval_s", positive_float, 5.0),
        push_url=pick("push", "push", http_url, None),
    )
    return service, pick("serve", "serve", port, None)


def _run(args: argparse.Namespace) -> int:
    config = read_toml(args.config, _KNOWN) if args.config is not None else {}
    service, serve_port = service_from(config, args, args.config)
    service.check()
    server = service.serve(serve_port) if serve_port is not None else None

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
    p.add_argument(
        "--prometheus", type=flag(http_url), help="Prometheus address, e.g. http://127.0.0.1:9090"
    )
    p.add_argument("--config", type=Path, help="TOML settings (see the module docs)")
    p.add_argument("--query", type=flag(_promql), help="PromQL giving TTFT P99 in seconds")
    p.add_argument(
        "--interval", type=flag(positive_float), help="seconds between polls (default 5)"
    )
    p.add_argument(
        "--low-s", dest="low_s", type=flag(positive_float), help="EWMA lower threshold (s)"
    )
    p.add_argument(
        "--high-s", dest="high_s", type=flag(positive_float), help="EWMA upper threshold (s)"
    )
    p.add_argument("--min-dwell-s", dest="min_dwell_s", type=flag(nonnegative_float))
    p.add_argument(
        "--push", type=flag(http_url), help="URL to POST {omega, tau} to until the router has it"
    )
    p.add_argument("--serve", type=flag(port), help="serve GET /decision on this loopback port")
    p.add_argument(
        "--timeout",
        type=flag(positive_float),
        help="total deadline of one query or push, in seconds (default 5)",
    )
    p.add_argument("--max-polls", type=flag(positive_int), help="stop after this many polls")
    p.set_defaults(func=_run)
