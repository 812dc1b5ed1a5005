"""gametheory: the game theory of disaggregated LLM inference.

Typical use::

    import gametheory as gt
    game = gt.library.pigou(degree=2)
    gt.price_of_anarchy(game).poa        # 1.625752..., Roughgarden's alpha_2
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gametheory._lazy import lazy_exports
from gametheory._version import __version__
from gametheory.errors import GameError, GameTheoryError, SolverError, TelemetryError

if TYPE_CHECKING:
    from gametheory import bounds, control, sim, telemetry
    from gametheory.costs import (
        BPR,
        MM1,
        Affine,
        Constant,
        CostFunction,
        CostVector,
        Polynomial,
        Shared,
        SumCost,
        Tabulated,
    )
    from gametheory.games import library
    from gametheory.games.affinity.game import AffinityRoutingGame
    from gametheory.games.caching.kv import HierarchicalKVCachingGame
    from gametheory.games.caching.selfish import SelfishCachingGame
    from gametheory.games.congestion import AtomicCongestionGame
    from gametheory.games.network.routing import RoutingGame
    from gametheory.games.network.tntp import read_tntp
    from gametheory.games.nfg import read_nfg, write_nfg
    from gametheory.games.normal_form import NormalFormGame
    from gametheory.games.pd.resource import PDResourceGame, SharedBudgetGame
    from gametheory.results import EquilibriumResult, OptimumResult, PoAResult
    from gametheory.sim import simulate
    from gametheory.solvers.caching.selfish_optimum import caching_price_of_anarchy
    from gametheory.solvers.common.best_response import best_response_dynamics
    from gametheory.solvers.common.enumeration import pure_equilibria
    from gametheory.solvers.common.optimum import social_optimum
    from gametheory.solvers.finite.correlated import correlated_equilibria
    from gametheory.solvers.finite.fictitious_play import fictitious_play
    from gametheory.solvers.finite.lemke_howson import lemke_howson
    from gametheory.solvers.finite.mixed import mixed_price_of_anarchy
    from gametheory.solvers.finite.nash_components import nash_subsets
    from gametheory.solvers.finite.nplayer.global_newton import global_newton_equilibrium
    from gametheory.solvers.finite.nplayer.logit import logit_equilibrium
    from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration
    from gametheory.solvers.network.results import FlowResult
    from gametheory.solvers.network.wardrop import system_optimum, wardrop_equilibrium
    from gametheory.solvers.pd.continuous import variational_equilibrium
    from gametheory.solvers.poa import price_of_anarchy
    from gametheory.telemetry import classify_regimes, detect_knee, fit_costs, load, poa_hat
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__, globals())

__all__ = [
    "BPR",
    "MM1",
    "Affine",
    "AffinityRoutingGame",
    "AtomicCongestionGame",
    "Constant",
    "CostFunction",
    "CostVector",
    "EquilibriumResult",
    "FlowResult",
    "GameError",
    "GameTheoryError",
    "HierarchicalKVCachingGame",
    "NormalFormGame",
    "OptimumResult",
    "PDResourceGame",
    "PoAResult",
    "Polynomial",
    "RoutingGame",
    "SelfishCachingGame",
    "Shared",
    "SharedBudgetGame",
    "SolverError",
    "SumCost",
    "Tabulated",
    "TelemetryError",
    "__version__",
    "best_response_dynamics",
    "bounds",
    "caching_price_of_anarchy",
    "classify_regimes",
    "control",
    "correlated_equilibria",
    "detect_knee",
    "fictitious_play",
    "fit_costs",
    "global_newton_equilibrium",
    "lemke_howson",
    "library",
    "load",
    "logit_equilibrium",
    "mixed_price_of_anarchy",
    "nash_subsets",
    "poa_hat",
    "price_of_anarchy",
    "pure_equilibria",
    "read_nfg",
    "read_tntp",
    "sim",
    "simulate",
    "social_optimum",
    "system_optimum",
    "telemetry",
    "variational_equilibrium",
    "vertex_enumeration",
    "wardrop_equilibrium",
    "write_nfg",
]
