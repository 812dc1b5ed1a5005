"""One Nash equilibrium of an n-player game by the global Newton method.

Govindan and Wilson (J. Econ. Theory 110(1) 2003, "A global Newton method to compute
Nash equilibria") trace the equilibria of the perturbed games ``G + lambda b`` (player
``i``'s strategy ``j`` earns the bonus ``lambda b_ij``) from a ``lambda`` so large that one
strategy per player is strictly dominant down to ``lambda = 0``, where the path meets an
equilibrium of ``G``. They follow it in the coordinates of Kohlberg and Mertens'
structure theorem (Econometrica 54(5) 1986): ``z`` in ``R^M`` stands for the profile
``sigma = r(z)``, player by player the Euclidean projection of ``z_i`` on the simplex, and
the equilibria of ``G + lambda b`` are the zeros of

    ``H(z, lambda) = z - sigma(z) - V(sigma(z)) - lambda b``

with ``V`` the expected payoffs of the pure strategies. ``H`` is piecewise smooth: on each
cell of fixed supports ``S`` the projection is affine (``sigma_ij = z_ij - v_i`` on ``S``
with ``v_i = (sum_{S_i} z - 1) / |S_i|``, zero off it) and ``H`` is polynomial. In a cell
the path is followed by the same pseudo-arclength predictor-corrector as the logit
branch (Allgower and Georg, *Introduction to Numerical Continuation Methods*, SIAM 2003,
ch. 2 and section 6.1); where it leaves the cell (a strategy in the support reaches
probability 0, or one outside earns the support's payoff: ``z_ij - v_i`` changes sign)
the crossing is solved for exactly (Newton with that quantity set to zero), the strategy
enters or leaves the support, and the path goes on in the new cell on the side where
the switched strategy is feasible, as in a complementary pivot. Where ``lambda`` crosses
zero the profile is an equilibrium of ``G``, to rounding; the result carries its maximum
regret as the certificate (a support Newton step,
:func:`~gametheory.solvers.finite.nplayer.payoffs.support_newton`, cleans it if needed).
Should a path fail (a singular cell, a step that cannot be taken), another random ray
``b`` is tried.

Why this method beside the logit branch, and not simplicial subdivision (van der Laan,
Talman and van der Heyden, Math. Oper. Res. 12(3) 1987): the logit branch is infinitely
long (its limit is at ``lambda = infinity``) and on games where it folds back often, each
fold must be passed with short steps. The global Newton path ends at a finite point,
``lambda = 0``, exactly at the equilibrium, its cells are polynomial in the
probabilities, and its kinks are solved for rather than stepped over, so its certificate
comes from Newton's quadratic convergence at the end; it runs on the same payoff-tensor
Jacobian (:class:`~gametheory.solvers.finite.nplayer.payoffs.PayoffTensor`) as the logit
branch. A simplicial algorithm is robust but finds an approximate fixed point on a grid:
reaching a regret of ``1e-9`` needs a grid refined many times over (or the same Newton
polish from a distant start), with as many pivots per refinement as the grid's simplices
it crosses.
"""

from __future__ import annotations

import math
import time

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.nplayer.payoffs import PayoffTensor, support_newton
from gametheory.solvers.finite.results import GlobalNewtonResult

__all__ = ["GNM_CONTROL", "global_newton_equilibrium"]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Step control of the path in a cell (the units are payoffs scaled to a unit range): the
#: first and largest arclength of a step, the shortest one tried, Newton corrections per
#: step, the nominal and largest first-correction length, contraction rate and tangent
#: angle (radians), and the bend test of the chord (as for the logit branch).
GNM_CONTROL: dict[str, float] = {
    "first_step": 0.05,
    "max_step": 0.5,
    "min_step": 1e-12,
    "newton_steps": 8,
    "distance": 0.05,
    "max_distance": 0.25,
    "contraction": 0.25,
    "max_contraction": 0.6,
    "angle": 0.06,
    "max_angle": 0.4,
    "bend": 1.2,
    "bend_slack": 0.002,
}

#: The starting bonus: ``lambda_0 b`` makes the favoured strategy strictly dominant when
#: its bonus beats every other by more than the payoff range (1 after scaling).
_LAMBDA_0 = 3.0


