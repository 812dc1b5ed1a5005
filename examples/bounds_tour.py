# ---
# jupyter:
#   jupytext:
#     formats: py:percent
# ---

# %% [markdown]
# # Price-of-Anarchy bounds: closed forms, LP certificates, symbols, and a bound checker
#
# Every bound is a `BoundResult` with its source, tightness, certificate and (where one
# exists) a sympy closed form; in Jupyter it renders as LaTeX.

# %%
from gametheory.bounds import (
    aland_bound,
    bpr_bound,
    check_bound,
    exact_poa_lp,
    mm1_bound,
    pigou_bound,
    polynomial_bound,
    smoothness_bound,
    symbolic_pigou_bound,
)
from gametheory.costs import Tabulated
from gametheory.solvers.wardrop import routing_price_of_anarchy

N_PLAYERS = 20  # players of the exact LP; 100 takes about 0.1 s
TRIALS = 60  # random instances of the bound checker
STEPS = 120  # local-search solves of the bound checker

# %% [markdown]
# ## Nonatomic routing: the Pigou bound
# Closed forms for polynomials, M/M/1 delays with bounded traffic and BPR links with a
# volume/capacity bound; a numerical supremum for any curve, e.g. a latency curve measured
# on a decode pool (tokens/s against load), with the maximising (x, r) as certificate.

# %%
for d in range(1, 5):
    print(f"polynomials of degree <= {d}: {polynomial_bound(d).value:.6f}")
print(f"M/M/1, u_min = 1, R_max = 0.9: {mm1_bound(1.0, 0.9).value:.6f}")
print(f"BPR at most at capacity: {bpr_bound(1.0).value:.6f}; unbounded: {bpr_bound().value:.6f}")
measured = Tabulated([0.0, 10.0, 20.0, 30.0, 40.0], [12.0, 13.0, 16.0, 24.0, 45.0])
curve = pigou_bound(measured)
print(f"measured latency curve: PoA <= {curve.value:.4f}, certificate {curve.certificate}")

# %% [markdown]
# ## Symbolic derivation
# %%
family = symbolic_pigou_bound("a + b*x**d")
print("x*(r) =", family.certificate["x_star"])
print("sup   =", family.latex)
print("at d = 2:", round(family.at(d=2), 6))

# %% [markdown]
# ## Atomic congestion games: closed forms and the exact LP with its dual certificate
# %%
for d in (1, 2, 3):
    lp = exact_poa_lp(N_PLAYERS, degree=d)
    smooth = smoothness_bound(N_PLAYERS, degree=d).certificate
    print(
        f"degree {d}: Aland {aland_bound(d).expr} = {aland_bound(d).value:.6f}, "
        f"exact LP with {N_PLAYERS} players {lp.value:.6f} (= {lp.expr}), "
        f"smoothness (lambda, mu) = ({smooth['lambda']:.4f}, {smooth['mu']:.4f})"
    )
print("worst resource types (a, x, b) for 3 players, affine:")
for row in exact_poa_lp(3, degree=1).certificate["dual_support"]:
    print("  ", row)

# %% [markdown]
# ## Checking a claimed bound
# "PoA <= 4/3 for quadratic latencies" is false; the checker finds a witness and we re-solve it.
# %%
claim = check_bound(4 / 3, "quadratic", trials=TRIALS, local_steps=STEPS, seed=0)
print(f"claim 4/3 survived: {claim.survived}, worst ratio {claim.worst_ratio:.4f}")
again = routing_price_of_anarchy(claim.witness, method="fw", rgap=1e-10, max_iter=20000)
print(f"witness re-solved: PoA {again.poa:.4f}, costs {claim.witness.costs}")
true_claim = check_bound(2.16, "polynomial", degree=4, trials=TRIALS, local_steps=STEPS, seed=0)
print(f"claim 2.16 for quartics survived: {true_claim.survived}")
