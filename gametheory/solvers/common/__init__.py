"""Machinery shared by every solver family: best-response dynamics, pure-profile
enumeration, social optima of finite games, and the HiGHS and BLAS helpers.

Best-response and better-response dynamics terminate on games with a potential
(Rosenthal 1973; Monderer and Shapley, GEB 14(1) 1996) and report a cycle otherwise.
Exhaustive enumeration evaluates every pure profile of a small finite game (the exact
Price of Anarchy of Koutsoupias and Papadimitriou, STACS 1999); the load-balancing
optimum is a MILP whose relaxation is exact for convex costs (a min-cost flow, Ahuja,
Magnanti and Orlin 1993, ch. 14). The family subpackages build on this layer; it imports
none of them.
"""
