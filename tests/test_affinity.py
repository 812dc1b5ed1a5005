"""AffinityRoutingGame: costs, the exact Rosenthal potential, cycling overlaps, validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.costs import BPR, MM1, Affine, Polynomial
from gametheory.errors import GameError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.solvers.common.best_response import best_response_dynamics
from gametheory.solvers.common.enumeration import pure_equilibria


def small_game(model: str = "anonymous") -> AffinityRoutingGame:
    overlap = None
    if model == "overlap":
        overlap = np.array([[0.0, 2.0, 0.0], [2.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    return AffinityRoutingGame(
        [Affine(0, 1), Affine(1, 2)],
        groups=[4, 6],
        requests=[(0, 1), (0, 2), (1, 1)],
        block_time=0.5,
        model=model,  # type: ignore[arg-type]
        overlap=overlap,
    )


def test_anonymous_costs_by_hand() -> None:
    g = small_game()
    # Worker 0 serves requests 0 and 1 (latency 2), worker 1 serves request 2 (latency 3).
    # Requests 0 and 1 share group 0's prefix of 4 blocks: 2 blocks each at 0.5.
    assert g.costs([0, 0, 1]).tolist() == [2 + 0.5 * (2 + 1), 2 + 0.5 * (2 + 2), 3 + 0.5 * 7]
    assert g.social_cost([0, 0, 1]) == pytest.approx(3.5 + 4 + 6.5)
    assert g.cached_blocks([0, 0, 1]).tolist() == [2.0, 2.0, 0.0]
    assert g.loads([0, 0, 1]).tolist() == [2.0, 1.0]


def test_overlap_costs_by_hand() -> None:
    g = small_game("overlap")
    # All on worker 0: latency 3; savings row sums 2, 3, 1 blocks.
    expected = [3 + 0.5 * (5 - 2), 3 + 0.5 * (6 - 3), 3 + 0.5 * (7 - 1)]
    assert g.costs([0, 0, 0]).tolist() == pytest.approx(expected)
    assert g.has_potential


@pytest.mark.parametrize("model", ["anonymous", "overlap"])
def test_costs_many_and_deviations_agree_with_costs(model: str) -> None:
    g = small_game(model)
    profiles = np.indices((2, 2, 2)).reshape(3, -1).T
    many = g.costs_many(profiles)
    for prof, row in zip(profiles, many):
        assert row == pytest.approx(g.costs(prof))
        for i in range(3):
            dev = g.deviation_costs(prof, i)
            for w in range(2):
                moved = prof.copy()
                moved[i] = w
                assert dev[w] == pytest.approx(g.costs(moved)[i])


@st.composite
def anonymous_games(draw: st.DrawFn) -> tuple[AffinityRoutingGame, np.ndarray]:
    m = draw(st.integers(2, 3))
    n = draw(st.integers(2, 6))
    n_groups = draw(st.integers(1, 3))
    coeffs = st.floats(0.0, 3.0, allow_nan=False)
    workers = [Polynomial([draw(coeffs), draw(coeffs), draw(coeffs)]) for _ in range(m)]
    prefix = [draw(st.floats(0.0, 10.0)) for _ in range(n_groups)]
    requests = [(draw(st.integers(0, n_groups - 1)), draw(st.floats(0.0, 4.0))) for _ in range(n)]
    profile = np.array([draw(st.integers(0, m - 1)) for _ in range(n)])
    block_time = draw(st.floats(0.1, 2.0))
    return AffinityRoutingGame(workers, prefix, requests, block_time=block_time), profile


@settings(max_examples=60, deadline=None)
@given(anonymous_games(), st.data())
def test_rosenthal_potential_is_exact(
    case: tuple[AffinityRoutingGame, np.ndarray], data: st.DataObject
) -> None:
    g, profile = case
    player = data.draw(st.integers(0, g.n_players - 1))
    target = data.draw(st.integers(0, g.m - 1))
    moved = profile.copy()
    moved[player] = target
    d_cost = g.costs(moved)[player] - g.costs(profile)[player]
    d_phi = g.potential(moved) - g.potential(profile)
    assert d_cost == pytest.approx(d_phi, abs=1e-9 * (1 + abs(g.potential(profile))))


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 6), st.integers(0, 10_000))
def test_symmetric_overlap_potential_is_exact(n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    v = rng.uniform(0, 1, (n, n))
    v = (v + v.T) / 2
    np.fill_diagonal(v, 0.0)
    g = AffinityRoutingGame(
        [Affine(1, 1), BPR(1, 2)], [float(n)], [(0, 1)] * n, model="overlap", overlap=v
    )
    assert g.has_potential
    profile = rng.integers(0, 2, n)
    for player in range(n):
        moved = profile.copy()
        moved[player] = 1 - moved[player]
        d_cost = g.costs(moved)[player] - g.costs(profile)[player]
        assert d_cost == pytest.approx(g.potential(moved) - g.potential(profile), abs=1e-9)


def cycling_game() -> AffinityRoutingGame:
    # Request 0 gains 1.5 blocks from request 1; request 1 gains nothing from request 0.
    # Together each waits 2, alone 1: 0 chases 1, 1 flees 0 -- no pure equilibrium.
    overlap = np.array([[0.0, 1.5], [0.0, 0.0]])
    return AffinityRoutingGame(
        [Affine(0, 1)] * 2, [0.0], [(0, 2), (0, 2)], model="overlap", overlap=overlap
    )


def test_asymmetric_overlaps_cycle_and_are_reported() -> None:
    g = cycling_game()
    assert not g.has_potential
    assert pure_equilibria(g) == []
    res = best_response_dynamics(g, initial=[0, 0])
    assert res.cycle
    assert not res.converged
    assert res.max_regret > 0
    with pytest.raises(GameError, match="symmetric"):
        g.potential([0, 0])


def test_dynamics_reach_equilibrium_on_anonymous_game() -> None:
    g = AffinityRoutingGame.synthetic([BPR(1, 20)] * 5, 200, seed=3)
    res = best_response_dynamics(g, initial=np.zeros(200, dtype=np.int64))
    assert res.converged and not res.cycle
    assert g.is_equilibrium(res.profile)
    assert np.all(np.diff(res.potential_history) < 0)
    assert res.potential_history[-1] == pytest.approx(g.potential(res.profile))


def test_first_restricts_the_arrivals() -> None:
    g = small_game("overlap")
    h = g.first(2)
    assert h.n_players == 2
    assert h.overlap is not None and h.overlap.tolist() == [[0.0, 2.0], [2.0, 0.0]]
    # Both on worker 0: latency 2; prompts 5 and 6 blocks, each saving 2 blocks.
    assert h.costs([0, 0]).tolist() == pytest.approx([2 + 0.5 * 3, 2 + 0.5 * 4])


def test_mm1_worker_is_infinite_at_capacity() -> None:
    g = AffinityRoutingGame([MM1(1.5), MM1(3)], [2.0], [(0, 0), (0, 0)])
    assert np.isinf(g.costs([0, 0])).all()
    assert np.isfinite(g.costs([0, 1])).all()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"workers": []}, "workers"),
        ({"groups": [-1.0]}, "groups"),
        ({"requests": [(2, 1.0)]}, r"requests\[0\]"),
        ({"requests": [(0, 1.0, 3.0)]}, "pairs"),
        ({"block_time": 0.0}, "block_time"),
        ({"model": "pairwise"}, "model"),
        ({"model": "overlap"}, "overlap matrix"),
        ({"model": "overlap", "overlap": [[1.0]]}, "diagonal"),
        ({"overlap": [[0.0]]}, "only used"),
    ],
)
def test_bad_input_names_the_argument(kwargs: dict[str, object], match: str) -> None:
    args: dict[str, object] = {"workers": [Affine(0, 1)], "groups": [1.0], "requests": [(0, 1.0)]}
    args.update(kwargs)
    with pytest.raises(GameError, match=match):
        AffinityRoutingGame(**args)  # type: ignore[arg-type]


def test_overlap_row_cannot_exceed_prompt() -> None:
    with pytest.raises(GameError, match="row 0"):
        AffinityRoutingGame(
            [Affine(0, 1)], [1.0], [(0, 0), (0, 0)], model="overlap", overlap=[[0, 2], [0, 0]]
        )


def test_reprs() -> None:
    g = small_game()
    assert "3 requests, 2 workers" in repr(g)
    assert "<table>" in g._repr_html_()


@settings(max_examples=30, deadline=None)
@given(anonymous_games(), st.data())
def test_state_agrees_with_the_congestion_game(
    case: tuple[AffinityRoutingGame, np.ndarray], data: st.DataObject
) -> None:
    g, profile = case
    assert g.congestion is not None
    state = g.state(profile)
    suffix = g.block_time * g.suffix
    expected = g.congestion.costs(profile) + suffix
    assert [state.cost(i) for i in range(g.n_players)] == pytest.approx(expected)
    assert g.costs(profile) == pytest.approx(expected)
    player = data.draw(st.integers(0, g.n_players - 1))
    inner = g.congestion.deviation_costs(profile, player) + suffix[player]
    assert state.deviation_costs(player) == pytest.approx(inner)
    target = data.draw(st.integers(0, g.m - 1))
    state.move(player, target)
    moved = profile.copy()
    moved[player] = target
    assert [state.cost(i) for i in range(g.n_players)] == pytest.approx(g.costs(moved))
