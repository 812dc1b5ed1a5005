"""Routers on the affinity routing game: hand-checked decisions and the decision log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from gametheory.costs import BPR, Affine
from gametheory.errors import GameError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.solvers.affinity.routers import (
    DECISION_COLUMNS,
    cache_aware_router,
    kv_choice,
    kv_router,
    least_loaded_router,
    round_robin_router,
)


def one_group(n: int, m: int = 2, prefix: float = 4.0) -> AffinityRoutingGame:
    return AffinityRoutingGame([Affine(1, 1)] * m, [prefix], [(0, 1)] * n)


def test_kv_router_weighs_prefill_against_decode_blocks() -> None:
    g = one_group(2)
    # Request 1 sees worker w0 (request 0's worker): prefill 1, decode 5; the other: 5, 0.
    first = int(kv_router(g, omega=1.0, seed=0).assignment[0])
    low = kv_router(g, omega=1.0, seed=0)  # 1 * 1 + 5 = 6 > 1 * 5 + 0 = 5: spread
    high = kv_router(g, omega=2.0, seed=0)  # 2 * 1 + 5 = 7 < 2 * 5 + 0 = 10: follow the cache
    assert low.assignment.tolist() == [first, 1 - first]
    assert high.assignment.tolist() == [first, first]
    d = high.decisions
    row = d[(d.decision == 1) & (d.worker == str(first))].iloc[0]
    assert (row.cached_blocks, row.prefill_blocks, row.decode_blocks, row.cost) == (4, 1, 5, 7)


def test_kv_router_chooses_minimum_logit_at_zero_temperature() -> None:
    g = AffinityRoutingGame.synthetic([BPR(1, 10)] * 4, 60, seed=2)
    out = kv_router(g, omega=1.5, seed=1)
    d = out.decisions
    best = d.groupby("decision")["cost"].transform("min")
    assert (d.loc[d.chosen, "cost"] == best[d.chosen]).all()
    assert d.groupby("decision")["chosen"].sum().eq(1).all()


def test_kv_router_softmax_is_seeded_and_random() -> None:
    g = AffinityRoutingGame.synthetic([BPR(1, 10)] * 4, 60, seed=2)
    a = kv_router(g, temperature=5.0, seed=7)
    b = kv_router(g, temperature=5.0, seed=7)
    assert np.array_equal(a.assignment, b.assignment)
    d = a.decisions
    best = d.groupby("decision")["cost"].transform("min")
    # At a high temperature some choices are not the minimum logit.
    assert (d.loc[d.chosen, "cost"] > best[d.chosen]).any()


def test_cache_aware_rule_by_hand() -> None:
    g = AffinityRoutingGame([Affine(1, 1)] * 2, [8.0], [(0, 1)] * 6)
    out = cache_aware_router(g, balance_abs_threshold=2, balance_rel_threshold=1.0001)
    # Affinity until the queues differ by more than 2, then the shortest queue.
    assert out.assignment.tolist() == [0, 0, 0, 1, 0, 1]


def test_cache_aware_below_threshold_goes_to_smallest_tree() -> None:
    g = AffinityRoutingGame([Affine(1, 1)] * 2, [1.0, 1.0], [(0, 9), (1, 9), (0, 9)])
    out = cache_aware_router(g, cache_threshold=0.5)
    # Match rates are at most 1/10: never above 0.5, so smallest tree each time.
    assert out.assignment.tolist() == [0, 1, 0]


def test_round_robin_and_least_loaded() -> None:
    g = one_group(7, m=3)
    assert round_robin_router(g, start=1).assignment.tolist() == [1, 2, 0, 1, 2, 0, 1]
    assert np.bincount(least_loaded_router(g).assignment).tolist() == [3, 2, 2]


def test_outcome_fields_match_the_game() -> None:
    g = AffinityRoutingGame.synthetic([BPR(1, 10)] * 3, 30, seed=4)
    out = round_robin_router(g)
    assert out.costs == pytest.approx(g.costs(out.assignment))
    assert out.social_cost == pytest.approx(g.social_cost(out.assignment))
    assert out.max_regret == pytest.approx(g.max_regret(out.assignment))
    assert out.iterations == 30 and out.converged
    assert out.method == "round robin"


def test_decision_log_schema_and_arrival_order() -> None:
    g = AffinityRoutingGame.synthetic([BPR(1, 10)] * 3, 5, seed=0)
    order = [4, 2, 0, 1, 3]
    d = kv_router(g, order=order, seed=0).decisions
    assert list(d.columns) == list(DECISION_COLUMNS)
    assert {c: str(t) for c, t in d.dtypes.items()} == DECISION_COLUMNS
    assert len(d) == 15
    assert d.request_id.iloc[::3].tolist() == [str(i) for i in order]
    assert (d.prefill_blocks + d.cached_blocks).to_numpy() == pytest.approx(
        np.repeat(g.prompt_blocks[order], 3)
    )
    assert (d.prefill_cost == d.prefill_weight * d.prefill_blocks).all()


def test_decision_log_conforms_to_telemetry_schema() -> None:
    schemas = pytest.importorskip("gametheory.telemetry.schemas")
    g = AffinityRoutingGame.synthetic([BPR(1, 10)] * 3, 8, seed=0)
    d = cache_aware_router(g).decisions
    pd.testing.assert_frame_equal(schemas.conform(d, "decisions"), d)


def test_overlap_model_cache_view() -> None:
    v = np.array([[0.0, 0.0, 0.0], [3.0, 0.0, 0.0], [1.0, 2.0, 0.0]])
    g = AffinityRoutingGame([Affine(0, 1)] * 2, [0.0], [(0, 4)] * 3, model="overlap", overlap=v)
    d = round_robin_router(g).decisions  # requests on workers 0, 1, 0
    cached = d.pivot(index="decision", columns="worker", values="cached_blocks")
    assert cached.to_numpy().tolist() == [[0, 0], [3, 0], [1, 2]]


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda g: kv_router(g, omega=-1), "omega"),
        (lambda g: kv_router(g, temperature=-0.1), "temperature"),
        (lambda g: kv_router(g, order=[0, 0, 1]), "permutation"),
        (lambda g: round_robin_router(g, start=5), "start"),
        (lambda g: cache_aware_router(g, cache_threshold=1.5), "cache_threshold"),
        (lambda g: cache_aware_router(g, balance_rel_threshold=0.5), "balance"),
    ],
)
def test_bad_router_arguments(call: object, match: str) -> None:
    g = one_group(3)
    with pytest.raises(GameError, match=match):
        call(g)  # type: ignore[operator]


def test_poa_hat_reads_router_logs() -> None:
    poa_hat_module = pytest.importorskip("gametheory.telemetry.poa_hat")
    g = AffinityRoutingGame.synthetic([BPR(1, 20)] * 5, 100, seed=0)
    for out in (kv_router(g), cache_aware_router(g), round_robin_router(g)):
        res = poa_hat_module.poa_hat(out.decisions, n_bootstrap=0)
        assert res.n_unused == 0
        assert res.per_window.size == 100 // 5
        assert 0.5 < res.poa_hat < 2.0


def test_outcome_reprs_summarise_the_log() -> None:
    g = one_group(4)
    out = round_robin_router(g)
    assert "decisions   : DataFrame(8 rows x 13 columns)" in str(out)
    assert "DataFrame(8 rows x 13 columns)" in out._repr_html_()


@pytest.mark.parametrize("tau", [5e-324, 1e-300])
def test_kv_choice_tiny_temperature_is_the_argmin(tau: float) -> None:
    rng = np.random.default_rng(0)
    picks = {kv_choice(np.array([3.0, 1.0, 2.0]), np.zeros(3), tau, rng) for _ in range(20)}
    assert picks == {1}


def test_kv_choice_huge_temperature_is_uniform() -> None:
    rng = np.random.default_rng(0)
    picks = [kv_choice(np.array([3.0, 1.0, 2.0]), np.zeros(3), 1e300, rng) for _ in range(3000)]
    counts = np.bincount(picks, minlength=3)
    assert counts.min() > 900
