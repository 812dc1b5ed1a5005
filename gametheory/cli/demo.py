"""``gametheory demo``: solve the built-in instances and compare each PoA with its bound,
then run a reduced simulation study of the paper's deployments.

Every row solves a game from :mod:`gametheory.games.library` (equilibrium and optimum),
computes its Price of Anarchy and puts it next to the analytic bound of its cost class
from :mod:`gametheory.bounds`, so the output doubles as a smoke test of the library.

The second part (skipped with ``--no-sim``) runs
:func:`gametheory.sim.studies.study.simulation_study` with
:meth:`~gametheory.sim.studies.study.StudyConfig.reduced` on the embedded defaults
(Llama-3.1-70B on B200, 1P/5D and 1P/2D at TP4 with vLLM's limits, the paper's
workload): PoA-hat per concurrency and (omega, tau) with every estimator variant, the
knee, adaptive versus static routing at C = 256 on the paper's deployment and on one
that saturates, PoA-hat against the affinity-game optimum and the detector's switch
rates, and the reproduction scorecard (paper figure, ours, holds or not, and why); its
tables (CSV) and figures (PNG) go to ``--out``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from gametheory import bounds
from gametheory.bounds.results import BoundResult
from gametheory.cli._checks import flag, int_at_least, output_folder, positive_int
from gametheory.costs import Affine
from gametheory.games import library
from gametheory.games.congestion import AtomicCongestionGame
from gametheory.results import PoAResult
from gametheory.sim.studies.results import SimulationStudyResult
from gametheory.solvers.poa import price_of_anarchy

__all__ = ["DemoRow", "demo_rows", "register", "run_simulation_demo", "simulation_summary"]


@dataclass(frozen=True)
class DemoRow:
    """One line of the demo: an instance, its PoA and the bound of its class."""

    section: str
    instance: str
    equilibrium_cost: float
    optimum_cost: float
    poa: float
    bound: float
    bound_source: str
    exact: bool

    @property
    def within_bound(self) -> bool:
        """Whether the PoA respects the class bound (up to solver tolerance)."""
        return self.poa <= self.bound * (1 + 1e-6)


def _row(section: str, name: str, result: PoAResult, bound: BoundResult) -> DemoRow:
    return DemoRow(
        section=section,
        instance=name,
        equilibrium_cost=result.worst_cost,
        optimum_cost=result.optimum_cost,
        poa=result.poa,
        bound=bound.value,
        bound_source=f"{bound.source} ({bound.theorem})" if bound.theorem else bound.source,
        exact=result.exact,
    )


def demo_rows(players: int = 2000, seed: int = 0) -> list[DemoRow]:
    """Solve the demo instances.

    Parameters
    ----------
    players
        Number of players of the load-balancing instance (16 affine servers).
    seed
        Seed of the load-balancing instance and of its dynamics.
    """
    nonatomic = "nonatomic routing (Wardrop)"
    atomic = "atomic congestion (pure Nash)"
    rows = []
    for d in (1, 2, 3, 4):
        res = price_of_anarchy(library.pigou(d), rgap=1e-10)
        rows.append(_row(nonatomic, f"Pigou, x^{d}", res, bounds.polynomial_bound(d)))
    res = price_of_anarchy(library.braess(with_shortcut=True), rgap=1e-10)
    rows.append(_row(nonatomic, "Braess with shortcut", res, bounds.polynomial_bound(1)))
    res = price_of_anarchy(library.mm1_parallel_links([4.0, 1.0], 3.0), rgap=1e-10)
    hr = bounds.haviv_roughgarden_bound([4.0, 1.0], 3.0)
    rows.append(_row(nonatomic, "M/M/1 links u=(4,1), r=3", res, hr))
    res = price_of_anarchy(library.affine_five_halves())
    rows.append(_row(atomic, "3-player affine (5/2)", res, bounds.affine_bound()))
    res = price_of_anarchy(library.fair_cost_sharing(4))
    rows.append(_row(atomic, "fair cost sharing, n=4", res, bounds.fair_sharing_poa_bound(4)))
    rng = np.random.default_rng(seed)
    costs = [Affine(rng.uniform(0.0, 1.0), rng.uniform(0.5, 2.0)) for _ in range(16)]
    game = AtomicCongestionGame.singleton(costs, players)
    res = price_of_anarchy(game, method="dynamics", starts=5, seed=seed)
    rows.append(_row(atomic, f"load balancing, {players} x 16 affine", res, bounds.affine_bound()))
    return rows


def _print(rows: list[DemoRow]) -> None:
    sources = list(dict.fromkeys(r.bound_source for r in rows))
    section = ""
    header = f"{'instance':38} {'equilibrium':>12} {'optimum':>12} {'PoA':>9} {'bound':>9} src  ok"
    for r in rows:
        if r.section != section:
            section = r.section
            print(f"\n{section}\n{header}")
        flag = "yes" if r.within_bound else "NO"
        mark = "" if r.exact else " (PoA from dynamics: a lower bound)"
        print(
            f"{r.instance:38} {r.equilibrium_cost:12.7g} {r.optimum_cost:12.7g} "
            f"{r.poa:9.6f} {r.bound:9.6f} [{sources.index(r.bound_source) + 1}]  {flag}{mark}"
        )
    print("\nbounds:")
    for k, src in enumerate(sources, 1):
        print(f"  [{k}] {src}")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS reports one)."""
    sched_getaffinity = getattr(os, "sched_getaffinity", None)
    if sched_getaffinity is not None:
        return len(sched_getaffinity(0))
    return os.cpu_count() or 1


