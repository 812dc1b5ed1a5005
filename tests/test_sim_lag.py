"""Router state that lags the workers (``state_interval_s``): exactness at 0, validation,
snapshot and optimistic-count semantics, herding, and the adaptive comparison under lag."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gametheory.errors import GameError
from gametheory.sim import Cluster, make_policy, paper_workload, simulate
from gametheory.sim.results import SimulationResult
from gametheory.sim.studies.experiments import adaptive_comparison, lag_study
from gametheory.sim.sweep import SweepGrid


@pytest.fixture(scope="module")
def cluster() -> Cluster:
    return Cluster.build(n_prefill=1, n_decode=5, tp_prefill=4, tp_decode=4)


def _chosen(run: SimulationResult) -> pd.DataFrame:
    """The chosen worker per decision and its time in simulated seconds (closed loop:
    the first requests arrive at 0, so refreshes are at multiples from the first)."""
    d = run.decisions.loc[run.decisions["chosen"]].sort_values("decision")
    t = (d["time"] - d["time"].min()).dt.total_seconds()
    return pd.DataFrame(
        {
            "decision": d["decision"].to_numpy(),
            "time": t.to_numpy(),
            "worker": d["worker"].to_numpy(dtype=np.int64),
        }
    )


def _max_share(run: SimulationResult, interval: float) -> float:
    """Mean over refresh intervals (with >= 5 decisions) of the largest worker share."""
    c = _chosen(run)
    slot = np.floor(c["time"].to_numpy() / interval)
    shares = []
    for _, part in c.groupby(slot):
        if len(part) >= 5:
            shares.append(part["worker"].value_counts().max() / len(part))
    return float(np.mean(shares))


def test_zero_lag_is_the_exact_state_simulator(cluster: Cluster) -> None:
    w = paper_workload(600, seed=3)
    a = simulate(cluster, w, make_policy("kv"), concurrency=128, seed=7)
    b = simulate(cluster, w, make_policy("kv"), concurrency=128, seed=7, state_interval_s=0.0)
    c = simulate(
        cluster,
        w,
        make_policy("kv"),
        concurrency=128,
        seed=7,
        state_interval_s=0.0,
        optimistic_state=False,
    )
    for other in (b, c):
        pd.testing.assert_frame_equal(a.requests, other.requests)
        pd.testing.assert_frame_equal(a.decisions, other.decisions)
        assert a.duration_s == other.duration_s


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_bad_interval_is_rejected(cluster: Cluster, bad: float) -> None:
    with pytest.raises(GameError, match="state_interval_s"):
        simulate(cluster, paper_workload(10), "kv", concurrency=2, state_interval_s=bad)
    with pytest.raises(GameError, match="state_interval_s"):
        SweepGrid(state_interval_s=bad)


def test_a_view_never_refreshed_herds_everything(cluster: Cluster) -> None:
    # One snapshot at t = 0 (empty workers) for the whole run: least-loaded routing on
    # the frozen view sends every request to the first worker; the optimistic view
    # counts its own assignments, so it spreads them evenly (round robin).
    w = paper_workload(400, seed=1)
    frozen = simulate(
        cluster, w, "least_loaded", concurrency=64, state_interval_s=1e9, optimistic_state=False
    )
    counts = frozen.requests["worker"].value_counts()
    assert counts.to_dict() == {"decode-0": 400}
    assert frozen.converged
    opt = simulate(cluster, w, "least_loaded", concurrency=64, state_interval_s=1e9)
    counts = opt.requests["worker"].value_counts()
    assert counts.to_dict() == {f"decode-{k}": 80 for k in range(5)}
    assert opt.converged


def test_lag_changes_decisions_and_herding_grows(cluster: Cluster) -> None:
    w = paper_workload(2000, seed=2)
    exact = simulate(cluster, w, "kv", concurrency=256, seed=1)
    shares = {}
    for lag in (0.1, 0.5):
        run = simulate(
            cluster,
            w,
            "kv",
            concurrency=256,
            seed=1,
            state_interval_s=lag,
            optimistic_state=False,
        )
        differ = (_chosen(run)["worker"].to_numpy() != _chosen(exact)["worker"].to_numpy()).mean()
        assert differ > 0.3
        shares[lag] = (_max_share(exact, lag), _max_share(run, lag))
        # Within a refresh interval the stale router piles onto fewer workers.
        assert shares[lag][1] > shares[lag][0] + 0.1
    # Herding costs throughput and tail latency at saturation.
    stale = simulate(
        cluster, w, "kv", concurrency=256, seed=1, state_interval_s=0.5, optimistic_state=False
    )
    assert stale.request_throughput < 0.9 * exact.request_throughput
    assert stale.requests["ttft_ms"].quantile(0.99) > exact.requests["ttft_ms"].quantile(0.99)


def test_optimistic_counts_limit_herding(cluster: Cluster) -> None:
    w = paper_workload(2000, seed=2)
    kw = {"concurrency": 256, "seed": 1, "state_interval_s": 0.5}
    frozen = simulate(cluster, w, "kv", optimistic_state=False, **kw)  # type: ignore[arg-type]
    opt = simulate(cluster, w, "kv", **kw)  # type: ignore[arg-type]
    assert _max_share(opt, 0.5) < _max_share(frozen, 0.5) - 0.1
    assert opt.request_throughput > frozen.request_throughput


def test_logged_costs_are_the_true_state(cluster: Cluster) -> None:
    # With a frozen view the router keeps choosing one worker inside an interval,
    # although the true load it logs says that worker already took the requests.
    w = paper_workload(1000, seed=4)
    run = simulate(
        cluster, w, "kv", concurrency=256, seed=0, state_interval_s=0.5, optimistic_state=False
    )
    d = run.decisions
    pivot = d.pivot(index="decision", columns="worker", values="decode_blocks")
    chosen = d.loc[d["chosen"]].set_index("decision")["worker"].astype(np.int64)
    chosen_load = pivot.to_numpy()[np.arange(len(pivot)), chosen.loc[pivot.index].to_numpy()]
    above_min = chosen_load > pivot.min(axis=1).to_numpy()
    assert above_min.mean() > 0.5
    exact = simulate(cluster, w, "kv", concurrency=256, seed=0)
    e = exact.decisions
    pe = e.pivot(index="decision", columns="worker", values="decode_blocks")
    ce = e.loc[e["chosen"]].set_index("decision")["worker"].astype(np.int64)
    le = pe.to_numpy()[np.arange(len(pe)), ce.loc[pe.index].to_numpy()]
    assert (le > pe.min(axis=1).to_numpy()).mean() < above_min.mean()


def test_sweep_and_comparison_thread_the_lag() -> None:
    grid = SweepGrid(min_requests=300, requests_per_user=2, n_bootstrap=20)
    exact = adaptive_comparison(grid, topology=(1, 2), concurrency=128, seeds=(0, 1))
    lagged = adaptive_comparison(
        grid, topology=(1, 2), concurrency=128, seeds=(0, 1), state_interval_s=0.5
    )
    assert "lag 0.5 s" in lagged.method and "lag" not in exact.method
    assert not np.allclose(
        exact.per_seed["poa_hat_static"].to_numpy(), lagged.per_seed["poa_hat_static"].to_numpy()
    )


def test_lag_study_finds_no_adaptive_effect_on_the_paper_workload() -> None:
    # The measured result (docs/tutorials/reproduce-the-paper.md): with every decode
    # cache holding the five templates, the router's view (stale or not) has equal
    # cached blocks on every candidate, so omega does not change the argmin and the
    # adaptive and static routers take the same decisions on every seed.
    grid = SweepGrid(n_bootstrap=20)
    table = lag_study(grid, topologies=((1, 5),), intervals=(0.0, 0.5), seeds=(0, 1, 2))
    assert list(table["state_interval_s"]) == [0.0, 0.5]
    assert (table["identical_seeds"] == 3).all()
    assert np.allclose(table["poa_reduction"], 1.0)
    assert np.allclose(table["throughput_cost"], 0.0)
    # The lag itself is not neutral: it moves the static router's PoA-hat.
    assert abs(table["poa_hat_static"].iloc[1] - table["poa_hat_static"].iloc[0]) > 0.05
