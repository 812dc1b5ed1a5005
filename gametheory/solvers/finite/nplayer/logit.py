"""One Nash equilibrium of an n-player game by tracing the logit quantal-response branch.

The logit quantal response equilibrium (QRE) at precision ``lambda`` is the mixed profile
with ``p_ij proportional to exp(-lambda C_ij(p))``, ``C_ij`` the expected cost of player
``i``'s pure strategy ``j`` against the others (McKelvey and Palfrey, GEB 10(1) 1995). At
``lambda = 0`` it is the uniform profile; for generic games the branch that starts there
is a smooth curve whose limit as ``lambda -> infinity`` is a Nash equilibrium, the
*logit solution* (McKelvey and Palfrey 1995, theorem 3; Turocy, GEB 51(2) 2005, the
method of Gambit's ``gambit-logit``). It works for any number of players, which the
two-player pivoting methods do not.

In the log-probabilities ``w_ij = log p_ij`` the branch solves ``H(w, lambda) = 0``:
``w_ij - w_i0 + lambda (C_ij - C_i0) = 0`` for ``j >= 1`` and ``sum_j exp(w_ij) = 1``.
It is followed by pseudo-arclength continuation (Allgower and Georg, *Introduction to
Numerical Continuation Methods*, SIAM 2003, ch. 2): an Euler predictor along the kernel of
the Jacobian and Newton correctors on the augmented system, with step-size control. Costs
are first scaled to a unit range so that ``lambda`` is dimensionless. Once the
off-support probabilities are negligible, the support is read off and the Nash
conditions on it (equal expected costs on the support, probabilities summing to one) are
solved by Newton's method; the result carries the maximum regret as its certificate and
says ``converged`` only when that regret is at most ``tol``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.results import LogitEquilibriumResult

__all__ = ["logit_equilibrium"]

FloatArray = NDArray[np.float64]


class _Expectations:
    """Expected costs of pure strategies and their derivatives, by tensor contraction."""

    def __init__(self, tensor: FloatArray) -> None:
        self.tensor = tensor
        self.n = tensor.shape[0]
        self.sizes = tensor.shape[1:]
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)]).astype(int)

    def split(self, flat: FloatArray) -> list[FloatArray]:
        return [np.asarray(flat[self.offsets[i] : self.offsets[i + 1]]) for i in range(self.n)]

    def _contract(self, i: int, probs: Sequence[FloatArray], keep: tuple[int, ...]) -> FloatArray:
        table = self.tensor[i]
        for k in range(self.n - 1, -1, -1):
            if k not in keep:
                table = np.tensordot(table, probs[k], axes=([k], [0]))
        return np.asarray(table, dtype=np.float64)

    def costs(self, probs: Sequence[FloatArray]) -> list[FloatArray]:
        """``C_i[j]``: expected cost of each pure strategy ``j`` of each player ``i``."""
        return [self._contract(i, probs, (i,)) for i in range(self.n)]

    def cross(self, probs: Sequence[FloatArray], i: int, k: int) -> FloatArray:
        """``d C_i[j] / d p_k[l]`` as a matrix ``[j, l]`` (zero for ``k == i``)."""
        if k == i:
            return np.zeros((self.sizes[i], self.sizes[k]))
        table = self._contract(i, probs, (i, k))
        return table if i < k else np.asarray(table.T)


def _homotopy(ex: _Expectations, z: FloatArray) -> tuple[FloatArray, FloatArray, list[FloatArray]]:
    """``H`` and its Jacobian at ``z = (w, lambda)``, with the probabilities."""
    w, lam = z[:-1], float(z[-1])
    with np.errstate(over="ignore"):
        probs = [np.exp(part) for part in ex.split(w)]
    costs = ex.costs(probs)
    total = int(ex.offsets[-1])
    h = np.empty(total)
    jac = np.zeros((total, total + 1))
    for i in range(ex.n):
        o, s = int(ex.offsets[i]), ex.sizes[i]
        h[o : o + s - 1] = w[o + 1 : o + s] - w[o] + lam * (costs[i][1:] - costs[i][0])
        h[o + s - 1] = probs[i].sum() - 1.0
        rows = slice(o, o + s - 1)
        jac[rows, o + 1 : o + s] += np.eye(s - 1)
        jac[rows, o] -= 1.0
        jac[rows, -1] = costs[i][1:] - costs[i][0]
        jac[o + s - 1, o : o + s] = probs[i]
        for k in range(ex.n):
            if k != i:
                d = ex.cross(probs, i, k)  # [j, l]
                ok, sk = int(ex.offsets[k]), ex.sizes[k]
                jac[rows, ok : ok + sk] += lam * (d[1:] - d[0]) * probs[k]
    return h, jac, probs


def _tangent(jac: FloatArray, previous: FloatArray | None) -> FloatArray:
    t: FloatArray = np.asarray(np.linalg.svd(jac)[2][-1], dtype=np.float64)
    if previous is None:
        return t if t[-1] > 0 else -t
    return t if float(t @ previous) >= 0 else -t


def _polish(
    ex: _Expectations, probs: list[FloatArray], threshold: float, tol: float
) -> list[FloatArray] | None:
    """Solve the Nash conditions on the support of ``probs`` by Newton's method."""
    supports = [np.flatnonzero(p > threshold) for p in probs]
    start = [np.where(p > threshold, p, 0.0) for p in probs]
    start = [p / p.sum() for p in start]
    sizes = [len(s) for s in supports]
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    m = int(offsets[-1])
    x = np.concatenate([p[s] for p, s in zip(start, supports)])
    costs = ex.costs(start)
    values = np.array([float(costs[i] @ start[i]) for i in range(ex.n)])

    def full(x: FloatArray) -> list[FloatArray]:
        out = []
        for i in range(ex.n):
            p = np.zeros(ex.sizes[i])
            p[supports[i]] = x[offsets[i] : offsets[i + 1]]
            out.append(p)
        return out

    for _ in range(50):
        probs_x = full(x)
        costs = ex.costs(probs_x)
        res = np.concatenate(
            [costs[i][supports[i]] - values[i] for i in range(ex.n)]
            + [np.array([x[offsets[i] : offsets[i + 1]].sum() - 1.0 for i in range(ex.n)])]
        )
        if float(np.max(np.abs(res))) <= 0.01 * tol:
            break
        jac = np.zeros((m + ex.n, m + ex.n))
        for i in range(ex.n):
            rows = slice(int(offsets[i]), int(offsets[i + 1]))
            jac[rows, m + i] = -1.0
            jac[m + i, rows] = 1.0
            for k in range(ex.n):
                if k != i:
                    d = ex.cross(probs_x, i, k)
                    jac[rows, int(offsets[k]) : int(offsets[k + 1])] = d[
                        np.ix_(supports[i], supports[k])
                    ]
        # least squares: with ties (degenerate games) the conditions do not fix a point
        step = np.linalg.lstsq(jac, -res, rcond=None)[0]
        x = x + step[:m]
        values = values + step[m:]
    if np.any(x < -tol):
        return None
    return [np.clip(p, 0.0, None) / np.clip(p, 0.0, None).sum() for p in full(x)]


