"""Expected costs of an n-player game and their derivatives, in one pass over the profiles.

The cost tensor ``C[i, s_1, ..., s_n]`` is flattened over the ``P`` pure profiles, and the
strategies of all players are numbered ``0 .. M-1`` (player ``i``'s strategy ``j`` is
``offsets[i] + j``). At a mixed profile ``p`` (all players' probabilities, length ``M``)
each profile ``s`` weighs player ``i``'s cost by the probability the others play ``s``:
``W_i(s) = C_i(s) prod_{m != i} p_m(s_m)``. Then

* the expected cost of strategy ``a = (i, j)`` is ``c_a = sum_{s : s_i = j} W_i(s)``, and
* its derivative in the *log*-probability of the strategy ``b = (k, l)`` of another player
  is ``d c_a / d log p_b = sum_{s : s_i = j, s_k = l} W_i(s)``: the factor ``p_b``
  removed by differentiating comes back with the logarithm, so the same weights serve.

Both are sums of the weights ``W`` over fixed index pairs, so one ``bincount`` builds the
whole ``M x M`` matrix; the leave-one-out products come from prefix and suffix products.
This is the Jacobian of the logit branch (McKelvey and Palfrey, GEB 10(1) 1995; Turocy,
GEB 51(2) 2005). The derivatives in the probabilities themselves (the Jacobian of the
Nash conditions on a support, and of the global Newton method of Govindan and Wilson,
JET 110(1) 2003) use the leave-two-out products ``prod_{m not in {i, k}} p_m(s_m)``.

:func:`support_newton` solves the Nash conditions on a support by Newton's method: how
both n-player methods turn a point near an equilibrium into one certified to rounding.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["PayoffTensor", "support_newton"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _sums(index: IntArray, weights: FloatArray, length: int) -> FloatArray:
    """``out[k] = sum of weights[index == k]``, of the given length."""
    return np.bincount(index, weights, minlength=length).astype(np.float64, copy=False)


class PayoffTensor:
    """A cost tensor flattened over pure profiles, with its index tables.

    Parameters
    ----------
    tensor
        Costs of shape ``(n_players, s_1, ..., s_n)`` (already scaled by the caller).

    Attributes
    ----------
    n, sizes, offsets, total
        Players, strategy counts, first flat index of each player, ``M = sum(sizes)``.
    values
        ``(n, P)``: cost of each player at each pure profile (C order).
    flat
        ``(n, P)``: flat index of the strategy each player uses in each profile.
    player_of
        ``(M,)``: the player of each flat strategy.
    """

    def __init__(self, tensor: FloatArray) -> None:
        self.n = int(tensor.shape[0])
        self.sizes = tuple(int(s) for s in tensor.shape[1:])
        self.offsets: IntArray = np.concatenate([[0], np.cumsum(self.sizes)]).astype(np.int64)
        self.total = int(self.offsets[-1])
        self.values: FloatArray = np.ascontiguousarray(tensor.reshape(self.n, -1), np.float64)
        grid = np.indices(self.sizes).reshape(self.n, -1).astype(np.int64)
        self.flat: IntArray = np.ascontiguousarray(grid + self.offsets[:-1, None])
        self.player_of: IntArray = np.repeat(np.arange(self.n), self.sizes).astype(np.int64)
        self._tables: tuple[IntArray, IntArray, IntArray, list[tuple[int, int]]] | None = None

    def _pair_tables(self) -> tuple[IntArray, IntArray, IntArray, list[tuple[int, int]]]:
        """Built on first use: the ``bincount`` targets of the derivative matrices (the
        pairs of distinct players ``(i, k)``, and for the log-derivatives the same pairs
        in rows of ``M + 1`` then each player's cost in the last column), the players
        whose weights feed them, and the pairs."""
        if self._tables is None:
            rows, cols = np.nonzero(~np.eye(self.n, dtype=bool))
            pairs = (self.flat[rows] * self.total + self.flat[cols]).ravel()
            wide = self.total + 1
            log_target = np.concatenate(
                [
                    (self.flat[rows] * wide + self.flat[cols]).ravel(),
                    (self.flat * wide + wide - 1).ravel(),
                ]
            )
            log_rows = np.concatenate([rows, np.arange(self.n)]).astype(np.int64)
            listed = [(int(i), int(k)) for i, k in zip(rows, cols)]
            self._tables = (pairs, log_target, log_rows, listed)
        return self._tables

    def split(self, flat: FloatArray) -> list[FloatArray]:
        """The per-player pieces of a flat vector."""
        return [flat[self.offsets[i] : self.offsets[i + 1]] for i in range(self.n)]

    def _others(self, probs: FloatArray) -> FloatArray:
        """``(n, P)``: ``prod_{m != i} p_m(s_m)`` for each player ``i`` and profile ``s``."""
        a = probs[self.flat]
        out = np.ones_like(a)
        if self.n > 1:
            out[1:] = np.cumprod(a[:-1], axis=0)
            out[:-1] *= np.cumprod(a[:0:-1], axis=0)[::-1]
        return out

    def costs(self, probs: FloatArray) -> FloatArray:
        """Expected cost of every strategy against the others' mixtures, length ``M``."""
        weights = self.values * self._others(probs)
        return _sums(self.flat.ravel(), weights.ravel(), self.total)

    def log_derivatives(self, probs: FloatArray) -> FloatArray:
        """``M x (M+1)``: ``d c_a / d log p_b`` (zero within a player's block) in the first
        ``M`` columns, the expected costs ``c_a`` in the last, from one ``bincount``."""
        _, target, rows, _ = self._pair_tables()
        weights = self.values * self._others(probs)
        m = self.total
        out = _sums(target, weights[rows].ravel(), m * (m + 1))
        return out.reshape(m, m + 1)

    def derivatives(self, probs: FloatArray) -> tuple[FloatArray, FloatArray]:
        """The expected costs and ``d c_a / d p_b`` (zero within a player's block)."""
        a = probs[self.flat]
        costs = self.costs(probs)
        m = self.total
        if self.n < 2:
            return costs, np.zeros((m, m))
        # leave-two-out products: before i, between i and k, after k (i < k)
        prefix = np.ones_like(a)
        prefix[1:] = np.cumprod(a[:-1], axis=0)
        suffix = np.ones_like(a)
        suffix[:-1] = np.cumprod(a[:0:-1], axis=0)[::-1]
        both = {}
        for i in range(self.n):
            run = prefix[i]
            for k in range(i + 1, self.n):
                both[i, k] = run * suffix[k]
                run = run * a[k]
        target, _, _, pairs = self._pair_tables()
        weights = np.stack([self.values[i] * both[min(i, k), max(i, k)] for i, k in pairs])
        jac = _sums(target, weights.ravel(), m * m)
        return costs, jac.reshape(m, m)

    def regret(self, probs: FloatArray) -> float:
        """Largest gain of a unilateral pure deviation at ``probs`` (in these units)."""
        costs = self.costs(probs)
        worst = 0.0
        for i in range(self.n):
            c, p = (
                costs[self.offsets[i] : self.offsets[i + 1]],
                probs[self.offsets[i] : self.offsets[i + 1]],
            )
            worst = max(worst, float(c @ p - c.min()))
        return worst


def support_newton(
    pt: PayoffTensor, probs: FloatArray, threshold: float, tol: float, max_iter: int = 50
) -> FloatArray | None:
    """Solve the Nash conditions on the support ``probs > threshold`` by Newton's method.

    The unknowns are the probabilities on the support and each player's equilibrium cost
    ``v_i``; the equations are ``c_a(p) = v_i`` on the support and ``sum p_i = 1``. The
    steps are least-squares solutions, so ties in degenerate games (where the conditions
    do not fix one point) do not stall it.

    Parameters
    ----------
    pt
        The game.
    probs
        A flat mixed profile near an equilibrium (e.g. a logit response at high precision).
    threshold
        Strategies above it form the support.
    tol
        Residual (in the units of ``pt``) below which Newton stops (at ``tol / 100``).
    max_iter
        Newton steps at most.

    Returns
    -------
    numpy.ndarray or None
        The flat profile found (clipped to nonnegative and renormalised), or None when a
        probability came out below ``-tol`` (the support read off was wrong) or a player's
        support is empty.
    """
    support = probs > threshold
    if np.any(np.bincount(pt.player_of[support], minlength=pt.n) == 0):
        return None
    idx = np.flatnonzero(support)
    owner = pt.player_of[idx]
    m, n = len(idx), pt.n
    p = np.where(support, probs, 0.0)
    p /= np.bincount(pt.player_of, p, minlength=n)[pt.player_of]
    costs = pt.costs(p)
    values = np.bincount(pt.player_of, costs * p, minlength=n)
    jac = np.zeros((m + n, m + n))
    jac[np.arange(m), m + owner] = -1.0
    jac[m + owner, np.arange(m)] = 1.0
    for _ in range(max_iter):
        costs, dc = pt.derivatives(p)
        res = np.concatenate(
            [costs[idx] - values[owner], np.bincount(owner, p[idx], minlength=n) - 1.0]
        )
        if float(np.max(np.abs(res))) <= 0.01 * tol:
            break
        jac[:m, :m] = dc[np.ix_(idx, idx)]
        step = np.linalg.lstsq(jac, -res, rcond=None)[0]
        p[idx] += step[:m]
        values += step[m:]
        if not np.all(np.isfinite(p)):
            return None
    if np.any(p < -tol):
        return None
    p = np.clip(p, 0.0, None)
    return p / np.bincount(pt.player_of, p, minlength=n)[pt.player_of]
