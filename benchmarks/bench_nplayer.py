"""Benchmark: n-player equilibria by the logit homotopy, against Gambit's ``logit_solve``.

Run ``python benchmarks/bench_nplayer.py`` (needs the ``bench`` extra for pygambit). For
the three-player games of Gambit's catalog (``tests/data/nplayer_games.json``) and for
random games of several shapes, it runs ``gametheory.solvers.finite.logit`` and
``pygambit.nash.logit_solve`` on the same game in the same process (the game passed to
Gambit as our own ``.nfg`` text), and prints both maximum regrets, the largest
difference between the two equilibria and the time ratio ours / Gambit (best of
``--repeats``).
"""

from __future__ import annotations

import argparse
import io
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from gametheory.games.nfg import write_nfg
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.nplayer.logit import logit_equilibrium

CATALOG = Path(__file__).resolve().parents[1] / "tests" / "data" / "nplayer_games.json"


def _best(fn: Callable[[], Any], repeats: int) -> tuple[Any, float]:
    best, out = float("inf"), None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def _games(n_random: int) -> list[tuple[str, NormalFormGame]]:
    cases = [
        (name, NormalFormGame.from_payoffs(case["payoffs"]))
        for name, case in json.loads(CATALOG.read_text()).items()
        if not name.startswith("_")
    ]
    rng = np.random.default_rng(0)
    for shape in ((3, 3, 3, 3), (4, 2, 2, 2, 2), (3, 4, 4, 4)):
        for k in range(n_random):
            cases.append(
                (
                    f"random {'x'.join(map(str, shape[1:]))} #{k}",
                    NormalFormGame(rng.normal(size=shape)),
                )
            )
    return cases


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--random", type=int, default=3, help="random games per shape")
    args = parser.parse_args()
    try:
        import pygambit as gbt
    except ImportError:
        raise SystemExit("pygambit is not installed (pip install -e '.[bench]')") from None
    print(f"pygambit {gbt.__version__}")
    head = ("game", "regret ours", "regret gambit", "max |diff|", "ours/gambit")
    print(f"{head[0]:22s} {head[1]:>12s} {head[2]:>14s} {head[3]:>11s} {head[4]:>12s}")
    ratios = []
    for name, game in _games(args.random):
        theirs_game = gbt.read_nfg(io.StringIO(write_nfg(game)))
        ours, t_ours = _best(lambda g=game: logit_equilibrium(g), args.repeats)
        result, t_gambit = _best(lambda g=theirs_game: gbt.nash.logit_solve(g), args.repeats)
        eq = result.equilibria[0]
        theirs = [np.array([float(eq[s]) for s in p.strategies]) for p in theirs_game.players]
        diff = max(float(np.max(np.abs(a - b))) for a, b in zip(ours.strategies, theirs))
        ratios.append(t_ours / t_gambit)
        print(
            f"{name:22s} {ours.max_regret:12.2e} {game.mixed_max_regret(theirs):14.2e} "
            f"{diff:11.2e} {t_ours / t_gambit:12.2f}"
        )
    print(f"median time ratio ours / gambit: {float(np.median(ratios)):.2f}")


if __name__ == "__main__":
    main()
