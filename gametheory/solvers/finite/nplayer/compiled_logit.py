"""Compiled continuation of the logit branch: the predictor-corrector loop in one call.

Imported only when Numba is installed (:mod:`gametheory.solvers.common.compiled`). The
same homotopy ``H(w, lambda)`` (McKelvey and Palfrey, GEB 10(1) 1995; Turocy, GEB 51(2)
2005), the same equations in the same order, the same Euler predictor, Newton
corrector and step adaptation (Allgower and Georg, *Introduction to Numerical
Continuation Methods*, SIAM 2003, sections 2.2 and 6.1) as the NumPy loop of
:mod:`gametheory.solvers.finite.nplayer.logit`, as scalar loops: the expected costs and
their log-derivatives are accumulated in one pass over the pure profiles (with the
leave-one-out products of the others' probabilities from a prefix and a suffix product),
and the bordered systems are solved by Gaussian elimination with partial pivoting in
place, without a temporary per step.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from gametheory.solvers.common.compiled import jit

__all__ = ["CONTROL_KEYS", "start_tangent", "trace"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: The order of the step-control values passed to :func:`trace`.
CONTROL_KEYS = (
    "min_step",
    "newton_steps",
    "distance",
    "max_distance",
    "contraction",
    "max_contraction",
    "angle",
    "max_angle",
    "bend",
    "bend_slack",
    "max_step",
    "capped_until",
)


@jit
def _evaluate(
    values: FloatArray,
    flat: IntArray,
    player_of: IntArray,
    offsets: IntArray,
    z: FloatArray,
    h: FloatArray,
    jac: FloatArray,
    probs: FloatArray,
    costs: FloatArray,
    dc: FloatArray,
    others: FloatArray,
) -> None:
    """``H`` into ``h`` and its Jacobian into ``jac[:M]`` at ``z`` (and ``probs``)."""
    n, n_profiles = flat.shape
    m = z.size - 1
    lam = z[m]
    for a in range(m):
        probs[a] = math.exp(z[a])
        costs[a] = 0.0
        for b in range(m):
            dc[a, b] = 0.0
    for q in range(n_profiles):
        run = 1.0
        for i in range(n):
            others[i] = run
            run *= probs[flat[i, q]]
        run = 1.0
        for i in range(n - 1, -1, -1):
            others[i] *= run
            run *= probs[flat[i, q]]
        for i in range(n):
            weight = values[i, q] * others[i]
            a = flat[i, q]
            costs[a] += weight
            for k in range(n):
                if k != i:
                    dc[a, flat[k, q]] += weight
    for r in range(m):
        for c in range(m + 1):
            jac[r, c] = 0.0
    row = 0
    for i in range(n):
        base = offsets[i]
        for a in range(base + 1, offsets[i + 1]):
            h[row] = z[a] - z[base] + lam * (costs[a] - costs[base])
            for c in range(m):
                jac[row, c] = lam * (dc[a, c] - dc[base, c])
            jac[row, a] += 1.0
            jac[row, base] -= 1.0
            jac[row, m] = costs[a] - costs[base]
            row += 1
    for i in range(n):
        h[m - n + i] = -1.0
    for a in range(m):
        h[m - n + player_of[a]] += probs[a]
        jac[m - n + player_of[a], a] = probs[a]


@jit
def _solve(a: FloatArray, b: FloatArray) -> bool:
    """Solve ``a x = b`` in place (``b`` becomes ``x``); False if ``a`` is singular."""
    size = b.size
    for col in range(size):
        pivot, best = col, abs(a[col, col])
        for r in range(col + 1, size):
            if abs(a[r, col]) > best:
                pivot, best = r, abs(a[r, col])
        if best == 0.0 or not math.isfinite(best):
            return False
        if pivot != col:
            for c in range(col, size):
                a[col, c], a[pivot, c] = a[pivot, c], a[col, c]
            b[col], b[pivot] = b[pivot], b[col]
        for r in range(col + 1, size):
            f = a[r, col] / a[col, col]
            if f != 0.0:
                for c in range(col + 1, size):
                    a[r, c] -= f * a[col, c]
                b[r] -= f * b[col]
    for r in range(size - 1, -1, -1):
        s = b[r]
        for c in range(r + 1, size):
            s -= a[r, c] * b[c]
        b[r] = s / a[r, r]
    return True


@jit
def _tangent(jac: FloatArray, previous: FloatArray, out: FloatArray, work: FloatArray) -> bool:
    """The unit kernel vector of ``jac[:M]`` on the side of ``previous``, into ``out``."""
    m = previous.size - 1
    for r in range(m):
        for c in range(m + 1):
            work[r, c] = jac[r, c]
    for c in range(m + 1):
        work[m, c] = previous[c]
        out[c] = 0.0
    out[m] = 1.0
    if not _solve(work, out):
        return False
    norm = 0.0
    for c in range(m + 1):
        norm += out[c] * out[c]
    norm = math.sqrt(norm)
    if not (norm > 0.0 and math.isfinite(norm)):
        return False
    for c in range(m + 1):
        out[c] /= norm
    return True


@jit
def _angle(u: FloatArray, v: FloatArray) -> float:
    """The angle between unit vectors, accurate when it is small."""
    diff = total = 0.0
    for c in range(u.size):
        diff += (u[c] - v[c]) ** 2
        total += (u[c] + v[c]) ** 2
    return 2.0 * math.atan2(math.sqrt(diff), math.sqrt(total))


@jit
def _regret(probs: FloatArray, costs: FloatArray, offsets: IntArray) -> float:
    """The largest gain of a unilateral deviation, from the expected costs."""
    worst = 0.0
    for i in range(offsets.size - 1):
        expected, least = 0.0, np.inf
        for a in range(offsets[i], offsets[i + 1]):
            expected += probs[a] * costs[a]
            least = min(least, costs[a])
        worst = max(worst, expected - least)
    return worst


@jit
def _converged(h: FloatArray, lam: float, n: int) -> bool:
    m = h.size
    limit = 1e-11 * (1.0 + abs(lam) / 1000.0)
    ok = True
    for r in range(m):
        # written so that a NaN residual is not converged
        if not abs(h[r]) <= (limit if r < m - n else 1e-11):
            ok = False
    return ok


@jit
def start_tangent(
    values: FloatArray,
    flat: IntArray,
    player_of: IntArray,
    offsets: IntArray,
    z: FloatArray,
    out: FloatArray,
) -> bool:
    """The tangent at ``z`` on the side of growing ``lambda``, into ``out``."""
    m = z.size - 1
    n = flat.shape[0]
    h, probs, costs = np.empty(m), np.empty(m), np.empty(m)
    jac, work = np.empty((m + 1, m + 1)), np.empty((m + 1, m + 1))
    start = np.zeros(m + 1)
    start[m] = 1.0
    dc, others = np.empty((m, m)), np.empty(n)
    _evaluate(values, flat, player_of, offsets, z, h, jac, probs, costs, dc, others)
    return _tangent(jac, start, out, work)


@jit
def trace(
    values: FloatArray,
    flat: IntArray,
    player_of: IntArray,
    offsets: IntArray,
    z: FloatArray,
    tangent: FloatArray,
    h_step: float,
    target: float,
    max_steps: int,
    control: FloatArray,
    certified: float,
) -> tuple[int, int, float]:
    """Follow the branch from ``z`` (updated in place, with ``tangent``) until ``lambda >=
    target``, a point with a maximum regret of at most ``certified``, or ``max_steps``
    steps: ``(status, steps taken, next step length)`` with status 0 (target reached),
    1 (step budget used), 2 (a step could not be taken) or 3 (certified)."""
    min_step, newton_steps = control[0], int(control[1])
    distance, max_distance = control[2], control[3]
    contraction, max_contraction = control[4], control[5]
    angle_nominal, max_angle = control[6], control[7]
    bend, bend_slack = control[8], control[9]
    max_step, capped_until = control[10], control[11]
    m = z.size - 1
    n = flat.shape[0]
    h, probs, costs = np.empty(m), np.empty(m), np.empty(m)
    dc, others = np.empty((m, m)), np.empty(n)
    jac, work = np.empty((m + 1, m + 1)), np.empty((m + 1, m + 1))
    y, step, t_y, chord = np.empty(m + 1), np.empty(m + 1), np.empty(m + 1), np.empty(m + 1)
    steps = 0
    while z[m] < target:
        if steps >= max_steps:
            return 1, steps, h_step
        while True:
            if h_step < min_step:
                return 2, steps, h_step
            for c in range(m + 1):
                y[c] = z[c] + h_step * tangent[c]
            # Newton on [H; t . (y - y0)] = 0
            ok, first, rate, k = False, 0.0, 0.0, 0
            while True:
                finite, top = True, -np.inf
                for c in range(m + 1):
                    if not math.isfinite(y[c]):
                        finite = False
                for c in range(m):
                    top = max(top, y[c])
                if not finite or top > 1.0:
                    break
                _evaluate(values, flat, player_of, offsets, y, h, jac, probs, costs, dc, others)
                if _converged(h, y[m], n):
                    ok = True
                    break
                if k == newton_steps:
                    break
                for r in range(m):
                    for c in range(m + 1):
                        work[r, c] = jac[r, c]
                    step[r] = -h[r]
                for c in range(m + 1):
                    work[m, c] = tangent[c]
                step[m] = 0.0
                if not _solve(work, step):
                    break
                length = 0.0
                for c in range(m + 1):
                    length += step[c] * step[c]
                length = math.sqrt(length)
                if k == 0:
                    first = length
                    if first > max_distance:
                        break
                elif k == 1:
                    rate = length / first
                    if rate > max_contraction:
                        break
                for c in range(m + 1):
                    y[c] += step[c]
                k += 1
            angle = 0.0
            if ok and y[m] >= 0.0 and _tangent(jac, tangent, t_y, work):
                angle = _angle(tangent, t_y)
                norm = 0.0
                for c in range(m + 1):
                    chord[c] = y[c] - z[c]
                    norm += chord[c] * chord[c]
                norm = math.sqrt(norm)
                for c in range(m + 1):
                    chord[c] /= norm
                turn = _angle(chord, tangent) + _angle(chord, t_y)
                if angle <= max_angle and turn <= bend * angle + bend_slack:
                    break
            h_step /= 2
        for c in range(m + 1):
            z[c] = y[c]
            tangent[c] = t_y[c]
        steps += 1
        if _regret(probs, costs, offsets) <= certified:
            return 3, steps, h_step
        slow = max(
            math.sqrt(first / distance), math.sqrt(rate / contraction), angle / angle_nominal
        )
        h_step /= min(max(slow, 0.5), 2.0)
        if z[m] < capped_until:
            h_step = min(h_step, max_step * (1.0 + z[m]))
    return 0, steps, h_step
