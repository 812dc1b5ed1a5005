"""Every candidate's cost at decision time, from the Dynamo router itself -> PoA-hat.

Dynamo 1.6 logs only the chosen worker and its logit, so the paper's PoA-hat (a
Hungarian optimum over all candidates' costs) cannot come from the log alone.
:func:`probe_router` obtains the missing costs from the router's own query-only calls
in the ``dynamo.llm`` binding. A driver process (``python -m gametheory.deploy.probe``,
in the deployment's environment) holds a :class:`dynamo.llm.KvRouter` on the decode
workers' endpoint and runs a closed loop of ``concurrency`` clients; for each request,
inside one lock so that no other decision interleaves:

1. ``get_potential_loads(tokens)``: per candidate, the prefill tokens the request would
   leave to compute (its prompt minus the cached prefix, plus the prefills queued
   there) and the decode blocks the worker would hold with it; and
   ``get_overlap_scores(tokens)``: each candidate's cached prefix blocks (both book
   nothing);
2. ``best_worker(tokens)`` without a request id: the router's own choice, which books
   nothing (it logs a ``Selected worker ... request_id="-"`` line with the logit);
   then the loads are queried again, and both queries repeated (at most 10 times) until
   the loads held still across the choice (a prefill may finish in between);
3. ``generate(tokens, worker_id=chosen)``: the request goes to that worker, and the
   router books it (logging ``Selected pinned worker: ... logit: ...``).

Each candidate's cost is Dynamo's logit ``prefill_load_scale * prefill_tokens /
block_size + decode_blocks`` (KV router defaults: ``prefill_load_scale`` 1, no
per-request decode weight); the check
(:attr:`~gametheory.deploy.results.ProbeResult.logit_mismatches`) is that the
chosen candidate's cost equals the logit the router logged for the query, decision by
decision. The candidates go into the ``decisions`` schema and a Dynamo 0.6-shape log
(``router_candidates.log``, which :func:`gametheory.telemetry.load` reads with every
candidate), so :func:`gametheory.telemetry.poa_hat` applies unchanged.

Scope: the probe routes one pool directly (``pool="decode"``, the default, as the
frontend's decode stage does, or ``pool="prefill"``). A
decode mocker sent a request directly starts decoding at once (no prefill is charged: the
probe's TTFT is about one decode step), so the probe's latencies are not the
deployment's; its decisions are those of Dynamo's decode router on this load. The
frontend's two-stage routing of aiperf traffic is in the frontend's log.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from gametheory.deploy.launcher import DeploymentError, DynamoDeployment
from gametheory.deploy.results import ProbeResult
from gametheory.errors import GameError
from gametheory.sim.output import router_log_lines
from gametheory.telemetry.readers.router_logs import read_router_log
from gametheory.telemetry.schemas import conform

__all__ = ["POOLS", "probe_router"]


async def _drive(cfg: dict[str, Any]) -> None:
    """The driver loop (runs in the probe process; see the module docstring)."""
    from dynamo.llm import KvRouter, KvRouterConfig
    from dynamo.runtime import DistributedRuntime

    loop = asyncio.get_running_loop()
    runtime = DistributedRuntime(loop, "file", "tcp")
    router = KvRouter(runtime.endpoint(cfg["endpoint"]), cfg["block_size"], KvRouterConfig())
    rng = np.random.default_rng(cfg["seed"])
    lock = asyncio.Lock()
    counter = iter(range(cfg["requests"]))
    deadline = time.monotonic() + cfg["timeout_s"]
    stop = {"max_tokens": cfg["osl"], "ignore_eos": True}
    await asyncio.sleep(cfg["settle_s"])

    async def client() -> None:
        for k in counter:
            if time.monotonic() > deadline:
                return
            tokens = rng.integers(3, cfg["vocab"], size=cfg["isl"]).tolist()
            rid = str(uuid.uuid4())
            async with lock:
                # a load that moves between the two queries (a prefill finishing) would
                # pair the choice with another state: query again until it holds still
                attempts, still = 0, False
                while not still and attempts < cfg["max_attempts"]:
                    attempts += 1
                    t = time.time()
                    loads = await router.get_potential_loads(tokens)
                    worker, rank, overlap = await router.best_worker(tokens)
                    still = await router.get_potential_loads(tokens) == loads
                scores = await router.get_overlap_scores(tokens)
                start = time.time_ns()
                stream = await router.generate(
                    tokens, cfg["model"], stop_conditions=stop, worker_id=worker, dp_rank=rank
                )
            rec: dict[str, Any] = {"decision": k, "time": t, "request_id": rid}
            rec["attempts"] = attempts
            rec["cached"] = [
                [w["worker_id"], w["dp_rank"], w["device_blocks"]] for w in scores["workers"]
            ]
            rec.update(worker=worker, dp_rank=rank, overlap=overlap, loads=loads)
            first, n = math.nan, 0
            async for item in stream:
                got = len(item.get("token_ids") or []) if isinstance(item, dict) else 0
                if got and n == 0:
                    first = (time.time_ns() - start) / 1e6
                n += got
            rec.update(start_ns=start, ttft_ms=first, latency_ms=(time.time_ns() - start) / 1e6)
            rec["output_tokens"] = n
            out.write(json.dumps(rec) + "\n")
            out.flush()

    try:
        with Path(cfg["out"]).open("w") as out:
            await asyncio.gather(*(client() for _ in range(cfg["concurrency"])))
    finally:
        runtime.shutdown()


#: The worker pools a probe can drive, and their endpoints.
POOLS = {"decode": "dynamo.backend.generate", "prefill": "dynamo.prefill.generate"}


def _frames(
    records: list[dict[str, Any]],
    block_size: int,
    concurrency: int,
    source: str,
    stage: str = "decode",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``decisions`` (every candidate) and ``requests`` frames of the probe records."""
    rows: list[dict[str, Any]] = []
    reqs: list[dict[str, Any]] = []
    for order, rec in enumerate(sorted(records, key=lambda r: (r["time"], r["decision"]))):
        chosen = (int(rec["worker"]), int(rec["dp_rank"]))
        cached = {(int(w), int(r)): float(b) for w, r, b in rec.get("cached", [])}
        stamp = pd.Timestamp(rec["time"], unit="s", tz="UTC")
        for cand in rec["loads"]:
            key = (int(cand["worker_id"]), int(cand["dp_rank"]))
            blocks = float(cand["potential_prefill_tokens"]) / block_size
            load = float(cand["potential_decode_blocks"])
            name = str(key[0]) if key[1] == 0 else f"{key[0]}-dp{key[1]}"
            rows.append(
                {
                    "decision": order,
                    "time": stamp,
                    "request_id": rec["request_id"],
                    "worker": name,
                    "cost": blocks + load,
                    "prefill_weight": 1.0,
                    "prefill_blocks": blocks,
                    "prefill_cost": blocks,
                    "decode_blocks": load,
                    "cached_blocks": cached.get(key, math.nan),
                    "chosen": key == chosen,
                    "stage": stage,
                    "source": source,
                }
            )
        reqs.append(
            {
                "request_id": rec["request_id"],
                "worker": str(chosen[0]),
                "start_ns": int(rec["start_ns"]),
                "ttft_ms": rec["ttft_ms"],
                "itl_ms": (rec["latency_ms"] - rec["ttft_ms"]) / max(rec["output_tokens"] - 1, 1),
                "latency_ms": rec["latency_ms"],
                "output_tokens": float(rec["output_tokens"]),
                "cancelled": False,
                "concurrency": float(concurrency),
                "source": source,
            }
        )
    return conform(pd.DataFrame(rows), "decisions"), conform(pd.DataFrame(reqs), "requests")