def run_simulation_demo(
    out_dir: str | Path, *, workers: int = 1, verbose: bool = False
) -> SimulationStudyResult:
    """The reduced simulation study, its tables and figures written to ``out_dir``.

    With ``workers > 1`` the sweeps' cells (independent simulations, each seeded on its
    own) run on that many processes; the figures are the same as on one.
    """
    from gametheory.sim.studies.study import StudyConfig, simulation_study

    def say(msg: str) -> None:
        if verbose:
            print(f"  ... {msg}", flush=True)

    if workers <= 1:
        return simulation_study(StudyConfig.reduced(), out_dir=out_dir, progress=say)
    with ProcessPoolExecutor(workers) as pool:
        return simulation_study(StudyConfig.reduced(), pool, out_dir=out_dir, progress=say)


def _num(x: Any) -> float | None:
    v = float(x)
    return None if math.isnan(v) else v


def simulation_summary(study: SimulationStudyResult) -> dict[str, Any]:
    """The headline figures of a study as plain JSON-ready values."""
    return {
        "regimes": [
            {k: (_num(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in study.regimes.summary.to_dict("records")
        ],
        "adaptive": [
            {
                "topology": a.topology,
                "concurrency": a.concurrency,
                "poa_reduction": a.poa_reduction,
                "poa_reduction_ci": list(a.poa_reduction_ci),
                "throughput_cost": a.throughput_cost,
                "throughput_cost_ci": list(a.throughput_cost_ci),
                "seeds": a.n_seeds,
            }
            for a in study.adaptive
        ],
        "optimum": [
            {
                "topology": o.topology,
                "concurrency": o.concurrency,
                "true_poa": o.true_poa,
                "poa_hat": o.poa_hat,
                "windows": o.iterations,
                "all_exact": o.all_exact,
            }
            for o in study.optimum
        ],
        "scorecard": [
            {k: (_num(v) if isinstance(v, float) else v) for k, v in row.items()}
            for row in study.scorecard.table.to_dict("records")
        ],
        "files": list(study.files),
        "wall_s": study.wall_s,
    }


def _print_study(study: SimulationStudyResult) -> None:
    print("\nsimulation study (reduced): Llama-3.1-70B on B200, the paper's deployment")
    print(f"{'topology':9} {'knee C':>7} {'low-load':>9} {'plateau':>8} {'spread':>7} {'sat.':>7}")
    for row in study.regimes.summary.itertuples(index=False):
        knee = "none" if math.isnan(row.knee) else f"{row.knee:g}"
        print(
            f"{row.topology:9} {knee:>7} {row.low_load_poa:9.3f} {row.plateau_median:8.3f} "
            f"{row.plateau_spread:7.3f} {row.saturated_mean:7.3f}"
        )
    print("adaptive vs static kv(1, 0) at C = 256 (mean over seeds, 95% t-interval):")
    where = ["paper deployment"] * len(study.adaptive) + ["saturating TP1/48"] * len(
        study.saturating
    )
    for a, label in zip(study.adaptive + study.saturating, where, strict=True):
        lo, hi = a.poa_reduction_ci
        clo, chi = a.throughput_cost_ci
        print(
            f"  {a.topology} {label} C={a.concurrency}: PoA-hat reduction {a.poa_reduction:.3f}x "
            f"[{lo:.3f}, {hi:.3f}], throughput cost {100 * a.throughput_cost:.2f}% "
            f"[{100 * clo:.2f}, {100 * chi:.2f}]"
        )
    print("PoA-hat against the affinity-game MILP optimum on the same arrivals:")
    for o in study.optimum:
        print(
            f"  {o.topology} C={o.concurrency}: true PoA {o.true_poa:.4f}, "
            f"PoA-hat {o.poa_hat:.4f} ({o.iterations} windows, exact: {o.all_exact})"
        )
    card = study.scorecard
    print(f"\nreproduction scorecard: {card.n_holds} of {card.iterations} paper figures hold")
    for row, ours in zip(card.table.itertuples(index=False), card.estimates(), strict=True):
        mark = "holds" if row.holds else "MISS "
        print(f"  {mark} {row.claim}, {row.topology}: paper {row.paper}; ours {ours}")
        if row.reason:
            print(f"        why: {row.reason}")
    print(f"tables and figures: {len(study.files)} files, {study.wall_s:.1f} s")


def _run(args: argparse.Namespace) -> int:
    rows = demo_rows(players=args.players, seed=args.seed)
    study = None
    if args.json:
        if not args.no_sim:
            with output_folder(args.out, force=args.force) as out:
                study = run_simulation_demo(out, workers=args.workers)
        payload: Any = [asdict(r) | {"within_bound": r.within_bound} for r in rows]
        if study is not None:
            payload = {"games": payload, "simulation": simulation_summary(study)}
        print(json.dumps(payload, indent=2))
    else:
        print("gametheory demo: equilibria, optima, Prices of Anarchy and their bounds")
        _print(rows)
        if not args.no_sim:
            start = time.perf_counter()
            print(f"\nrunning the reduced simulation study into {args.out}/ ...", flush=True)
            with output_folder(args.out, force=args.force) as out:
                study = run_simulation_demo(out, workers=args.workers, verbose=True)
            _print_study(study)
            print(f"total simulation time {time.perf_counter() - start:.1f} s")
    ok = all(r.within_bound for r in rows) and (study is None or study.converged)
    return 0 if ok else 1


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        description=__doc__,
    )
    parser.add_argument(
        "--players", type=flag(positive_int), default=2000, help="load-balancing players"
    )
    parser.add_argument("--seed", type=flag(int_at_least(0)), default=0, help="random seed")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument(
        "--out",
        default="gametheory-demo",
        help="folder for the simulation study's tables and figures (default: gametheory-demo)",
    )
    parser.add_argument(
        "--force", action="store_true", help="replace an earlier demo's files in --out"
    )
    parser.add_argument(
        "--no-sim", action="store_true", help="skip the simulation study (games only)"
    )
    parser.add_argument(
        "--workers",
        type=flag(positive_int),
        default=available_cores(),
        help="processes for the simulation study's independent runs "
        "(default: the cores available, here %(default)s; 1 runs them in this process)",
    )
    parser.set_defaults(func=_run)
