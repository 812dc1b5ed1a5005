# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Selfish caching and the hierarchical KV cache
#
# Part 1 is Chun et al.'s selfish caching game (PODC 2004): nodes of a metric either pay a
# placement cost for a replica or fetch from the nearest one. We check the textbook
# instances of THEORY.md section 3, the closed forms, the growth on a line and the cache
# paradox. Part 2 builds the KV-cache version for a 3-server x 8-GPU cluster from the
# Mooncake conversation trace and compares its equilibrium with the social optimum.

# %%
from pathlib import Path

import numpy as np

from gametheory.bounds import caching as closed_forms
from gametheory.games import library
from gametheory.games.caching import SelfishCachingGame
from gametheory.games.kv_cache import HierarchicalKVCachingGame, KVHardware
from gametheory.solvers.caching import cache_paradox, caching_price_of_anarchy
from gametheory.solvers.kv_cache import kv_best_response_dynamics, kv_social_optimum

ROOT = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path.cwd()
TRACE = ROOT.parent / "shared" / "data" / "traces" / "conversation_trace.jsonl"
TOP_BLOCKS = 24  # blocks kept for the optimum MILP (small by default)
CAPACITIES = (1, 2, 2, 4)  # blocks per worker in G1..G4 for the reduced game

# %% [markdown]
# ## 1. Selfish caching on textbook topologies
# Unit demand, no origin (a node with no replica anywhere pays infinity). Worst and best
# equilibria come from MILPs over the equilibrium conditions, the optimum from facility
# location; all are exact.

# %%
instances = {
    "K6, d = 1, alpha = 2": library.selfish_caching_k6(),
    "star n = 5, alpha = 1.9": library.selfish_caching_star(),
    "line n = 14, alpha = 14": library.selfish_caching_line(),
}
for name, game in instances.items():
    res = caching_price_of_anarchy(game)
    opt_nodes = np.flatnonzero(res.optimum.placement[:, 0]).tolist()
    print(
        f"{name}: worst NE {res.worst_cost:g}, best NE {res.best_cost:g}, optimum "
        f"{res.optimum_cost:g} at {opt_nodes}, PoA {res.poa:.4f}, PoS {res.pos:.4f}"
    )
print(f"star closed form: {closed_forms.star_poa(5, 1.9):.4f}")

# %% [markdown]
# On a line with `alpha = n` every equilibrium is a single replica, while the optimum
# uses about `sqrt(n) / 2` of them: the PoA grows like `sqrt(n) / 2`.

# %%
for n in (14, 100, 10_000):
    print(
        f"line n = {n}: PoA {closed_forms.line_poa(n, n):.4f}, "
        f"sqrt(n)/2 = {closed_forms.line_poa_growth(n):.4f}"
    )

# %% [markdown]
# On general metrics the PoA grows linearly: a clique whose nodes are `spread` apart and
# one outlier at distance `alpha` from all of them. The outlier alone is an equilibrium
# (everyone fetches from it at cost `alpha`), while one replica in the clique is optimal.

# %%
for n in (4, 8, 16):
    game = SelfishCachingGame.clique_with_outlier(n, 1.0, spread=0.01, far=1.0)
    res = caching_price_of_anarchy(game)
    print(
        f"clique + outlier n = {n}: PoA {res.poa:.4f} (closed form "
        f"{closed_forms.outlier_poa(n, 1.0, 0.01, 1.0):.4f}, n/2 = {n / 2:g})"
    )

# %% [markdown]
# A GPU cluster as a caching metric: 3 servers of 8 GPUs, NVLink distance 1 inside a
# server, InfiniBand distance 4 across. Once a replica costs more than the InfiniBand
# fetch, every server free-rides on a single copy, whereas the optimum keeps one copy
# per server.

# %%
for alpha in (1.5, 6.0):
    res = caching_price_of_anarchy(SelfishCachingGame.cluster(3, 8, alpha, intra=1.0, inter=4.0))
    print(
        f"cluster 3x8, alpha = {alpha:g}: worst NE {res.worst_cost:g}, optimum "
        f"{res.optimum_cost:g}, PoA {res.poa:.4f}"
    )

# %% [markdown]
# ## 2. The cache paradox
# A heavy client X sits next to a cache A; a cheap cache C joins beyond A. C always
# caches, A free-rides on C, and X now fetches from farther away: every equilibrium after
# the addition costs the original nodes more than every equilibrium before it.

# %%
paradox = cache_paradox(*library.cache_paradox())
print(
    f"paradox: {paradox.paradox}; before: NE {paradox.before_worst_cost:g} (optimum "
    f"{paradox.before_optimum_cost:g}); after: NE {paradox.after_best_cost:g}, of which the "
    f"original nodes pay {paradox.after_best_cost_original_nodes:g} (optimum "
    f"{paradox.after_optimum_cost:g})"
)

# %% [markdown]
# ## 3. The hierarchical KV cache of a 3 x 8 H100 cluster
# Default hardware: H100 SXM, Llama-3.1-8B BF16 KV (64 MiB per 512-token block). Access
# costs in milliseconds per block (rows: own tier, NVLink peer, InfiniBand peer; columns
# G1 HBM, G2 DRAM, G3 SSD, G4 remote) and the prefill recompute time of a block:

# %%
hw = KVHardware()
print(np.round(hw.access_costs() * 1e3, 3))
print(f"recompute one block: {float(hw.recompute_seconds(hw.block_tokens)) * 1e3:.2f} ms")

# %% [markdown]
# Requests of the conversation trace are routed round-robin to the 24 workers. The full
# trace gives 182,790 blocks; best-response dynamics reach an equilibrium of the full game
# (the best responses are large knapsacks: the greedy oracle, labelled as such). The
# optimum MILP is solved on the most requested blocks with small capacities, where the
# workers compete for space, and compared with the equilibrium of that game.

# %%
if TRACE.is_file():
    full = HierarchicalKVCachingGame.from_trace(TRACE)
    print(f"full trace: {full.n_requests:,} requests, {full!r}")
    full_eq = kv_best_response_dynamics(full)
    no_cache = full.social_cost(full.empty_placement())
    print(
        f"full game equilibrium: {full_eq.social_cost:.4f} s/s of fetch and recompute time "
        f"({full_eq.social_cost / no_cache:.1%} of recomputing everything; oracle "
        f"{full_eq.best_response}, converged {full_eq.converged} in {full_eq.rounds} rounds)"
    )
    kv_game = HierarchicalKVCachingGame.from_trace(
        TRACE, top_blocks=TOP_BLOCKS, capacities=CAPACITIES
    )
    eq = kv_best_response_dynamics(kv_game)
    opt = kv_social_optimum(kv_game, time_limit=60)
    for label, placed in (("equilibrium", eq), ("optimum", opt)):
        tiers = np.asarray(placed.tiers)
        copies = [int((tiers == t).sum()) for t in range(kv_game.n_tiers)]
        print(f"{label}: cost {placed.social_cost * 1e3:.4f} ms/s, copies per tier {copies}")
    print(
        f"reduced game ({TOP_BLOCKS} blocks, {kv_game.coverage:.1%} of block requests): "
        f"equilibrium / optimum = {eq.social_cost / opt.social_cost:.4f} "
        f"(oracle {eq.best_response}, optimum {opt.status})"
    )
else:
    print(f"trace not found at {TRACE}: part 3 skipped")
