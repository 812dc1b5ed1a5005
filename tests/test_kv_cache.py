"""The hierarchical KV caching game: knapsack best responses, dynamics, MILP optimum, traces."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import GameError, TelemetryError
from gametheory.games.caching.kv import HierarchicalKVCachingGame
from gametheory.games.caching.kv_hardware import KVHardware
from gametheory.solvers.caching.kv import (
    kv_best_response,
    kv_best_response_dynamics,
    kv_regrets,
    kv_social_optimum,
    solve_tier_knapsack,
)

TABLE = [[0.0, 1.0], [0.5, 1.0], [2.0, 3.0]]  # rows self, node, cluster; tiers fast, slow


def _small_game(rates: np.ndarray, caps: tuple[int, int] = (1, 1)) -> HierarchicalKVCachingGame:
    n_workers, n_blocks = rates.shape
    return HierarchicalKVCachingGame(
        rates,
        node_of_worker=np.arange(n_workers) // 2,
        capacities=caps,
        access_costs=TABLE,
        miss_costs=np.full(n_blocks, 5.0),
        tier_names=("fast", "slow"),
    )


def _all_rows(game: HierarchicalKVCachingGame) -> list[np.ndarray]:
    """Every feasible row of tiers for one worker (all workers share the capacities here)."""
    rows = []
    for combo in itertools.product(range(-1, game.n_tiers), repeat=game.n_blocks):
        row = np.array(combo, dtype=np.int8)
        used = [(row == t).sum() for t in range(game.n_tiers)]
        if all(u <= c for u, c in zip(used, game.capacities[0], strict=True)):
            rows.append(row)
    return rows


# ------------------------------------------------------------------ knapsack


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 3),
    st.integers(0, 2**16),
)
def test_knapsack_dp_is_exact(n_items: int, n_tiers: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    values = np.round(rng.uniform(-1, 5, size=(n_items, n_tiers)), 2)
    weights = rng.integers(1, 4, size=n_items)
    caps = rng.integers(0, 5, size=n_tiers)
    choice, total, method = solve_tier_knapsack(values, weights, caps)
    assert method == "exact-dp"
    best = 0.0
    for combo in itertools.product(range(-1, n_tiers), repeat=n_items):
        c = np.array(combo)
        if all(weights[c == t].sum() <= caps[t] for t in range(n_tiers)):
            best = max(best, float(sum(values[i, t] for i, t in enumerate(c) if t >= 0)))
    assert total == pytest.approx(best)
    assert total == pytest.approx(sum(values[i, t] for i, t in enumerate(choice) if t >= 0))
    for t in range(n_tiers):
        assert weights[choice == t].sum() <= caps[t]


def test_knapsack_greedy_is_labelled_and_feasible() -> None:
    values = np.array([[10.0, 9.0], [2.2, 0.2]])  # greedy puts item 0 first: 10.2 < 11.2
    choice, total, method = solve_tier_knapsack(
        values, np.array([1, 1]), np.array([1, 1]), exact_limit=0
    )
    assert method == "greedy-density"
    assert list(choice) == [0, 1] and total == pytest.approx(10.2)
    exact = solve_tier_knapsack(values, np.array([1, 1]), np.array([1, 1]))
    assert exact[2] == "exact-dp" and exact[1] == pytest.approx(11.2)


# ------------------------------------------------------------------- game


def test_costs_follow_the_access_table() -> None:
    game = _small_game(np.array([[1.0, 2.0], [0.0, 1.0], [3.0, 0.0], [0.0, 0.0]]))
    x = game.empty_placement()
    assert game.worker_costs(x) == pytest.approx([15.0, 5.0, 15.0, 0.0])  # all recompute
    x[1, 1] = 0  # worker 1 keeps block 1 in the fast tier
    x[3, 0] = 1  # worker 3 (server 1) keeps block 0 in the slow tier
    # worker 0: block 0 from server 1's slow tier (3), block 1 from peer 1's fast tier (0.5)
    assert game.worker_costs(x) == pytest.approx([1 * 3 + 2 * 0.5, 0.0, 3 * 1.0, 0.0])
    assert game.social_cost(x) == pytest.approx(7.0)


@st.composite
def small_kv_games(draw: st.DrawFn) -> HierarchicalKVCachingGame:
    n_workers = draw(st.sampled_from([2, 4]))
    n_blocks = draw(st.integers(1, 3))
    rates = np.array(
        [[draw(st.integers(0, 3)) for _ in range(n_blocks)] for _ in range(n_workers)], float
    )
    caps = (draw(st.integers(0, 1)), draw(st.integers(0, 2)))
    return _small_game(rates, caps)


@settings(max_examples=15, deadline=None)
@given(small_kv_games())
def test_dynamics_end_at_exact_equilibria(game: HierarchicalKVCachingGame) -> None:
    res = kv_best_response_dynamics(game)
    assert res.best_response == "exact-dp" and res.regret_exact
    if not res.converged:
        return
    assert res.max_regret <= 1e-9
    x = np.array(res.tiers)
    rows = _all_rows(game)
    for u in range(game.n_workers):
        own = game.worker_costs(x)[u]
        for row in rows:
            y = x.copy()
            y[u] = row
            assert game.worker_costs(y)[u] >= own - 1e-9


@settings(max_examples=10, deadline=None)
@given(small_kv_games())
def test_milp_optimum_matches_brute_force(game: HierarchicalKVCachingGame) -> None:
    if game.n_workers > 2:
        game = HierarchicalKVCachingGame(
            game.rates[:2], [0, 1], game.capacities[0], TABLE, game.miss_costs
        )
    opt = kv_social_optimum(game)
    rows = _all_rows(game)
    best = min(game.social_cost(np.stack(pair)) for pair in itertools.product(rows, repeat=2))
    assert opt.exact and opt.social_cost == pytest.approx(best)
    assert opt.lower_bound == pytest.approx(best, rel=1e-5)
    eq = kv_best_response_dynamics(game)
    assert opt.social_cost <= eq.social_cost + 1e-9


def test_best_response_reports_costs() -> None:
    game = _small_game(np.array([[1.0, 2.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]]), (1, 0))
    x = game.empty_placement()
    row, current, new, method = kv_best_response(game, x, 0)
    assert method == "exact-dp" and current == pytest.approx(15.0)
    assert list(row) == [-1, 0] and new == pytest.approx(5.0)  # keep the hotter block
    regrets, exact = kv_regrets(game, x)
    assert exact and regrets[0] == pytest.approx(10.0)


# ----------------------------------------------------------------- inputs


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"capacities": (-1, 2)}, "capacities must be nonnegative"),
        ({"rates": np.array([[-1.0, 0.0], [0.0, 0.0]])}, "rates must be nonnegative"),
        ({"access_costs": [[0.0, 1.0], [0.5, 0.5], [2.0, 3.0]]}, "nondecreasing"),
        ({"access_costs": [[0.0, -1.0], [0.5, 1.0], [2.0, 3.0]]}, "nonnegative"),
        ({"miss_costs": [5.0, -1.0]}, "miss_costs must be nonnegative"),
        ({"miss_costs": [5.0, np.nan]}, "miss_costs contains NaN"),
        ({"capacities": (1, 2, 3)}, "capacities must have shape"),
        ({"block_ids": ["a", "a"]}, "unique"),
    ],
)
def test_bad_input(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {
        "rates": np.ones((2, 2)),
        "node_of_worker": [0, 1],
        "capacities": (1, 1),
        "access_costs": TABLE,
        "miss_costs": [5.0, 5.0],
    }
    args.update(kwargs)
    with pytest.raises(GameError, match=match):
        HierarchicalKVCachingGame(**args)  # type: ignore[arg-type]


def test_unknown_blocks_and_overflow() -> None:
    game = HierarchicalKVCachingGame(
        np.ones((2, 2)), [0, 1], (1, 1), TABLE, [5.0, 5.0], block_ids=[101, 202]
    )
    with pytest.raises(GameError, match="unknown block ids"):
        game.block_index([101, 303])
    with pytest.raises(GameError, match="unknown block ids"):
        game.placement_from_holdings({0: {0: [999]}})
    with pytest.raises(GameError, match="capacity"):
        game.placement_from_holdings({0: {0: [101, 202]}})
    x = game.placement_from_holdings({0: {0: [202], 1: [101]}})
    assert x.tolist() == [[1, 0], [-1, -1]]
    with pytest.raises(GameError, match="capacities must be nonnegative"):
        HierarchicalKVCachingGame.from_trace("unused", capacities=(-1, 0, 0, 0))
    with pytest.raises(GameError, match=r"KVHardware\.ssd_bandwidth"):
        KVHardware(ssd_bandwidth=-1.0)


def _write_trace(path: Path, records: list[object]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_from_trace_small(tmp_path: Path) -> None:
    trace = _write_trace(
        tmp_path / "t.jsonl",
        [
            {"timestamp": 0, "input_length": 1000, "output_length": 5, "hash_ids": [7, 8]},
            {"timestamp": 1000, "input_length": 600, "output_length": 5, "hash_ids": [7, 9]},
            {"timestamp": 2000, "input_length": 512, "output_length": 5, "hash_ids": [7]},
        ],
    )
    game = HierarchicalKVCachingGame.from_trace(trace, n_nodes=1, gpus_per_node=2)
    assert game.block_ids == [7, 8, 9]
    # round robin: requests 0 and 2 go to worker 0, request 1 to worker 1; 2 s of trace
    assert game.rates.toarray() == pytest.approx(np.array([[2, 1, 0], [1, 0, 1]]) / 2.0)
    assert game.block_sizes == pytest.approx([1.0, 488 / 512, 88 / 512])
    hw = KVHardware()
    assert game.miss_costs[0] == pytest.approx(float(hw.recompute_seconds(512)))
    top = HierarchicalKVCachingGame.from_trace(trace, n_nodes=1, gpus_per_node=2, top_blocks=1)
    assert top.block_ids == [7] and top.coverage == pytest.approx(3 / 5)


@pytest.mark.parametrize(
    ("line", "match"),
    [
        ("{not json", "line 2"),
        ('{"timestamp": 0, "input_length": 5}', "field 'hash_ids'"),
        ('{"timestamp": 0, "input_length": -5, "hash_ids": [1]}', "field 'input_length'"),
        ('{"timestamp": 0, "input_length": 5, "hash_ids": ["x"]}', "field 'hash_ids'"),
    ],
)
def test_from_trace_bad_records(tmp_path: Path, line: str, match: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"timestamp": 0, "input_length": 5, "hash_ids": [1]}\n' + line + "\n")
    with pytest.raises(TelemetryError, match=match):
        HierarchicalKVCachingGame.from_trace(path)


def test_default_hardware_numbers() -> None:
    hw = KVHardware()
    table = hw.access_costs()
    assert hw.block_bytes == 512 * 131072
    assert table[0, 0] == pytest.approx(hw.block_bytes / 3.35e12)
    assert table[1, 0] == pytest.approx(hw.block_bytes / 450e9)  # NVLink
    assert table[2, 0] == pytest.approx(hw.block_bytes / 50e9)  # InfiniBand
    assert np.all(np.diff(table, axis=0) >= 0)
    assert float(hw.recompute_seconds(512)) == pytest.approx(512 * 2 * 8.03e9 / (989e12 * 0.5))


def test_conversation_trace_end_to_end(shared_data: Path) -> None:
    trace = shared_data / "traces" / "conversation_trace.jsonl"
    game = HierarchicalKVCachingGame.from_trace(trace)
    assert game.n_workers == 24 and game.n_nodes == 3
    assert game.n_requests == 12_031
    assert game.n_blocks == 182_790
    assert game.rates.sum() * 3536.999 == pytest.approx(288_500)  # block requests
    small = HierarchicalKVCachingGame.from_trace(trace, top_blocks=24, capacities=(1, 2, 2, 4))
    eq = kv_best_response_dynamics(small)
    opt = kv_social_optimum(small, time_limit=60)
    assert eq.converged and eq.best_response == "exact-dp" and eq.max_regret <= 1e-12
    assert opt.social_cost <= eq.social_cost
    assert 1.0 <= eq.social_cost / opt.social_cost < 1.5


def test_kv_game_and_results_render_in_jupyter() -> None:
    game = _small_game(np.array([[1.0, 2.0], [1.0, 0.0], [0.0, 3.0], [0.0, 0.0]]))
    html = game._repr_html_()
    assert html.startswith("<b>HierarchicalKVCachingGame</b>: 4 workers on 2 servers")
    assert "<th>fast</th><td>1&ndash;1</td><td>0</td><td>0.5</td><td>2</td>" in html
    assert "requests" not in html  # not built from a trace
    assert repr(game) == (
        "HierarchicalKVCachingGame(n_workers=4, n_nodes=2, n_blocks=2, tiers=['fast', 'slow'])"
    )
    eq = kv_best_response_dynamics(game)
    opt = kv_social_optimum(game)
    for res in (eq, opt):
        table = res._repr_html_()
        assert "<caption>KVPlacementResult</caption>" in table and "social_cost" in table
    assert opt.exact and opt.iterations == 1 and opt.social_cost <= eq.social_cost


def test_trace_game_reports_its_requests(tmp_path: Path) -> None:
    trace = _write_trace(
        tmp_path / "t.jsonl",
        [
            {"timestamp": 0, "input_length": 600, "output_length": 1, "hash_ids": [1, 2]},
            {"timestamp": 500, "input_length": 512, "output_length": 1, "hash_ids": [1]},
        ],
    )
    game = HierarchicalKVCachingGame.from_trace(trace, n_nodes=1, gpus_per_node=2)
    assert game.n_requests == 2
    assert "of 2 requests" in game._repr_html_()
    assert game.subgame([0]).n_requests == 2


def test_optimum_without_demand_is_trivial() -> None:
    game = _small_game(np.zeros((2, 2)))
    opt = kv_social_optimum(game)
    assert opt.social_cost == 0.0 and opt.exact and opt.iterations == 0
    assert opt.method == "trivial (no demand)" and (np.asarray(opt.tiers) == -1).all()
