"""HiGHS helpers: no banner in the user's output, MILP options and objective scaling,
proven bounds of early-stopped MILPs."""

from __future__ import annotations

import math
import subprocess
import sys
from types import SimpleNamespace

import cvxpy as cp
import pytest

import gametheory as gt
from gametheory.solvers.common.highs import (
    mip_lower_bound,
    mip_options,
    objective_scale,
    silence_banner,
)
from gametheory.solvers.common.optimum import social_optimum


def _stopped(primal: object, dual: object) -> SimpleNamespace:
    info = SimpleNamespace(objective_function_value=primal, mip_dual_bound=dual)
    return SimpleNamespace(solver_stats=SimpleNamespace(extra_stats=info))


def test_a_fresh_process_prints_no_banner() -> None:
    # HiGHS prints its banner once per process, at the first solver object: only a new
    # interpreter shows whether importing the solvers silenced it.
    code = (
        "import cvxpy as cp\n"
        "import gametheory.solvers\n"
        "x = cp.Variable(2, integer=True)\n"
        "cp.Problem(cp.Minimize(cp.sum(x)), [x >= 1.5]).solve(solver=cp.HIGHS)\n"
        "print(x.value.tolist())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out == "[2.0, 2.0]\n"


def test_silence_banner_is_idempotent(capfd: pytest.CaptureFixture[str]) -> None:
    silence_banner()
    silence_banner()
    assert capfd.readouterr().out == ""


def test_lower_bound_subtracts_the_proven_gap() -> None:
    # The model's objective is offset by a constant (here 100) from the caller's cost.
    assert mip_lower_bound(_stopped(110.0, 104.0), 10.0, -math.inf) == pytest.approx(4.0)
    # A dual bound above the primal (round-off) never lifts the bound above the value.
    assert mip_lower_bound(_stopped(10.0, 10.5), 10.0, -math.inf) == 10.0


@pytest.mark.parametrize(
    "problem",
    [SimpleNamespace(), _stopped(None, 3.0), _stopped(5.0, math.inf), _stopped(math.nan, 1.0)],
)
def test_lower_bound_falls_back_without_information(problem: object) -> None:
    assert mip_lower_bound(problem, 7.0, -math.inf) == -math.inf


def test_real_solve_reports_its_own_optimum_as_bound() -> None:
    x = cp.Variable(3, integer=True)
    problem = cp.Problem(cp.Minimize(cp.sum(x)), [x >= 0.2, x <= 5])
    problem.solve(solver=cp.HIGHS)
    assert problem.value == pytest.approx(3.0)
    assert mip_lower_bound(problem, 3.0, -math.inf) == pytest.approx(3.0)


def test_mip_options() -> None:
    assert mip_options(1e-6) == {"mip_rel_gap": 1e-6, "mip_abs_gap": 0.0}
    tight = mip_options(0.0, 5, tolerance=1e-10)
    assert tight["time_limit"] == 5.0 and tight["mip_abs_gap"] == 0.0
    for name in ("primal", "dual", "mip"):
        assert tight[f"{name}_feasibility_tolerance"] == 1e-10


def test_objective_scale() -> None:
    assert objective_scale([1e-7, -3.0], [math.inf, 2.0]) == 3.0
    assert objective_scale([0.0], [math.inf, -math.inf]) == 1.0
    assert objective_scale() == 1.0


def test_tiny_costs_are_not_tied_by_the_milp() -> None:
    # HiGHS's default absolute gap (1e-6) and dual tolerance (1e-7) once returned both
    # players on the 1e-7 resource (cost 2e-7) as "optimal"; the optimum is 1e-7.
    costs = [gt.Polynomial([0.0, 1.0]), gt.Polynomial([1e-7]), gt.Polynomial([0.0])]
    game = gt.AtomicCongestionGame.singleton(costs, 2, allowed=[[0, 1], [0, 1, 2]])
    milp = social_optimum(game, method="milp")
    assert milp.exact
    assert milp.social_cost == pytest.approx(1e-7, rel=1e-9)
    assert social_optimum(game, method="exhaustive").social_cost == pytest.approx(1e-7, rel=1e-9)
    single = gt.AtomicCongestionGame.singleton(costs, 1)
    assert social_optimum(single, method="milp").social_cost == 0.0
