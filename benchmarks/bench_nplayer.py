"""Benchmark: n-player equilibria, ours against Gambit's, time ratios and certificates.

Run ``python benchmarks/bench_nplayer.py`` (needs the ``bench`` extra for pygambit; the
``fast`` extra for the compiled logit continuation). Random games of the shapes 3x3x3,
4x4x4, 2x2x2x2, 3x3x3x3, 5x5x5, 6x6x6 and 4x4x4x4 (integer payoffs 0-99, ``--games`` per
shape, seeded) and the games of Gambit's catalog with three or more players
(``tests/data/nplayer_games.json`` and the contrib games of
``tests/conformance/data/gambit.json``) are solved by

* ``logit_equilibrium`` with the default kernel (compiled when Numba is installed) and
  with ``kernel="numpy"``, against ``pygambit.nash.logit_solve``;
* ``global_newton_equilibrium`` (NumPy), against the same ``logit_solve`` and, with
  ``--gambit-gnm``, against ``pygambit.nash.gnm_solve`` (which traces on to ``lambda =
  -10`` for more equilibria and can take minutes on 4x4x4x4).

Every game is passed to Gambit as our own ``.nfg`` text, parsed before timing. Each solver
is warmed once, then the solvers run in turn ``--repeats`` times (interleaved, so a load
from other processes hits them alike) and each one's median is kept. A shape's ratio is
the sum of our medians over the sum of Gambit's (the ratio of the mean times); each game
has its own line above its shape's. The certificate of every answer is its maximum regret
over the payoff range (ours and Gambit's; a shape's line shows the worst). The load
average (``os.getloadavg``) is printed before and after.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gametheory.games.nfg import write_nfg
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.common.compiled import numba_available
from gametheory.solvers.finite.nplayer.global_newton import global_newton_equilibrium
from gametheory.solvers.finite.nplayer.logit import logit_equilibrium

TESTS = Path(__file__).resolve().parents[1] / "tests"
SHAPES = ((3, 3, 3), (4, 4, 4), (2, 2, 2, 2), (3, 3, 3, 3), (5, 5, 5), (6, 6, 6), (4, 4, 4, 4))


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} on {os.cpu_count()} cores"


def _catalog() -> list[tuple[str, NormalFormGame]]:
    games = [
        (name, NormalFormGame.from_payoffs(case["payoffs"]))
        for name, case in json.loads((TESTS / "data" / "nplayer_games.json").read_text()).items()
        if not name.startswith("_")
    ]
    contrib = json.loads((TESTS / "conformance" / "data" / "gambit.json").read_text())
    for case in contrib["catalog"]:
        if len(case["n_strategies"]) > 2:
            payoffs = np.array(case["payoffs"], float) / case["payoff_scale"]
            games.append((f"contrib {case['name']}", NormalFormGame.from_payoffs(payoffs)))
    return games


def _random(shape: tuple[int, ...], count: int, seed: int) -> list[NormalFormGame]:
    rng = np.random.default_rng([seed, *shape])
    return [
        NormalFormGame.from_payoffs(rng.integers(0, 100, size=(len(shape), *shape)))
        for _ in range(count)
    ]


def _timed(solvers: dict[str, Callable[[], Any]], repeats: int) -> dict[str, tuple[Any, float]]:
    """Each solver's answer and median time, the solvers taking turns."""
    out = {name: fn() for name, fn in solvers.items()}  # warm
    times: dict[str, list[float]] = {name: [] for name in solvers}
    for _ in range(repeats):
        for name, fn in solvers.items():
            start = time.perf_counter()
            out[name] = fn()
            times[name].append(time.perf_counter() - start)
    return {name: (out[name], statistics.median(times[name])) for name in solvers}


def _gambit_profile(game: Any, result: Any) -> list[np.ndarray] | None:
    """Gambit's first equilibrium, each player's probabilities renormalised (its logit
    answers sum to 1 only to about 1e-7)."""
    if not result.equilibria:
        return None
    eq = result.equilibria[0]
    profile = [np.array([float(eq[s]) for s in p.strategies]) for p in game.players]
    return [p / p.sum() for p in profile]


