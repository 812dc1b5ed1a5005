"""Games with any number of players: one Nash equilibrium by the logit branch or by the
global Newton method.

:mod:`~gametheory.solvers.finite.nplayer.logit` follows the principal branch of logit
quantal response equilibria (McKelvey and Palfrey, GEB 10(1) 1995; Turocy, GEB 51(2)
2005) with a compiled continuation when Numba is installed
(:mod:`~gametheory.solvers.finite.nplayer.compiled_logit`);
:mod:`~gametheory.solvers.finite.nplayer.global_newton` follows the equilibria of games
perturbed along a ray down to the game (Govindan and Wilson, J. Econ. Theory 110(1)
2003). Both read the payoff tensor through
:mod:`~gametheory.solvers.finite.nplayer.payoffs`, which also turns a point near an
equilibrium into one certified to rounding.
"""
