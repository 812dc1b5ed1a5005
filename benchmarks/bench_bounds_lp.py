"""Benchmark: the exact PoA LP (Paccagnan-Chandan-Marden) for n = 100 players, cubic basis.

Target: under 1 s. Peer: the same LP handed whole (about 7e5 rows) to HiGHS through
``scipy.optimize.linprog``, measured in the same run; both must give Aland's 1163/28.

Run: ``python benchmarks/bench_bounds_lp.py [n_players] [degree]``.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import numpy as np
from scipy.optimize import linprog

from gametheory.bounds import aland_bound, exact_poa_lp
from gametheory.bounds._basis import resolve_basis, tabulate_basis
from gametheory.bounds.exact_lp import lp_constraints


def best_of(repeats: int, fn: Callable[[], float]) -> tuple[float, float]:
    """Best wall time of ``repeats`` calls and the PoA the call returns."""
    times, value = [], 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return min(times), value


def full_lp(n: int, degree: int) -> float:
    """The peer: build every row and solve the whole LP with HiGHS."""
    table = tabulate_basis(resolve_basis(None, degree), n)
    rows = lp_constraints(n, table)
    res = linprog(
        [0.0, -1.0],
        A_ub=rows["A"],
        b_ub=rows["ub"],
        bounds=[(0.0, None), (None, None)],
        method="highs",
    )
    return 1.0 / float(np.asarray(res.x)[1])


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    d = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    ours_t, ours_v = best_of(3, lambda: exact_poa_lp(n, degree=d).value)
    peer_t, peer_v = best_of(2, lambda: full_lp(n, d))
    rows = lp_constraints(n, np.ones((d + 1, n + 1)))["ub"].size
    print(f"exact PoA LP, n = {n} players, degree {d} basis ({rows} rows x 2 columns)")
    print(f"  gametheory.exact_poa_lp (constraint generation): {ours_t:.3f} s  PoA = {ours_v:.9f}")
    print(f"  peer: full LP in HiGHS (scipy linprog):          {peer_t:.3f} s  PoA = {peer_v:.9f}")
    print(
        f"  Aland et al. closed form:                                  {aland_bound(d).value:.9f}"
    )
    print(
        f"  exact value from the LP's optimal vertex (rational): {exact_poa_lp(n, degree=d).expr}"
    )
    print(
        f"  speed-up over the peer: {peer_t / ours_t:.1f}x; target < 1 s: "
        f"{'met' if ours_t < 1.0 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
