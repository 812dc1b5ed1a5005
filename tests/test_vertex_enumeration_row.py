"""Vertex enumeration on the row player's polytope only (``polytopes="row"``)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import GameError
from gametheory.games import library
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.results import NashEquilibriaResult
from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration


def _sets(result: NashEquilibriaResult) -> list[tuple[tuple[float, ...], tuple[float, ...]]]:
    return sorted((tuple(np.round(x, 9)), tuple(np.round(y, 9))) for x, y in result.equilibria)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 7), st.integers(1, 7), st.integers(0, 2**32 - 1))
def test_row_polytope_gives_the_same_equilibria(m: int, n: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    game = NormalFormGame.from_bimatrix(rng.standard_normal((m, n)), rng.standard_normal((m, n)))
    both = vertex_enumeration(game)
    row = vertex_enumeration(game, polytopes="row")
    assert _sets(row) == _sets(both)
    assert row.max_regret <= 1e-9
    assert row.n_components == both.n_components
    if "row-polytope" in row.method:
        assert not both.degenerate and not row.degenerate


def test_random_10x10_uses_the_shortcut() -> None:
    rng = np.random.default_rng(7)
    game = NormalFormGame.from_bimatrix(
        rng.standard_normal((10, 10)), rng.standard_normal((10, 10))
    )
    row = vertex_enumeration(game, polytopes="row")
    assert row.method == "vertex-enumeration (row-polytope)"
    assert len(row) == len(vertex_enumeration(game))
    # only the row polytope's vertices and the equilibria's points were computed
    assert row.iterations < vertex_enumeration(game).iterations


def test_degenerate_and_exact_games_enumerate_both_polytopes() -> None:
    # a continuum of equilibria (degenerate at the equilibria), in floating point
    base = library.three_by_two(degenerate=True)
    floats = NormalFormGame(base.cost_tensor * 0.37 + 0.11)
    degenerate = vertex_enumeration(floats, polytopes="row")
    assert degenerate.degenerate and "row-polytope" not in degenerate.method
    assert not degenerate.exact and len(degenerate) == 3
    pennies = vertex_enumeration(library.matching_pennies(), polytopes="row")
    assert pennies.exact and "row-polytope" not in pennies.method  # integer payoffs: exact
    with pytest.raises(GameError, match="polytopes must be"):
        vertex_enumeration(library.matching_pennies(), polytopes="column")  # type: ignore[arg-type]
