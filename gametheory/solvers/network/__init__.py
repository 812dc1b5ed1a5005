"""Nonatomic network routing: Wardrop equilibria, system optima and marginal-cost tolls.

The Wardrop equilibrium minimises the Beckmann potential ``sum_e int_0^{x_e} c_e`` and
the system optimum is the equilibrium of the marginal costs ``c_e + x c_e'`` (Beckmann,
McGuire and Winsten 1956). They are computed by the Frank-Wolfe family of traffic
assignment (Frank and Wolfe 1956; conjugate and bi-conjugate directions of Mitradjieva
and Lindberg, Transp. Sci. 47(2) 2013), with all-or-nothing loading on shortest-path
trees and an exact line search, stopped on the relative gap; a convex program (cvxpy)
checks them on small networks. Tolls ``x*_e c_e'(x*_e)`` make the optimum an
equilibrium (Roughgarden and Tardos, JACM 49(2) 2002).
"""
