"""HiGHS through cvxpy: a quiet start-up, MILP options and the proven bound of an
early-stopped MILP.

highspy (the HiGHS Python bindings that cvxpy calls for LPs and MILPs) prints a
copyright banner to the process's standard output the first time a solver object is
built, whatever the logging options. That corrupts ``--json`` output of the command-line
tools and clutters notebooks. :func:`silence_banner` builds that first object with file
descriptor 1 pointed at ``os.devnull``, so every later solve is quiet (HiGHS prints the
banner once per process).

HiGHS stops a MILP when the relative gap is below ``mip_rel_gap`` (default 1e-4) *or*
the absolute gap is below ``mip_abs_gap`` (default 1e-6). The absolute rule reports a
suboptimal incumbent as optimal whenever costs are small (e.g. 1e-7 against an optimum
of 0), so :func:`mip_options` switches it off and leaves the relative gap in charge.
"""

from __future__ import annotations

import math
import os
import sys
from functools import cache
from typing import Any

import highspy
import numpy as np
from numpy.typing import ArrayLike

__all__ = ["mip_lower_bound", "mip_options", "objective_scale", "silence_banner"]


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


def mip_options(
    mip_rel_gap: float, time_limit: float | None = None, *, tolerance: float | None = None
) -> dict[str, float]:
    """HiGHS options for a MILP solved to a relative gap only (no absolute-gap stop).

    Parameters
    ----------
    mip_rel_gap
        Relative gap at which HiGHS may stop (0 for a proven optimum).
    time_limit
        Seconds, or None for no limit.
    tolerance
        Primal, dual and MIP feasibility tolerance (HiGHS's defaults, 1e-7 and 1e-6,
        when None). Costs that differ by less than the dual tolerance relative to the
        objective's scale look equal to HiGHS; small models can afford 1e-10.

    Returns
    -------
    dict
        Keyword arguments for ``cvxpy.Problem.solve(solver=cvxpy.HIGHS, ...)``.
    """
    options = {"mip_rel_gap": float(mip_rel_gap), "mip_abs_gap": 0.0}
    if time_limit is not None:
        options["time_limit"] = float(time_limit)
    if tolerance is not None:
        for name in ("primal", "dual", "mip"):
            options[f"{name}_feasibility_tolerance"] = float(tolerance)
    return options


def objective_scale(*coefficients: ArrayLike) -> float:
    """Largest finite ``|coefficient|`` of an objective, to divide it to O(1).

    HiGHS's tolerances are absolute (dual feasibility 1e-7 by default), so an objective
    whose coefficients are all tiny, e.g. 1e-7, looks flat to it; dividing by this scale
    first keeps real differences visible. Multiply HiGHS's objective values and bounds
    back by it.

    Parameters
    ----------
    coefficients
        Arrays of objective coefficients (infinite entries are ignored).

    Returns
    -------
    float
        The scale, or 1.0 when no coefficient is finite and nonzero.
    """
    top = 0.0
    for c in coefficients:
        a = np.abs(np.asarray(c, dtype=np.float64))
        a = a[np.isfinite(a)]
        if a.size:
            top = max(top, float(a.max()))
    return top if top > 0 else 1.0


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
