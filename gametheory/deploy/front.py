"""A router front for a real Dynamo 1.6: the controller's ``(omega, tau)`` on every request.

Dynamo 1.6's HTTP API no longer takes ``nvext.router_config_override`` (the per-request
router override of Dynamo 0.9 that the paper's controller used). Its KV router binding
(``dynamo.llm.KvRouter``) still accepts a ``router_config_override`` on ``best_worker``,
``generate`` and ``generate_from_request`` (``python -m dynamo.router``, the standalone
router, is that binding behind a Dynamo endpoint and forwards the field), but in 1.6.1 the
selection does not apply it: measured on 1P/5D mocker workers, ``best_worker`` and
``generate`` with ``{"router_temperature": 5}`` or ``{"prefill_load_scale": 0.1}`` choose
and log exactly as without it (30 queries: only the two least-loaded workers, the logged
logit unchanged), while a ``KvRouterConfig(router_temperature=5)`` spreads the same
queries over all five. So the front applies the pair through the configuration Dynamo does
honour: one ``KvRouter`` per stage and pair, built with ``KvRouterConfig(
prefill_load_scale=omega, router_temperature=tau)`` (``prefill_load_scale`` is 1.6's name
of ``overlap_score_weight``, which survives as its deprecated alias: the weight of the
prefill term ``prefill tokens / block size`` of the logit), and every request is routed
by the routers of the pair in force when it arrives. It still carries the pair as its
``router_config_override`` too, as a release that applies the field would read it.

The shape is Dynamo's own global router (``python -m dynamo.global_router``,
disaggregated mode):

* the mocker workers register in the ``pool`` namespace;
* the front registers the model in the ``front`` namespace twice, as the prefill worker
  (``front.router.prefill_generate``) and as the decode worker
  (``front.router.decode_generate``), and the frontend is started with ``--namespace
  front`` (the default namespace ``dynamo`` is not a filter), so it keeps everything it
  does for a client -- the OpenAI-compatible HTTP API with streaming, tokenization, the
  two-stage disaggregated flow, ``/metrics`` with the TTFT histogram -- and hands the
  front each stage's tokenized request;
* the front routes each stage on its pool (``pool.prefill.generate``,
  ``pool.backend.generate``).

Why the binding in-process and not the standalone router: the standalone router is the
same ``KvRouter`` behind one more network hop and one more process per pool and pair,
which on a 2-core machine costs latency, and its configuration is fixed at its start.

Scope: each pair's routers book only the requests they routed, so for one request
lifetime after a switch the new pair's routers do not count the in-flight requests of the
old pair (Dynamo's ``router_replica_sync`` did not share bookings between two routers of
one process in 1.6.1). The front holds at most 16 pairs.

The front also serves, on a loopback port of its own, the contract of the simulator's
live run (:mod:`gametheory.sim.live`), so ``gametheory control --push`` drives either:

``GET /router``
    ``{"router": {"omega", "tau"}, "log": [...]}``: the pair in force and its changes
    (each with the number of the first decision it governed).
``POST /router``
    ``{"omega", "tau"}`` or Dynamo's ``{"overlap_score_weight", "router_temperature"}``
    (a key left out keeps its value); 200 with the pair now in force once its routers
    exist and see the workers, 400 on a bad body, 503 if the routers cannot be built.

It logs every decision (``decisions`` in the configuration; one JSON line per request and
stage) with the pair in force, the worker chosen, every candidate's logit under the pair
(``prefill_load_scale * prefill tokens / block size + decode blocks``, from
``get_potential_loads``), the two loads themselves (``prefill_tokens``, ``decode_blocks``,
so a cost under any fixed weight can be recomputed) and whether the chosen worker had the
least (``greedy``): at a temperature of 0 every decision is greedy, above it some are not.
The worker comes from the router itself: the front asks ``best_worker`` (query only, so
the router's own softmax at temperature ``tau`` picks it) and routes the request to that
worker with ``generate_from_request`` (which books it), under one lock per stage so that
no other decision interleaves, the loads asked before and after the choice until they
agree (at most 5 times; ``attempts`` and ``still`` in the log), as
:mod:`~gametheory.deploy.probe` does.

Run by :class:`~gametheory.deploy.launcher.DynamoDeployment` when ``spec.front`` is
set, as ``python -m gametheory.deploy.front CONFIG_JSON``.
"""

