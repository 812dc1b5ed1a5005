"""Social optimum, extreme equilibria, Prices of Anarchy and the cache paradox.

The optimum of :class:`~gametheory.games.caching.selfish.SelfishCachingGame` is an
uncapacitated facility location problem per object (the objects decouple):

``min sum_j alpha_j y_j + sum_i w_i d(i, S)``, ``S = {j: y_j = 1}``, ``y`` binary,

where ``d(i, S)`` includes the origin at distance ``D_i``. The nearest-replica distance is
written in the radius formulation: for node ``i`` with distinct distances ``L_0 = 0 < L_1
< ...`` below ``D_i``, ``u_ik = 1`` iff no replica lies within ``L_k``, and ``d(i, S) =
sum_k (L_{k+1} - L_k) u_ik``. Its linear constraints fix ``u`` for binary ``y``, so the
same program is exact when the cost is maximised.

The worst and the best pure equilibria are MILPs too, because the equilibrium conditions
of Chun et al. (2004) are linear in ``y``: ``y_i = 0`` when ``alpha_i > w_i D_i``; a
"conflict" ``y_i + y_k <= 1`` when ``alpha_i > w_i d_ik``; and a "cover" ``y_j + sum_{k:
w_j d_jk <= alpha_j} y_k >= 1`` when ``w_j D_j > alpha_j``. With the optimum they give
exact PoA and PoS beyond enumeration sizes, and the cache paradox (adding cache nodes
makes every equilibrium worse for the original nodes) is decided by comparing the worst
equilibrium before with the best equilibrium after. All programs are solved with HiGHS
through cvxpy; the equilibrium conditions use the tolerance of
:func:`~gametheory.solvers.caching.selfish.leq_tol`.

References
----------
Chun, B.-G., Chaudhuri, K., Wee, H., Barreno, M., Papadimitriou, C. H., Kubiatowicz, J.
(2004). Selfish caching in distributed systems: a game-theoretic analysis. PODC 2004.
Cornuejols, G., Nemhauser, G., Wolsey, L. (1990). The uncapacitated facility location
problem. In Discrete Location Theory (closest-assignment constraints).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import scipy.sparse as sps
from numpy.typing import ArrayLike, NDArray

from gametheory._lazy import lazy_module
from gametheory.errors import GameError, SolverError
from gametheory.games.caching.selfish import SelfishCachingGame
from gametheory.results import PoAResult, ratio
from gametheory.solvers.caching.results import CacheParadoxResult, PlacementResult
from gametheory.solvers.caching.selfish import (
    DEFAULT_TOL,
    caching_equilibria,
    check_tol,
    leq_tol,
    placement_result,
    weighted_distance,
)
from gametheory.solvers.common.highs import mip_options, objective_scale

__all__ = [
    "caching_extreme_equilibrium",
    "caching_optimum",
    "caching_price_of_anarchy",
    "check_cache_paradox",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
#: cvxpy, typed loosely (its partial annotations do not cover sparse-matrix expressions).
cp: Any = lazy_module("cvxpy")

Kind = Literal["optimum", "worst", "best"]


def _radius_rows(
    d: FloatArray, w: FloatArray, origin: FloatArray, nodes: NDArray[np.int64]
) -> tuple[sps.csr_array, FloatArray, sps.csr_array, FloatArray, FloatArray, NDArray[np.int64]]:
    """The radius formulation of the nearest-replica distances of ``nodes``.

    For node ``i`` with distinct distances ``L_0 = 0 < L_1 < ...`` below its origin
    distance, ``u_ik`` means "no replica within ``L_k``" and ``d(i, S) = sum_k (L_{k+1} -
    L_k) u_ik`` (``L_K``: the origin distance). Rows over the stacked variables ``[y, u]``:
    ``u_ik - u_i,k-1 + sum_{j at L_k} y_j >= 0`` (``u_i,-1 = 1``), ``u_ik <= u_i,k-1`` and
    ``u_i,lev(j) + y_j <= 1``. Together they fix ``u`` to the indicator for binary ``y``,
    so the program is exact whether the cost is minimised or maximised, with ``O(n^2)``
    nonzeros (Cornuejols, Nemhauser and Wolsey 1990).

    Returns ``(A_ge, b_ge, A_le, b_le, cost of each u, positions of u forced to 0)``; the
    last are the outermost ``u`` of nodes without an origin (some replica must exist).
    """
    n = d.shape[0]
    ge: list[tuple[NDArray[np.int64], NDArray[np.int64], FloatArray]] = []
    le: list[tuple[NDArray[np.int64], NDArray[np.int64], FloatArray]] = []
    b_ge: list[FloatArray] = []
    b_le: list[FloatArray] = []
    cost: list[FloatArray] = []
    zero: list[int] = []
    n_u = n_ge = n_le = 0
    for i in nodes:
        levels = np.unique(d[i])
        levels = levels[levels < origin[i]]
        k = levels.size
        lev = np.searchsorted(levels, d[i])
        near = np.flatnonzero(lev < k)
        u = n + n_u + np.arange(k)
        rows = n_ge + np.arange(k)
        ge += [
            (rows, u, np.ones(k)),
            (rows[1:], u[:-1], -np.ones(k - 1)),
            (n_ge + lev[near], near, np.ones(near.size)),
        ]
        b_ge.append(np.eye(1, k).ravel())
        mono = n_le + np.arange(k - 1)
        pair = n_le + k - 1 + np.arange(near.size)
        le += [
            (mono, u[1:], np.ones(k - 1)),
            (mono, u[:-1], -np.ones(k - 1)),
            (pair, u[lev[near]], np.ones(near.size)),
            (pair, near, np.ones(near.size)),
        ]
        b_le.append(np.concatenate([np.zeros(k - 1), np.ones(near.size)]))
        top = origin[i] if np.isfinite(origin[i]) else levels[-1]
        cost.append(w[i] * np.diff(np.append(levels, top)))
        if not np.isfinite(origin[i]):
            zero.append(n_u + k - 1)
        n_u += k
        n_ge += k
        n_le += k - 1 + near.size

    def matrix(
        parts: list[tuple[NDArray[np.int64], NDArray[np.int64], FloatArray]], n_rows: int
    ) -> sps.csr_array:
        r, c, v = (np.concatenate([p[j] for p in parts]) for j in range(3))
        return sps.csr_array((v, (r, c)), shape=(n_rows, n + n_u))

    return (
        matrix(ge, n_ge),
        np.concatenate(b_ge),
        matrix(le, n_le),
        np.concatenate(b_le),
        np.concatenate(cost),
        np.asarray(zero, dtype=np.int64),
    )


def _object_milp(
    d: FloatArray,
    w: FloatArray,
    alpha: FloatArray,
    origin: FloatArray,
    kind: Kind,
    counted: BoolArray,
    tol: float,
    solver_options: dict[str, float],
) -> tuple[BoolArray, str]:
    """Solve one object's MILP; return the replica set and the solver status.

    Binary ``y_j`` (node ``j`` holds a replica) and the radius variables of
    :func:`_radius_rows` for the counted nodes with demand; for equilibria, the linear
    equilibrium conditions on ``y`` (see :func:`caching_extreme_equilibrium`).
    """
    n = d.shape[0]
    y = cp.Variable(n, boolean=True)
    cons: list[Any] = []
    objective: Any = cp.multiply(np.where(counted, alpha, 0.0), y).sum()
    coefficients = [alpha]
    nodes = np.flatnonzero((w > 0) & counted)
    if nodes.size:
        a_ge, b_ge, a_le, b_le, cost, zero = _radius_rows(d, w, origin, nodes)
        u = cp.Variable(cost.size)
        v = cp.hstack([y, u])
        cons += [a_ge @ v >= b_ge, a_le @ v <= b_le, u >= 0, u <= 1]
        if zero.size:
            cons.append(u[zero] == 0)
        objective = objective + cost @ u
        coefficients.append(cost)
    if kind != "optimum":
        wd = weighted_distance(w[:, None], d)  # (i, k): w_i d_ik
        alone_ok = leq_tol(alpha, weighted_distance(w, origin), tol)
        if not alone_ok.all():
            cons.append(y[np.flatnonzero(~alone_ok)] == 0)
        conflict = ~leq_tol(alpha[:, None], wd, tol)
        np.fill_diagonal(conflict, False)
        ci, ck = np.nonzero(np.triu(conflict | conflict.T))
        if ci.size:
            pairs = sps.csr_array(
                (np.ones(2 * ci.size), (np.tile(np.arange(ci.size), 2), np.concatenate([ci, ck]))),
                (ci.size, n),
            )
            cons.append(pairs @ y <= 1)
        covers = leq_tol(wd, alpha[:, None], tol)
        np.fill_diagonal(covers, True)
        need = ~leq_tol(weighted_distance(w, origin), alpha, tol)
        if need.any():
            cons.append(sps.csr_array(covers[need].astype(np.float64)) @ y >= 1)
    sense = cp.Maximize if kind == "worst" else cp.Minimize
    scale = objective_scale(*coefficients)
    problem = cp.Problem(sense(objective / scale), cons)
    try:
        problem.solve(solver=cp.HIGHS, **solver_options)
    except cp.error.SolverError as exc:
        raise SolverError(f"HiGHS failed on the caching {kind} MILP: {exc}") from exc
    if problem.status != cp.OPTIMAL or y.value is None:
        raise SolverError(f"caching {kind} MILP ended with status {problem.status!r}")
    return np.asarray(y.value > 0.5, dtype=np.bool_), str(problem.status)


def _solve_milp(
    game: SelfishCachingGame,
    kind: Kind,
    nodes: ArrayLike | None,
    tol: float,
    mip_rel_gap: float,
) -> PlacementResult:
    tol = check_tol(tol)
    if not isinstance(mip_rel_gap, (int, float)) or not 0 <= mip_rel_gap < 1:
        raise GameError(f"mip_rel_gap must be in [0, 1), got {mip_rel_gap!r}")
    counted = np.ones(game.n_nodes, dtype=np.bool_)
    if nodes is not None:
        try:
            sel = np.asarray(nodes, dtype=np.int64).ravel()
        except (TypeError, ValueError) as exc:
            raise GameError(f"nodes must be node indices, got {nodes!r}") from exc
        if sel.size and (sel.min() < 0 or sel.max() >= game.n_nodes):
            raise GameError(f"nodes must be indices in [0, {game.n_nodes}), got {nodes!r}")
        counted = np.zeros(game.n_nodes, dtype=np.bool_)
        counted[sel] = True
    options = mip_options(mip_rel_gap)
    cols = []
    for o in range(game.n_objects):
        y, _ = _object_milp(
            game.distances,
            game.demand[:, o],
            game.placement_cost[:, o],
            game.origin_distance[:, o],
            kind,
            counted,
            tol,
            options,
        )
        cols.append(y)
    x = np.stack(cols, axis=1)
    objective = {"optimum": "optimum", "worst": "worst equilibrium", "best": "best equilibrium"}
    result = placement_result(
        game,
        x,
        objective[kind],
        "milp (HiGHS)",
        tol=tol,
        iterations=game.n_objects,
        exact=mip_rel_gap == 0,
        status="optimal",
    )
    if kind != "optimum" and not result.is_equilibrium:
        raise SolverError(
            f"the {kind}-equilibrium MILP returned a placement that fails the equilibrium "
            f"test (max regret {result.max_regret:g}); tighten tol"
        )
    return result


def caching_optimum(
    game: SelfishCachingGame, *, tol: float = DEFAULT_TOL, mip_rel_gap: float = 0.0
) -> PlacementResult:
    """The social optimum: uncapacitated facility location per object, as a MILP.

    ``min sum_j alpha_j y_j + sum_i w_i (sum_j d_ij z_ij + D_i z_i0)`` subject to
    ``sum_j z_ij + z_i0 = 1``, ``z_ij <= y_j``, ``y`` binary (``z_i0``: served by the
    origin at distance ``D_i``, forbidden when ``D_i = inf``). Solved with HiGHS via cvxpy;
    ``exact`` is True when ``mip_rel_gap = 0``.

    Raises
    ------
    SolverError
        If HiGHS does not report an optimal solution.
    """
    return _solve_milp(game, "optimum", None, tol, mip_rel_gap)


def caching_extreme_equilibrium(
    game: SelfishCachingGame,
    which: Literal["worst", "best"],
    *,
    nodes: ArrayLike | None = None,
    tol: float = DEFAULT_TOL,
    mip_rel_gap: float = 0.0,
) -> PlacementResult:
    """The worst or the best pure equilibrium, as a MILP over the equilibrium conditions.

    The conditions of Chun et al. (2004) are linear in the replica indicators ``y``:
    ``y_i = 0`` when ``alpha_i > w_i D_i`` (even alone, ``i`` would not hold);
    ``y_i + y_k <= 1`` when ``alpha_i > w_i d_ik`` (``i`` would drop its replica next to
    ``k``); and ``y_j + sum_{k: w_j d_jk <= alpha_j} y_k >= 1`` when ``w_j D_j > alpha_j``
    (a non-holder needs a replica within ``alpha_j / w_j``). The cost adds the facility
    location assignment; for the worst equilibrium, closest-assignment constraints keep
    the maximised cost equal to the true nearest-replica cost.

    Parameters
    ----------
    game
        The caching game.
    which
        ``"worst"`` or ``"best"``.
    nodes
        Count only these nodes' costs in the objective (default: all). The returned
        ``social_cost`` is still over all nodes.
    tol
        Tolerance of the equilibrium conditions (as in
        :func:`~gametheory.solvers.caching.selfish.is_caching_equilibrium`).
    mip_rel_gap
        HiGHS relative MIP gap (0: proven optimal).

    Raises
    ------
    SolverError
        If HiGHS fails, or the solution fails the equilibrium test.
    """
    if which not in ("worst", "best"):
        raise GameError(f"which must be 'worst' or 'best', got {which!r}")
    return _solve_milp(game, which, nodes, tol, mip_rel_gap)


def caching_price_of_anarchy(
    game: SelfishCachingGame,
    *,
    method: Literal["milp", "enumeration"] = "milp",
    tol: float = DEFAULT_TOL,
) -> PoAResult:
    """Exact PoA and PoS: worst, best equilibrium and optimum (MILPs or enumeration)."""
    if method == "milp":
        worst = caching_extreme_equilibrium(game, "worst", tol=tol)
        best = caching_extreme_equilibrium(game, "best", tol=tol)
        n_eq: int | None = None
    elif method == "enumeration":
        eq = caching_equilibria(game, tol=tol)
        worst, best, n_eq = eq.worst, eq.best, eq.n_equilibria
    else:
        raise GameError(f"method must be 'milp' or 'enumeration', got {method!r}")
    opt = caching_optimum(game, tol=tol)
    oc = opt.social_cost
    return PoAResult(
        poa=ratio(worst.social_cost, oc),
        pos=ratio(best.social_cost, oc),
        worst_cost=worst.social_cost,
        best_cost=best.social_cost,
        optimum_cost=oc,
        worst_equilibrium=worst,
        best_equilibrium=best,
        optimum=opt,
        exact=True,
        method=f"{method} equilibria, milp optimum",
        n_equilibria=n_eq,
    )


def check_cache_paradox(
    before: SelfishCachingGame, after: SelfishCachingGame, *, tol: float = DEFAULT_TOL
) -> CacheParadoxResult:
    """Check the cache paradox: adding cache nodes makes every equilibrium worse.

    ``after`` must extend ``before``: its first ``n`` nodes have the same distances and
    parameters. The paradox holds when the best equilibrium after the addition costs the
    *original* nodes more than the worst equilibrium before it did, so no equilibrium
    selection can hide it (all via the exact MILPs).

    Raises
    ------
    GameError
        If ``after`` does not extend ``before``.
    """
    n = before.n_nodes
    if after.n_nodes <= n or after.n_objects != before.n_objects:
        raise GameError(
            "after must have more nodes than before and the same objects, got "
            f"{after.n_nodes} vs {n} nodes, {after.n_objects} vs {before.n_objects} objects"
        )
    pairs = (
        ("distances", after.distances[:n, :n], before.distances),
        ("demand", after.demand[:n], before.demand),
        ("placement_cost", after.placement_cost[:n], before.placement_cost),
        ("origin_distance", after.origin_distance[:n], before.origin_distance),
    )
    for name, a, b in pairs:
        if not np.array_equal(a, b):
            raise GameError(f"after must extend before: its first {n} nodes differ in {name}")
    poa_before = caching_price_of_anarchy(before, tol=tol)
    poa_after = caching_price_of_anarchy(after, tol=tol)
    original = np.arange(n)
    best_orig = caching_extreme_equilibrium(after, "best", nodes=original, tol=tol)
    orig_cost = float(after.node_costs(best_orig.placement)[:n].sum())
    worst_before = poa_before.worst_cost
    return CacheParadoxResult(
        paradox=bool(orig_cost > worst_before + tol * max(1.0, abs(worst_before))),
        before_worst_cost=worst_before,
        before_best_cost=poa_before.best_cost,
        before_optimum_cost=poa_before.optimum_cost,
        after_worst_cost=poa_after.worst_cost,
        after_best_cost=poa_after.best_cost,
        after_optimum_cost=poa_after.optimum_cost,
        after_best_cost_original_nodes=orig_cost,
        added_nodes=tuple(range(n, after.n_nodes)),
        method="milp",
    )
