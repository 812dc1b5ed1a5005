"""Discrete-event simulation of a disaggregated cluster behind a router.

One ``heapq`` event loop over four kinds of events (arrival, prefill batch done, KV
transfer done, decode step done); ties are broken by insertion order, so a run is a
deterministic function of its inputs and ``seed``. A request's life:

1. *arrival*: the router scores every decode worker (prompt blocks cached in that
   worker's LRU prefix cache, its active KV blocks, its unfinished requests and cached
   tree size) and picks one; the decision and every candidate's cost terms are logged
   (the ``decisions`` schema). The request joins the queue of the prefill instance
   with the fewest queued prompt tokens.
2. *prefill*: an idle prefill instance takes queued requests in order up to its token
   budget (``prefill_max_tokens``, vLLM's ``max_num_batched_tokens``; the first
   request always fits) and computes the prompt tokens that neither its own prefix
   cache nor the target decode worker's cache holds, in the roofline time of
   :mod:`gametheory.sim.serving.step_time` (linear in the new tokens plus attention over
   each request's own context).
3. *KV transfer* of the prompt blocks the decode worker lacks, over NVLink or
   InfiniBand (:meth:`~gametheory.sim.serving.step_time.StepTimeModel.transfer_time` plus a
   fixed latency); the transfers of one prefill instance leave one after another
   over its link (NIXL-style point-to-point writes, Dynamo).
4. *decode*: the request waits (first come, first served) for a batch slot
   (``decode_batch_limit``) and for KV room for its whole prompt and output (vLLM's
   block manager reserves, no preemption), then emits one token per step of
   continuous batching (Yu et al., "Orca", OSDI 2022); its first decode step ends
   its TTFT. A step's time depends on the batch and the KV tokens it holds; tokens
   are counted per step, not per request, so a step costs O(1) plus the requests
   that join or leave.

Closed loop (a workload without arrival times): ``concurrency`` users each send their
next request when the previous one completes (aiperf's concurrency mode). Open loop:
the workload's arrival times. Every ``poll_s`` of simulated time the TTFT P99 of the
first tokens of the last interval is fed to the policy (the adaptive controller's
signal, what a Prometheus scrape of Dynamo's frontend histogram gives).

References
----------
Zhong et al., "DistServe", OSDI 2024; Patel et al., "Splitwise", ISCA 2024 (prefill /
decode disaggregation). Kwon et al., "vLLM / PagedAttention", SOSP 2023 (block
manager, prefix caching). NVIDIA Dynamo, ``lib/llm/src/kv_router`` (the KV router).
"""

from __future__ import annotations

import heapq
import math
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError
from gametheory.sim.output import decisions_frame, requests_frame, samples_frame
from gametheory.sim.results import SimulationResult
from gametheory.sim.routing import Policy, make_policy
from gametheory.sim.serving.cache import PrefixCache
from gametheory.sim.serving.cluster import Cluster
from gametheory.sim.serving.instances import DecodeState, PrefillState
from gametheory.sim.workloads import Workload

__all__ = ["EngineObserver", "simulate"]

FloatArray = NDArray[np.float64]

_ARRIVE, _PREFILL, _TRANSFER, _STEP = 0, 1, 2, 3


class EngineObserver(Protocol):
    """What :func:`simulate` calls while it runs (at each event and request milestone).

    The engine knows nothing of what an observer does with these calls: the live
    simulator (:class:`gametheory.sim.live.LiveRun`) paces them against the wall clock,
    serves metrics and changes the router, but any object with these members will do.
    """

    #: Closed loop: requests kept in flight (read at every event).
    concurrency: int

    def tick(self, now: float) -> bool:
        """Before the event at simulated time ``now``; False stops the run."""
        ...

    def arrived(self, request: int, worker: int, now: float) -> None:
        """``request`` was routed to decode ``worker``."""
        ...

    def first_token(self, request: int, ttft_s: float) -> None:
        """``request`` got its first token ``ttft_s`` after its arrival."""
        ...

    def finished(self, request: int, worker: int, latency_s: float, ttft_s: float) -> None:
        """``request`` completed on ``worker`` ``latency_s`` after its arrival."""
        ...


