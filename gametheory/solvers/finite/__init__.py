"""Finite (normal-form) games: mixed Nash equilibria, their components, correlated
equilibria and learning dynamics.

All extreme equilibria of a bimatrix game by vertex enumeration of the best-response
polytopes (Avis, Rosenberg, Savani and von Stengel, Econ. Theory 42(1) 2010) in exact
rational arithmetic, grouped into maximal Nash subsets (Millham 1974); one equilibrium
by Lemke-Howson with lexicographic pivoting (Lemke and Howson, SIAM J. Appl. Math. 12(2)
1964; von Stengel, Handbook of Game Theory 3, 2002); correlated and coarse correlated
equilibria as linear programs (Aumann 1974; Hannan 1957); fictitious play (Brown 1951;
Robinson 1951). Mixed and correlated Prices of Anarchy compare these with the social
optimum of :mod:`gametheory.solvers.common.optimum`. Games with any number of players are
in :mod:`gametheory.solvers.finite.nplayer`: one equilibrium by the logit branch
(McKelvey and Palfrey, GEB 10(1) 1995; Turocy, GEB 51(2) 2005) or by the global Newton
method (Govindan and Wilson, J. Econ. Theory 110(1) 2003).
"""
