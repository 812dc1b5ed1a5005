"""HiGHS through cvxpy: a quiet start-up and the proven bound of an early-stopped MILP.

highspy (the HiGHS Python bindings that cvxpy calls for LPs and MILPs) prints a
copyright banner to the process's standard output the first time a solver object is
built, whatever the logging options. That corrupts ``--json`` output of the command-line
tools and clutters notebooks. :func:`silence_banner` builds that first object with file
descriptor 1 pointed at ``os.devnull``, so every later solve is quiet (HiGHS prints the
banner once per process).
"""

from __future__ import annotations

import math
import os
import sys
from functools import cache
from typing import Any

import highspy

__all__ = ["mip_lower_bound", "silence_banner"]


@cache
def silence_banner() -> None:
    """Build one HiGHS object with standard output discarded (idempotent)."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        highspy.Highs()  # type: ignore[no-untyped-call]
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def mip_lower_bound(problem: Any, value: float, fallback: float) -> float:
    """A proven lower bound on a MILP's optimum after HiGHS (through cvxpy) stopped.

    HiGHS reports its primal objective and best dual bound (``mip_dual_bound``) in
    ``problem.solver_stats.extra_stats``; their difference is the proven gap, which is
    subtracted from ``value``, the caller's cost of the incumbent (the model's objective
    may differ from it by a constant or a scale already applied by the caller).

    Parameters
    ----------
    problem
        A solved ``cvxpy.Problem``.
    value
        Cost of the incumbent in the units of the model's objective.
    fallback
        Returned when HiGHS's information is unavailable or not finite.

    Returns
    -------
    float
        ``min(value, value - (primal - dual))``, or ``fallback``.
    """
    info = getattr(getattr(problem, "solver_stats", None), "extra_stats", None)
    primal = getattr(info, "objective_function_value", None)
    dual = getattr(info, "mip_dual_bound", None)
    if not isinstance(primal, (int, float)) or not isinstance(dual, (int, float)):
        return fallback
    if not (math.isfinite(primal) and math.isfinite(dual)):
        return fallback
    return min(value, value - (float(primal) - float(dual)))