from __future__ import annotations

import asyncio
import json
import math
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO, Any

from gametheory.control._http import BadRequestBody, read_json_body
from gametheory.errors import GameError

__all__ = ["RouterSetting", "parse_router_body"]

_MAX_LOG = 10_000  # changes kept for GET /router


def _number(body: dict[str, Any], *keys: str) -> float | None:
    for key in keys:
        if key in body:
            value = body[key]
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise GameError(f"{key} must be a number, got {str(value)[:80]!r}")
            if isinstance(value, int) and abs(value) >= 2**1023:
                raise GameError(f"{key} must be finite and nonnegative, got a huge integer")
            if not (math.isfinite(value) and value >= 0):
                raise GameError(f"{key} must be finite and nonnegative, got {value!r}")
            return float(value)
    return None


def parse_router_body(body: object) -> tuple[float | None, float | None]:
    """``(omega, tau)`` of a ``POST /router`` body (None for a key left out).

    Parameters
    ----------
    body
        The decoded JSON: ``{"omega", "tau"}`` or ``{"overlap_score_weight",
        "router_temperature"}``.

    Raises
    ------
    GameError
        When the body is not an object, names neither parameter, or a value is not a
        finite nonnegative number.
    """
    if not isinstance(body, dict):
        raise GameError("the body must be a JSON object")
    omega = _number(body, "omega", "overlap_score_weight")
    tau = _number(body, "tau", "router_temperature")
    if omega is None and tau is None:
        raise GameError("give omega and/or tau (or overlap_score_weight, router_temperature)")
    return omega, tau


class RouterSetting:
    """The ``(omega, tau)`` in force, shared by the request path and the HTTP thread.

    Parameters
    ----------
    omega, tau
        The starting pair (Dynamo's defaults: prefill load scale 1, temperature 0).
    prepare
        Called with a new pair before it is put in force (the front builds its routers
        there); what it raises refuses the pair.
    """

    def __init__(
        self,
        omega: float = 1.0,
        tau: float = 0.0,
        prepare: Callable[[tuple[float, float]], None] | None = None,
    ) -> None:
        self._prepare = prepare
        self._lock = threading.Lock()
        self._t0 = time.time()
        self._pair = (float(omega), float(tau))
        self.decisions = 0
        self.log: list[dict[str, Any]] = [self._row(self._pair)]

    def _row(self, pair: tuple[float, float]) -> dict[str, Any]:
        return {
            "time": time.time(),
            "wall_time_s": round(time.time() - self._t0, 6),
            "decision": self.decisions,
            "omega": pair[0],
            "tau": pair[1],
        }

    @property
    def pair(self) -> tuple[float, float]:
        """The pair in force."""
        with self._lock:
            return self._pair

    def take(self) -> tuple[float, float, int]:
        """The pair in force for a new routing decision, and the decision's number
        (from 1, counting both stages)."""
        with self._lock:
            self.decisions += 1
            return self._pair[0], self._pair[1], self.decisions

    def update(self, body: object) -> tuple[float, float]:
        """Apply a ``POST /router`` body (see :func:`parse_router_body`); the pair now
        in force. A change is logged with the number of the first decision it governs."""
        omega, tau = parse_router_body(body)
        with self._lock:
            current = self._pair
        new = (current[0] if omega is None else omega, current[1] if tau is None else tau)
        if self._prepare is not None and new != current:
            self._prepare(new)
        with self._lock:
            if new != self._pair:
                self._pair = new
                row = self._row(new)
                row["decision"] = self.decisions + 1
                self.log.append(row)
                del self.log[: max(0, len(self.log) - _MAX_LOG)]
            return new

    def document(self) -> dict[str, Any]:
        """What ``GET /router`` returns."""
        with self._lock:
            omega, tau = self._pair
            return {"router": {"omega": omega, "tau": tau}, "log": list(self.log)}


