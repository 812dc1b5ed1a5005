"""Textbook game instances with known equilibria, optima and Prices of Anarchy.

Each builder returns a game object of the library; the known answers are listed in the
docstrings and in THEORY.md section 6.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from gametheory.costs import MM1, Affine, Constant, CostFunction, Polynomial, Shared, Tabulated
from gametheory.errors import GameError
from gametheory.games.caching.selfish import SelfishCachingGame
from gametheory.games.congestion import AtomicCongestionGame
from gametheory.games.network.routing import RoutingGame
from gametheory.games.normal_form import NormalFormGame
from gametheory.games.pd.resource import SharedBudgetGame


def matching_pennies() -> NormalFormGame:
    """Matching pennies: the row player wins on a match, the column player on a mismatch.

    Payoffs ``A = [[1, -1], [-1, 1]]``, ``B = -A`` (maximised, as in THEORY.md). The unique
    Nash equilibrium is ``((1/2, 1/2), (1/2, 1/2))``; there is no pure equilibrium.
    """
    A = [[1, -1], [-1, 1]]
    return NormalFormGame.from_bimatrix(A, [[-1, 1], [1, -1]], labels=[["H", "T"], ["H", "T"]])


def battle_of_sexes() -> NormalFormGame:
    """Battle of the sexes with payoffs ``A = [[2, 0], [0, 1]]``, ``B = [[1, 0], [0, 2]]``.

    Equilibria (THEORY.md): ``(T, L)``, ``(B, R)`` and ``((2/3, 1/3), (1/3, 2/3))``; the pure
    ones have welfare 3, the mixed one 4/3. The best correlated equilibrium (a fair coin
    between the two pure equilibria) has welfare 3 and payoffs (3/2, 3/2).
    """
    return NormalFormGame.from_bimatrix(
        [[2, 0], [0, 1]], [[1, 0], [0, 2]], labels=[["T", "B"], ["L", "R"]]
    )


def three_by_two(degenerate: bool = False) -> NormalFormGame:
    """The 3x2 bimatrix game of von Stengel (2002), Figure 2.1, and its degenerate variant.

    Payoffs (maximised) ``A = [[3, 3], [2, 5], [0, 6]]``, ``B = [[3, 2], [2, 6], [3, 1]]``:
    three equilibria ``(e1, e1)``, ``((4/5, 1/5, 0), (2/3, 1/3))`` and
    ``((0, 1/3, 2/3), (1/3, 2/3))``. With ``degenerate=True`` the first row of ``B`` is
    ``[3, 3]``: the pure strategy ``e1`` has two best responses and ``(e1, y)`` is an
    equilibrium for every ``y`` with ``y_2 <= 1/3``, a continuum from ``(e1, e1)`` to
    ``(e1, (2/3, 1/3))`` (one component with these two extreme equilibria), besides the
    isolated ``((0, 1/3, 2/3), (1/3, 2/3))``; ``((4/5, 1/5, 0), (2/3, 1/3))`` is no longer
    an equilibrium.
    """
    B = [[3, 3] if degenerate else [3, 2], [2, 6], [3, 1]]
    return NormalFormGame.from_bimatrix([[3, 3], [2, 5], [0, 6]], B)


def selfish_caching_k6() -> SelfishCachingGame:
    """Selfish caching on ``K_6``, distance 1, unit demand, placement cost 2, no origin.

    Every equilibrium is a single replica and optimal: NE = OPT = 7 (THEORY.md section 3).
    """
    return SelfishCachingGame.complete(6, placement_cost=2.0)


def selfish_caching_star(n: int = 5, alpha: float = 1.9) -> SelfishCachingGame:
    """Selfish caching on a star: centre 0, leaves ``1..n-1``, arm 1, unit demand, no origin.

    ``n = 5``, ``alpha = 1.9``: optimum 5.9 (centre), worst equilibrium 8.6 (all leaves),
    PoA ``((n-1) alpha + 1) / (alpha + n - 1)``, PoS 1 (THEORY.md section 3).
    """
    return SelfishCachingGame.star(n, placement_cost=alpha)


def selfish_caching_line(n: int = 14, alpha: float = 14.0) -> SelfishCachingGame:
    """Selfish caching on the unit line ``0..n-1``, unit demand, no origin.

    ``n = 14``, ``alpha = 14``: optimum 52 at ``{3, 10}`` (0-based), worst equilibrium 105
    (one replica at an end), best equilibrium 63 (one replica at node 6 or 7).
    """
    return SelfishCachingGame.line(n, placement_cost=alpha)


def cache_paradox() -> tuple[SelfishCachingGame, SelfishCachingGame]:
    """A cache node whose arrival makes every selfish caching equilibrium worse.

    Before: a heavy client ``X`` (node 0: demand 10, placement cost 1000, so it never
    caches) and a cache ``A`` (node 1: demand 1, placement cost 2) one apart; the origin is
    20 from everyone. The unique equilibrium is ``{A}``, cost 12. After: a cheap cache
    ``C`` (node 2: demand 1, placement cost 1) joins 1.5 beyond ``A`` (2.5 from ``X``).
    ``C`` always caches, ``A`` now free-rides on ``C`` (1.5 < 2) and ``X`` fetches from 2.5
    away: the unique equilibrium is ``{C}``, cost 27.5, of which the original nodes bear
    26.5 > 12, although the optimum ``{A, C}`` costs 13.

    Returns
    -------
    tuple
        ``(before, after)``; check with
        :func:`gametheory.solvers.caching.selfish_optimum.cache_paradox`.
    """
    before = SelfishCachingGame(
        [[0.0, 1.0], [1.0, 0.0]],
        demand=[10.0, 1.0],
        placement_cost=[1000.0, 2.0],
        origin_distance=20.0,
    )
    after = before.with_node([2.5, 1.5], demand=1.0, placement_cost=1.0, origin_distance=20.0)
    return before, after


def pigou(degree: int = 1, demand: float = 1.0) -> RoutingGame:
    """Pigou's network: two parallel links with costs ``1`` and ``x^d``, one OD demand.

    Pigou (1920), as in Roughgarden (JCSS 67(2) 2003). With demand 1 the Wardrop
    equilibrium puts all traffic on the ``x^d`` link (cost 1); the optimum sends
    ``(d + 1)^(-1/d)`` there and costs ``1 - d (d + 1)^(-(d + 1)/d)``: 0.75, 0.615100,
    0.527530, 0.465008 for d = 1..4, so the Price of Anarchy is the Pigou bound
    ``alpha_d`` (THEORY.md section 6). Edges ``("s", "t", 0)`` (cost 1) and
    ``("s", "t", 1)`` (cost ``x^d``).
    """
    if isinstance(degree, bool) or not isinstance(degree, int) or degree < 1:
        raise GameError(f"degree must be an integer >= 1, got {degree!r}")
    return RoutingGame.parallel_links([Constant(1.0), Polynomial([0.0] * degree + [1.0])], demand)


def braess(with_shortcut: bool = True) -> RoutingGame:
    """Braess's network (Braess 1968): demand 1 from ``"s"`` to ``"t"``.

    Routes ``s -> v -> t`` (costs ``x`` then 1) and ``s -> w -> t`` (1 then ``x``), and with
    ``with_shortcut`` a zero-cost edge ``v -> w``. Equilibrium cost 1.5 without the
    shortcut and 2.0 with it (everyone takes ``s v w t``); the optimum is 1.5 either way,
    so the shortcut raises the Price of Anarchy to 4/3 (THEORY.md section 6).
    """
    g = nx.DiGraph()
    g.add_edge("s", "v", cost=Affine(0.0, 1.0))
    g.add_edge("v", "t", cost=Constant(1.0))
    g.add_edge("s", "w", cost=Constant(1.0))
    g.add_edge("w", "t", cost=Affine(0.0, 1.0))
    if with_shortcut:
        g.add_edge("v", "w", cost=Constant(0.0))
    return RoutingGame(g, {("s", "t"): 1.0})


def mm1_parallel_links(capacities: Sequence[float], demand: float) -> RoutingGame:
    """Parallel M/M/1 links ``1 / (u_i - x)`` from ``"s"`` to ``"t"`` carrying ``demand``.

    When the equilibrium uses every link, ``u_i - x_i = (U - r)/n`` and the optimum has
    ``u_i - x_i = sqrt(u_i) (U - r) / sum sqrt(u)`` (THEORY.md section 4). Known answers:
    ``u = (4, 1), r = 3``: equilibrium ``(3, 0)`` cost 3, optimum ``(8/3, 1/3)`` cost 5/2;
    ``u = (2, 1), r = 2``: equilibrium ``(1.5, 0.5)`` cost 4, optimum ``1 + 2 sqrt 2``.
    Demand at or above the total capacity raises :class:`~gametheory.errors.GameError`.
    """
    return RoutingGame.parallel_links([MM1(u) for u in capacities], demand)


def shared_budget_quadratic(
    a: tuple[float, float] = (10.0, 6.0), c: float = 0.2, budget: float = 6.0
) -> SharedBudgetGame:
    """Two players with ``u_i = a_i x_i - x_i^2 / 2 - c x_i x_j`` and ``x_1 + x_2 <= budget``.

    Costs are ``f_i = -u_i`` on ``x_i >= 0``. Known answers (THEORY.md section 6, after
    Rosen 1965): the variational equilibrium is ``(5.5, 0.5)`` with shared multiplier 4.4;
    the normalized equilibrium for ``r = (1, 2)`` is ``(11/3, 7/3)``.
    """
    coef = np.asarray(a, dtype=np.float64)

    def costs(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(-(coef * x - x**2 / 2.0 - c * x * x[::-1]), dtype=np.float64)

    def gradient(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(-(coef - x - c * x[::-1]), dtype=np.float64)

    def jacobian(x: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.array([[1.0, c], [c, 1.0]])

    return SharedBudgetGame(costs, gradient, budget, lower=[0.0, 0.0], pseudo_jacobian=jacobian)


def shared_budget_log(w: tuple[float, float] = (3.0, 1.0), budget: float = 6.0) -> SharedBudgetGame:
    """Two players with ``u_i = w_i log x_i`` sharing ``x_1 + x_2 <= budget``.

    Costs are ``f_i = -w_i log x_i`` (``+inf`` at ``x_i = 0``). Known answer (THEORY.md
    section 6): the variational equilibrium splits the budget in proportion to ``w``,
    ``(4.5, 1.5)`` for ``w = (3, 1)`` and budget 6, with multiplier ``sum(w) / budget``.
    """
    weights = np.asarray(w, dtype=np.float64)

    def costs(x: NDArray[np.float64]) -> NDArray[np.float64]:
        pos = x > 0
        out = np.full(x.shape, np.inf)
        out[pos] = -weights[pos] * np.log(x[pos])
        return out

    def gradient(x: NDArray[np.float64]) -> NDArray[np.float64]:
        pos = x > 0
        out = np.full(x.shape, -np.inf)
        out[pos] = -weights[pos] / x[pos]
        return out

    def jacobian(x: NDArray[np.float64]) -> NDArray[np.float64]:
        pos = x > 0
        diag = np.full(x.shape, np.inf)
        diag[pos] = weights[pos] / x[pos] ** 2
        return np.diag(diag)

    return SharedBudgetGame(
        costs, gradient, budget, lower=[0.0, 0.0], upper=[budget, budget], pseudo_jacobian=jacobian
    )


def affine_five_halves() -> AtomicCongestionGame:
    """The 3-player affine congestion game whose pure PoA is 5/2 (Christodoulou and
    Koutsoupias, STOC 2005; Awerbuch, Azar and Epstein, STOC 2005).

    Resources ``h0, h1, h2`` (indices 0..2) and ``g0, g1, g2`` (3..5) all cost ``c(k) = k``.
    Player ``i`` picks ``{h_i, g_i}`` (strategy 0) or ``{h_{i+1}, h_{i+2}, g_{i+1}}``
    (strategy 1), indices mod 3. The optimum (all strategy 0) costs 6, the worst pure
    equilibrium (all strategy 1) costs 15: PoA = 5/2 (THEORY.md section 6).
    """
    strategies = [[(i, 3 + i), ((i + 1) % 3, (i + 2) % 3, 3 + (i + 1) % 3)] for i in range(3)]
    names = ["h0", "h1", "h2", "g0", "g1", "g2"]
    return AtomicCongestionGame([Affine(0.0, 1.0)] * 6, strategies, resource_names=names)


def fair_cost_sharing(n: int) -> AtomicCongestionGame:
    """Fair cost sharing on two parallel edges of costs ``n`` and ``1`` (``Shared(n)``,
    ``Shared(1)``), ``n`` players (Anshelevich et al., SICOMP 38(4) 2008).

    Everyone on the ``n``-edge (resource 0) is a Nash equilibrium of cost ``n`` (each pays
    1, and alone on the 1-edge one would also pay 1); everyone on the 1-edge (resource 1)
    is the other equilibrium and the optimum, cost 1. PoA = ``n``, PoS = 1 (THEORY.md
    section 6).
    """
    _check_players(n)
    return AtomicCongestionGame(
        [Shared(float(n)), Shared(1.0)], [[(0,), (1,)]] * n, resource_names=["n-edge", "1-edge"]
    )


def harmonic_cost_sharing(n: int) -> AtomicCongestionGame:
    """Fair cost sharing where player ``i = 1..n`` has its own edge of cost ``1/i`` or a
    shared edge of cost 1.01 (Anshelevich et al., SICOMP 38(4) 2008).

    Resources ``0..n-1`` are the own edges, resource ``n`` the shared one; strategy 0 of a
    player is its own edge, strategy 1 the shared edge. The unique Nash equilibrium puts
    everyone on its own edge, cost ``H_n`` (2.083333 for ``n = 4``); the optimum shares
    the 1.01 edge, so PoA = PoS = ``H_n / 1.01`` (THEORY.md section 6).
    """
    _check_players(n)
    costs = [Shared(1.0 / i) for i in range(1, n + 1)] + [Shared(1.01)]
    strategies = [[(i,), (n,)] for i in range(n)]
    names = [f"own {i + 1}" for i in range(n)] + ["shared"]
    return AtomicCongestionGame(costs, strategies, resource_names=names)


def nonincreasing_unbounded(n: int, delta: float, eps: float) -> AtomicCongestionGame:
    """Non-increasing costs make the PoA unbounded: ``n`` players, two edges.

    Edge A (resource 0) costs 1 to each user; edge B (resource 1) costs ``1 + delta`` to
    each user unless all ``n`` use it, then ``eps / n`` each. Everyone on A is a strict
    Nash equilibrium of cost ``n``; everyone on B is the optimum, cost ``eps`` (also an
    equilibrium when ``eps < n``), so PoA = ``n / eps``, unbounded as ``eps -> 0``
    (THEORY.md sections 2 and 6). Edge B's cost is tabulated at the integer loads
    ``0..n``, which are the only loads an atomic game reaches.
    """
    _check_players(n)
    if not (delta > 0 and eps > 0):
        raise GameError(f"delta and eps must be positive, got {delta!r} and {eps!r}")
    loads = np.arange(n + 1, dtype=np.float64)
    values = np.full(n + 1, 1.0 + float(delta))
    values[n] = float(eps) / n
    return AtomicCongestionGame(
        [Constant(1.0), Tabulated(loads, values)], [[(0,), (1,)]] * n, resource_names=["A", "B"]
    )


def _check_players(n: int) -> None:
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise GameError(f"n must be an integer number of players >= 1, got {n!r}")


def pigou_two_link(cost: CostFunction, demand: float) -> RoutingGame:
    """The two-link network on which the Pigou bound of ``cost`` is attained.

    Links ``("s", "t", 0)`` with cost ``c`` and ``("s", "t", 1)`` with the constant
    ``c(demand)``; demand ``r``. The equilibrium routes everything on ``c`` (cost
    ``r c(r)``); the optimum moves flow to the constant link, and the ratio is
    ``sup_x r c(r) / (x c(x) + (r - x) c(r))``, the Pigou ratio at ``r`` (Roughgarden,
    JCSS 67(2) 2003). With ``r`` from the certificate of
    :func:`gametheory.bounds.pigou_bound` its PoA is the bound.
    """
    if not isinstance(cost, CostFunction):
        raise GameError(f"cost must be a CostFunction, got {cost!r}")
    if isinstance(demand, bool) or not isinstance(demand, (int, float)) or not demand > 0:
        raise GameError(f"demand must be a positive number, got {demand!r}")
    level = float(cost(float(demand)))
    if not np.isfinite(level):
        raise GameError(f"cost is infinite at the demand {demand!r}: lower the demand")
    return RoutingGame.parallel_links([cost, Constant(level)], float(demand))
