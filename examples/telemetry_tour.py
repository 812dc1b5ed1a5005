# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # From telemetry to PoA-hat, knees and a fitted game
#
# Real measurements in, game-theoretic indicators out. We read aiconfigurator's silicon
# table (real TTFT/TPOT of Llama-3.1-70B on B200), find each deployment's saturation
# knee, fit its latency curve as a cost function, build the routing game of two
# deployments and compare its model PoA with the PoA-hat of routers whose decision logs
# we synthesise in the Dynamo schema. Uses ``../shared/data`` when present, else the
# project's tiny fixtures.

# %%
import sys
from pathlib import Path

import matplotlib

if "ipykernel" not in sys.modules:
    matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from gametheory.telemetry import (
    classify_regimes,
    detect_knee,
    fit_costs,
    poa_hat,
    read_aiconfigurator,
    read_report,
    read_router_log,
)

ROOT = Path(__file__).resolve().parents[1] if "__file__" in globals() else Path.cwd().parent
SHARED = ROOT.parent / "shared" / "data" / "telemetry"
FIXTURES = ROOT / "tests" / "data" / "telemetry"
SILICON = (
    SHARED / "aiconfigurator" / "silicon_sample.csv"
    if SHARED.is_dir()
    else FIXTURES / "silicon_tiny.csv"
)

# %% [markdown]
# ## 1. Sweeps and knees

# %%
sweep = read_aiconfigurator(SILICON)
print(read_report(sweep))
if SHARED.is_dir():
    names = [
        "Llama-3.1-70B|b200_sxm|trtllm|fp8|agg|8192x1024|fp8|tp1pp1dp1ep1mtp1",
        "Llama-3.1-70B|b200_sxm|trtllm|fp8|agg|8192x1024|fp8|tp2pp1dp1ep1mtp2",
    ]
else:
    names = sorted(sweep["deployment"].unique())[:2]
for name in names:
    knee = detect_knee(sweep, deployment=name)
    print(
        f"{name}: knee {knee.knee:g} (interval {knee.interval[0]:g}-{knee.interval[1]:g}, "
        f"first post-knee {knee.first_post_knee:g}) on {knee.metric}"
    )
regimes = classify_regimes(sweep[sweep["deployment"] == names[0]])
print(regimes[["concurrency", "regime"]].to_string(index=False))

# %%
knee = detect_knee(sweep, deployment=names[0])
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(knee.concurrency, knee.latency, "o-")
ax.axvspan(*knee.interval, alpha=0.2, color="tab:orange")
ax.axvline(knee.knee, color="tab:red", ls="--")
ax.set_xscale("log", base=2)
ax.set_xlabel("concurrency")
ax.set_ylabel(f"{knee.metric}")
ax.set_title(names[0], fontsize=7)
fig.tight_layout()

# %% [markdown]
# ## 2. Fitted costs and the model PoA
# Load = request throughput (req/s), cost = TTFT (s); the best parametric family of
# each deployment becomes a link of a parallel-links game.

# %%
if len(names) >= 2:
    fit = fit_costs(sweep, deployments=names)
    for name in names:
        best = fit.best[name]
        print(f"{name}: best fit {best.family}, R^2 {best.r2:.3f}, {best.parameters}")
    print(f"model PoA at demand {fit.demand:.3f} req/s: {fit.model_poa:.4f}")

# %% [markdown]
# ## 3. PoA-hat of routers
# The shipped router-log fixture (new Dynamo log shape, with ANSI colours) first; then
# synthetic logs: a greedy router that picks the cheapest logit, and a random one.

# %%
log = read_router_log(FIXTURES / "kv_router_new_shape.log")
print(
    f"fixture log: {log['decision'].nunique()} decisions, PoA-hat (window 1) "
    f"{poa_hat(log, window=1, n_bootstrap=0).poa_hat:.3f}"
)


def synthetic_log(n_dec: int, n_wrk: int, policy: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    prefill = rng.gamma(2.0, 2.0, (n_dec, n_wrk))
    load = rng.uniform(0.0, 4.0, (n_dec, n_wrk))
    cost = prefill + load
    chosen = cost.argmin(axis=1) if policy == "greedy" else rng.integers(0, n_wrk, n_dec)
    return pd.DataFrame(
        {
            "decision": np.repeat(np.arange(n_dec), n_wrk),
            "worker": np.tile([f"w{j}" for j in range(n_wrk)], n_dec),
            "prefill_cost": prefill.ravel(),
            "decode_blocks": load.ravel(),
            "cost": cost.ravel(),
            "chosen": (chosen[:, None] == np.arange(n_wrk)).ravel(),
        }
    )


for policy in ("greedy", "random"):
    frame = synthetic_log(2000, 5, policy, seed=1)
    plain = poa_hat(frame, seed=0)
    capacity = poa_hat(frame, capacity_aware=True, seed=0)
    print(
        f"{policy}: PoA-hat {plain.poa_hat:.3f} [{plain.ci_low:.3f}, {plain.ci_high:.3f}], "
        f"capacity-aware {capacity.poa_hat:.3f}"
    )
