"""Pure equilibria of the selfish caching game: the test, greedy, dynamics, enumeration.

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

The social optimum, the worst and best equilibria as MILPs, hence exact PoA and PoS
beyond enumeration sizes, and the cache paradox are in
:mod:`gametheory.solvers.caching.selfish_optimum`.

Comparisons ``a <= b`` in the equilibrium conditions use one relative tolerance ``tol``
(``a <= b + tol max(1, |b|)``, :func:`leq_tol`) everywhere, so enumeration, the MILPs and
the test agree.

References
----------
Chun, B.-G., Chaudhuri, K., Wee, H., Barreno, M., Papadimitriou, C. H., Kubiatowicz, J.
(2004). Selfish caching in distributed systems: a game-theoretic analysis. PODC 2004.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError, SolverError
from gametheory.games.caching.selfish import SelfishCachingGame
from gametheory.solvers.caching.results import CachingEquilibriaResult, PlacementResult

__all__ = [
    "caching_best_response_dynamics",
    "caching_equilibria",
    "caching_regrets",
    "greedy_equilibrium",
    "is_caching_equilibrium",
]

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

#: Default relative tolerance of the equilibrium conditions.
DEFAULT_TOL = 1e-9


def leq_tol(a: ArrayLike, b: ArrayLike, tol: float) -> BoolArray:
    """``a <= b`` up to ``tol max(1, |b|)``; ``inf <= inf`` holds."""
    a_arr = np.asarray(a, dtype=np.float64)
    b_arr = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        slack = np.where(np.isfinite(b_arr), tol * np.maximum(1.0, np.abs(b_arr)), 0.0)
        return np.asarray((a_arr <= b_arr + slack) | (b_arr == np.inf), dtype=np.bool_)


def weighted_distance(w: ArrayLike, d: ArrayLike) -> FloatArray:
    """``w * d`` with ``0 * inf = 0``."""
    w_arr = np.asarray(w, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.asarray(np.where(w_arr > 0, w_arr * np.asarray(d), 0.0), dtype=np.float64)


def check_tol(tol: float) -> float:
    """Validate a relative tolerance: a number in ``[0, 1)``."""
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
    tol = check_tol(tol)
    x = game.as_placement(placement)
    hold_ok = leq_tol(game.placement_cost, game.access_costs(x, exclude_self=True), tol)
    away_ok = leq_tol(game.access_costs(x), game.placement_cost, tol)
    return bool(np.all(np.where(x, hold_ok, away_ok)))


def placement_result(
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
    """The result of a placement: its costs, the equilibrium test and the regrets.

    Returns
    -------
    PlacementResult
        The read-only placement with its social and per-object costs, whether it passes
        :func:`is_caching_equilibrium` and the largest regret of a node.
    """
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
    tol = check_tol(tol)
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
        place = ~leq_tol(weighted_distance(w[k, cols], near[k, cols]), alpha[k, cols], tol)
        if np.any(place):
            x[k[place], cols[place]] = True
            near[:, place] = np.minimum(near[:, place], d[:, k[place]])
    return placement_result(game, x, "equilibrium", "greedy", tol=tol, iterations=n)


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
    tol = check_tol(tol)
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
            away = weighted_distance(w[i], near)
            # a holder keeps while alpha <= away; a non-holder places when away > alpha
            want = np.where(x[i], leq_tol(alpha[i], away, tol), ~leq_tol(away, alpha[i], tol))
            if np.any(want != x[i]):
                x[i] = want
                moves += 1
                moved = True
        if not moved:
            converged = True
            break
    return placement_result(
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
    access = weighted_distance(w[None, :], near)
    ok = np.where(
        bits,
        leq_tol(alpha[None, :], weighted_distance(w[None, :], near_other), tol),
        leq_tol(access, alpha[None, :], tol),
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
    tol = check_tol(tol)
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
        worst=placement_result(
            game,
            worst,
            "worst equilibrium",
            "enumeration",
            tol=tol,
            iterations=examined,
            exact=True,
        ),
        best=placement_result(
            game,
            best,
            "best equilibrium",
            "enumeration",
            tol=tol,
            iterations=examined,
            exact=True,
        ),
    )
