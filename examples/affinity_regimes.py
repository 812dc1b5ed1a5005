# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Cache affinity: nearly free below saturation, costly past the knee
#
# Five workers, five prompt-prefix groups of Zipf popularity. A request pays the load
# latency of its worker plus the prefill time of the prompt blocks not already cached
# there; requests of one group share their prefix on a worker. We compare the routers
# (Dynamo's KV router, SGLang's cache-aware rule, round robin, least loaded), the
# equilibrium selfish requests reach, and the social optimum, as the load grows.

# %%
import sys

import matplotlib

if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")

import numpy as np

from gametheory.costs import BPR, Affine
from gametheory.games.affinity import AffinityRoutingGame
from gametheory.solvers.affinity_optimum import affinity_optimum
from gametheory.solvers.affinity_poa import outcome_poa, plot_poa_curve, poa_curve
from gametheory.solvers.best_response import best_response_dynamics
from gametheory.solvers.routers import cache_aware_router, kv_router
from gametheory.solvers.tolls import (
    marginal_cost_router,
    marginal_cost_tolls,
    nonatomic_version,
    omega_as_toll,
    switched_kv_router,
)

N_REQUESTS = 60  # arrivals of the full sequence (200 with KNEE = 20 takes about a minute)
LOADS = [10, 20, 30, 60]  # points of the PoA curve (requests routed)
KNEE = 6  # requests per worker at which the latency curve bends

# %% [markdown]
# ## The instance
# Each worker's latency is a BPR-shaped curve `1 + (n / KNEE)^4` (flat, then steep past
# the knee); a prefix is 8 blocks, a suffix about 1, and a block costs 0.1 latency units.

# %%
workers = [BPR(1.0, KNEE, alpha=1.0, beta=4.0)] * 5
game = AffinityRoutingGame.synthetic(
    workers, N_REQUESTS, n_groups=5, prefix_blocks=8, suffix_blocks=1, block_time=0.1, seed=0
)
print(game)
print("requests per group:", np.bincount(game.group, minlength=5).tolist())

# %% [markdown]
# ## One load, all outcomes
# Below the knee (20 requests on 5 workers) and past it (all arrivals).

# %%
for n in (LOADS[1], N_REQUESTS):
    res = outcome_poa(game.first(n), seed=0)
    figures = ", ".join(f"{k} {v:.3f}" for k, v in res.ratios.items())
    print(f"{n} requests (optimum {res.optimum_cost:.2f}, exact={res.exact}): {figures}")

# %% [markdown]
# ## The regime change
# Following the cache (the cache-aware rule) is free at low load and costs a large factor
# past the knee; load balancing (round robin, least loaded) wastes prefills at low load
# and becomes near-optimal past the knee. Selfish requests, moving until no one gains
# (best-response dynamics), stay close to the optimum throughout.

# %%
curve = poa_curve(game, LOADS, seed=0)
print("load  " + "  ".join(f"{k[:14]:>14}" for k in curve.ratios))
for i, n in enumerate(curve.loads):
    print(f"{int(n):4d}  " + "  ".join(f"{v[i]:14.3f}" for v in curve.ratios.values()))
affinity = curve.ratios["cache-aware router"]
balance = curve.ratios["least loaded"]
print(
    f"affinity: {affinity[0]:.3f} below the knee, {affinity[-1]:.3f} past it; "
    f"balancing: {balance[0]:.3f} -> {balance[-1]:.3f}"
)
ax = plot_poa_curve(curve)

# %% [markdown]
# ## Worst equilibrium of a small instance (exact pure PoA by enumeration)

# %%
small = AffinityRoutingGame.synthetic([Affine(1, 1), Affine(0, 2), BPR(1, 2)], 6, seed=5)
exact = outcome_poa(small, worst_equilibrium=True)
print(
    f"worst pure equilibrium / optimum = {exact.ratios['worst equilibrium']:.4f}, "
    f"best = {exact.ratios['best equilibrium']:.4f}"
)

# %% [markdown]
# ## Asymmetric overlaps: no potential, dynamics cycle
# Request 0 saves 1.5 blocks next to request 1; request 1 saves nothing next to 0. Alone
# each waits 1, together 2: 0 chases 1 and 1 flees 0.

# %%
chase = AffinityRoutingGame(
    [Affine(0, 1)] * 2,
    [0.0],
    [(0, 2), (0, 2)],
    model="overlap",
    overlap=[[0.0, 1.5], [0.0, 0.0]],
)
run = best_response_dynamics(chase, initial=[0, 0])
print(f"has potential: {chase.has_potential}; converged: {run.converged}; cycle: {run.cycle}")

# %% [markdown]
# ## Tolls
# In the fluid limit, marginal-cost tolls make the selfish flow optimal. (On identical
# workers selfish flow is already optimal, so the fluid example adds a slower worker with a
# flat latency, e.g. an older GPU with a large batch.) For the atomic routers, the
# toll-equivalent prefill weight `omega` falls by orders of magnitude across the knee,
# which an adaptive router's two-level switch approximates.

# %%
mixed = AffinityRoutingGame.synthetic([*workers[:4], Affine(3.0, 0.05)], N_REQUESTS, seed=0)
tolls = marginal_cost_tolls(nonatomic_version(mixed))
print(
    f"fluid limit: selfish {tolls.equilibrium_cost:.2f}, tolled {tolls.tolled_cost:.2f}, "
    f"optimum {tolls.optimum_cost:.2f}, restored: {tolls.restores_optimum}"
)
switch = omega_as_toll(game, [1, 3, 5, 8, 12], omega_below=30.0, omega_above=0.5, knee=KNEE)
for x, w_t, w_s in zip(switch.loads, switch.omega_toll, switch.omega_switch):
    print(f"load {x:4.0f}/worker: toll-equivalent omega {w_t:10.3f}, switch {w_s:6.2f}")
opt = affinity_optimum(game).social_cost
switch_router = switched_kv_router(game, omega_below=30.0, omega_above=0.5, knee=KNEE, seed=0)
for name, out in [
    ("KV router, omega 1", kv_router(game, seed=0)),
    ("KV router, omega 30", kv_router(game, omega=30.0, seed=0)),
    ("cache-aware", cache_aware_router(game)),
    ("KV router, omega 30 -> 0.5 at the knee", switch_router),
    ("marginal-cost router", marginal_cost_router(game)),
]:
    print(f"{name}: cost / optimum = {out.social_cost / opt:.3f}")