def _control_server(setting: RouterSetting, port: int) -> ThreadingHTTPServer:
    """The ``/router`` contract on ``127.0.0.1:port``, served by a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        timeout = 5.0

        def _json(self, code: int, doc: Any) -> None:
            data = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            if path == "/router":
                self._json(200, setting.document())
            else:
                self._json(404, {"error": f"no {path[:80]!r}; try /router"})

        def do_POST(self) -> None:
            path = self.path.split("?")[0].rstrip("/")
            if path != "/router":
                self._json(404, {"error": f"cannot POST to {path[:80]!r}; try /router"})
                return
            try:
                body = read_json_body(self)
            except BadRequestBody as exc:
                self._json(exc.status, {"error": str(exc)})
                return
            except OSError:  # the client was too slow (see timeout) or went away
                return
            try:
                omega, tau = setting.update(body)
            except GameError as exc:
                self._json(400, {"error": str(exc)})
                return
            except Exception as exc:  # the routers of the pair could not be built
                self._json(503, {"error": f"not applied: {str(exc)[:200]}"})
                return
            self._json(200, {"omega": omega, "tau": tau})

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


_STAGES = {"prefill": "prefill", "decode": "backend"}  # stage -> the pool's component
_MAX_PAIRS = 16  # router configurations the front holds
_MAX_ATTEMPTS = 5  # queries of one decision until the loads hold still


class _Routers:
    """One :class:`dynamo.llm.KvRouter` per stage and ``(omega, tau)`` pair, built with
    ``KvRouterConfig(prefill_load_scale=omega, router_temperature=tau)``."""

    def __init__(self, runtime: Any, pool: str, block_size: int) -> None:
        self.runtime, self.pool, self.block_size = runtime, pool, block_size
        self.routers: dict[tuple[float, float], dict[str, Any]] = {}

    async def build(self, pair: tuple[float, float], workers: dict[str, int]) -> None:
        """Build the routers of ``pair`` (once) and wait until each lists its pool's
        ``workers[stage]`` workers (at most 10 s)."""
        from dynamo.llm import KvRouter, KvRouterConfig

        if pair in self.routers:
            return
        if len(self.routers) >= _MAX_PAIRS:
            raise GameError(f"the front holds at most {_MAX_PAIRS} (omega, tau) pairs")
        config = KvRouterConfig(prefill_load_scale=pair[0], router_temperature=pair[1])
        built = {
            stage: KvRouter(
                self.runtime.endpoint(f"{self.pool}.{component}.generate"), self.block_size, config
            )
            for stage, component in _STAGES.items()
        }
        deadline = time.monotonic() + 10.0
        for stage, router in built.items():
            while len(await router.get_potential_loads([1])) < workers.get(stage, 1):
                if time.monotonic() > deadline:
                    raise GameError(f"the {stage} router of {pair} found no workers in 10 s")
                await asyncio.sleep(0.05)
        self.routers[pair] = built

    def get(self, pair: tuple[float, float], stage: str) -> Any:
        """The router of ``stage`` for ``pair`` (built before the pair was put in force)."""
        return self.routers[pair][stage]


class _Front:
    """The two stage handlers (see the module docstring)."""

    def __init__(
        self, routers: _Routers, setting: RouterSetting, out: IO[str], block_size: int
    ) -> None:
        self.routers = routers
        self.setting = setting
        self.out = out
        self.block_size = block_size
        self.locks = {stage: asyncio.Lock() for stage in _STAGES}

    async def route(self, request: dict[str, Any], stage: str) -> AsyncIterator[Any]:
        omega, tau, number = self.setting.take()
        router = self.routers.get((omega, tau), stage)
        override = {"prefill_load_scale": omega, "router_temperature": tau}
        tokens = list(request.get("token_ids") or [])
        req = dict(request)
        req.setdefault("model", "unknown")
        req["router_config_override"] = override
        async with self.locks[stage]:
            # a load that moves between the queries (a request finishing) would pair
            # the choice with another state: query again until it holds still
            attempts, still = 0, False
            while not still and attempts < _MAX_ATTEMPTS:
                attempts += 1
                t = time.time()
                loads = await router.get_potential_loads(tokens)
                worker, rank, overlap = await router.best_worker(tokens, override)
                still = await router.get_potential_loads(tokens) == loads
            routing = dict(req.get("routing") or {})
            routing.update(backend_instance_id=worker, dp_rank=rank)
            req["routing"] = routing
            stream = await router.generate_from_request(req)
        # each candidate's logit under the pair in force (Dynamo 1.6's KV router:
        # prefill_load_scale * prefill tokens / block size + decode blocks)
        costs = {
            str(c["worker_id"]): omega * c["potential_prefill_tokens"] / self.block_size
            + c["potential_decode_blocks"]
            for c in loads
        }
        best = min(costs.values(), default=math.nan)
        rec = {
            "time": t,
            "decision": number,
            "stage": stage,
            "omega": omega,
            "tau": tau,
            "worker": str(worker),
            "dp_rank": rank,
            "overlap_blocks": overlap,
            "isl": len(tokens),
            "costs": {w: round(c, 6) for w, c in costs.items()},
            "prefill_tokens": {str(c["worker_id"]): c["potential_prefill_tokens"] for c in loads},
            "decode_blocks": {str(c["worker_id"]): c["potential_decode_blocks"] for c in loads},
            "greedy": bool(costs.get(str(worker), math.inf) <= best + 1e-9),
            "attempts": attempts,
            "still": still,
            "route_ms": round((time.time() - t) * 1e3, 3),
        }
        self.out.write(json.dumps(rec) + "\n")
        self.out.flush()
        async for item in stream:
            yield item

    async def prefill(self, request: dict[str, Any]) -> AsyncIterator[Any]:
        """The prefill stage's endpoint."""
        async for item in self.route(request, "prefill"):
            yield item

    async def decode(self, request: dict[str, Any]) -> AsyncIterator[Any]:
        """The decode stage's endpoint."""
        async for item in self.route(request, "decode"):
            yield item


