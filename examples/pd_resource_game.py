# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # The prefill/decode resource game
#
# Two pools of a disaggregated deployment, prefill and decode, share 24 B200 GPUs (3 nodes)
# in units of one Llama-3.1-70B FP8 engine (TP = 4, so 6 instances). Prefill is an M/M/c
# queue (TTFT), decode a continuous-batching fixed point (ITL); the operator's social cost is
# the mean end-to-end latency `TTFT + OSL x ITL`. Players minimise their share of it.

# %%
import matplotlib

matplotlib.use("Agg")

import numpy as np

from gametheory.games.pd_defaults import llama_70b_b200
from gametheory.games.resource import PDResourceGame
from gametheory.solvers.continuous import diagonal_strict_concavity, variational_equilibrium
from gametheory.solvers.pd_equilibria import (
    generalized_equilibria,
    pd_social_optimum,
    pd_variational_equilibrium,
)
from gametheory.solvers.pd_mechanisms import claim_game_poa, proportional_share, sla_planner
from gametheory.solvers.pd_regimes import plot_poa_curve, poa_curve

N_LOADS = 12  # points on the PoA curve; small by default

# %% [markdown]
# ## The model and its defaults
# The deployment's figures come from public numbers (B200: 8 TB/s HBM, 4.5 PFLOPS dense
# FP8; Llama-3.1-70B: 70.6e9 parameters, 163,840 KV bytes per token in FP8).

# %%
deployment = llama_70b_b200()
prefill = deployment.prefill_model(isl=3000)
decode = deployment.decode_model(isl=3000, osl=150)
print(
    f"prefill service {prefill.service_time * 1e3:.1f} ms -> {1 / prefill.service_time:.1f} req/s"
)
print(f"decode step {decode.step_base * 1e3:.2f} ms + {decode.step_per_sequence * 1e6:.1f} us/seq")
game = PDResourceGame.default(load=40.0)
print(game)

# %% [markdown]
# ## Optimum, variational equilibrium, generalized equilibria

# %%
opt = pd_social_optimum(game)
print(opt)
ve = pd_variational_equilibrium(game, optimum=opt)
print(ve)
kkt = variational_equilibrium(game, "kkt")
print("KKT solver agrees:", np.allclose(kkt.x, ve.relaxed, atol=1e-6))
print("Rosen uniqueness condition holds:", diagonal_strict_concavity(game, seed=0).holds)
gne = generalized_equilibria(game, opt)
print(gne.characterisation)
print(f"PoA of uncoordinated claiming {gne.poa:.3f}, PoS {gne.pos:.3f}")

# %% [markdown]
# ## Mechanisms

# %%
for outcome in (
    proportional_share(game, optimum=opt),
    proportional_share(game, price_anticipating=False, optimum=opt),
    sla_planner(game, ttft_target=0.2, itl_target=0.02, optimum=opt),
):
    print(f"{outcome.concept:40s} {outcome.allocation} ratio {outcome.ratio:.4f}")
claims = claim_game_poa(game.with_load(8.0))
print(f"claim game at 8 req/s: {claims.n_equilibria} equilibrium, PoA {claims.poa:.4f}")

# %% [markdown]
# ## Price of Anarchy against the load
# Flat near 1 at low load, infinite once the worst equilibrium's starved pool saturates.

# %%
loads = np.linspace(0.01, 0.97, N_LOADS) * game.capacity
curve = poa_curve(game, loads)
for load, worst in zip(curve.loads, curve.ratios["gne_worst"], strict=True):
    print(f"load {load:7.2f} req/s   PoA(worst GNE) {worst:.4f}")
ax = plot_poa_curve(curve)  # in a notebook, the figure shows here
print("curves drawn:", len(ax.get_lines()))
