"""All extreme equilibria of bimatrix games, their components and the mixed PoA."""

from __future__ import annotations

import itertools
from fractions import Fraction

import nashpy
import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.mixed import mixed_price_of_anarchy
from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration

F = Fraction
Eq = tuple[tuple[Fraction, ...], tuple[Fraction, ...]]


def _exact_solve(rows: list[list[int]], rhs: list[int]) -> list[Fraction] | None:
    """Gaussian elimination in fractions for a square system; None when singular."""
    n = len(rows)
    a = [[F(v) for v in row] + [F(b)] for row, b in zip(rows, rhs, strict=True)]
    for c in range(n):
        p = next((r for r in range(c, n) if a[r][c] != 0), None)
        if p is None:
            return None
        a[c], a[p] = a[p], a[c]
        for r in range(n):
            if r != c and a[r][c] != 0:
                f = a[r][c] / a[c][c]
                a[r] = [u - f * v for u, v in zip(a[r], a[c], strict=True)]
    return [a[i][n] / a[i][i] for i in range(n)]


def _reference_vertices(M: np.ndarray) -> list[tuple[tuple[Fraction, ...], frozenset[int]]]:
    """Brute force: the nonzero vertices of {z >= 0, M z <= 1} (M integer > 0) with labels.

    Every choice of which coordinates are zero (the complement of a support, of any size)
    and which rows of ``M z <= 1`` are tight, with as many equations as unknowns, is solved
    in fractions; the feasible solutions are the vertices.
    """
    rows, d = M.shape
    Mi = [[int(v) for v in r] for r in M]
    found: dict[tuple[Fraction, ...], frozenset[int]] = {}
    for support_size in range(1, d + 1):
        for support in itertools.combinations(range(d), support_size):
            for tight in itertools.combinations(range(rows), support_size):
                sol = _exact_solve([[Mi[r][j] for j in support] for r in tight], [1] * len(tight))
                if sol is None or min(sol) < 0:
                    continue
                z = [F(0)] * d
                for j, v in zip(support, sol, strict=True):
                    z[j] = v
                slack = [1 - sum(Mi[r][j] * z[j] for j in range(d)) for r in range(rows)]
                if min(slack) < 0 or max(z) == 0:
                    continue
                labels = {j for j in range(d) if z[j] == 0}
                labels |= {d + r for r in range(rows) if slack[r] == 0}
                found[tuple(z)] = frozenset(labels)
    return list(found.items())


def _reference_equilibria(A: np.ndarray, B: np.ndarray) -> set[Eq]:
    """Extreme equilibria of the payoff bimatrix (A, B) by brute force in fractions."""
    A = A - A.min() + 1
    B = B - B.min() + 1
    m, n = A.shape
    P = _reference_vertices(B.T)  # labels: x_i = 0 -> i, column j tight -> m + j
    Q = _reference_vertices(A)  # labels: y_j = 0 -> j, row i tight -> n + i
    full = frozenset(range(m + n))
    out: set[Eq] = set()
    for x, lx in P:
        for y, ly in Q:
            lyy = {m + j if j < n else j - n for j in ly}
            if lx | lyy == full:
                sx, sy = sum(x), sum(y)
                out.add((tuple(v / sx for v in x), tuple(v / sy for v in y)))
    return out


def _exact_set(game: NormalFormGame) -> set[Eq]:
    result = vertex_enumeration(game)
    assert result.exact and result.exact_equilibria is not None
    return set(result.exact_equilibria)


def test_matching_pennies() -> None:
    result = vertex_enumeration(library.matching_pennies())
    assert _exact_set(library.matching_pennies()) == {((F(1, 2), F(1, 2)), (F(1, 2), F(1, 2)))}
    assert not result.degenerate
    assert result.n_components == 1


def test_battle_of_sexes() -> None:
    expected = {
        ((F(1), F(0)), (F(1), F(0))),
        ((F(0), F(1)), (F(0), F(1))),
        ((F(2, 3), F(1, 3)), (F(1, 3), F(2, 3))),
    }
    game = library.battle_of_sexes()
    assert _exact_set(game) == expected
    result = vertex_enumeration(game)
    np.testing.assert_allclose(sorted(result.social_costs), [-3, -3, -4 / 3])
    assert result.n_components == 3


def test_three_by_two() -> None:
    expected = {
        ((F(1), F(0), F(0)), (F(1), F(0))),
        ((F(4, 5), F(1, 5), F(0)), (F(2, 3), F(1, 3))),
        ((F(0), F(1, 3), F(2, 3)), (F(1, 3), F(2, 3))),
    }
    result = vertex_enumeration(library.three_by_two())
    assert set(result.exact_equilibria or ()) == expected
    assert not result.degenerate
    assert result.n_components == 3
    supports = set(result.supports)
    assert supports == {((0,), (0,)), ((0, 1), (0, 1)), ((1, 2), (0, 1))}


def test_three_by_two_degenerate_continuum_is_one_component() -> None:
    result = vertex_enumeration(library.three_by_two(degenerate=True))
    assert result.degenerate
    e1 = (F(1), F(0), F(0))
    expected = {
        (e1, (F(1), F(0))),
        (e1, (F(2, 3), F(1, 3))),
        ((F(0), F(1, 3), F(2, 3)), (F(1, 3), F(2, 3))),
    }
    assert set(result.exact_equilibria or ()) == expected
    assert result.n_components == 2
    by_eq = dict(zip(result.exact_equilibria or (), result.component.tolist(), strict=True))
    assert by_eq[(e1, (F(1), F(0)))] == by_eq[(e1, (F(2, 3), F(1, 3)))]
    # The continuum is one maximal Nash subset: e1 against the segment of two y-vertices.
    sizes = sorted((len(xs), len(ys)) for xs, ys in result.maximal_nash_subsets)
    assert sizes == [(1, 1), (1, 2)]
    game = library.three_by_two(degenerate=True)
    for t in np.linspace(0, 1, 5):
        y = t * np.array([1.0, 0.0]) + (1 - t) * np.array([2 / 3, 1 / 3])
        assert game.mixed_max_regret([np.array([1.0, 0, 0]), y]) < 1e-12


