"""Games with any number of players: one Nash equilibrium by the logit branch.

:mod:`~gametheory.solvers.finite.nplayer.logit` follows the principal branch of logit
quantal response equilibria (McKelvey and Palfrey, GEB 10(1) 1995; Turocy, GEB 51(2)
2005) with a compiled continuation when Numba is installed
(:mod:`~gametheory.solvers.finite.nplayer.compiled_logit`); both read the payoff tensor
through :mod:`~gametheory.solvers.finite.nplayer.payoffs`, which also turns a point near
an equilibrium into one certified to rounding.
"""