class _Cell:
    """``H`` on the cell of the supports ``support``, its Jacobian and event quantities."""

    def __init__(self, pt: PayoffTensor, bonus: FloatArray, support: BoolArray) -> None:
        self.pt, self.bonus, self.support = pt, bonus, support.copy()
        counts = np.bincount(pt.player_of[support], minlength=pt.n).astype(np.float64)
        self.counts = counts
        m = pt.total
        same = pt.player_of[:, None] == pt.player_of[None, :]
        # d sigma / d z: (delta - 1/|S_i|) within a player's support, zero elsewhere
        inside = support[:, None] & support[None, :] & same
        self.projection = np.where(inside, np.eye(m) - 1.0 / counts[pt.player_of][:, None], 0.0)
        # d g / d z with g_a = z_a - v_i: e_a - (indicator of S_i) / |S_i|
        self.gap_rows = np.eye(m) - np.where(
            same & support[None, :], 1.0 / counts[pt.player_of][:, None], 0.0
        )

    def gaps(self, z: FloatArray) -> FloatArray:
        """``g_a = z_a - v_i``: the probability on the support, the payoff shortfall off it."""
        pt = self.pt
        totals = np.bincount(pt.player_of, np.where(self.support, z, 0.0), minlength=pt.n)
        return z - ((totals - 1.0) / self.counts)[pt.player_of]

    def sigma(self, z: FloatArray) -> FloatArray:
        return np.where(self.support, self.gaps(z), 0.0)

    def evaluate(self, y: FloatArray) -> tuple[FloatArray, FloatArray]:
        """``H`` and its ``M x (M+1)`` Jacobian at ``y = (z, lambda)``."""
        m = self.pt.total
        z, lam = y[:m], float(y[m])
        sigma = self.sigma(z)
        values, dv = self.pt.derivatives(sigma)
        h = z - sigma - values - lam * self.bonus
        jac = np.empty((m, m + 1))
        jac[:, :m] = np.eye(m) - self.projection - dv @ self.projection
        jac[:, m] = -self.bonus
        return h, jac


def _regret(pt: PayoffTensor, sigma: FloatArray) -> float:
    """Largest payoff gain of a unilateral pure deviation (``pt`` holds payoffs)."""
    values = pt.costs(sigma)
    return max(float(v.max() - v @ p) for v, p in zip(pt.split(values), pt.split(sigma)))


def _null_vector(jac: FloatArray) -> FloatArray:
    """A unit vector spanning the kernel of ``jac`` (its last right singular vector)."""
    return np.asarray(np.linalg.svd(jac)[2][-1], dtype=np.float64)


def _angle(u: FloatArray, v: FloatArray) -> float:
    return 2.0 * math.atan2(float(np.linalg.norm(u - v)), float(np.linalg.norm(u + v)))


