"""Closed forms for the Price of Anarchy of selfish caching on simple topologies.

Unit demand at every node, a uniform placement cost ``alpha`` and no origin (a node with
no replica anywhere pays an infinite cost), as in THEORY.md section 3. The values were
derived for this library (they are not Chun et al.'s tables) and are checked against the
exact MILPs of :mod:`gametheory.solvers.caching.selfish_optimum` in the tests.

* Complete graph ``K_n``, all distances ``d``: the equilibria are the optima
  (PoA = PoS = 1); the cost is ``min(alpha + (n - 1) d, n alpha)``.
* Star (centre-leaf ``a``, leaf-leaf ``2a``, ``a < alpha < 2a``): the equilibria are
  ``{centre}`` (optimal, ``alpha + (n - 1) a``) and ``{all leaves}`` (``(n - 1) alpha +
  a``), so ``PoA = ((n - 1) alpha + a) / (alpha + (n - 1) a)`` and PoS = 1.
* Line ``0..n-1`` with unit spacing and ``alpha > n - 1``: every equilibrium is a single
  replica; the worst sits at an end (``alpha + n (n - 1) / 2``), the best at a median
  (``alpha + floor(n^2 / 4)``). The optimum splits the line into ``k`` balanced segments
  (a segment of ``s`` nodes costs ``floor(s^2 / 4)``, a convex function, so balancing is
  optimal). With ``alpha = n`` the ratio grows like ``sqrt(n) / 2``: the worst
  equilibrium costs about ``n^2 / 2`` and the optimum about ``n^(3/2)`` (``k ~ sqrt(n) /
  2`` replicas).

* A clique with an outlier (nodes ``0..n-2`` pairwise ``spread`` apart, node ``n - 1`` at
  ``far`` from all of them, ``0 < spread <= far <= alpha``, ``spread < alpha``): two
  clique replicas never coexist, the outlier alone is an equilibrium of cost ``alpha +
  (n - 1) far`` (the worst) and one clique replica is optimal, ``alpha + far + (n - 2)
  spread``. With ``far = alpha`` the PoA tends to ``n / 2`` as ``spread -> 0``: the
  Theta(n) growth of general metrics, on a metric with two distances.

Functions return floats; the ``*_expr`` functions return sympy expressions.

References
----------
Chun, B.-G., Chaudhuri, K., Wee, H., Barreno, M., Papadimitriou, C. H., Kubiatowicz, J.
(2004). Selfish caching in distributed systems: a game-theoretic analysis. PODC 2004
(PoA and PoS can be Theta(n) in general metrics).
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp

from gametheory.bounds._common import as_count, as_real
from gametheory.errors import GameError

__all__ = [
    "complete_graph_equilibrium_cost",
    "complete_graph_poa",
    "line_costs",
    "line_poa",
    "line_poa_growth",
    "line_poa_growth_expr",
    "line_pos",
    "outlier_costs",
    "outlier_poa",
    "star_poa",
    "star_poa_expr",
    "star_pos",
]


def complete_graph_equilibrium_cost(n: int, alpha: float, distance: float = 1.0) -> float:
    """Cost of every equilibrium (and of the optimum) on ``K_n``: ``min(alpha + (n-1) d, n alpha)``.

    ``K_6``, ``d = 1``, ``alpha = 2``: 7 (THEORY.md section 3).
    """
    k = as_count(n, "n")
    a, d = as_real(alpha, "alpha", positive=True), as_real(distance, "distance", positive=True)
    return min(a + (k - 1) * d, k * a)


def complete_graph_poa(n: int, alpha: float, distance: float = 1.0) -> float:
    """PoA (= PoS) of selfish caching on ``K_n`` with uniform parameters: 1.

    If ``alpha < d`` every node must hold (a non-holder would pay ``d > alpha``); if
    ``alpha > d`` two replicas cannot coexist, so the equilibria are the single replicas;
    if ``alpha = d`` every nonempty set costs ``n alpha``. Each case is also optimal.
    """
    complete_graph_equilibrium_cost(n, alpha, distance)
    return 1.0


def _star_check(n: object, alpha: object, arm: object) -> tuple[int, float, float]:
    k = as_count(n, "n", minimum=2)
    a, r = as_real(alpha, "alpha", positive=True), as_real(arm, "arm", positive=True)
    if not r < a < 2 * r:
        raise GameError(
            f"the star closed form needs arm < alpha < 2 arm, got alpha={a:g}, arm={r:g}"
        )
    return k, a, r


def star_poa(n: int, alpha: float, arm: float = 1.0) -> float:
    """PoA of selfish caching on a star of ``n`` nodes (centre-leaf ``arm``, leaf-leaf ``2 arm``).

    ``((n - 1) alpha + arm) / (alpha + (n - 1) arm)``; ``n = 5``, ``alpha = 1.9``:
    ``8.6 / 5.9``. It tends to ``alpha / arm < 2`` as ``n`` grows.

    Raises
    ------
    GameError
        Unless ``arm < alpha < 2 arm`` (outside that range the equilibria differ).
    """
    k, a, r = _star_check(n, alpha, arm)
    return ((k - 1) * a + r) / (a + (k - 1) * r)


def star_pos(n: int, alpha: float, arm: float = 1.0) -> float:
    """PoS on the star: 1 (the centre alone is an equilibrium and optimal)."""
    _star_check(n, alpha, arm)
    return 1.0


def star_poa_expr() -> sp.Expr:
    """``((n - 1) alpha + 1) / (alpha + n - 1)`` (unit arm) as a sympy expression."""
    n, alpha = sp.symbols("n alpha", positive=True)
    return ((n - 1) * alpha + 1) / (alpha + n - 1)


def line_costs(n: int, alpha: float) -> tuple[float, float, float]:
    """Worst equilibrium, best equilibrium and optimal cost on the unit line, ``alpha > n - 1``.

    ``n = 14``, ``alpha = 14``: ``(105, 63, 52)`` (optimum at nodes 3 and 10).

    Raises
    ------
    GameError
        Unless ``alpha > n - 1`` (then two replicas can coexist and equilibria vary).
    """
    k = as_count(n, "n")
    a = as_real(alpha, "alpha", positive=True)
    if not a > k - 1:
        raise GameError(
            f"the line closed form needs alpha > n - 1 = {k - 1}, got {a:g}; "
            "use gametheory.solvers.caching.selfish_optimum.caching_price_of_anarchy"
        )
    worst = a + k * (k - 1) / 2
    best = a + (k * k) // 4
    reps = np.arange(1, k + 1, dtype=np.int64)
    q, r = np.divmod(k, reps)
    seg = r * ((q + 1) ** 2 // 4) + (reps - r) * (q**2 // 4)
    optimum = float(np.min(reps * a + seg))
    return float(worst), float(best), optimum


def line_poa(n: int, alpha: float) -> float:
    """Exact PoA on the unit line with ``alpha > n - 1`` (see :func:`line_costs`)."""
    worst, _, optimum = line_costs(n, alpha)
    return worst / optimum


def line_pos(n: int, alpha: float) -> float:
    """Exact PoS on the unit line with ``alpha > n - 1`` (see :func:`line_costs`)."""
    _, best, optimum = line_costs(n, alpha)
    return best / optimum


def line_poa_growth(n: int) -> float:
    """Asymptotic PoA on the unit line with ``alpha = n``: ``sqrt(n) / 2``.

    ``line_poa(n, n) / line_poa_growth(n) -> 1`` (1.08 at ``n = 14``, 1.0001 at
    ``n = 10^4``).
    """
    return math.sqrt(as_count(n, "n")) / 2.0


def line_poa_growth_expr() -> sp.Expr:
    """``sqrt(n) / 2`` as a sympy expression."""
    n = sp.symbols("n", positive=True)
    return sp.sqrt(n) / 2


def outlier_costs(n: int, alpha: float, spread: float, far: float) -> tuple[float, float, float]:
    """Worst equilibrium, best equilibrium and optimum on a clique with an outlier.

    Nodes ``0..n-2`` are pairwise ``spread`` apart, node ``n - 1`` is ``far`` from all of
    them (:meth:`~gametheory.games.caching.selfish.SelfishCachingGame.clique_with_outlier`);
    unit demand, placement cost ``alpha``, no origin. Returns ``(alpha + (n-1) far,
    alpha + far + (n-2) spread, alpha + far + (n-2) spread)``: PoS = 1.

    Raises
    ------
    GameError
        Unless ``n >= 2`` and ``0 < spread <= far <= alpha`` with ``spread < alpha``.
    """
    k = as_count(n, "n", minimum=2)
    a = as_real(alpha, "alpha", positive=True)
    sp_, fa = as_real(spread, "spread", positive=True), as_real(far, "far", positive=True)
    if not (sp_ <= fa <= a and sp_ < a):
        raise GameError(
            f"the clique-with-outlier closed form needs spread <= far <= alpha and spread < "
            f"alpha, got spread={sp_:g}, far={fa:g}, alpha={a:g}"
        )
    best = a + fa + (k - 2) * sp_
    return a + (k - 1) * fa, best, best


def outlier_poa(n: int, alpha: float, spread: float, far: float) -> float:
    """PoA on a clique with an outlier: ``(alpha + (n-1) far) / (alpha + far + (n-2) spread)``.

    With ``far = alpha`` it is ``n alpha / (2 alpha + (n - 2) spread)``, which tends to
    ``n / 2`` as ``spread / alpha -> 0``: the PoA of selfish caching grows linearly in
    ``n`` on general metrics (Chun et al. 2004: Theta(n)). See :func:`outlier_costs`.
    """
    worst, _, optimum = outlier_costs(n, alpha, spread, far)
    return worst / optimum
