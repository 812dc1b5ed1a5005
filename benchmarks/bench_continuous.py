"""Variational equilibria of shared-budget games: our solvers against cvxpy (Clarabel).

A potential game with costs ``f_i(x) = x_i (M x)_i - M_ii x_i^2 / 2 + q_i x_i`` has the
pseudo-gradient ``F(x) = M x + q`` (``M`` symmetric positive definite), so its variational
equilibrium on ``{0 <= x <= u, sum x <= B}`` is the minimiser of ``x'Mx/2 + q'x`` there:
a quadratic program the peer, cvxpy with Clarabel, solves directly. We time the
extragradient and KKT solvers of :mod:`gametheory.solvers.pd.continuous` against it and report
the largest deviations (Clarabel's default tolerances limit the first; our two independent
solvers agree to near machine precision).

Run: ``python benchmarks/bench_continuous.py [n_players ...]``.
"""

from __future__ import annotations

import sys
import time
from functools import partial
from typing import Any

import cvxpy as cp
import numpy as np
from cvxpy.atoms.quad_form import quad_form
from numpy.typing import NDArray

from gametheory.games.pd.resource import SharedBudgetGame
from gametheory.solvers.pd.continuous import extragradient, kkt_equilibrium

FloatArray = NDArray[np.float64]


def instance(n: int, seed: int) -> tuple[SharedBudgetGame, FloatArray, FloatArray, float]:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((n, n)) / np.sqrt(n)
    m = a @ a.T + np.eye(n)
    q = -rng.uniform(1.0, 10.0, n)
    budget = 0.5 * float(np.sum(np.linalg.solve(m, -q).clip(0)))

    def costs(x: FloatArray) -> FloatArray:
        return np.asarray(x * (m @ x) - np.diag(m) * x**2 / 2 + q * x, dtype=np.float64)

    def grad(x: FloatArray) -> FloatArray:
        return np.asarray(m @ x + q, dtype=np.float64)

    game = SharedBudgetGame(
        costs,
        grad,
        budget,
        lower=np.zeros(n),
        upper=np.full(n, budget),
        pseudo_jacobian=lambda x: m,
    )
    return game, m, q, budget


def peer(m: FloatArray, q: FloatArray, budget: float) -> FloatArray:
    x = cp.Variable(q.size)
    prob: Any = cp.Problem(
        cp.Minimize(0.5 * quad_form(x, m) + x @ q),
        [x >= 0, x <= budget, x @ np.ones(q.size) <= budget],
    )
    prob.solve(solver=cp.CLARABEL)
    return np.asarray(x.value, dtype=np.float64)


def timed(fn: Any, repeat: int = 3) -> tuple[float, Any]:
    best, out = np.inf, None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main(sizes: list[int]) -> None:
    print(
        f"{'n':>5} {'cvxpy (s)':>10} {'extragrad (s)':>14} {'ratio':>7} {'kkt (s)':>9} "
        f"{'ratio':>7} {'|eg - cvxpy|':>12} {'|eg - kkt|':>11}"
    )
    for n in sizes:
        game, m, q, budget = instance(n, seed=n)
        t_peer, x_peer = timed(partial(peer, m, q, budget))
        t_eg, eg = timed(partial(extragradient, game, tol=1e-9))
        t_kkt, kkt = timed(partial(kkt_equilibrium, game, tol=1e-9))
        print(
            f"{n:5d} {t_peer:10.4f} {t_eg:14.4f} {t_eg / t_peer:7.2f} {t_kkt:9.4f} "
            f"{t_kkt / t_peer:7.2f} {np.abs(eg.x - x_peer).max():12.2e} "
            f"{np.abs(kkt.x - eg.x).max():11.2e}"
        )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [2, 10, 50, 100])