def simulate(
    cluster: Cluster,
    workload: Workload,
    policy: Policy | str,
    *,
    concurrency: int | None = None,
    seed: int = 0,
    poll_s: float = 1.0,
    reference_omega: float = 1.0,
    state_interval_s: float = 0.0,
    optimistic_state: bool = True,
    observer: EngineObserver | None = None,
) -> SimulationResult:
    """Simulate ``workload`` on ``cluster`` routed by ``policy``.

    Parameters
    ----------
    cluster
        The xPyD deployment.
    workload
        Requests; with arrival times it runs open loop, else closed loop.
    policy
        Routing policy (:mod:`gametheory.sim.routing`; its state advances) or a name
        for :func:`~gametheory.sim.routing.make_policy` with its defaults.
    concurrency
        Closed-loop concurrency (required without arrival times, ignored with them).
    seed
        Seed of the router's random choices.
    poll_s
        Interval of the TTFT P99 signal fed to the policy (and of the scrapes).
    reference_omega
        Weight of the prefill term in the logged logits (one scale for all policies).
    state_interval_s
        Staleness of the router's view of the workers (simulated seconds). 0 (the
        default): the router scores candidates on the workers' exact current state.
        Positive: it scores them on a snapshot of every decode worker's active KV
        blocks, unfinished requests, cached tree size and prefix-cache contents
        taken at the last multiple of ``state_interval_s`` (the workers publish
        their state periodically; cache contents are replayed from the cache
        inserts, as Dynamo's indexer replays KV events). The logged cost terms are
        still the workers' *true* state at the decision, so PoA-hat charges the
        router for deciding on stale information. See Notes.
    optimistic_state
        With ``state_interval_s > 0``: between refreshes the router adds each
        request it routes to its own view (its prompt tokens to the worker's load,
        one to its queue), as Dynamo's router counts its own assignments; False
        freezes the view until the next refresh. Cache contents are never
        predicted: they enter the view only at a refresh after the KV transfer
        that stored them.
    observer
        Called at every event and request milestone (:class:`EngineObserver`; the live
        simulator's paces the run against the wall clock); it may stop the run early (only
        finished requests are reported) and, closed loop, set the concurrency.

    Returns
    -------
    SimulationResult
        ``requests``, ``decisions`` and ``samples`` frames and summary figures.

    Raises
    ------
    GameError
        On a missing or nonpositive concurrency, a nonpositive ``poll_s``, a negative
        or non-finite ``state_interval_s``, an unknown policy name, or a request whose
        KV cache does not fit in one decode instance.

    Notes
    -----
    A real router does not read the workers' memory: Dynamo's KV router learns cache
    contents from KV events the workers publish asynchronously (``kv_router/indexer``)
    and load from periodically published forward-pass metrics, and counts the
    requests it routes itself in between (``kv_router/scheduler``). With
    ``state_interval_s > 0`` a snapshot of the workers is taken at the first event at
    or after each multiple ``k * state_interval_s`` (no worker state changes between
    that multiple and the event, so it is the state at the multiple); requests
    arriving before the next multiple are routed on it (plus, if ``optimistic_state``,
    the router's own assignments since the snapshot). Requests arriving together then
    see nearly the same state and herd onto the same worker, the effect the lag is
    meant to expose. ``state_interval_s = 0`` is the exact-state simulator, bit for
    bit.

    Examples
    --------
    >>> from gametheory.sim import Cluster, paper_workload, simulate
    >>> cluster = Cluster.build(n_prefill=1, n_decode=2, tp_prefill=4, tp_decode=4)
    >>> run = simulate(cluster, paper_workload(200), "round_robin", concurrency=16)
    >>> len(run.requests), run.converged
    (200, True)
    """
    if isinstance(policy, str):
        policy = make_policy(policy)
    n = workload.n_requests
    closed = workload.arrival_s is None
    if closed and (concurrency is None or concurrency < 1):
        raise GameError("a closed-loop workload needs concurrency >= 1")
    if poll_s <= 0:
        raise GameError(f"poll_s must be positive, got {poll_s!r}")
    if not (math.isfinite(state_interval_s) and state_interval_s >= 0):
        raise GameError(
            f"state_interval_s must be finite and nonnegative, got {state_interval_s!r}"
        )
    bs = workload.block_size
    capacity = cluster.kv_capacity_tokens()
    need = (workload.input_tokens + workload.output_tokens).astype(np.float64)
    if need.max() > capacity:
        raise GameError(
            f"KV capacity of a decode instance ({capacity} tokens) is below one request "
            f"({int(need.max())} tokens)"
        )
    p_capacity = int(cluster.prefill.kv_capacity_tokens())
    if workload.input_tokens.max() > p_capacity:
        raise GameError(
            f"KV capacity of a prefill instance ({p_capacity} tokens) is below one prompt "
            f"({int(workload.input_tokens.max())} tokens)"
        )
    m, n_p = cluster.n_decode, cluster.n_prefill
    rng = np.random.default_rng(seed)
    cap_blocks = max(1, capacity // bs)
    dec = [DecodeState(cap_blocks) for _ in range(m)]
    pre = [PrefillState(max(1, p_capacity // bs)) for _ in range(n_p)]
    inp = workload.input_tokens.astype(np.float64)
    out = workload.output_tokens.astype(np.int64)
    prompt_blocks = np.ceil(inp / bs)
    # Python scalars in the event loop (NumPy scalar arithmetic is several times slower).
    inp_l: list[float] = inp.tolist()
    out_l: list[int] = out.tolist()
    need_l: list[float] = need.tolist()
    prompt_l: list[float] = prompt_blocks.tolist()
    blocks = workload.blocks
    limit = cluster.decode_batch_limit
    pstep, dstep = cluster.prefill, cluster.decode
    lat = cluster.transfer_latency_s
    p_over, p_tok, p_pair, p_w, p_kv = pstep.prefill_coefficients()
    d_over, d_one, d_w, d_kv, d_req, d_kvc = dstep.decode_coefficients()
    per_sent = float(pstep.transfer_time(1.0, cluster.link))

    nan = math.nan
    arrive = [nan] * n
    first = [nan] * n
    done = [nan] * n
    target = [0] * n
    send = [0.0] * n
    hit = [0.0] * n
    log_cached: list[list[int]] = []
    log_load: list[list[float]] = []
    order: list[int] = []
    load = [0.0] * m  # KV tokens assigned to each decode worker and not yet freed
    queue = [0.0] * m  # requests assigned and unfinished
    tree = [0.0] * m  # blocks in each decode worker's prefix cache
    events: list[tuple[float, int, int, int]] = []
    seq = 0
    recent: list[float] = []
    switches: list[float] = []
    polls = 1
    next_poll = poll_s
    # The router's view of the workers when it lags (state_interval_s > 0).
    lagged = state_interval_s > 0
    view_load = [0.0] * m
    view_queue = [0.0] * m
    view_tree = [0.0] * m
    view_cache = [PrefixCache(cap_blocks) for _ in range(m)] if lagged else []
    stored: list[list[tuple[tuple[int, ...], int]]] = [[] for _ in range(m)]
    next_view = 0.0

    def push(t: float, kind: int, a: int) -> None:
        nonlocal seq
        heapq.heappush(events, (t, seq, kind, a))
        seq += 1

    if closed:
        issued = min(n, int(concurrency or 0))
        for i in range(issued):
            push(0.0, _ARRIVE, i)
    else:
        assert workload.arrival_s is not None
        issued = n
        for i, t in enumerate(workload.arrival_s.tolist()):
            push(t, _ARRIVE, i)

    def start_prefill(p: int, now: float) -> None:
        inst = pre[p]
        budget = cluster.prefill_max_tokens
        batch: list[int] = []
        tokens = pairs = context = 0.0
        while inst.queue:
            r = inst.queue[0]
            # Prompt tokens neither this instance's cache nor the target's hold.
            reuse = max(float(inst.cache.match(blocks[r]) * bs), hit[r])
            new = max(inp_l[r] - reuse, 1.0)
            if batch and tokens + new > budget:
                break
            inst.queue.popleft()
            tokens += new
            pairs += new * (inp_l[r] - new + new / 2.0)
            context += inp_l[r] - new
            inst.queued_tokens -= inp_l[r]
            batch.append(r)
        inst.busy = True
        t_end = now + p_over + max(p_tok * tokens + p_pair * pairs, p_w + p_kv * (tokens + context))
        for r in batch:
            inst.cache.insert(blocks[r])
        # KV transfers leave the instance one after another over its link.
        link = max(inst.link_free, t_end)
        for r in batch:
            link += per_sent * send[r]
            push(link + lat, _TRANSFER, r)
        inst.link_free = link
        push(t_end, _PREFILL, p)

    def start_step(d: int, now: float) -> None:
        inst = dec[d]
        while (
            inst.waiting
            and inst.running < limit
            and inst.reserved + need_l[inst.waiting[0]] <= capacity
        ):
            r = inst.waiting.popleft()
            inst.running += 1
            inst.kv += inp_l[r]
            inst.reserved += need_l[r]
            inst.out_reserved += out_l[r]
            heapq.heappush(inst.finish, (inst.step + out_l[r], r))
            inst.new.append(r)
        if inst.running == 0:
            inst.busy = False
            return
        inst.busy = True
        b, kv = inst.running, inst.kv
        step = d_over + d_one * b + max(d_w + d_kv * kv, d_req * b + d_kvc * kv)
        push(now + step, _STEP, d)

    n_events = 0
    n_done = 0
    while events:
        now, _, kind, a = heapq.heappop(events)
        n_events += 1
        if observer is not None:
            if not observer.tick(now):
                break
            while closed and issued < n and issued - n_done < observer.concurrency:
                push(now, _ARRIVE, issued)
                issued += 1
        while now >= next_poll:
            # The TTFT P99 of the first tokens of the last interval, fed to the policy.
            if recent:
                p99 = float(np.quantile(np.asarray(recent), 0.99))
                recent.clear()
                if policy.observe(next_poll, p99):
                    switches.append(next_poll)
            polls += 1
            next_poll = polls * poll_s
        if lagged and now >= next_view:
            # Refresh the router's view: the workers' state at the last multiple of
            # state_interval_s (nothing changed between it and this event).
            view_load = load.copy()
            view_queue = queue.copy()
            for k in range(m):
                for chain_k, room_k in stored[k]:
                    view_cache[k].insert(chain_k, room_k)
                stored[k].clear()
                view_tree[k] = float(len(view_cache[k]))
            next_view = (math.floor(now / state_interval_s) + 1.0) * state_interval_s
            if next_view <= now:
                next_view += state_interval_s
        if kind == _ARRIVE:
            r = a
            arrive[r] = now
            chain = blocks[r]
            cached = [inst.cache.match(chain) for inst in dec]
            if lagged:
                seen = [c.match(chain) for c in view_cache]
                seen_load, seen_queue, seen_tree = view_load, view_queue, view_tree
            else:
                seen, seen_load, seen_queue, seen_tree = cached, load, queue, tree
            d = policy.choose(
                prompt_l[r],
                np.asarray(seen, dtype=np.float64),
                np.asarray(seen_load) / bs,
                np.asarray(seen_queue),
                np.asarray(seen_tree),
                rng,
            )
            if lagged and optimistic_state:
                view_load[d] += inp_l[r]
                view_queue[d] += 1.0
            log_cached.append(cached)
            log_load.append([x / bs for x in load])
            order.append(r)
            target[r] = d
            if observer is not None:
                observer.arrived(r, d, now)
            hit[r] = min(float(cached[d] * bs), inp_l[r])
            send[r] = inp_l[r] - hit[r]
            load[d] += inp_l[r]
            queue[d] += 1.0
            p = min(range(n_p), key=lambda k: pre[k].queued_tokens) if n_p > 1 else 0
            pre[p].queue.append(r)
            pre[p].queued_tokens += inp_l[r]
            if not pre[p].busy:
                start_prefill(p, now)
        elif kind == _PREFILL:
            if pre[a].queue:
                start_prefill(a, now)
            else:
                pre[a].busy = False
        elif kind == _TRANSFER:
            d = target[a]
            inst = dec[d]
            # Prompt blocks (of running requests or free) form the prefix cache; the
            # output tokens reserved by running requests take room from it.
            room = cap_blocks - math.ceil(inst.out_reserved / bs)
            inst.cache.insert(blocks[a], room)
            tree[d] = float(len(inst.cache))
            if lagged:
                stored[d].append((blocks[a], room))
            inst.waiting.append(a)
            if not inst.busy:
                start_step(d, now)
        else:
            inst = dec[a]
            inst.step += 1
            inst.kv += inst.running
            load[a] += inst.running
            for r in inst.new:
                first[r] = now
                recent.append(now - arrive[r])
                if observer is not None:
                    observer.first_token(r, now - arrive[r])
            inst.new.clear()
            while inst.finish and inst.finish[0][0] <= inst.step:
                _, r = heapq.heappop(inst.finish)
                done[r] = now
                inst.running -= 1
                inst.kv -= inp_l[r] + out_l[r]
                inst.reserved -= need_l[r]
                inst.out_reserved -= out_l[r]
                load[a] -= inp_l[r] + out_l[r]
                queue[a] -= 1.0
                n_done += 1
                if observer is not None:
                    observer.finished(r, a, now - arrive[r], first[r] - arrive[r])
                if (
                    closed
                    and issued < n
                    and (observer is None or issued - n_done < observer.concurrency)
                ):
                    push(now, _ARRIVE, issued)
                    issued += 1
            start_step(a, now)
    arrive_a, first_a, done_a = (np.asarray(x, dtype=np.float64) for x in (arrive, first, done))
    target_a = np.asarray(target, dtype=np.int64)
    order_a = np.asarray(order, dtype=np.int64)
    t0 = float(np.nanmin(arrive_a))
    duration = float(np.nanmax(done_a)) - t0 if n_done else 0.0
    conc = float(concurrency) if closed and concurrency is not None else math.nan
    source = f"simulator:{cluster.name}"
    requests = requests_frame(arrive_a, first_a, done_a, workload, target_a, conc, source=source)
    decisions = decisions_frame(
        order_a,
        np.asarray(log_cached, dtype=np.float64).reshape(-1, m),
        np.asarray(log_load, dtype=np.float64).reshape(-1, m),
        prompt_blocks[order_a],
        target_a[order_a],
        arrive_a[order_a],
        reference_omega,
        source=source,
    )
    samples = samples_frame(arrive_a, first_a, poll_s, source=source)
    tokens = float(out[np.isfinite(done_a)].sum())
    return SimulationResult(
        requests=requests,
        decisions=decisions,
        samples=samples,
        deployment=cluster.name,
        policy=policy.name,
        concurrency=conc,
        duration_s=duration,
        request_throughput=n_done / duration if duration > 0 else math.nan,
        output_token_throughput=tokens / duration if duration > 0 else math.nan,
        switch_times=np.asarray(switches, dtype=np.float64),
        seed=seed,
        converged=n_done == n,
        iterations=n_events,
        method="discrete-event simulation",
    )
