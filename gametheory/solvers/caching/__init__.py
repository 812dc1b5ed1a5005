"""Selfish caching and the hierarchical KV cache.

Pure equilibria of the selfish caching game of Chun, Chaudhuri, Wee, Barreno,
Papadimitriou and Kubiatowicz (PODC 2004): the equilibrium test, a greedy scan by
increasing ``alpha_i / w_i``, best-response dynamics, exhaustive enumeration and the
social optimum as an uncapacitated facility-location MILP, hence exact PoA and PoS;
for the KV hierarchy (HBM, host DRAM, SSD, remote) each player's best response is a
multi-tier knapsack and the optimum a MILP over tiers.
"""