class _Path:
    """The global Newton path of one ray ``bonus``, from its dominant start."""

    def __init__(self, pt: PayoffTensor, bonus: FloatArray, control: dict[str, float]) -> None:
        self.pt, self.control = pt, control
        favoured = np.zeros(pt.total, dtype=bool)
        for i in range(pt.n):
            lo, hi = int(pt.offsets[i]), int(pt.offsets[i + 1])
            favoured[lo + int(np.argmax(bonus[lo:hi]))] = True
        sigma = favoured.astype(np.float64)
        z = sigma + pt.costs(sigma) + _LAMBDA_0 * bonus
        self.cell = _Cell(pt, bonus, favoured)
        self.y = np.concatenate([z, [_LAMBDA_0]])
        t = _null_vector(self.cell.evaluate(self.y)[1])
        self.tangent = -t if t[-1] > 0 else t  # towards lambda = 0
        self.h_step, self.steps, self.switches = control["first_step"], 0, 0

    def _newton(
        self, y: FloatArray, border: FloatArray, offset: float
    ) -> tuple[FloatArray, FloatArray, float, float] | None:
        """Newton on ``[H; border . y + offset] = 0``: the point, its Jacobian, the first
        correction length and the contraction rate, or None."""
        sc, m = self.control, self.pt.total
        first = rate = 0.0
        matrix = np.empty((m + 1, m + 1))
        rhs = np.empty(m + 1)
        for k in range(int(sc["newton_steps"]) + 1):
            if not np.all(np.isfinite(y)):
                return None
            h, jac = self.cell.evaluate(y)
            extra = float(border @ y) + offset
            if float(np.max(np.abs(h))) <= 1e-12 and abs(extra) <= 1e-12:
                return y, jac, first, rate
            if k == int(sc["newton_steps"]):
                return None
            matrix[:m], matrix[m] = jac, border
            rhs[:m], rhs[m] = -h, -extra
            try:
                step = np.linalg.solve(matrix, rhs)
            except np.linalg.LinAlgError:
                return None
            length = float(np.linalg.norm(step))
            if k == 0:
                first = length
            elif k == 1 and first > 0:
                rate = length / first
            y = y + step
        return None

    def _events(self, y: FloatArray) -> FloatArray:
        """The signed event quantities at ``y``, positive while the cell holds: ``lambda``,
        then ``g_a`` on the support and ``-g_a`` off it."""
        gaps = self.cell.gaps(y[:-1])
        return np.concatenate([[y[-1]], np.where(self.cell.support, gaps, -gaps)])

    def _border(self, event: int) -> tuple[FloatArray, float]:
        """``(coefficients, offset)`` of event quantity ``event`` (linear in ``y``)."""
        m = self.pt.total
        row = np.zeros(m + 1)
        if event == 0:
            row[m] = 1.0
            return row, 0.0
        a = event - 1
        sign = 1.0 if self.cell.support[a] else -1.0
        row[:m] = sign * self.cell.gap_rows[a]
        owner = int(self.pt.player_of[a])
        return row, sign / float(self.cell.counts[owner])

    def _step(self) -> tuple[FloatArray, FloatArray] | None:
        """One accepted predictor-corrector step in the current cell (h adapted)."""
        sc, t = self.control, self.tangent
        while self.h_step >= sc["min_step"]:
            found = self._newton(
                self.y + self.h_step * t, t, -float(t @ (self.y + self.h_step * t))
            )
            if found is not None and found[2] <= sc["max_distance"]:
                y, jac, first, rate = found
                t_y = _null_vector(jac)
                t_y = t_y if float(t_y @ t) >= 0 else -t_y
                chord = (y - self.y) / float(np.linalg.norm(y - self.y))
                angle = _angle(t, t_y)
                bend = _angle(chord, t) + _angle(chord, t_y)
                if (
                    rate <= sc["max_contraction"]
                    and angle <= sc["max_angle"]
                    and bend <= sc["bend"] * angle + sc["bend_slack"]
                ):
                    slow = max(
                        math.sqrt(first / sc["distance"]),
                        math.sqrt(rate / sc["contraction"]),
                        angle / sc["angle"],
                    )
                    self.h_step = min(self.h_step / min(max(slow, 0.5), 2.0), sc["max_step"])
                    return y, t_y
            self.h_step /= 2
        return None

    def run(self, max_steps: int, deadline: float) -> FloatArray | None:
        """Follow the path to ``lambda = 0``: the equilibrium profile there, or None."""
        misses = 0
        while self.steps < max_steps and time.monotonic() <= deadline:
            found = self._step()
            if found is None:
                return None
            y_new, t_new = found
            self.steps += 1
            if y_new[-1] > 2 * _LAMBDA_0:
                return None  # only the start is an equilibrium up there: a jump
            if not np.any(self._events(y_new) < 0):
                self.y, self.tangent = y_new, t_new
                continue
            crossing = self._first_crossing(y_new)
            if crossing is None:
                misses += 1
                if misses > 40:
                    return None
                self.h_step /= 2  # a shorter step separates the crossings
                continue
            misses = 0
            self.y, event = crossing
            if event == 0:
                return self.cell.sigma(self.y[:-1])
            if not self._switch(event - 1):
                return None
        return None

    def _first_crossing(self, y_new: FloatArray) -> tuple[FloatArray, int] | None:
        """The point where the path from ``self.y`` towards ``y_new`` first leaves the
        cell, with the event quantity that reaches zero there, or None."""
        before, after = self._events(self.y), self._events(y_new)
        end, tried = y_new, set()
        # the chord's estimate may pick a quantity that the curved path meets second: then
        # land on the one found already negative there instead
        while True:
            crossed = np.flatnonzero(after < 0)
            ahead = np.clip(before[crossed], 0.0, None)
            fractions = np.clip(ahead / (ahead - after[crossed]), 0.0, 1.0)
            event = int(crossed[np.argmin(fractions)])
            if event in tried:
                return None
            tried.add(event)
            start = self.y + float(np.min(fractions)) * (end - self.y)
            landed = self._newton(start, *self._border(event))
            if landed is None:
                return None
            events = self._events(landed[0])
            events[event] = 0.0
            if not np.any(events < -1e-9):
                return landed[0], event
            end, after = landed[0], events

    def _switch(self, a: int) -> bool:
        """Move strategy ``a`` into or out of the support and orient the new tangent."""
        support = self.cell.support.copy()
        support[a] = not support[a]
        if not np.bincount(self.pt.player_of[support], minlength=self.pt.n).all():
            return False
        self.cell = _Cell(self.pt, self.cell.bonus, support)
        self.switches += 1
        t = _null_vector(self.cell.evaluate(self.y)[1])
        # into the new cell: the switched strategy's event quantity must grow
        slope = float(self._border(a + 1)[0] @ t)
        if abs(slope) < 1e-12:
            return False
        self.tangent = t if slope > 0 else -t
        self.h_step = max(self.h_step, self.control["first_step"])
        return True