async def _serve(cfg: dict[str, Any]) -> None:
    """The front process: routers, registration, endpoints, the control server."""
    from dynamo.llm import ModelInput, ModelType, WorkerType, register_model
    from dynamo.runtime import DistributedRuntime

    loop = asyncio.get_running_loop()
    runtime = DistributedRuntime(loop, "file", "tcp")
    bs = int(cfg["block_size"])
    workers = {"prefill": int(cfg["n_prefill"]), "decode": int(cfg["n_decode"])}
    routers = _Routers(runtime, cfg["pool"], bs)
    start = (float(cfg.get("omega", 1.0)), float(cfg.get("tau", 0.0)))
    for pair in [start, *(tuple(map(float, p)) for p in cfg.get("pairs", []))]:
        await routers.build((pair[0], pair[1]), workers)

    def prepare(pair: tuple[float, float]) -> None:
        """Build the routers of a pushed pair (from the HTTP thread) before it applies."""
        asyncio.run_coroutine_threadsafe(routers.build(pair, workers), loop).result(15.0)

    setting = RouterSetting(*start, prepare=prepare)
    server = _control_server(setting, int(cfg["port"]))
    pe = runtime.endpoint("front.router.prefill_generate")
    de = runtime.endpoint("front.router.decode_generate")
    common = {"model_path": cfg["model_dir"], "model_name": cfg["model"], "kv_cache_block_size": bs}
    await register_model(
        ModelInput.Tokens,
        ModelType.Prefill,
        pe,
        worker_type=WorkerType.Prefill,
        needs=[[WorkerType.Decode]],
        **common,
    )
    await register_model(
        ModelInput.Tokens,
        ModelType.Chat | ModelType.Completions,
        de,
        worker_type=WorkerType.Decode,
        needs=[[WorkerType.Prefill]],
        **common,
    )
    try:
        with Path(cfg["decisions"]).open("a") as out:
            front = _Front(routers, setting, out, bs)
            await asyncio.gather(
                pe.serve_endpoint(front.prefill, graceful_shutdown=True),
                de.serve_endpoint(front.decode, graceful_shutdown=True),
            )
    finally:
        server.shutdown()
        runtime.shutdown()


if __name__ == "__main__":
    asyncio.run(_serve(json.loads(sys.argv[1])))
