"""Property test: small random deployments, workloads and policies never crash and
keep the simulator's invariants."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.sim import (
    EPOCH_NS,
    Cluster,
    make_policy,
    paper_workload,
    poisson_arrivals,
    simulate,
)

POLICIES = st.sampled_from(["kv", "round_robin", "least_loaded", "cache_aware", "adaptive"])


@settings(max_examples=30, deadline=None)
@given(
    n_prefill=st.integers(1, 3),
    n_decode=st.integers(1, 4),
    tp=st.sampled_from([1, 2, 4]),
    gpu=st.sampled_from(["B200", "H200"]),
    batch=st.integers(1, 16),
    budget=st.integers(16, 4096),
    n=st.integers(1, 40),
    templates=st.integers(1, 8),
    input_tokens=st.integers(1, 600),
    output_tokens=st.integers(1, 40),
    policy=POLICIES,
    omega=st.floats(0.0, 4.0),
    tau=st.floats(0.0, 2.0),
    concurrency=st.integers(1, 32),
    rate=st.one_of(st.none(), st.floats(0.5, 200.0)),
    link=st.sampled_from(["nvlink", "ib"]),
    seed=st.integers(0, 2**16),
)
def test_random_small_configurations(
    n_prefill: int,
    n_decode: int,
    tp: int,
    gpu: str,
    batch: int,
    budget: int,
    n: int,
    templates: int,
    input_tokens: int,
    output_tokens: int,
    policy: str,
    omega: float,
    tau: float,
    concurrency: int,
    rate: float | None,
    link: str,
    seed: int,
) -> None:
    cluster = Cluster.build(
        "Llama-3.1-70B",
        gpu,
        n_prefill,
        n_decode,
        tp_prefill=tp,
        tp_decode=tp,
        decode_batch_limit=batch,
        prefill_max_tokens=budget,
        link=link,
    )
    w = paper_workload(
        n,
        templates=templates,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        shared_tokens=input_tokens // 2,
        seed=seed,
    )
    if rate is not None:
        w = poisson_arrivals(w, rate, seed=seed)
    pol = make_policy(policy, omega=omega, tau=tau) if policy == "kv" else make_policy(policy)
    run = simulate(cluster, w, pol, concurrency=concurrency, seed=seed, poll_s=0.25)
    req = run.requests
    # every request completes exactly once
    assert run.converged and len(req) == n and req["request_id"].is_unique
    ttft, lat = req["ttft_ms"].to_numpy(), req["latency_ms"].to_numpy()
    assert np.all(np.isfinite(ttft)) and np.all(ttft > 0) and np.all(ttft <= lat)
    assert req["output_tokens"].sum() == n * output_tokens
    assert run.duration_s > 0 and run.request_throughput > 0
    # one decision per request, exactly one chosen candidate each, costs nonnegative
    d = run.decisions
    assert len(d) == n * n_decode
    assert np.all(d.groupby("decision")["chosen"].sum().to_numpy() == 1)
    assert np.all(d["cached_blocks"].to_numpy() >= 0) and np.all(d["prefill_blocks"] >= 0)
    # closed loop: never more than C requests in the system
    if rate is None:
        start = (req["start_ns"].to_numpy() - EPOCH_NS) / 1e9
        end = np.sort(start + lat / 1e3)
        # at each arrival: arrived so far minus completed so far (a completion and the
        # arrival it triggers share a time stamp, up to rounding to the nanosecond)
        started = np.searchsorted(np.sort(start), start, side="right")
        finished = np.searchsorted(end, start + 1e-8, side="right")
        assert np.max(started - finished) <= concurrency
