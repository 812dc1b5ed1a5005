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
Numerical Continuation Methods*, SIAM 2003, ch. 2): an Euler predictor along the tangent
(the kernel of the Jacobian, solved for against the previous tangent) and Newton
correctors on the augmented system. The step length adapts as in Allgower and Georg,
section 6.1: from the length of the first Newton correction, the contraction rate of the
second and the angle between successive tangents, each against a nominal value, growing
by at most 2 and shrinking by at least 2 per step; a step past a largest value is redone
at half the length. Three guards keep the trace on the principal branch, where a large
step can land on a nearby branch and still look smooth: the branch never returns to
``lambda < 0`` (only the uniform profile is a QRE at ``lambda = 0``), so such a step is
redone; the chord of a step must make angles with the two tangents that add up to their
own angle, as on a smooth arc (``bend``); and below ``lambda = 100`` the arclength of a
step is at most a tenth of ``1 + lambda``, where folds of the branch are short. Past it
the branch is nearly straight in ``(w, lambda)`` (``w_ij ~ -lambda (C_ij - C_i*)`` off
the support) and the steps grow freely. A trace that ends without a certified
equilibrium is redone with steps and angles :data:`CAREFUL` times smaller. On 8,000
random games (2 to 4 players, 2 to 6 strategies, integer and Gaussian payoffs) these
settings end where a trace with 16 times shorter steps ends.

