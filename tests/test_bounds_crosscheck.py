"""Bounds against solved games: Pigou instances, random networks, small atomic games."""

from __future__ import annotations

import itertools

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.bounds import (
    aland_bound,
    bpr_bound,
    exact_poa_lp,
    mm1_bound,
    pigou_bound,
    polynomial_bound,
)
from gametheory.costs import BPR, MM1, Affine, Constant, CostFunction, Polynomial, Tabulated
from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.congestion import AtomicCongestionGame
from gametheory.games.network.routing import RoutingGame
from gametheory.solvers.network.wardrop import routing_price_of_anarchy
from gametheory.solvers.poa import price_of_anarchy

SOLVE = {"method": "fw", "rgap": 1e-10, "max_iter": 20000}
# coefficients are 0 or of a size where the solvers' tolerances are meaningful
COEFF = st.one_of(st.just(0.0), st.floats(0.01, 5.0))


@pytest.mark.parametrize("d", [1, 2, 3, 4])
def test_pigou_bound_is_the_poa_of_pigou_network(d: int) -> None:
    game = RoutingGame.parallel_links([Constant(1.0), Polynomial([0.0] * d + [1.0])], 1.0)
    poa = routing_price_of_anarchy(game, **SOLVE).poa
    assert poa == pytest.approx(polynomial_bound(d).value, abs=1e-6)
    assert poa == pytest.approx(pigou_bound(Polynomial([0.0] * d + [1.0])).value, abs=1e-6)


def test_mm1_bound_is_attained_by_its_certificate() -> None:
    res = mm1_bound(1.0, 0.9)
    constant = 1.0 / (1.0 - 0.9)
    game = RoutingGame.parallel_links([MM1(1.0), Constant(constant)], 0.9)
    assert routing_price_of_anarchy(game, **SOLVE).poa == pytest.approx(res.value, abs=1e-6)


def test_bpr_bound_is_attained_at_the_volume_capacity_limit() -> None:
    rho = 2.0
    res = bpr_bound(rho)
    link = BPR(1.0, 1.0)
    game = RoutingGame.parallel_links([link, Constant(link(rho))], rho)
    assert routing_price_of_anarchy(game, **SOLVE).poa == pytest.approx(res.value, abs=1e-6)


@pytest.mark.parametrize(
    ("cost", "r_max"),
    [
        (Tabulated([0.0, 10.0, 20.0, 30.0, 40.0], [12.0, 13.0, 16.0, 24.0, 45.0]), None),
        (BPR(2.0, 5.0) + Affine(0.5, 0.1), 8.0),
        (MM1(3.0), 2.5),
    ],
)
def test_numeric_pigou_bound_is_the_poa_of_its_two_link_witness(
    cost: CostFunction, r_max: float | None
) -> None:
    res = pigou_bound(cost, r_max=r_max)
    assert res.certificate["cost_function"] is cost
    game = library.pigou_two_link(cost, res.certificate["r"])
    assert routing_price_of_anarchy(game, **SOLVE).poa == pytest.approx(res.value, abs=1e-6)


def _braess(costs: list[Polynomial], demand: float) -> RoutingGame:
    g = nx.DiGraph()
    for (u, v), c in zip([("s", "a"), ("s", "b"), ("a", "t"), ("b", "t"), ("a", "b")], costs):
        g.add_edge(u, v, cost=c)
    return RoutingGame(g, {("s", "t"): demand})


@settings(max_examples=25, deadline=None)
@given(
    degree=st.integers(1, 3),
    braess=st.booleans(),
    data=st.data(),
    demand=st.floats(0.05, 20.0),
)
def test_random_nonatomic_poa_never_exceeds_the_pigou_bound(
    degree: int, braess: bool, data: st.DataObject, demand: float
) -> None:
    m = 5 if braess else data.draw(st.integers(2, 4))
    coeff = st.lists(COEFF, min_size=degree + 1, max_size=degree + 1)
    rows = [data.draw(coeff) for _ in range(m)]
    rows = [r if any(r) else [1.0, *r[1:]] for r in rows]
    costs = [Polynomial(r) for r in rows]
    game = _braess(costs, demand) if braess else RoutingGame.parallel_links(costs, demand)
    poa = routing_price_of_anarchy(game, method="bfw", rgap=1e-9, max_iter=5000).poa
    assert poa <= polynomial_bound(degree).value + 1e-6


def _atomic_poa(game: AtomicCongestionGame) -> float:
    return price_of_anarchy(game, method="enumeration").poa


@settings(max_examples=30, deadline=None)
@given(
    degree=st.integers(1, 2),
    n=st.integers(2, 3),
    m=st.integers(2, 4),
    data=st.data(),
)
def test_small_atomic_poa_never_exceeds_the_exact_lp(
    degree: int, n: int, m: int, data: st.DataObject
) -> None:
    subsets = [s for r in range(1, m + 1) for s in itertools.combinations(range(m), r)]
    strategies = [
        data.draw(st.lists(st.sampled_from(subsets), min_size=1, max_size=3, unique=True))
        for _ in range(n)
    ]
    coeff = st.lists(COEFF, min_size=degree + 1, max_size=degree + 1)
    rows = [data.draw(coeff) for _ in range(m)]
    rows = [r if any(r) else [0.0] * degree + [1.0] for r in rows]
    game = AtomicCongestionGame([Polynomial(r) for r in rows], strategies)
    poa = _atomic_poa(game)
    assert poa <= exact_poa_lp(n, degree=degree).value + 1e-9
    assert poa <= aland_bound(degree).value + 1e-9


def test_the_three_player_instance_attains_five_halves() -> None:
    # THEORY.md section 6: resources h0..h2 (0..2), g0..g2 (3..5), c(k) = k
    strategies = [[(i, 3 + i), ((i + 1) % 3, (i + 2) % 3, 3 + (i + 1) % 3)] for i in range(3)]
    game = AtomicCongestionGame([Polynomial([0.0, 1.0])] * 6, strategies)
    assert _atomic_poa(game) == pytest.approx(2.5)
    assert exact_poa_lp(3, degree=1).value == pytest.approx(2.5, abs=1e-9)
    assert np.isclose(aland_bound(1).value, 2.5)


def test_two_link_witness_rejects_bad_input() -> None:
    with pytest.raises(GameError, match="demand"):
        library.pigou_two_link(Polynomial([0.0, 1.0]), -1.0)
    with pytest.raises(GameError, match="infinite"):
        library.pigou_two_link(MM1(1.0), 1.0)
    with pytest.raises(GameError, match="CostFunction"):
        library.pigou_two_link(lambda x: x, 1.0)  # type: ignore[arg-type]
