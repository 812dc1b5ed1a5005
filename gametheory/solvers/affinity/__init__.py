"""Affinity routing: the congestion game with cache-affinity externalities that a
KV-aware router plays.

The router rules of Dynamo's KV router (logit ``omega p + b n``, softmax at temperature
``tau``) and of cache-aware and load-balancing routers played on the game; the social
optimum as a MILP; the PoA of router outcomes and of equilibria, and its curve against
load; marginal-cost routing and the ``(omega, tau)`` switch read as an approximate toll
(Beckmann, McGuire and Winsten 1956; Roughgarden and Tardos, JACM 49(2) 2002). With
symmetric pairwise affinities the game has an exact potential (de Keijzer and Schaefer,
ESA 2012).
"""
