"""Continuous games with shared constraints: THEORY.md section 5 and 6 known answers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray

from gametheory.errors import GameError
from gametheory.games.base import ContinuousGame
from gametheory.games.library import shared_budget_log, shared_budget_quadratic
from gametheory.games.pd.resource import SharedBudgetGame
from gametheory.solvers.pd.continuous import (
    diagonal_strict_concavity,
    extragradient,
    kkt_equilibrium,
    normalized_equilibrium,
    variational_equilibrium,
)
from gametheory.solvers.pd.vi import natural_residual, project

METHODS = ["extragradient", "kkt"]


def test_instances_implement_the_protocol() -> None:
    assert isinstance(shared_budget_quadratic(), ContinuousGame)
    assert isinstance(shared_budget_log(), ContinuousGame)


@pytest.mark.parametrize("method", METHODS)
def test_quadratic_variational_equilibrium(method: str) -> None:
    res = variational_equilibrium(shared_budget_quadratic(), method)
    assert res.converged
    np.testing.assert_allclose(res.x, [5.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(res.shared_multipliers, [4.4], atol=1e-6)
    np.testing.assert_allclose(res.player_multipliers.ravel(), [4.4, 4.4], atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_quadratic_normalized_equilibrium_r12(method: str) -> None:
    res = normalized_equilibrium(shared_budget_quadratic(), [1.0, 2.0], method)
    assert res.converged
    np.testing.assert_allclose(res.x, [11 / 3, 7 / 3], atol=1e-6)
    # Rosen: player i's multiplier is lambda_0 / r_i, and it equals d u_i / d x_i.
    lam0 = res.shared_multipliers[0]
    np.testing.assert_allclose(lam0, 10 - 11 / 3 - 0.2 * 7 / 3, atol=1e-6)
    np.testing.assert_allclose(res.player_multipliers.ravel(), [lam0, lam0 / 2], atol=1e-9)


@pytest.mark.parametrize("method", METHODS)
def test_log_variational_equilibrium(method: str) -> None:
    res = variational_equilibrium(shared_budget_log(), method)
    np.testing.assert_allclose(res.x, [4.5, 1.5], atol=1e-6)
    np.testing.assert_allclose(res.shared_multipliers, [4.0 / 6.0], atol=1e-6)
    assert natural_residual(shared_budget_log(), res.x) < 1e-6


def test_diagonal_strict_concavity() -> None:
    quad = diagonal_strict_concavity(shared_budget_quadratic(), [1.0, 2.0], seed=0)
    assert quad.holds
    # J_r = diag(1, 2) [[1, .2], [.2, 1]]: symmetric part [[1, .3], [.3, 2]], constant.
    np.testing.assert_allclose(quad.min_eigenvalue, 1.5 - np.sqrt(0.25 + 0.09), atol=1e-12)
    assert diagonal_strict_concavity(shared_budget_log(), seed=0).holds


def _anti_coordination(c: float) -> SharedBudgetGame:
    """u_i = 10 x_i - x_i^2 / 2 - c x_i x_j: c > 1 breaks diagonal strict concavity."""

    def costs(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return -(10 * x - x**2 / 2 - c * x * x[::-1])

    def grad(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return -(10 - x - c * x[::-1])

    return SharedBudgetGame(costs, grad, 6.0, lower=[0, 0], upper=[6, 6])


def test_concavity_fails_with_strong_coupling() -> None:
    check = diagonal_strict_concavity(_anti_coordination(1.5), seed=0)
    assert not check.holds
    np.testing.assert_allclose(check.min_eigenvalue, 1 - 1.5, atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    w1=st.floats(0.2, 5.0),
    w2=st.floats(0.2, 5.0),
    budget=st.floats(1.0, 20.0),
)
def test_log_shares_are_proportional(w1: float, w2: float, budget: float) -> None:
    res = extragradient(shared_budget_log((w1, w2), budget))
    assert res.converged
    np.testing.assert_allclose(res.x, np.array([w1, w2]) * budget / (w1 + w2), rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(
    y=st.lists(st.floats(-20, 20), min_size=3, max_size=3),
    a=st.lists(st.floats(0.1, 3.0), min_size=3, max_size=3),
)
def test_projection_is_optimal(y: list[float], a: list[float]) -> None:
    game = SharedBudgetGame(
        lambda x: x, lambda x: x, 4.0, lower=[0, -1, 0], upper=[3, 5, np.inf], coefficients=a
    )
    p = project(game, y)
    assert np.all(p >= game.lower - 1e-12) and np.all(p <= game.upper + 1e-12)
    assert np.dot(a, p) <= 4.0 + 1e-9
    # Optimality: no feasible point sampled on a grid is closer to y.
    rng = np.random.default_rng(0)
    cand = rng.uniform([0, -1, 0], [3, 5, 10], size=(2000, 3))
    cand = cand[cand @ np.asarray(a) <= 4.0]
    assert np.linalg.norm(p - y) <= np.linalg.norm(cand - np.asarray(y), axis=1).min() + 1e-9


def test_projection_multi_row_matches_single_row() -> None:
    class TwoRows:
        n_players = 2
        lower = np.zeros(2)
        upper = np.full(2, 10.0)
        shared_constraints = (np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([6.0, 8.0]))

        def costs(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.asarray(x, dtype=np.float64)

        pseudo_gradient = costs

        def pseudo_jacobian(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.eye(2)

    single = SharedBudgetGame(lambda x: x, lambda x: x, 6.0, lower=[0, 0], upper=[10, 10])
    for y in ([9.0, 1.0], [4.0, 4.0], [-1.0, 12.0]):
        np.testing.assert_allclose(project(TwoRows(), y), project(single, y), atol=1e-6)
    np.testing.assert_allclose(project(single, [9.0, 1.0]), [6.0, 0.0], atol=1e-12)


def test_bad_input() -> None:
    game = shared_budget_quadratic()
    with pytest.raises(GameError, match="weights"):
        normalized_equilibrium(game, [1.0, -1.0])
    with pytest.raises(GameError, match="method"):
        variational_equilibrium(game, "newton")
    with pytest.raises(GameError, match="point"):
        project(game, [1.0, np.nan])
    empty = SharedBudgetGame(lambda x: x, lambda x: x, -1.0, lower=[0, 0])
    with pytest.raises(GameError, match="empty"):
        project(empty, [1.0, 1.0])
    with pytest.raises(GameError, match="empty"):
        kkt_equilibrium(empty)
    with pytest.raises(GameError, match="ordered"):
        SharedBudgetGame(lambda x: x, lambda x: x, 1.0, lower=[2, 0], upper=[1, 1])
