"""Equilibria, optima and Prices of Anarchy of the selfish caching game.

The objects of :class:`~gametheory.games.caching.selfish.SelfishCachingGame` decouple, so every
algorithm works object by object, vectorised over the objects or the subsets of nodes.

* The exact equilibrium test (Chun et al. 2004, Section 3): ``S`` is a pure Nash
  equilibrium iff every ``i`` in ``S`` has ``alpha_i <= w_i d(i, S minus {i})`` and every
  ``j`` outside ``S`` has ``w_j d(j, S) <= alpha_j`` (the origin counts as a replica).
* The greedy construction of Chun et al. (Theorem 1: a pure equilibrium always exists
  with symmetric distances): scan nodes by increasing ``alpha_i / w_i``; a node places a
  replica when no replica lies within ``alpha_i / w_i``.
* Best-response dynamics, node by node, all objects at once.
* Enumeration of every replica set for small ``n`` (``O(2^n n)`` per object).
* The social optimum as uncapacitated facility location and the worst and best pure
  equilibria as mixed-integer programs (the equilibrium conditions are linear: a
  "conflict" constraint ``y_i + y_k <= 1`` and a "cover" constraint per node), solved with
  HiGHS through cvxpy, so PoA and PoS are exact beyond enumeration sizes.

Comparisons ``a <= b`` in the equilibrium conditions use one relative tolerance ``tol``
(``a <= b + tol max(1, |b|)``) everywhere, so enumeration, the MILPs and the test agree.

References
----------
Chun, B.-G., Chaudhuri, K., Wee, H., Barreno, M., Papadimitriou, C. H., Kubiatowicz, J.
(2004). Selfish caching in distributed systems: a game-theoretic analysis. PODC 2004.
Cornuejols, G., Nemhauser, G., Wolsey, L. (1990). The uncapacitated facility location
problem. In Discrete Location Theory (closest-assignment constraints).
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
import scipy.sparse as sps
from numpy.typing import ArrayLike, NDArray

from gametheory._lazy import lazy_module
from gametheory.errors import GameError, SolverError
from gametheory.games.caching.selfish import SelfishCachingGame
from gametheory.results import PoAResult, ratio
from gametheory.solvers.caching.results import (
    CacheParadoxResult,
    CachingEquilibriaResult,
    PlacementResult,
)
from gametheory.solvers.common.highs import mip_options, objective_scale

__all__ = [
    "cache_paradox",
    "caching_best_response_dynamics",
    "caching_equilibria",
    "caching_extreme_equilibrium",
    "caching_optimum",
    "caching_price_of_anarchy",
    "caching_regrets",
    "greedy_equilibrium",
    "is_caching_equilibrium",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]
#: cvxpy, typed loosely (its partial annotations do not cover sparse-matrix expressions).
cp: Any = lazy_module("cvxpy")

DEFAULT_TOL = 1e-9


def _le(a: ArrayLike, b: ArrayLike, tol: float) -> BoolArray:
    """``a <= b`` up to ``tol max(1, |b|)``; ``inf <= inf`` holds."""
    a_arr = np.asarray(a, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        slack = np.where(np.isfinite(b_arr), tol * np.maximum(1.0, np.abs(b_arr)), 0.0)
        return np.asarray((a_arr <= b_arr + slack) | (b_arr == np.inf), dtype=np.bool_)


def _weighted(w: ArrayLike, d: ArrayLike) -> FloatArray:
    """``w * d`` with ``0 * inf = 0``."""
    w_arr = np.asarray(w, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.where(w_arr > 0, w_arr * np.asarray(d), 0.0), dtype=np.float64)


def _check_tol(tol: float) -> float:
    if not isinstance(tol, (int, float)) or not 0 <= tol < 1:
        raise GameError(f"tol must be a number in [0, 1), got {tol!r}")
    return float(tol)


# --------------------------------------------------------------------- test


def caching_regrets(game: SelfishCachingGame, placement: ArrayLike) -> FloatArray:
    """What each node saves per object by switching that object alone, ``(n, m)``.

    A holder saves ``alpha_i - w_i d(i, S minus {i})``, a non-holder
    ``w_j d(j, S) - alpha_j`` (negative values mean no saving and are clipped to 0).
    Since objects decouple, a node's best deviation saves the sum of its row.
    """
    x = game.as_placement(placement)
    hold_gain = game.placement_cost - game.access_costs(x, exclude_self=True)
    drop_gain = game.access_costs(x) - game.placement_cost
    with np.errstate(invalid="ignore"):
        gain = np.where(x, hold_gain, drop_gain)
    return np.asarray(np.maximum(np.nan_to_num(gain, nan=0.0), 0.0), dtype=np.float64)


def is_caching_equilibrium(
    game: SelfishCachingGame, placement: ArrayLike, tol: float = DEFAULT_TOL
) -> bool:
    """The exact pure-equilibrium test of Chun et al. (2004), object by object.

    Every holder ``i`` needs ``alpha_i <= w_i d(i, S minus {i})`` and every non-holder
    ``j`` needs ``w_j d(j, S) <= alpha_j`` (comparisons up to ``tol``, relative).
    """
    tol = _check_tol(tol)
    x = game.as_placement(placement)
    hold_ok = _le(game.placement_cost, game.access_costs(x, exclude_self=True), tol)
    away_ok = _le(game.access_costs(x), game.placement_cost, tol)
    return bool(np.all(np.where(x, hold_ok, away_ok)))


def _result(
    game: SelfishCachingGame,
    placement: BoolArray,
    objective: str,
    method: str,
    *,
    tol: float,
    converged: bool = True,
    iterations: int = 0,
    exact: bool = False,
    status: str = "",
    cycle: bool = False,
) -> PlacementResult:
    placement = np.array(placement, dtype=np.bool_)
    placement.setflags(write=False)
    regrets = caching_regrets(game, placement).sum(axis=1)
    return PlacementResult(
        placement=placement,
        social_cost=game.total_cost(placement),
        object_costs=game.object_costs(placement),
        is_equilibrium=is_caching_equilibrium(game, placement, tol),
        max_regret=float(regrets.max()),
        objective=objective,
        method=method,
        converged=converged,
        iterations=iterations,
        exact=exact,
        status=status,
        cycle=cycle,
    )


# ------------------------------------------------------------------ greedy


def greedy_equilibrium(game: SelfishCachingGame, tol: float = DEFAULT_TOL) -> PlacementResult:
    """The greedy equilibrium construction of Chun et al. (2004, Theorem 1).

    For each object, nodes are scanned by increasing ``alpha_i / w_i`` (nodes without
    demand last, never placing); a node places a replica iff ``w_i d(i, S) > alpha_i``
    for the replicas ``S`` placed so far (and the origin). With symmetric distances the
    result is a pure Nash equilibrium: a later replica ``k`` lies farther than
    ``alpha_k / w_k >= alpha_i / w_i`` from every earlier one ``i``. Vectorised over the
    objects: ``n`` steps of ``O(n m)`` work.

    Raises
    ------
    GameError
        If the distances are not symmetric (the construction needs symmetry).
    """
    tol = _check_tol(tol)
    if not game.symmetric:
        raise GameError("greedy_equilibrium needs symmetric distances (Chun et al. Theorem 1)")
    w, alpha = game.demand, game.placement_cost
    n, m = w.shape
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(w > 0, alpha / np.where(w > 0, w, 1.0), np.inf)
    order = np.argsort(ratio, axis=0, kind="stable")  # (n, m)
    near = game.origin_distance.copy()
    x = np.zeros((n, m), dtype=np.bool_)
    cols = np.arange(m)
    d = game.distances
    for step in range(n):
        k = order[step]
        place = ~_le(_weighted(w[k, cols], near[k, cols]), alpha[k, cols], tol)
        if np.any(place):
            x[k[place], cols[place]] = True
            near[:, place] = np.minimum(near[:, place], d[:, k[place]])
    return _result(game, x, "equilibrium", "greedy", tol=tol, iterations=n)


# -------------------------------------------------------- best responses


def caching_best_response_dynamics(
    game: SelfishCachingGame,
    initial: ArrayLike | None = None,
    *,
    order: Literal["round-robin", "random"] = "round-robin",
    max_rounds: int = 1000,
    seed: int | np.random.Generator | None = None,
    tol: float = DEFAULT_TOL,
) -> PlacementResult:
    """Best-response dynamics: nodes in turn switch every object they regret.

    A node's best response decouples over objects: it holds object ``o`` iff
    ``alpha_io < w_io d(i, S_o minus {i})``; ties keep the current choice. A round visits
    every node once (in index order, or in a fresh random order per round); the dynamics
    stop after a round without a move (a pure equilibrium), when a placement repeats at
    the start of a round (a cycle), or after ``max_rounds``.

    Parameters
    ----------
    game
        The caching game.
    initial
        Starting placement (default: no replicas).
    order
        ``"round-robin"`` or ``"random"`` (drawn from ``seed``).
    max_rounds
        Limit on the rounds.
    seed
        Seed or generator for ``order="random"``.
    tol
        Relative tolerance: a node moves only when it saves more than ``tol``.
    """
    tol = _check_tol(tol)
    if order not in ("round-robin", "random"):
        raise GameError(f"order must be 'round-robin' or 'random', got {order!r}")
    if isinstance(max_rounds, bool) or not isinstance(max_rounds, int) or max_rounds < 1:
        raise GameError(f"max_rounds must be a positive integer, got {max_rounds!r}")
    rng = np.random.default_rng(seed)
    n, m = game.n_nodes, game.n_objects
    x = (
        np.zeros((n, m), dtype=np.bool_)
        if initial is None
        else np.array(game.as_placement(initial), dtype=np.bool_)
    )
    d_off = game.distances.copy()
    np.fill_diagonal(d_off, np.inf)
    w, alpha, origin = game.demand, game.placement_cost, game.origin_distance
    moves = 0
    seen: set[bytes] = set()
    cycle = converged = False
    rounds = 0
    while rounds < max_rounds:
        key = np.packbits(x).tobytes()
        if key in seen:
            cycle = True
            break
        seen.add(key)
        rounds += 1
        moved = False
        nodes = rng.permutation(n) if order == "random" else np.arange(n)
        for i in nodes:
            near = np.minimum(origin[i], np.where(x, d_off[i][:, None], np.inf).min(axis=0))
            away = _weighted(w[i], near)
            # a holder keeps while alpha <= away; a non-holder places when away > alpha
            want = np.where(x[i], _le(alpha[i], away, tol), ~_le(away, alpha[i], tol))
            if np.any(want != x[i]):
                x[i] = want
                moves += 1
                moved = True
        if not moved:
            converged = True
            break
    return _result(
        game,
        x,
        "equilibrium",
        f"best-response ({order})",
        tol=tol,
        converged=converged,
        iterations=moves,
        cycle=cycle,
    )


# ------------------------------------------------------------ enumeration


def _object_enumeration(
    d: FloatArray, w: FloatArray, alpha: FloatArray, origin: FloatArray, tol: float
) -> tuple[NDArray[np.int64], FloatArray]:
    """Equilibrium subsets (as bitmasks) of one object and their social costs."""
    n = d.shape[0]
    size = 1 << n
    near = np.empty((size, n))
    near[0] = origin
    for k in range(n):
        lo = 1 << k
        near[lo : 2 * lo] = np.minimum(near[:lo], d[:, k][None, :])
    subsets = np.arange(size, dtype=np.int64)
    bits = ((subsets[:, None] >> np.arange(n)[None, :]) & 1).astype(np.bool_)
    without = subsets[:, None] ^ (1 << np.arange(n, dtype=np.int64))[None, :]
    near_other = near[without, np.arange(n)[None, :]]  # d(i, S minus {i}) for every S, i
    access = _weighted(w[None, :], near)
    ok = np.where(
        bits,
        _le(alpha[None, :], _weighted(w[None, :], near_other), tol),
        _le(access, alpha[None, :], tol),
    ).all(axis=1)
    cost = np.where(bits, alpha[None, :], access).sum(axis=1)
    return subsets[ok], cost[ok]


def caching_equilibria(
    game: SelfishCachingGame, *, max_nodes: int = 16, tol: float = DEFAULT_TOL
) -> CachingEquilibriaResult:
    """All pure equilibria, object by object, by enumerating the ``2^n`` replica sets.

    The nearest-replica distances of all subsets are built in ``O(2^n n)`` by adding one
    node at a time (``near(S + k) = min(near(S), d(., k))``), and ``d(i, S minus {i})`` is
    read at ``S`` xor ``{i}``; then the equilibrium test is applied to all subsets at once.

    Raises
    ------
    GameError
        If ``n_nodes > max_nodes``.
    SolverError
        If some object has no pure equilibrium (possible with asymmetric distances).
    """
    tol = _check_tol(tol)
    n = game.n_nodes
    if n > max_nodes:
        raise GameError(
            f"enumeration needs n_nodes <= max_nodes ({max_nodes}), got {n}; "
            "use caching_extreme_equilibrium (MILP)"
        )
    d = game.distances
    sets: list[BoolArray] = []
    costs: list[FloatArray] = []
    for o in range(game.n_objects):
        masks, cost = _object_enumeration(
            d,
            game.demand[:, o],
            game.placement_cost[:, o],
            game.origin_distance[:, o],
            tol,
        )
        if masks.size == 0:
            raise SolverError(f"object {o} has no pure equilibrium")
        sets.append(((masks[:, None] >> np.arange(n)[None, :]) & 1).astype(np.bool_))
        costs.append(cost)
    worst = np.stack([s[int(np.argmax(c))] for s, c in zip(sets, costs, strict=True)], axis=1)
    best = np.stack([s[int(np.argmin(c))] for s, c in zip(sets, costs, strict=True)], axis=1)
    examined = game.n_objects << n
    return CachingEquilibriaResult(
        equilibria=tuple(sets),
        equilibrium_costs=tuple(costs),
        n_equilibria=math.prod(len(c) for c in costs),
        worst=_result(
            game,
            worst,
            "worst equilibrium",
            "enumeration",
            tol=tol,
            iterations=examined,
            exact=True,
        ),
        best=_result(
            game,
            best,
            "best equilibrium",
            "enumeration",
            tol=tol,
            iterations=examined,
            exact=True,
        ),
    )


# ------------------------------------------------------------------ MILPs

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
        wd = _weighted(w[:, None], d)  # (i, k): w_i d_ik
        alone_ok = _le(alpha, _weighted(w, origin), tol)
        if not alone_ok.all():
            cons.append(y[np.flatnonzero(~alone_ok)] == 0)
        conflict = ~_le(alpha[:, None], wd, tol)
        np.fill_diagonal(conflict, False)
        ci, ck = np.nonzero(np.triu(conflict | conflict.T))
        if ci.size:
            pairs = sps.csr_array(
                (np.ones(2 * ci.size), (np.tile(np.arange(ci.size), 2), np.concatenate([ci, ck]))),
                (ci.size, n),
            )
            cons.append(pairs @ y <= 1)
        covers = _le(wd, alpha[:, None], tol)
        np.fill_diagonal(covers, True)
        need = ~_le(_weighted(w, origin), alpha, tol)
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
    tol = _check_tol(tol)
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
    result = _result(
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
        Tolerance of the equilibrium conditions (as in :func:`is_caching_equilibrium`).
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


def cache_paradox(
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