def test_float_game_matches_nashpy_vertex_enumeration() -> None:
    rng = np.random.default_rng(3)
    A, B = rng.standard_normal((2, 5, 5))
    ours = vertex_enumeration(NormalFormGame.from_bimatrix(A, B))
    assert not ours.exact
    theirs = list(nashpy.Game(A, B).vertex_enumeration())
    assert len(ours) == len(theirs)
    for x, y in theirs:
        dist = [np.abs(x - a).max() + np.abs(y - b).max() for a, b in ours.equilibria]
        assert min(dist) < 1e-9
    assert ours.max_regret < 1e-12


def test_rejects_non_bimatrix() -> None:
    with pytest.raises(GameError, match="two-player"):
        vertex_enumeration(NormalFormGame(np.zeros((3, 2, 2, 2))))


@st.composite
def _integer_bimatrix(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    m = draw(st.integers(1, 6))
    n = draw(st.integers(1, 6))
    hi = draw(st.sampled_from([1, 2, 3, 9]))
    elements = st.integers(-hi, hi)
    A = draw(arrays(np.int64, (m, n), elements=elements))
    B = draw(arrays(np.int64, (m, n), elements=elements))
    return A, B


@settings(max_examples=100, deadline=None)
@given(_integer_bimatrix())
def test_extreme_equilibria_equal_brute_force(AB: tuple[np.ndarray, np.ndarray]) -> None:
    A, B = AB
    result = vertex_enumeration(NormalFormGame.from_bimatrix(A, B))
    event(f"degenerate={result.degenerate}")
    assert result.exact and result.exact_equilibria is not None
    assert len(set(result.exact_equilibria)) == len(result.exact_equilibria)
    assert set(result.exact_equilibria) == _reference_equilibria(A, B)
    assert len(result) >= 1
    assert result.max_regret < 1e-9


@settings(max_examples=30, deadline=None)
@given(_integer_bimatrix(), st.integers(0, 2**32 - 1))
def test_maximal_nash_subsets_are_equilibria_and_bound_social_cost(
    AB: tuple[np.ndarray, np.ndarray], seed: int
) -> None:
    A, B = AB
    game = NormalFormGame.from_bimatrix(A, B)
    result = vertex_enumeration(game)
    rng = np.random.default_rng(seed)
    social = game.social_cost_tensor
    for xs, ys in result.maximal_nash_subsets:
        x = rng.dirichlet(np.ones(len(xs))) @ result.row_vertices[list(xs)]
        y = rng.dirichlet(np.ones(len(ys))) @ result.column_vertices[list(ys)]
        assert game.mixed_max_regret([x, y]) < 1e-9
        cost = float(x @ social @ y)
        assert result.social_costs.min() - 1e-9 <= cost <= result.social_costs.max() + 1e-9


def test_mixed_price_of_anarchy_battle_of_sexes_costs() -> None:
    # Costs 3 - payoff: pure equilibria social cost 3, mixed 6 - 4/3 = 14/3, optimum 3.
    A = np.array([[2, 0], [0, 1]])
    B = np.array([[1, 0], [0, 2]])
    game = NormalFormGame.from_bimatrix(3 - A, 3 - B, payoffs=False)
    poa = mixed_price_of_anarchy(game)
    assert poa.optimum_cost == pytest.approx(3.0)
    assert poa.worst_cost == pytest.approx(14 / 3)
    assert poa.poa == pytest.approx(14 / 9)
    assert poa.pos == pytest.approx(1.0)
    assert poa.n_equilibria == 3 and poa.exact


def test_mixed_price_of_anarchy_rejects_nonpositive_optimum() -> None:
    with pytest.raises(GameError, match="undefined"):
        mixed_price_of_anarchy(library.matching_pennies())


def test_constant_game_is_one_maximal_nash_subset() -> None:
    # Every profile is an equilibrium: the extreme ones are the 3 x 4 pure pairs, all in
    # one maximal Nash subset (the product of the two simplices).
    result = vertex_enumeration(NormalFormGame(np.ones((2, 3, 4))))
    assert len(result) == 12 and result.degenerate
    assert result.n_components == 1
    assert len(result.maximal_nash_subsets) == 1
    xs, ys = result.maximal_nash_subsets[0]
    assert len(xs) == 3 and len(ys) == 4


def test_exact_flag_on_float_payoffs() -> None:
    # Halves are exact binary fractions: the exact set equals that of the doubled game.
    A = np.array([[1.5, 0.0], [0.0, 0.5]])
    B = np.array([[0.5, 0.0], [0.0, 1.5]])
    halves = vertex_enumeration(NormalFormGame.from_bimatrix(A, B), exact=True)
    ints = vertex_enumeration(NormalFormGame.from_bimatrix(2 * A, 2 * B))
    assert halves.exact and set(halves.exact_equilibria or ()) == _exact_set(
        NormalFormGame.from_bimatrix(2 * A, 2 * B)
    )
    assert len(ints) == 3
    assert not vertex_enumeration(NormalFormGame.from_bimatrix(A, B)).exact
    assert ((F(3, 4), F(1, 4)), (F(1, 4), F(3, 4))) in set(halves.exact_equilibria or ())
