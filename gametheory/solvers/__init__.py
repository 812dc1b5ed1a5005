"""Solvers: equilibria, optima and Price of Anarchy over the games' protocols."""

from gametheory.solvers.common.highs import silence_banner

silence_banner()
