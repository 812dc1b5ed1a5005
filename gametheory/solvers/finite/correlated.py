"""Correlated and coarse correlated equilibria as linear programs.

A distribution ``p`` over pure profiles is a *correlated equilibrium* (Aumann, "Subjectivity
and correlation in randomized strategies", J. Math. Econ. 1(1) 1974) when no player, told
to play ``a``, gains by switching to ``a'``:

    sum_{s : s_i = a} p(s) [C_i(s) - C_i(a', s_-i)] <= 0    for all i, a, a';

a *coarse correlated equilibrium* (Hannan 1957; Moulin and Vial, Int. J. Game Theory 7(3)
1978) only asks that no player gains by committing to ``a'`` before the draw:

    sum_s p(s) [C_i(s) - C_i(a', s_-i)] <= 0                for all i, a'.

Both sets are polytopes (Nash equilibria are in both, so they are non-empty), and the best
and the worst expected social cost over them are linear programs, solved here with HiGHS
(``scipy.optimize.linprog``). Their ratio to the optimum is the exact PoA over correlated
or coarse correlated equilibria: the quantity Roughgarden's smoothness bounds control
("Intrinsic robustness of the price of anarchy", JACM 62(5) 2015, Theorem 3.3): a
``(lambda, mu)``-smooth game has every coarse correlated equilibrium within
``lambda / (1 - mu)`` of the optimum.
"""

from __future__ import annotations

import math
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog
from scipy.sparse import coo_matrix, csr_matrix

from gametheory.errors import GameError, SolverError
from gametheory.games.base import FiniteGame
from gametheory.results import PoAResult
from gametheory.solvers.common.enumeration import cost_tensor
from gametheory.solvers.finite.results import CorrelatedEquilibriumResult

__all__ = ["correlated_equilibria", "correlated_price_of_anarchy"]

FloatArray = NDArray[np.float64]


def _incentive_constraints(tensor: FloatArray, coarse: bool) -> csr_matrix:
    """Rows ``g`` with ``g @ p <= 0`` for every incentive constraint (``p`` flattened)."""
    shape = tensor.shape[1:]
    size = math.prod(shape)
    flat = np.arange(size).reshape(shape)
    rows, cols, vals = [], [], []
    n_rows = 0
    for i, s_i in enumerate(shape):
        costs = np.moveaxis(tensor[i], i, 0).reshape(s_i, -1)  # (own strategy, others)
        index = np.moveaxis(flat, i, 0).reshape(s_i, -1)
        if coarse:
            # Row a': sum over all profiles of C_i(s) - C_i(a', s_-i).
            diff = costs[None, :, :] - costs[:, None, :]  # (a', a, others)
            r = np.broadcast_to(np.arange(s_i)[:, None, None], diff.shape) + n_rows
            c = np.broadcast_to(index[None, :, :], diff.shape)
            n_rows += s_i
        else:
            # Row (a, a'): over profiles with s_i = a, C_i(a, s_-i) - C_i(a', s_-i).
            diff = costs[:, None, :] - costs[None, :, :]  # (a, a', others)
            pair = np.arange(s_i)[:, None] * s_i + np.arange(s_i)[None, :]
            r = np.broadcast_to(pair[:, :, None], diff.shape) + n_rows
            c = np.broadcast_to(index[:, None, :], diff.shape)
            n_rows += s_i * s_i
        keep = diff != 0
        rows.append(r[keep])
        cols.append(c[keep])
        vals.append(diff[keep])
    matrix = coo_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(n_rows, size),
    )
    return matrix.tocsr()


def correlated_equilibria(game: FiniteGame, coarse: bool = False) -> CorrelatedEquilibriumResult:
    """The best and the worst (coarse) correlated equilibrium by social cost.

    Parameters
    ----------
    game
        A finite game: a :class:`~gametheory.games.normal_form.NormalFormGame` or any game
        of the :class:`~gametheory.games.base.FiniteGame` protocol (its cost tensor is then
        built by evaluating every pure profile).
    coarse
        False for correlated equilibria (Aumann 1974), True for coarse correlated
        equilibria (Moulin and Vial 1978).

    Returns
    -------
    CorrelatedEquilibriumResult
        Distributions over pure profiles (arrays of the strategy shape) with the least and
        the greatest expected social cost, the costs, the pure optimum and the largest
        incentive-constraint violation (the certificate).

    Raises
    ------
    GameError
        If the game is too large to tabulate.
    SolverError
        If HiGHS does not report an optimal solution (the status is named).
    """
    tensor = cost_tensor(game)
    shape = tensor.shape[1:]
    social = tensor.sum(axis=0).ravel()
    g = _incentive_constraints(tensor, coarse)
    ones = np.ones((1, social.size))
    solutions, iterations = [], 0
    for sign in (1.0, -1.0):
        res = linprog(
            sign * social,
            A_ub=cast(Any, g),  # sparse; scipy-stubs only declare dense arrays
            b_ub=np.zeros(g.shape[0]),
            A_eq=ones,
            b_eq=[1.0],
            bounds=(0, None),
            method="highs",
        )
        if res.status != 0 or res.x is None:
            raise SolverError(f"HiGHS did not solve the equilibrium LP: {res.message}")
        iterations += int(res.nit)
        p = np.clip(res.x, 0.0, None)
        solutions.append(p / p.sum())
    best, worst = solutions
    violation = max(float(np.max(g @ p, initial=0.0)) for p in solutions)
    return CorrelatedEquilibriumResult(
        best_distribution=best.reshape(shape),
        worst_distribution=worst.reshape(shape),
        best_cost=float(social @ best),
        worst_cost=float(social @ worst),
        optimum_cost=float(social.min()),
        coarse=coarse,
        max_violation=max(violation, 0.0),
        status="optimal",
        converged=True,
        iterations=iterations,
        method="linprog (HiGHS)",
    )


def correlated_price_of_anarchy(game: FiniteGame, coarse: bool = False) -> PoAResult:
    """Exact Price of Anarchy and Stability over (coarse) correlated equilibria.

    The optimum is the least social cost of a pure profile; the worst and best equilibria
    are distributions over pure profiles (see :func:`correlated_equilibria`).

    Raises
    ------
    GameError
        If the optimal social cost is not positive (the ratio is then undefined).
    """
    result = correlated_equilibria(game, coarse=coarse)
    opt = result.optimum_cost
    if opt <= 0:
        raise GameError(
            f"the optimal social cost is {opt:g} <= 0, so the Price of Anarchy is undefined; "
            "shift the costs to be positive"
        )
    social = cost_tensor(game).sum(axis=0)
    optimum = np.array(np.unravel_index(int(np.argmin(social)), social.shape), dtype=np.int64)
    name = "coarse correlated" if coarse else "correlated"
    return PoAResult(
        poa=result.worst_cost / opt,
        pos=result.best_cost / opt,
        worst_cost=result.worst_cost,
        best_cost=result.best_cost,
        optimum_cost=opt,
        worst_equilibrium=result.worst_distribution,
        best_equilibrium=result.best_distribution,
        optimum=optimum,
        exact=True,
        method=f"{name} equilibria by linear programming (HiGHS); optimum over pure profiles",
        n_equilibria=None,
    )