def global_newton_equilibrium(
    game: NormalFormGame,
    *,
    tol: float = 1e-9,
    seed: int = 0,
    rays: int = 4,
    max_steps: int = 20_000,
    time_limit: float = 60.0,
) -> GlobalNewtonResult:
    """A Nash equilibrium of an n-player game by the global Newton method.

    Follows the equilibria of the games perturbed along a random ray of payoff bonuses
    from a dominant start down to the game itself (Govindan and Wilson, J. Econ. Theory
    110(1) 2003), cell by cell of the structure theorem's coordinates (Kohlberg and
    Mertens, Econometrica 54(5) 1986); see the module docstring.

    Parameters
    ----------
    game
        A finite game with any number of players (costs are minimised).
    tol
        Largest maximum regret (in the game's cost units) accepted as an equilibrium.
    seed
        Seed of the random rays: each player's bonus is 1 on one strategy (the best one
        against the uniform profile on the first ray, a random one after) and uniform on
        ``[0, 1/2)`` on the others.
    rays
        Rays tried at most, each from its own start.
    max_steps, time_limit
        Bounds on the predictor-corrector steps (all rays together) and the seconds.

    Returns
    -------
    GlobalNewtonResult
        The equilibrium, supports, expected costs, maximum regret certificate, steps,
        support changes and rays used, and the ray that reached it.

    Raises
    ------
    GameError
        If ``game`` is not a :class:`NormalFormGame` or an argument is out of range.
    """
    if not isinstance(game, NormalFormGame):
        raise GameError(f"game must be a NormalFormGame, got {type(game).__name__}")
    if not tol > 0:
        raise GameError(f"tol must be positive, got {tol!r}")
    if rays < 1 or max_steps < 1 or time_limit <= 0:
        raise GameError("rays, max_steps and time_limit must be positive")
    tensor = game.cost_tensor
    scale = float(np.ptp(tensor)) or 1.0
    # payoffs to maximise, in a unit range
    pt = PayoffTensor(np.asarray((tensor.max() - tensor) / scale, dtype=np.float64))
    rng = np.random.default_rng(seed)
    deadline = time.monotonic() + time_limit
    uniform = np.concatenate([np.full(s, 1.0 / s) for s in pt.sizes])
    first_choice = pt.costs(uniform)
    best: FloatArray | None = None
    regret, steps, switches, polished = math.inf, 0, 0, False
    bonus = np.zeros(pt.total)
    for ray in range(rays):
        bonus = rng.uniform(0.0, 0.5, pt.total)
        for i in range(pt.n):
            lo, hi = int(pt.offsets[i]), int(pt.offsets[i + 1])
            pick = np.argmax(first_choice[lo:hi]) if ray == 0 else rng.integers(hi - lo)
            bonus[lo + int(pick)] = 1.0
        path = _Path(pt, bonus, GNM_CONTROL)
        found = path.run(max_steps - steps, deadline)
        steps, switches = steps + path.steps, switches + path.switches
        if found is not None:
            found = np.clip(found, 0.0, None)
            found /= np.bincount(pt.player_of, found, minlength=pt.n)[pt.player_of]
            r, polished = _regret(pt, found) * scale, False
            if r > tol:
                cleaned = support_newton(pt, found, 1e-12, tol / scale)
                if cleaned is not None and _regret(pt, cleaned) * scale < r:
                    found, r, polished = cleaned, _regret(pt, cleaned) * scale, True
            if r < regret:
                best, regret = found, r
            if regret <= tol:
                break
        if steps >= max_steps or time.monotonic() > deadline:
            break
    rays_used = ray + 1
    if best is None:
        best = uniform
    strategies = tuple(np.array(p) for p in pt.split(best))
    regret = game.mixed_max_regret(strategies)
    costs = game.expected_costs(strategies)
    return GlobalNewtonResult(
        strategies=strategies,
        supports=tuple(tuple(int(j) for j in np.flatnonzero(p > 0)) for p in strategies),
        costs=costs,
        social_cost=float(costs.sum()),
        max_regret=regret,
        converged=bool(regret <= tol),
        iterations=steps,
        support_changes=switches,
        rays=rays_used,
        perturbation=tuple(np.array(p) for p in pt.split(bonus)),
        method="global-newton" + ("+support-newton" if polished else ""),
    )