The Jacobian comes from one pass over the pure profiles
(:class:`~gametheory.solvers.finite.nplayer.payoffs.PayoffTensor`): the derivative of an
expected cost in another player's log-probability is a sum of the same weights as the
cost itself. With Numba installed the whole continuation runs compiled
(:mod:`gametheory.solvers.finite.nplayer.compiled_logit`), the same algorithm as the
NumPy loop here (the two differ by rounding only, which can change a step's length far
out on the branch but not the equilibrium). Costs are first scaled to a unit range so
that ``lambda`` is dimensionless.
Once the off-support probabilities are negligible, the support is read off and the Nash
conditions on it are solved by Newton's method
(:func:`~gametheory.solvers.finite.nplayer.payoffs.support_newton`); the result carries
the maximum regret as its certificate and says ``converged`` only when that regret is at
most ``tol``.
"""

from __future__ import annotations

import math
import time

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.common.compiled import Kernel, use_compiled
from gametheory.solvers.finite.nplayer.payoffs import PayoffTensor, support_newton
from gametheory.solvers.finite.results import LogitEquilibriumResult

__all__ = ["STEP_CONTROL", "logit_equilibrium"]

FloatArray = NDArray[np.float64]

#: Step control of the continuation, shared with the compiled loop: the first step's
#: arclength, the shortest step tried, Newton corrections per step; the nominal and
#: largest first-correction length, contraction rate and tangent angle (radians); the
#: bend test (the chord's angles to both tangents at most ``bend`` times theirs plus
#: ``bend_slack``); and the cap ``max_step * (1 + lambda)`` on a step's arclength while
#: ``lambda < capped_until``.
STEP_CONTROL: dict[str, float] = {
    "first_step": 0.05,
    "min_step": 1e-10,
    "newton_steps": 8,
    "distance": 0.2,
    "max_distance": 1.0,
    "contraction": 0.25,
    "max_contraction": 0.6,
    "angle": 0.06,
    "max_angle": 0.4,
    "bend": 1.2,
    "bend_slack": 0.002,
    "max_step": 0.1,
    "capped_until": 100.0,
}

#: How many times shorter the steps are when a trace is redone.
CAREFUL = 4.0

#: Outcome of :meth:`_Trace.run` (and of the compiled loop).
REACHED, BUDGET, FAILED, CERTIFIED = 0, 1, 2, 3


class _Branch:
    """``H(w, lambda)`` and its Jacobian by NumPy (equations in the compiled loop's order:
    the differences ``w_ij - w_i0 + lambda (C_ij - C_i0)``, then one sum per player)."""

    def __init__(self, pt: PayoffTensor) -> None:
        self.pt = pt
        m, n = pt.total, pt.n
        own = np.concatenate([np.arange(pt.offsets[i] + 1, pt.offsets[i + 1]) for i in range(n)])
        # rows of the differences: e_own - e_base, as a matrix on the M + 1 columns
        self.differences = np.zeros((m - n, m + 1))
        self.differences[np.arange(m - n), own] = 1.0
        self.differences[np.arange(m - n), pt.offsets[pt.player_of[own]]] = -1.0
        self.players = np.zeros((n, m))
        self.players[pt.player_of, np.arange(m)] = 1.0
        self.scaling = np.ones(m + 1)

    def evaluate(self, z: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """``H``, its Jacobian, the probabilities and the expected costs at ``z = (w,
        lambda)``; the Jacobian is the first ``M`` rows of an ``(M+1) x (M+1)`` array whose
        last row is left for the border of the bordered systems."""
        pt, m, n = self.pt, self.pt.total, self.pt.n
        lam = float(z[m])
        with np.errstate(over="ignore"):
            probs = np.exp(z[:m])
        wide = pt.log_derivatives(probs)  # [d c / d log p | c]
        top = self.differences[:, :m] @ wide  # the differences of both, own - base
        self.scaling[:m] = lam
        h = np.empty(m)
        h[: m - n] = self.differences @ z + lam * top[:, m]
        h[m - n :] = self.players @ probs - 1.0
        jac = np.empty((m + 1, m + 1))
        jac[: m - n] = top * self.scaling + self.differences  # last column: c_own - c_base
        jac[m - n : m, :m] = self.players * probs
        jac[m - n : m, m] = 0.0
        return h, jac, probs, wide[:, m]

    def regret(self, probs: FloatArray, costs: FloatArray) -> float:
        """The largest gain of a unilateral deviation, from the expected costs."""
        pt = self.pt
        expected = np.bincount(pt.player_of, probs * costs, minlength=pt.n)
        return float(np.max(expected - np.minimum.reduceat(costs, pt.offsets[:-1])))


def _converged(h: FloatArray, lam: float, n: int) -> bool:
    """Whether a corrector residual is small enough: ``1e-11`` on the sums of
    probabilities, ``1e-11 (1 + lambda / 1000)`` on the differences of log-probabilities
    (whose terms grow with ``lambda``)."""
    diffs, sums = h[: len(h) - n], h[len(h) - n :]
    limit = 1e-11 * (1.0 + abs(lam) / 1000.0)
    return bool(np.all(np.abs(diffs) <= limit) and np.all(np.abs(sums) <= 1e-11))


def _angle(u: FloatArray, v: FloatArray) -> float:
    """The angle between unit vectors, accurate when it is small."""
    return 2.0 * math.atan2(float(np.linalg.norm(u - v)), float(np.linalg.norm(u + v)))


def _tangent(jac: FloatArray, previous: FloatArray) -> FloatArray | None:
    """The unit kernel vector of the Jacobian ``jac[:M]`` on the side of ``previous`` (put
    in ``jac``'s last row), or None if singular."""
    rhs = np.zeros(jac.shape[1])
    rhs[-1] = 1.0
    jac[-1] = previous
    try:
        t = np.linalg.solve(jac, rhs)
    except np.linalg.LinAlgError:
        return None
    norm = float(np.linalg.norm(t))
    return np.asarray(t / norm, np.float64) if math.isfinite(norm) and norm > 0 else None


class _Trace:
    """Pseudo-arclength continuation of ``H(w, lambda) = 0`` from ``z`` (NumPy loop)."""

    def __init__(self, branch: _Branch, z: FloatArray, control: dict[str, float]) -> None:
        self.branch, self.z, self.control = branch, z, control
        self.probs = np.exp(z[:-1])
        self.h_step, self.steps = control["first_step"], 0
        start = np.zeros(len(z))
        start[-1] = 1.0
        tangent = _tangent(branch.evaluate(z)[1], start)
        if tangent is None:
            raise GameError("the logit branch has no tangent at the uniform profile")
        self.tangent = tangent

    def _correct(
        self, y: FloatArray, t: FloatArray
    ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, float, float] | None:
        """Newton on ``[H; t . (y - y0)] = 0``: the point, its Jacobian, probabilities,
        expected costs, first correction length and contraction rate, or None (a step to
        redo)."""
        sc = self.control
        first = rate = 0.0
        rhs = np.zeros(len(y))
        k = 0
        while True:
            if not np.all(np.isfinite(y)) or float(np.max(y[:-1])) > 1.0:
                return None
            h, jac, probs, costs = self.branch.evaluate(y)
            if _converged(h, float(y[-1]), self.branch.pt.n):
                return y, jac, probs, costs, first, rate
            if k == int(sc["newton_steps"]):
                return None
            rhs[:-1] = -h
            jac[-1] = t
            try:
                step = np.linalg.solve(jac, rhs)
            except np.linalg.LinAlgError:
                return None
            length = float(np.linalg.norm(step))
            if k == 0:
                first = length
                if first > sc["max_distance"]:
                    return None
            elif k == 1:
                rate = length / first
                if rate > sc["max_contraction"]:
                    return None
            y = y + step
            k += 1

    def run(self, target: float, max_steps: int, deadline: float, certified: float) -> int:
        """Follow the branch until ``lambda >= target``: REACHED, CERTIFIED (a point of the
        branch has a maximum regret of at most ``certified``), BUDGET (steps or time ran
        out) or FAILED (a step could not be taken)."""
        sc = self.control
        while self.z[-1] < target:
            if self.steps >= max_steps or time.monotonic() > deadline:
                return BUDGET
            t = self.tangent
            while True:
                if self.h_step < sc["min_step"]:
                    return FAILED
                point = self._correct(self.z + self.h_step * t, t)
                if point is not None and point[0][-1] >= 0.0:
                    t_y = _tangent(point[1], t)
                    if t_y is not None:
                        angle = _angle(t, t_y)
                        chord = point[0] - self.z
                        chord /= float(np.linalg.norm(chord))
                        bend = _angle(chord, t) + _angle(chord, t_y)
                        if angle <= sc["max_angle"] and bend <= (
                            sc["bend"] * angle + sc["bend_slack"]
                        ):
                            break
                self.h_step /= 2
            first, rate = point[4], point[5]
            self.z, self.tangent, self.probs = point[0], t_y, point[2]
            self.steps += 1
            if self.branch.regret(point[2], point[3]) <= certified:
                return CERTIFIED
            slow = max(
                math.sqrt(first / sc["distance"]),
                math.sqrt(rate / sc["contraction"]),
                angle / sc["angle"],
            )
            self.h_step /= min(max(slow, 0.5), 2.0)
            if self.z[-1] < sc["capped_until"]:
                self.h_step = min(self.h_step, sc["max_step"] * (1.0 + float(self.z[-1])))
        return REACHED


class _CompiledTrace(_Trace):
    """The same continuation, each call of :meth:`run` one compiled loop per chunk."""

    def __init__(self, branch: _Branch, z: FloatArray, control: dict[str, float]) -> None:
        from gametheory.solvers.finite.nplayer import compiled_logit

        self._kernel = compiled_logit
        self.branch, self.z, self.control = branch, z.copy(), control
        pt = branch.pt
        self._tables = (pt.values, pt.flat, pt.player_of, pt.offsets)
        self._control = np.array([control[k] for k in compiled_logit.CONTROL_KEYS])
        self.h_step, self.steps = control["first_step"], 0
        self.tangent = np.zeros(len(z))
        if not compiled_logit.start_tangent(*self._tables, self.z, self.tangent):
            raise GameError("the logit branch has no tangent at the uniform profile")
        self.probs = np.exp(self.z[:-1])

    def run(self, target: float, max_steps: int, deadline: float, certified: float) -> int:
        while True:
            if self.steps >= max_steps or time.monotonic() > deadline:
                return BUDGET
            chunk = min(max_steps - self.steps, 32)
            status, steps, self.h_step = self._kernel.trace(
                *self._tables,
                self.z,
                self.tangent,
                self.h_step,
                target,
                chunk,
                self._control,
                certified,
            )
            self.steps += steps
            self.probs = np.exp(self.z[:-1])
            if status != BUDGET:
                return int(status)


def logit_equilibrium(
    game: NormalFormGame,
    *,
    lambda_max: float = 1e4,
    tol: float = 1e-9,
    max_steps: int = 20_000,
    time_limit: float = 60.0,
    kernel: Kernel = "auto",
) -> LogitEquilibriumResult:
    """A Nash equilibrium of an n-player game: the limit of the principal logit branch.

    Follows the branch of logit quantal response equilibria from the uniform profile
    (McKelvey and Palfrey, GEB 10(1) 1995; Turocy, GEB 51(2) 2005) by pseudo-arclength
    continuation with Allgower and Georg's step adaptation, reads the support off at high
    precision and solves the Nash conditions on it.

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
    kernel
        ``"auto"`` (the compiled continuation when Numba is installed), ``"numba"`` or
        ``"numpy"`` (:func:`~gametheory.solvers.common.compiled.use_compiled`); both
        run the same algorithm and end at the same equilibrium.

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
    tracer = _CompiledTrace if use_compiled(kernel) else _Trace
    tensor = game.cost_tensor
    low = float(tensor.min())
    scale = float(tensor.max()) - low or 1.0
    pt = PayoffTensor(np.asarray((tensor - low) / scale, dtype=np.float64))
    uniform = np.concatenate([np.full(s, 1.0 / s) for s in pt.sizes])
    best, regret, polished, steps, lam = uniform, pt.regret(uniform) * scale, False, 0, 0.0
    careful = 1.0
    if regret > 0.5 * tol:  # else the uniform profile is an equilibrium (the branch's start)
        start = np.concatenate([np.log(uniform), [0.0]])
        deadline = time.monotonic() + time_limit
        # A step that jumped to another branch can leave the trace stuck or at a profile
        # that is no equilibrium: then retrace with steps and angles CAREFUL times smaller.
        for careful in (1.0, CAREFUL):
            trace = tracer(_Branch(pt), start, _control(careful))
            found = _follow(pt, trace, scale, tol, lambda_max, max_steps - steps, deadline)
            steps += trace.steps
            if found[1] < regret:
                best, regret, polished = found
                lam = float(trace.z[-1])
            if regret <= tol or steps >= max_steps or time.monotonic() > deadline:
                break
    strategies = tuple(np.array(p) for p in pt.split(best))
    regret = game.mixed_max_regret(strategies)  # the certificate, from the game itself
    expected = np.bincount(pt.player_of, best * pt.costs(best), minlength=pt.n)
    costs = np.asarray(scale * expected + low, dtype=np.float64)
    return LogitEquilibriumResult(
        strategies=strategies,
        supports=tuple(tuple(int(j) for j in np.flatnonzero(p > 0)) for p in strategies),
        costs=costs,
        social_cost=float(costs.sum()),
        max_regret=regret,
        lambda_reached=lam,
        converged=bool(regret <= tol),
        iterations=steps,
        method="logit-homotopy"
        + ("+support-newton" if polished else "")
        + (f" (retraced, steps / {CAREFUL:g})" if careful > 1 else ""),
    )


def _control(careful: float) -> dict[str, float]:
    """:data:`STEP_CONTROL` with the step lengths, distances and angles ``careful`` times
    smaller."""
    control = dict(STEP_CONTROL)
    for key in ("first_step", "distance", "max_distance", "angle", "max_angle", "bend_slack"):
        control[key] /= careful
    return control


def _follow(
    pt: PayoffTensor,
    trace: _Trace,
    scale: float,
    tol: float,
    lambda_max: float,
    max_steps: int,
    deadline: float,
) -> tuple[FloatArray, float, bool]:
    """Trace to the target precision and solve the Nash conditions on the support read
    off there; a near-indifferent strategy can still carry visible probability, so on
    failure go on tracing to a ten times higher precision (up to ``10^4 lambda_max``).
    The branch itself may get there first (at a dominant-strategy equilibrium, say).

    Returns the best flat profile found, its maximum regret (in the game's units, from
    the scaled game ``pt`` whose costs are the game's divided by ``scale``) and whether it
    came from the support Newton step.
    """
    best, regret, polished, target = trace.probs, math.inf, False, lambda_max
    certified = 0.5 * tol / scale
    while regret > tol and target <= 1e4 * lambda_max and max_steps > 0:
        status = trace.run(target, max_steps, deadline, certified)
        at_branch = pt.regret(trace.probs) * scale
        if at_branch < regret or not polished:
            best, regret, polished = trace.probs, at_branch, False
        if status not in (REACHED, CERTIFIED):
            break
        for threshold in (1e-6, 1e-4, 1e-3, 1e-2):
            candidate = support_newton(pt, trace.probs, threshold, tol / scale)
            if candidate is not None and (r := pt.regret(candidate) * scale) < regret:
                best, regret, polished = candidate, r, True
            if regret <= tol:
                break
        target *= 10
    return best, regret, polished
