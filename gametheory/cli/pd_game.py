"""``gametheory pd-game``: the prefill/decode GPU-budget game at one load, or along a curve.

Builds :class:`~gametheory.games.pd.resource.PDResourceGame` for a default deployment
(Llama-3.1-70B TP=4 or Nemotron-4-340B TP=8 on B200), then prints the social optimum,
the generalized-equilibrium PoA and PoS, the variational equilibrium with its shared
price, the mechanisms' outcomes and, with ``--curve N``, the PoA against the load.
"""

from __future__ import annotations

import argparse

import numpy as np

from gametheory.cli._checks import flag, int_at_least, positive_float, positive_int
from gametheory.games.pd.defaults import llama_70b_b200, nemotron_340b_b200
from gametheory.games.pd.resource import PDResourceGame
from gametheory.solvers.pd.equilibria import (
    generalized_equilibria,
    pd_social_optimum,
    pd_variational_equilibrium,
)
from gametheory.solvers.pd.mechanisms import proportional_share, sla_planner
from gametheory.solvers.pd.regimes import CONCEPTS, pd_poa_curve

__all__ = ["register"]

_DEPLOYMENTS = {"llama-70b": (llama_70b_b200, 24), "nemotron-340b": (nemotron_340b_b200, 48)}


def _game(args: argparse.Namespace) -> PDResourceGame:
    build, default_budget = _DEPLOYMENTS[args.model]
    budget = default_budget if args.budget is None else args.budget
    return PDResourceGame.from_deployment(
        build(args.precision), budget, args.load, args.isl, args.osl
    )


def _run(args: argparse.Namespace) -> int:
    game = _game(args)
    print(game)
    opt = pd_social_optimum(game)
    print(f"optimum            {opt.profile} cost {opt.social_cost:.6g} s")
    gne = generalized_equilibria(game, opt)
    print(f"GNE set            {gne.characterisation}")
    print(f"                   PoA {gne.poa:.6g} (worst {gne.worst}), PoS {gne.pos:.6g}")
    ve = pd_variational_equilibrium(game, optimum=opt)
    print(
        f"variational eq.    {ve.allocation} from {np.round(ve.relaxed, 4)}, price "
        f"{ve.details['multiplier']:.6g} s/instance, ratio {ve.ratio:.6g}"
    )
    for out in (
        proportional_share(game, optimum=opt),
        sla_planner(game, args.ttft_target, args.itl_target, optimum=opt),
    ):
        print(f"{out.concept:<18s} {out.allocation} ratio {out.ratio:.6g}")
    if args.curve > 0:
        loads = np.linspace(0.01, 0.97, args.curve) * game.capacity
        curve = pd_poa_curve(game, loads, ttft_target=args.ttft_target, itl_target=args.itl_target)
        print("load(req/s) " + " ".join(f"{k:>18s}" for k in CONCEPTS))
        for j, load in enumerate(curve.loads):
            print(f"{load:11.3f} " + " ".join(f"{curve.ratios[k][j]:18.6g}" for k in CONCEPTS))
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``pd-game`` subcommand."""
    parser = subparsers.add_parser(
        "pd-game",
        description=__doc__,
    )
    parser.add_argument("--model", choices=sorted(_DEPLOYMENTS), default="llama-70b")
    parser.add_argument("--precision", choices=["fp8", "bf16"], default="fp8")
    parser.add_argument(
        "--budget", type=flag(positive_int), default=None, help="GPUs (default 24 / 48)"
    )
    parser.add_argument(
        "--load", type=flag(positive_float), default=40.0, help="requests per second"
    )
    parser.add_argument("--isl", type=flag(positive_float), default=3000.0, help="input tokens")
    parser.add_argument("--osl", type=flag(positive_float), default=150.0, help="output tokens")
    parser.add_argument(
        "--ttft-target", type=flag(positive_float), default=0.2, help="SLA planner, s"
    )
    parser.add_argument(
        "--itl-target", type=flag(positive_float), default=0.02, help="SLA planner, s"
    )
    parser.add_argument(
        "--curve", type=flag(int_at_least(0)), default=0, help="PoA curve at this many loads"
    )
    parser.set_defaults(func=_run)