def _mismatches(decisions: pd.DataFrame, logged: pd.DataFrame, attempts: list[int]) -> int:
    """Decisions whose chosen cost is not the logit of their last query line.

    The router logs one query line (``request_id="-"``) per ``best_worker`` call, in
    decision order; a decision that queried ``a`` times owns the ``a``-th of its lines.
    """
    queries = logged[logged["request_id"] == "-"]
    chosen = decisions[decisions["chosen"]].sort_values("decision")
    if len(queries) != sum(attempts) or len(chosen) != len(attempts):
        return len(attempts)
    last = np.cumsum(attempts) - 1
    diff = np.abs(queries["cost"].to_numpy()[last] - chosen["cost"].to_numpy())
    same = queries["worker"].to_numpy()[last] == chosen["worker"].to_numpy()
    return int(np.count_nonzero((diff > 1e-6) | ~same))


def probe_router(
    deployment: DynamoDeployment,
    out: str | Path,
    *,
    concurrency: int = 4,
    requests: int = 100,
    isl: int = 128,
    osl: int = 128,
    seed: int = 0,
    pool: str = "decode",
    timeout_s: float = 600.0,
) -> ProbeResult:
    """Drive the decode pool of a running deployment through Dynamo's KV router binding,
    recording every candidate's cost at every decision (see the module docstring).

    Parameters
    ----------
    deployment
        A started :class:`~gametheory.deploy.launcher.DynamoDeployment`.
    out
        Folder for ``probe.jsonl``, ``probe_router.log`` and ``router_candidates.log``.
    concurrency, requests
        Closed-loop clients and requests in all.
    isl, osl
        Prompt tokens (random ids, seeded: no shared prefix) and output tokens.
    seed
        Seed of the prompts.
    pool
        ``"decode"`` (the decode workers, as the frontend's decode stage routes them) or
        ``"prefill"`` (the prefill workers; each returns after its one token).
    timeout_s
        Longest run; the driver is killed after it.

    Raises
    ------
    GameError
        For a count below 1 or an unknown pool.
    DeploymentError
        If the driver fails or overruns.
    """
    if pool not in POOLS:
        raise GameError(f"pool must be one of {sorted(POOLS)}, got {pool!r}")
    for name, value in (
        ("concurrency", concurrency),
        ("requests", requests),
        ("isl", isl),
        ("osl", osl),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GameError(f"{name} must be an integer >= 1, got {value!r}")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    spec = deployment.spec
    vocab = json.loads((deployment.model_dir / "config.json").read_text())["vocab_size"]
    cfg = {
        "endpoint": POOLS[pool],
        "block_size": spec.block_size,
        "model": spec.served_name,
        "vocab": int(vocab),
        "concurrency": concurrency,
        "requests": requests,
        "isl": isl,
        "osl": osl,
        "seed": seed,
        "timeout_s": timeout_s,
        "settle_s": 1.0,
        "max_attempts": 10,
        "out": str(folder / "probe.jsonl"),
    }
    log = folder / "probe_router.log"
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "gametheory.deploy.probe", json.dumps(cfg)],
            stdin=subprocess.DEVNULL,
            stdout=err,
            stderr=subprocess.STDOUT,
            env=deployment.environment(),
        )
        try:
            code = proc.wait(timeout_s + 30)
        except subprocess.TimeoutExpired:
            raise DeploymentError(f"the probe overran {timeout_s} s; log {log}") from None
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)
    if code != 0:
        raise DeploymentError(f"the probe exited with code {code}: {log.read_text()[-2000:]}")
    text = (folder / "probe.jsonl").read_text()
    records = [json.loads(line) for line in text.splitlines() if line.strip()]
    source = str(folder / "router_candidates.log")
    decisions, reqs = _frames(records, spec.block_size, concurrency, source, pool)
    (folder / "router_candidates.log").write_text("\n".join(router_log_lines(decisions)) + "\n")
    logged = read_router_log(log)
    attempts = [
        int(r["attempts"]) for r in sorted(records, key=lambda r: (r["time"], r["decision"]))
    ]
    return ProbeResult(decisions, reqs, logged, _mismatches(decisions, logged, attempts), folder)


if __name__ == "__main__":
    asyncio.run(_drive(json.loads(sys.argv[1])))