class _Trace:
    """Pseudo-arclength continuation of the branch ``H(w, lambda) = 0`` from ``z``."""

    def __init__(self, ex: _Expectations, z: FloatArray) -> None:
        self.ex, self.z = ex, z
        self.probs = [np.exp(part) for part in ex.split(z[:-1])]
        self.h_step, self.steps = 0.05, 0
        self.tangent = _tangent(_homotopy(ex, z)[1], None)

    def _correct(
        self, y: FloatArray, t: FloatArray
    ) -> tuple[FloatArray, FloatArray, list[FloatArray]] | None:
        """Newton on ``[H; t . (y - y0)] = 0``: the point with its Jacobian and
        probabilities, or None when it does not converge in 8 steps."""
        for _ in range(8):
            if not np.all(np.isfinite(y)) or float(np.max(y[:-1])) > 1.0:
                return None
            h, jac, probs = _homotopy(self.ex, y)
            if float(np.max(np.abs(h))) < 1e-11:
                return y, jac, probs
            try:
                y = y + np.linalg.solve(np.vstack([jac, t]), np.concatenate([-h, [0.0]]))
            except np.linalg.LinAlgError:
                return None
        if not np.all(np.isfinite(y)) or float(np.max(y[:-1])) > 1.0:
            return None
        h, jac, probs = _homotopy(self.ex, y)
        return (y, jac, probs) if float(np.max(np.abs(h))) < 1e-9 else None

    def run(self, target: float, max_steps: int, deadline: float) -> bool:
        """Follow the branch until ``lambda >= target``; False if a step could not be taken
        (or the step or time budget ran out)."""
        while self.z[-1] < target:
            if self.steps >= max_steps or time.monotonic() > deadline:
                return False
            self.steps += 1
            t = self.tangent
            while True:
                if self.h_step < 1e-10:
                    return False
                point = self._correct(self.z + self.h_step * t, t)
                if point is not None and float(np.linalg.norm(point[0] - self.z)) < 3 * self.h_step:
                    t_y = _tangent(point[1], t)
                    # a sharp turn means the corrector jumped branches: take a shorter step
                    if float(t_y @ t) > 0.95:
                        break
                self.h_step /= 2
            self.z, self.tangent, self.probs = point[0], t_y, point[2]
            self.h_step = min(self.h_step * 1.5, 1.0 + self.z[-1] / 4)
        return True


