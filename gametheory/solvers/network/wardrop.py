"""Wardrop equilibria and system optima of nonatomic routing games.

A Wardrop equilibrium (Wardrop, Proc. ICE 1(3) 1952) minimises the Beckmann potential
``sum_e int_0^{x_e} c_e`` over feasible link flows (Beckmann, McGuire and Winsten 1956);
the system optimum minimises the total latency ``sum_e x_e c_e(x_e)`` and is the Wardrop
equilibrium of the marginal costs ``c_e + x c_e'``. Both are convex programs over the
multicommodity flow polytope, solved here by

``fw``
    Frank-Wolfe (LeBlanc, Morlok and Pierskalla, Transportation Research 9(5) 1975): the
    all-or-nothing flow ``y`` on current shortest paths is the linear minimiser, and the
    step towards it is an exact line search on the potential.
``cfw``
    Conjugate Frank-Wolfe (Mitradjieva and Lindberg, "The stiff is moving", Transportation
    Science 47(2) 2013): the direction ``s = alpha s_prev + (1 - alpha) y`` is made conjugate to the
    previous one with respect to the Hessian ``diag(t'(x))``, ``alpha`` clipped to
    ``[0, 1 - 1e-5]``.
``bfw``
    Bi-conjugate Frank-Wolfe (same paper), the algorithm AequilibraE calls ``bfw``:
    ``s = b0 y + b1 s_prev + b2 s_prevprev`` conjugate to the last two directions. As in
    AequilibraE, a step of length 1 or a direction that is not a descent direction
    restarts the sequence with a plain Frank-Wolfe step, then a conjugate one.
``msa``
    The method of successive averages, step ``1 / (k + 1)`` (Sheffi, *Urban Transportation
    Networks*, 1985), halved while it would leave the finite-cost region.
``convex``
    The Beckmann (or total-latency) program in node-link form, one commodity per origin,
    solved by cvxpy (Clarabel); for small networks, as a cross-check.

Every result carries the relative gap of traffic-assignment practice (THEORY.md section
1; Boyce, Ralevic-Dekic and Bar-Gera, J. Transp. Eng. 130(1) 2004)::

    gap(x) = (t(x) . x - t(x) . y) / t(x) . x,    y = all-or-nothing flow at t(x),

with ``t`` the latencies (equilibrium) or marginal costs (optimum). It is 0 exactly at the
solution and bounds the potential's suboptimality: ``Phi(x) - Phi* <= gap * t.x``.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError, SolverError
from gametheory.games.network.routing import RoutingGame
from gametheory.results import PoAResult
from gametheory.solvers.common.compiled import Kernel
from gametheory.solvers.network.line_search import exact_line_search
from gametheory.solvers.network.results import FlowResult
from gametheory.solvers.network.shortest_paths import AllOrNothing, Assignment, PathSet
from gametheory.solvers.network.wardrop_convex import beckmann_program

__all__ = [
    "EXACT_GAP",
    "METHODS",
    "Method",
    "routing_price_of_anarchy",
    "system_optimum",
    "wardrop_equilibrium",
]

FloatArray = NDArray[np.float64]
Method = Literal["bfw", "cfw", "fw", "msa", "convex"]
Objective = Literal["equilibrium", "optimum"]

#: The algorithms accepted by :func:`wardrop_equilibrium` and :func:`system_optimum`.
METHODS: tuple[str, ...] = ("bfw", "cfw", "fw", "msa", "convex")
#: Relative gap at or below which :func:`routing_price_of_anarchy` calls its ratio exact.
EXACT_GAP = 1e-8
#: Largest conjugate weight (AequilibraE's ``conjugate_direction_max``): alpha = 1 stalls.
_ALPHA_MAX = 1.0 - 1e-5
#: Largest number of positive OD pairs for which path flows are tracked by default.
_AUTO_PATHS_MAX_OD = 2000
#: Clarabel tolerances, tighter than its defaults (1e-8); interior points approach a
#: degenerate boundary solution (Pigou) only to about the square root of these.
_CLARABEL_TOLERANCES = {
    "tol_gap_abs": 1e-10,
    "tol_gap_rel": 1e-10,
    "tol_feas": 1e-10,
    "max_iter": 400,
}
_LAST_STAGE = {"fw": 0, "msa": 0, "cfw": 1, "bfw": 2}


class _Potential:
    """The cost ``t`` whose Wardrop flow is sought and its derivative.

    Flows are clipped at 0 first: line searches may leave ``-1e-17`` on an unused edge.
    """

    def __init__(self, game: RoutingGame, objective: Objective) -> None:
        self.game = game
        self.objective = objective
        self.costs = game.edge_costs

    def t(self, x: FloatArray) -> FloatArray:
        x = np.maximum(x, 0.0)
        if self.objective == "equilibrium":
            return self.costs.value(x)
        return self.costs.marginal(x)

    def hessian(self, x: FloatArray) -> FloatArray:
        """Diagonal of the potential's Hessian, ``t'(x)`` (finite differences for optima)."""
        x = np.maximum(x, 0.0)
        d = self.costs.derivative(x)
        if self.objective == "equilibrium":
            return d
        h = 1e-6 * (1.0 + x)
        with np.errstate(invalid="ignore"):
            fd = (self.costs.marginal(x + h) - self.costs.marginal(x)) / h
        return np.where(np.isfinite(fd), fd, 2.0 * d)


def _check_args(game: RoutingGame, method: str, rgap: float, max_iter: int) -> None:
    if not isinstance(game, RoutingGame):
        raise GameError(f"game must be a RoutingGame, got {type(game).__name__}")
    if method not in METHODS:
        raise GameError(f"method must be one of {METHODS}, got {method!r}")
    if not (isinstance(rgap, (int, float)) and 0 <= rgap < 1):
        raise GameError(f"rgap must be a number in [0, 1), got {rgap!r}")
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise GameError(f"max_iter must be a nonnegative integer, got {max_iter!r}")


def wardrop_equilibrium(
    game: RoutingGame,
    method: Method = "bfw",
    rgap: float = 1e-4,
    max_iter: int = 1000,
    track_paths: bool | None = None,
    *,
    workers: int = 1,
    kernel: Kernel = "auto",
) -> FlowResult:
    """Wardrop equilibrium of a nonatomic routing game.

    Parameters
    ----------
    game
        The routing game.
    method
        ``"bfw"`` (default), ``"cfw"``, ``"fw"``, ``"msa"`` or ``"convex"`` (see the module
        docstring for the algorithms and their sources).
    rgap
        Target relative gap; iterations stop as soon as the current flow reaches it.
    max_iter
        Largest number of steps (iterative methods).
    track_paths
        Keep path flows alongside link flows (iterative methods). Default: when the game
        has at most 2,000 OD pairs with positive demand. Unavailable (None in the result)
        when the start is not an all-or-nothing flow (demand saturating M/M/1 links).
    workers
        Threads (compiled kernel) or processes (NumPy kernel) for the shortest-path trees
        of each all-or-nothing step (1: this thread). On city networks the trees take
        most of an iteration, so more workers (up to the cores) cut the time per
        iteration; starting processes costs about a second, threads nothing.
    kernel
        ``"auto"`` (default: the compiled Dijkstra-and-loading loop when Numba is
        installed, the ``fast`` extra), ``"numba"`` or ``"numpy"`` (SciPy's Dijkstra and
        vectorised loading); the same flows up to ties between equal-cost paths.

    Returns
    -------
    FlowResult
        Link flows, costs, total cost, Beckmann value, the relative gap of the returned
        flow, the gap history, iterations, whether ``rgap`` was reached, and path flows
        ``{(origin, destination): {path: flow}}`` (a path is a tuple of edges as in
        ``game.edges``) when tracked.

    Raises
    ------
    GameError
        On a bad argument (unknown method, rgap outside [0, 1)), or costs the convex method
        cannot express.
    SolverError
        If cvxpy does not report an optimal status.
    """
    _check_args(game, method, rgap, max_iter)
    return _solve(game, "equilibrium", method, rgap, max_iter, track_paths, workers, kernel)


def system_optimum(
    game: RoutingGame,
    method: Method = "bfw",
    rgap: float = 1e-4,
    max_iter: int = 1000,
    track_paths: bool | None = None,
    *,
    workers: int = 1,
    kernel: Kernel = "auto",
) -> FlowResult:
    """System optimum (minimum total latency) of a nonatomic routing game.

    The same algorithms as :func:`wardrop_equilibrium`, run on the marginal costs
    ``c_e(x) + x c_e'(x)``, whose Wardrop equilibrium minimises ``sum_e x_e c_e(x_e)``
    (Beckmann, McGuire and Winsten 1956; Roughgarden and Tardos, JACM 49(2) 2002). The
    relative gap is measured on the marginal costs; ``link_costs`` and
    ``total_cost`` are the actual latencies. Parameters, returns and errors are those of
    :func:`wardrop_equilibrium`.
    """
    _check_args(game, method, rgap, max_iter)
    return _solve(game, "optimum", method, rgap, max_iter, track_paths, workers, kernel)


def _solve(
    game: RoutingGame,
    objective: Objective,
    method: str,
    rgap: float,
    max_iter: int,
    track_paths: bool | None,
    workers: int,
    kernel: Kernel,
) -> FlowResult:
    pot = _Potential(game, objective)
    if method == "convex":
        x = beckmann_program(game, objective)
        t = pot.t(x)
        gap = _gap(t, x, AllOrNothing(game.network, kernel=kernel)(t).link_flows)
        return _result(game, pot, x, gap, 1, gap <= rgap, "convex", [gap], None)
    with AllOrNothing(game.network, workers, kernel) as aon:
        return _frank_wolfe(game, pot, aon, method, rgap, max_iter, track_paths)


def _gap(t: FloatArray, x: FloatArray, y: FloatArray) -> float:
    tx = float(t @ x)
    if tx <= 0:
        return 0.0
    return max((tx - float(t @ y)) / tx, 0.0)


class _Paths:
    """Path flows kept in step with the link flows (same convex combinations)."""

    def __init__(self, aon: AllOrNothing, rates: FloatArray) -> None:
        self.aon = aon
        self.rates = rates
        self.index = PathSet()

    def flows(self, assignment: Assignment) -> FloatArray:
        return self.index.flows(self.aon.paths(assignment), self.rates)


def _frank_wolfe(
    game: RoutingGame,
    pot: _Potential,
    aon: AllOrNothing,
    method: str,
    rgap: float,
    max_iter: int,
    track_paths: bool | None,
) -> FlowResult:
    net = game.network
    first = aon(pot.t(np.zeros(game.n_edges)))
    x = first.link_flows
    if not np.all(np.isfinite(pot.t(x))):
        if game.feasible_flow is None:
            raise SolverError("the all-or-nothing start has infinite cost and no feasible flow")
        x = game.feasible_flow.copy()
        track_paths = False
    if track_paths is None:
        track_paths = net.od_rate.size <= _AUTO_PATHS_MAX_OD
    paths = _Paths(aon, net.od_rate) if track_paths else None
    xp = paths.flows(first) if paths is not None else np.zeros(0)
    s1 = s2 = x
    s1p = s2p = xp
    last_stage = _LAST_STAGE[method]
    stage, lam_prev = 0, 1.0
    history: list[float] = []
    iterations, converged = 0, False
    while True:
        t = pot.t(x)
        assign = aon(t)
        y = assign.link_flows
        gap = _gap(t, x, y)
        history.append(gap)
        if gap <= rgap:
            converged = True
            break
        if iterations >= max_iter:
            break
        yp = paths.index.pad(paths.flows(assign)) if paths is not None else xp
        if paths is not None:
            xp, s1p, s2p = (paths.index.pad(v) for v in (xp, s1p, s2p))
        if method == "msa":
            lam = _msa_step(pot, x, y, iterations)
            s, sp = y, yp
        else:
            coef = _direction(pot, stage, x, y, s1, s2, lam_prev)
            s = coef[0] * y + coef[1] * s1 + coef[2] * s2
            lam = _line_search(pot, x, s)
            if stage > 0 and (lam <= 0.0 or float(t @ (s - x)) >= 0):
                # Not a descent direction: restart with a Frank-Wolfe step.
                stage, coef, s = 0, (1.0, 0.0, 0.0), y
                lam = _line_search(pot, x, s)
            sp = coef[0] * yp + coef[1] * s1p + coef[2] * s2p if paths is not None else xp
            stage = 0 if lam >= 1.0 else min(stage + 1, last_stage)
        x = x + lam * (s - x)
        if paths is not None:
            xp = xp + lam * (sp - xp)
        s2, s1, s2p, s1p = s1, s, s1p, sp
        lam_prev = lam
        iterations += 1
    path_flows = _path_dict(game, paths, xp) if paths is not None else None
    return _result(game, pot, x, gap, iterations, converged, method, history, path_flows)


def _msa_step(pot: _Potential, x: FloatArray, y: FloatArray, k: int) -> float:
    lam = 1.0 / (k + 2)
    for _ in range(60):
        if np.all(np.isfinite(pot.t(x + lam * (y - x)))):
            return lam
        lam *= 0.5
    return 0.0


def _line_search(pot: _Potential, x: FloatArray, s: FloatArray) -> float:
    d = s - x

    def slope(lam: float) -> float:
        with np.errstate(invalid="ignore"):
            return float(pot.t(x + lam * d) @ d)

    return exact_line_search(slope).step


def _direction(
    pot: _Potential,
    stage: int,
    x: FloatArray,
    y: FloatArray,
    s1: FloatArray,
    s2: FloatArray,
    tau: float,
) -> tuple[float, float, float]:
    """Weights ``(b0, b1, b2)`` of ``s = b0 y + b1 s_prev + b2 s_prevprev``.

    Stage 0 is Frank-Wolfe, 1 conjugate, 2 bi-conjugate (Mitradjieva and Lindberg 2013,
    eqs. for ``alpha_k`` and ``beta_k``), with ``H = diag(t'(x))``.
    """
    if stage == 0:
        return (1.0, 0.0, 0.0)
    h = pot.hessian(x)
    if stage == 1:
        a = s1 - x
        num = float(a @ (h * (y - x)))
        den = float(a @ (h * (y - s1)))
        alpha = num / den if den != 0 and np.isfinite(den) else 0.0
        alpha = min(max(alpha, 0.0), _ALPHA_MAX) if np.isfinite(alpha) else 0.0
        return (1.0 - alpha, alpha, 0.0)
    xb = tau * s1 + (1.0 - tau) * s2 - x
    yb = y - x
    zb = s1 - x
    wb = s2 - s1
    mu_den = float(xb @ (h * wb))
    mu = max(0.0, -float(xb @ (h * yb)) / mu_den) if mu_den != 0 else 0.0
    nu_den = float(zb @ (h * zb))
    nu = -float(zb @ (h * yb)) / nu_den + mu * tau / (1.0 - tau) if nu_den != 0 else 0.0
    nu = max(0.0, nu)
    if not (np.isfinite(mu) and np.isfinite(nu)):
        return (1.0, 0.0, 0.0)
    b0 = 1.0 / (1.0 + mu + nu)
    return (b0, nu * b0, mu * b0)


def _path_dict(
    game: RoutingGame, paths: _Paths, xp: FloatArray
) -> dict[tuple[Any, Any], dict[tuple[Any, ...], float]]:
    out: dict[tuple[Any, Any], dict[tuple[Any, ...], float]] = {od: {} for od in game.od_pairs}
    for od, rate in game.demands.items():
        if rate > 0 and od[0] == od[1]:
            out[od][()] = rate
    net = game.network
    for pid in np.flatnonzero(xp > 0).tolist():
        od = game.od_pairs[int(net.od_index[paths.index.od[pid]])]
        key = tuple(game.edges[e] for e in paths.index.edges[pid])
        out[od][key] = float(xp[pid])
    return out


def _result(
    game: RoutingGame,
    pot: _Potential,
    x: FloatArray,
    gap: float,
    iterations: int,
    converged: bool,
    method: str,
    history: list[float],
    path_flows: dict[tuple[Any, Any], dict[tuple[Any, ...], float]] | None,
) -> FlowResult:
    return FlowResult(
        link_flows=x,
        link_costs=game.edge_costs.value(np.maximum(x, 0.0)),
        total_cost=game.social_cost(x),
        beckmann=game.beckmann(x),
        relative_gap=gap,
        iterations=iterations,
        converged=converged,
        method=method,
        objective=pot.objective,
        gap_history=np.asarray(history, dtype=np.float64),
        path_flows=path_flows,
    )


# -- Price of Anarchy ----------------------------------------------------------------------


def routing_price_of_anarchy(game: RoutingGame, **solver_kw: Any) -> PoAResult:
    """Price of Anarchy of a nonatomic routing game: equilibrium cost / optimal cost.

    All Wardrop equilibria have the same total cost (Beckmann, McGuire and Winsten 1956),
    so the Price of Stability equals the Price of Anarchy. Both flows come from
    :func:`wardrop_equilibrium` and :func:`system_optimum` with ``solver_kw``. The ratio is
    marked ``exact`` only when both solves converged to a relative gap of at most
    :data:`EXACT_GAP` (``1e-8``); otherwise it is an estimate whose error is bounded by the
    gaps. A ratio below 1, which only round-off can produce (the optimum is at most any
    flow's cost), is reported as 1. Compare with the Pigou bound ``alpha(C)`` for the cost
    class (Roughgarden, JCSS 67(2) 2003).
    """
    eq = wardrop_equilibrium(game, **solver_kw)
    opt = system_optimum(game, **solver_kw)
    if opt.total_cost > 0:
        ratio = max(eq.total_cost / opt.total_cost, 1.0)
    else:
        ratio = 1.0 if eq.total_cost <= 0 else float("inf")
    exact = eq.converged and opt.converged and max(eq.relative_gap, opt.relative_gap) <= EXACT_GAP
    return PoAResult(
        poa=ratio,
        pos=ratio,
        worst_cost=eq.total_cost,
        best_cost=eq.total_cost,
        optimum_cost=opt.total_cost,
        worst_equilibrium=eq,
        best_equilibrium=eq,
        optimum=opt,
        exact=exact,
        method=f"wardrop-{eq.method}",
        n_equilibria=None,
    )
