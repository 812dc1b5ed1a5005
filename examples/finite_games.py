# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Finite games: every equilibrium, one equilibrium, correlated equilibria
#
# Players minimise costs. Textbook games list payoffs (maximised, as nashpy does), so
# they enter through `NormalFormGame.from_bimatrix(A, B)`, which negates them.

# %%
import numpy as np

from gametheory.games import library
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.correlated import correlated_equilibria, correlated_price_of_anarchy
from gametheory.solvers.fictitious_play import fictitious_play
from gametheory.solvers.lemke_howson import lemke_howson
from gametheory.solvers.mixed import mixed_price_of_anarchy
from gametheory.solvers.vertex_enumeration import vertex_enumeration

SIZE = 8  # size of the random game below; small by default

# %% [markdown]
# ## All extreme equilibria, exactly, and the components
# The degenerate 3x2 game of von Stengel (2002) has a continuum of equilibria: the row
# player's first strategy against any column mixture with at most 1/3 on the second column.

# %%
game = library.three_by_two(degenerate=True)
result = vertex_enumeration(game)
print(result)
for eq, comp in zip(result.exact_equilibria or (), result.component, strict=True):
    print("component", comp, "x =", [str(v) for v in eq[0]], "y =", [str(v) for v in eq[1]])
print("maximal Nash subsets:", result.maximal_nash_subsets)

# %% [markdown]
# ## One equilibrium of a larger game by Lemke-Howson

# %%
rng = np.random.default_rng(0)
A, B = rng.standard_normal((2, SIZE, SIZE))
big = NormalFormGame.from_bimatrix(A, B)
lh = lemke_howson(big, initial_label=0)
print(lh.converged, lh.iterations, f"{lh.max_regret:.1e}")
all_eq = vertex_enumeration(big)
print(
    len(all_eq),
    "extreme equilibria; Lemke-Howson found one of them:",
    any(
        np.allclose(lh.strategies[0], x) and np.allclose(lh.strategies[1], y)
        for x, y in all_eq.equilibria
    ),
)

# %% [markdown]
# ## Fictitious play converges in zero-sum games (Robinson 1951)

# %%
fp = fictitious_play(library.matching_pennies(), max_iter=5000, update="alternating")
print(fp.converged, fp.iterations, [np.round(s, 3) for s in fp.strategies])

# %% [markdown]
# ## Correlated equilibria and the Price of Anarchy
# In the game of chicken (Aumann 1974) a correlation device beats every Nash equilibrium.

# %%
chicken = NormalFormGame.from_bimatrix([[6, 2], [7, 0]], [[6, 7], [2, 0]])
ce = correlated_equilibria(chicken)
print(
    "best CE welfare",
    -ce.best_cost,
    "best Nash welfare",
    -vertex_enumeration(chicken).social_costs.min(),
)
print(ce.best_distribution)

# %% [markdown]
# With positive costs the PoA over mixed and over coarse correlated equilibria:

# %%
costs = NormalFormGame.from_bimatrix(
    3 - np.array([[2, 0], [0, 1]]), 3 - np.array([[1, 0], [0, 2]]), payoffs=False
)
print("mixed PoA", mixed_price_of_anarchy(costs).poa)
print("coarse correlated PoA", correlated_price_of_anarchy(costs, coarse=True).poa)