def logit_equilibrium(
    game: NormalFormGame,
    *,
    lambda_max: float = 1e4,
    tol: float = 1e-9,
    max_steps: int = 20_000,
    time_limit: float = 60.0,
) -> LogitEquilibriumResult:
    """A Nash equilibrium of an n-player game: the limit of the principal logit branch.

    Parameters
    ----------
    game
        A finite game with any number of players (costs are minimised).
    lambda_max
        Precision (in units of the cost range) at which tracing stops and the support is
        read off; ``exp(-lambda_max)`` bounds the probability of a strategy worse by the
        whole cost range.
    tol
        Largest maximum regret (in the game's cost units) accepted as an equilibrium.
    max_steps, time_limit
        Bounds on the continuation steps and on the wall-clock seconds.

    Returns
    -------
    LogitEquilibriumResult
        The equilibrium, its supports, expected costs, the maximum regret certificate,
        the precision reached and the number of continuation steps.

    Raises
    ------
    GameError
        If ``game`` is not a :class:`NormalFormGame` or an argument is out of range.
    """
    if not isinstance(game, NormalFormGame):
        raise GameError(f"game must be a NormalFormGame, got {type(game).__name__}")
    if not (lambda_max > 0 and math.isfinite(lambda_max)):
        raise GameError(f"lambda_max must be positive and finite, got {lambda_max!r}")
    if not tol > 0:
        raise GameError(f"tol must be positive, got {tol!r}")
    if max_steps < 1 or time_limit <= 0:
        raise GameError("max_steps and time_limit must be positive")
    tensor = game.cost_tensor
    spread = float(tensor.max() - tensor.min())
    scale = spread if spread > 0 else 1.0
    ex = _Expectations(np.asarray((tensor - tensor.min()) / scale, dtype=np.float64))
    uniform = np.concatenate([np.full(s, -math.log(s)) for s in ex.sizes])
    trace = _Trace(ex, np.concatenate([uniform, [0.0]]))
    deadline = time.monotonic() + time_limit
    strategies = tuple(trace.probs)
    regret, polished, target = game.mixed_max_regret(strategies), False, lambda_max
    # Trace to the target precision and solve the Nash conditions on the support read off
    # there; a near-indifferent strategy can still carry visible probability, so on failure
    # go on tracing to a ten times higher precision (up to 10^4 lambda_max).
    while regret > tol and target <= 1e4 * lambda_max:
        traced = trace.run(target, max_steps, deadline)
        at_branch = game.mixed_max_regret(trace.probs)
        if at_branch < regret or not polished:
            strategies, regret, polished = tuple(trace.probs), at_branch, False
        if not traced:
            break
        for threshold in (1e-6, 1e-4, 1e-3, 1e-2):
            candidate = _polish(ex, trace.probs, threshold, tol / scale)
            if candidate is not None and (r := game.mixed_max_regret(candidate)) < regret:
                strategies, regret, polished = tuple(candidate), r, True
            if regret <= tol:
                break
        target *= 10
    z, steps = trace.z, trace.steps
    costs = game.expected_costs(strategies)
    return LogitEquilibriumResult(
        strategies=strategies,
        supports=tuple(tuple(int(j) for j in np.flatnonzero(p > 0)) for p in strategies),
        costs=costs,
        social_cost=float(costs.sum()),
        max_regret=regret,
        lambda_reached=float(z[-1]),
        converged=bool(regret <= tol),
        iterations=steps,
        method="logit-homotopy" + ("+support-newton" if polished else ""),
    )
