"""Price of Anarchy over the mixed Nash equilibria of a two-player game.

The worst (and the best) mixed equilibrium is attained at an *extreme* equilibrium, so the
finite list from :func:`~gametheory.solvers.finite.vertex_enumeration.vertex_enumeration` gives
the exact mixed PoA and PoS even when the game has a continuum of equilibria. Proof: the
equilibrium set is the union of its maximal Nash subsets ``conv(X) x conv(Y)``, where every
pair in ``X x Y`` is an extreme equilibrium (Avis, Rosenberg, Savani and von Stengel,
Economic Theory 42(1) 2010, Section 4; Jansen 1981). The expected social cost
``x^T (C_1 + C_2) y`` is bilinear, so over such a product of polytopes it is extremal at a
vertex pair: fixing ``y`` it is linear in ``x``, hence extremal at some ``x`` in ``X``, and
then linear in ``y``. (A whole *component* need not be a product of polytopes - it is a
union of maximal Nash subsets - but the argument only needs the subsets.)
"""

from __future__ import annotations

import numpy as np

from gametheory.errors import GameError
from gametheory.games.normal_form import NormalFormGame
from gametheory.results import PoAResult
from gametheory.solvers.common.optimum import social_optimum
from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration

__all__ = ["mixed_price_of_anarchy"]


def mixed_price_of_anarchy(game: NormalFormGame) -> PoAResult:
    """Exact Price of Anarchy and Stability over all mixed equilibria of a bimatrix game.

    Parameters
    ----------
    game
        A two-player :class:`~gametheory.games.normal_form.NormalFormGame` with positive
        costs.

    Returns
    -------
    PoAResult
        ``poa`` = worst expected equilibrium social cost / least pure social cost, ``pos``
        likewise with the best equilibrium; the equilibria are ``(x, y)`` pairs and the
        optimum a pure profile. ``exact`` is True: every equilibrium lies in a maximal Nash
        subset whose extreme points were all enumerated (see the module docstring).

    Raises
    ------
    GameError
        If the game does not have two players or the optimum cost is not positive.
    """
    if not isinstance(game, NormalFormGame) or game.n_players != 2:
        raise GameError("mixed_price_of_anarchy needs a two-player NormalFormGame")
    pure = social_optimum(game, "exhaustive")
    optimum = pure.social_cost
    if optimum <= 0:
        raise GameError(
            f"the optimal social cost is {optimum:g} <= 0, so the Price of Anarchy is "
            "undefined; shift the costs to be positive"
        )
    result = vertex_enumeration(game)
    social = result.social_costs
    worst, best = int(np.argmax(social)), int(np.argmin(social))
    return PoAResult(
        poa=float(social[worst]) / optimum,
        pos=float(social[best]) / optimum,
        worst_cost=float(social[worst]),
        best_cost=float(social[best]),
        optimum_cost=optimum,
        worst_equilibrium=result.equilibria[worst],
        best_equilibrium=result.equilibria[best],
        optimum=pure.profile,
        exact=True,
        method=f"mixed equilibria by {result.method}; optimum over pure profiles",
        n_equilibria=len(result),
    )
