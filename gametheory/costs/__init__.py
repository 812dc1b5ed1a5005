"""Cost (latency) functions of resources, links and servers.

Every cost function ``c`` is vectorised over its argument (the load ``x``: a flow for
nonatomic games, a number of users for atomic ones) and knows

* its value ``c(x)``, its ``derivative`` ``c'(x)`` and its ``integral`` from 0 (the
  Beckmann potential term of nonatomic routing, Beckmann, McGuire and Winsten 1956);
* its ``marginal`` cost ``c(x) + x c'(x)`` (the cost whose Wardrop equilibrium is the
  system optimum), and its ``rosenthal`` potential term ``sum_{k=1}^n c(k)``
  (Rosenthal 1973) for atomic games;
* a sympy expression (``expr``) and the cost ``family`` and ``degree`` used by the
  Price-of-Anarchy bounds.

Parameters may be arrays: ``BPR(t0=[1, 2], capacity=[10, 20])`` is two link costs that
evaluate elementwise on a vector of two flows. :class:`CostVector` gathers the costs of
all edges of a network into groups of one family, so that a whole flow vector is
evaluated with a few NumPy calls.

The modules: ``base`` (the :class:`CostFunction` base class and :class:`SumCost`),
``polynomial`` (:class:`Polynomial`, :class:`Constant`, :class:`Affine`), ``delay``
(:class:`BPR`, :class:`MM1`), ``sharing`` (:class:`Shared`), ``tabulated``
(:class:`Tabulated`) and ``vector`` (:func:`as_cost`, :class:`CostVector`).

References
----------
Roughgarden, T. (2003). The price of anarchy is independent of the network topology.
JCSS 67(2). Bureau of Public Roads (1964). Traffic Assignment Manual.
"""

from gametheory.costs.base import CostFunction, SumCost
from gametheory.costs.delay import BPR, MM1
from gametheory.costs.polynomial import Affine, Constant, Polynomial
from gametheory.costs.sharing import Shared
from gametheory.costs.tabulated import Tabulated
from gametheory.costs.vector import CostVector, as_cost

__all__ = [
    "BPR",
    "MM1",
    "Affine",
    "Constant",
    "CostFunction",
    "CostVector",
    "Polynomial",
    "Shared",
    "SumCost",
    "Tabulated",
    "as_cost",
]