def _solve(game: NormalFormGame, gbt: Any, repeats: int, gambit_gnm: bool) -> dict[str, Any]:
    theirs = gbt.read_nfg(io.StringIO(write_nfg(game)))
    solvers: dict[str, Callable[[], Any]] = {
        "logit": lambda: logit_equilibrium(game),
        "logit numpy": lambda: logit_equilibrium(game, kernel="numpy"),
        "gnm": lambda: global_newton_equilibrium(game),
        "gambit logit": lambda: gbt.nash.logit_solve(theirs),
    }
    if gambit_gnm:
        solvers["gambit gnm"] = lambda: gbt.nash.gnm_solve(theirs)
    timed = _timed(solvers, repeats)
    spread = float(np.ptp(game.cost_tensor)) or 1.0
    row: dict[str, Any] = {name: t for name, (_, t) in timed.items()}
    for name in ("logit", "logit numpy", "gnm"):
        res = timed[name][0]
        row[f"{name} regret"] = res.max_regret / spread if res.converged else float("inf")
        row[f"{name} steps"] = res.iterations
    for name in [n for n in timed if n.startswith("gambit")]:
        profile = _gambit_profile(theirs, timed[name][0])
        row[f"{name} regret"] = (
            game.mixed_max_regret(profile) / spread if profile is not None else float("nan")
        )
    return row


def _report(label: str, rows: list[dict[str, Any]], gambit_gnm: bool) -> None:
    def total(key: str) -> float:
        return sum(r[key] for r in rows)

    g = total("gambit logit")
    cells = [
        f"{label:20s}",
        f"{1e3 * total('logit') / len(rows):8.2f}",
        f"{1e3 * g / len(rows):8.2f}",
        f"{total('logit') / g:6.3f}",
        f"{total('logit numpy') / g:6.3f}",
        f"{total('gnm') / g:6.3f}",
    ]
    if gambit_gnm:
        cells.append(f"{total('gnm') / total('gambit gnm'):6.3f}")
    worst = {k: max(r[f"{k} regret"] for r in rows) for k in ("logit", "gnm", "gambit logit")}
    cells += [f"{worst['logit']:9.1e}", f"{worst['gnm']:9.1e}", f"{worst['gambit logit']:9.1e}"]
    steps = statistics.mean(r["logit steps"] for r in rows)
    cells.append(f"{steps:6.0f}")
    print(" ".join(cells), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--games", type=int, default=4, help="random games per shape")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--gambit-gnm", action="store_true", help="also time gnm_solve")
    args = parser.parse_args()
    try:
        import pygambit as gbt
    except ImportError:
        raise SystemExit("pygambit is not installed (pip install -e '.[bench]')") from None
    print(f"pygambit {gbt.__version__}; Numba {'on' if numba_available() else 'off'}")
    print(f"before: {_load()}")
    head = ["game/shape", "ours ms", "gbt ms", "logit", "numpy", "gnm"]
    head += ["gnm/gg"] if args.gambit_gnm else []
    head += ["reg logit", "reg gnm", "reg gbt", "steps"]
    widths = [20, 8, 8, 6, 6, 6] + ([6] if args.gambit_gnm else []) + [9, 9, 9, 6]
    print(
        " ".join(f"{h:>{w}s}" if i else f"{h:{w}s}" for i, (h, w) in enumerate(zip(head, widths)))
    )
    print(
        "(ms: mean of the per-game medians; logit, numpy, gnm: our time / Gambit's logit_solve; "
        "reg: worst max regret / payoff range)"
    )
    everything: list[dict[str, Any]] = []
    for shape in SHAPES:
        label = "x".join(map(str, shape))
        rows = []
        for k, game in enumerate(_random(shape, args.games, args.seed)):
            rows.append(_solve(game, gbt, args.repeats, args.gambit_gnm))
            _report(f"  {label} #{k}", rows[-1:], args.gambit_gnm)
        everything += rows
        _report(label, rows, args.gambit_gnm)
    catalog = []
    for name, game in _catalog():
        row = _solve(game, gbt, args.repeats, args.gambit_gnm)
        catalog.append(row)
        _report(name, [row], args.gambit_gnm)
    _report("catalog (all)", catalog, args.gambit_gnm)
    _report("everything", everything + catalog, args.gambit_gnm)
    print(f"after: {_load()}")


if __name__ == "__main__":
    main()
