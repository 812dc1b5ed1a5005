"""Price-of-Anarchy bounds for queueing delays: M/M/1 links and parallel M/M/1 servers.

* M/M/1 delays ``1/(u - x)`` with capacities ``u >= u_min`` and total traffic
  ``<= r_max < u_min`` (Roughgarden, JCSS 67(2) 2003): the Pigou bound of the class is
  ``(1 + sqrt(u_min / (u_min - r_max))) / 2``, tight on two links, an M/M/1 link of
  capacity ``u_min`` and a constant link of cost ``1/(u_min - r_max)``.
* Haviv and Roughgarden (The price of anarchy in an exponential multi-server, ORL 35(4)
  2007): when Poisson traffic of rate ``r`` is split selfishly (Wardrop) among parallel
  exponential servers, the PoA is at most the number of servers the *optimal* split uses,
  and this is tight. The optimum of M/M/1 delays ``1/(u_i - x_i)`` uses the fastest
  servers and leaves ``u_i - x_i = sqrt(u_i) (U - r) / sum sqrt(u)`` on each used one
  (``U`` their total rate); a server is used iff that slack is below ``u_i``.
"""

from __future__ import annotations

import math

import numpy as np
import sympy as sp
from numpy.typing import ArrayLike

from gametheory.bounds._common import as_real, closed_form
from gametheory.bounds.nonatomic import _ROUGHGARDEN
from gametheory.bounds.results import BoundResult
from gametheory.errors import GameError

__all__ = ["haviv_roughgarden_bound", "mm1_bound"]


def mm1_bound(u_min: float, r_max: float) -> BoundResult:
    """Pigou bound of M/M/1 delays ``1/(u - x)`` with ``u >= u_min`` and traffic ``<= r_max``.

    ``alpha = (1 + sqrt(u_min / (u_min - r_max))) / 2``; tight on two links: an M/M/1 link
    of capacity ``u_min`` and a constant link of cost ``1/(u_min - r_max)``, demand
    ``r_max``.

    Parameters
    ----------
    u_min
        Smallest service rate (capacity) of a link, positive.
    r_max
        Largest total traffic rate, ``0 <= r_max < u_min``.

    Raises
    ------
    GameError
        If ``r_max >= u_min`` (the queues would be unstable: the PoA is unbounded).

    References
    ----------
    Roughgarden, JCSS 67(2) 2003 (M/M/1 delay functions with bounded traffic).
    """
    u = as_real(u_min, "u_min", positive=True)
    rmax = as_real(r_max, "r_max")
    if rmax >= u:
        raise GameError(
            f"r_max must be below u_min (stable queues), got r_max={r_max!r} >= u_min={u_min!r}"
        )
    us, rs = sp.nsimplify(u), sp.nsimplify(rmax)
    expr = (1 + sp.sqrt(us / (us - rs))) / 2
    x_star = u - math.sqrt(u * (u - rmax))
    return closed_form(
        expr,
        value=(1.0 + math.sqrt(u / (u - rmax))) / 2.0,
        quantity="PoA",
        setting=f"nonatomic routing, M/M/1 delays with capacity >= {u:g}, total rate <= {rmax:g}",
        tight=True,
        tight_instance=(
            f"two links: 1/({u:g} - x) and the constant {1.0 / (u - rmax):g}, demand {rmax:g}"
        ),
        source=_ROUGHGARDEN,
        theorem="Pigou bound of M/M/1 delay functions with bounded traffic",
        certificate={"cost": f"1/({u:g} - x)", "x": x_star, "r": rmax},
    )


def haviv_roughgarden_bound(capacities: ArrayLike, rate: float) -> BoundResult:
    """PoA bound ``m`` = number of M/M/1 servers used by the optimal split of ``rate``.

    Parameters
    ----------
    capacities
        Service rates ``u_i > 0`` of the parallel servers.
    rate
        Total Poisson arrival rate, ``0 < rate < sum(capacities)``.

    Returns
    -------
    BoundResult
        ``value = m``; certificate: the optimal flows and which servers they use.

    Raises
    ------
    GameError
        On empty, nonpositive or non-finite capacities, or a rate the servers cannot serve.

    References
    ----------
    Haviv and Roughgarden, ORL 35(4) 2007 (PoA <= servers used by OPT, tight).
    """
    try:
        u = np.asarray(capacities, dtype=np.float64).ravel()
    except (TypeError, ValueError) as exc:
        raise GameError(f"capacities must be numbers, got {capacities!r}") from exc
    if u.size == 0 or not np.all(np.isfinite(u)) or np.any(u <= 0):
        raise GameError(f"capacities must be positive finite numbers, got {capacities!r}")
    r = as_real(rate, "rate", positive=True)
    if r >= u.sum():
        raise GameError(f"rate={r:g} must be below the total capacity {u.sum():g}")
    order = np.argsort(-u, kind="stable")
    us = u[order]
    root = np.sqrt(us)
    used = 1
    for m in range(1, us.size + 1):
        total, sroot = us[:m].sum(), root[:m].sum()
        if total <= r:
            continue
        slack = root[:m] * (total - r) / sroot
        if np.all(slack < us[:m]):
            used = m
        else:
            break
    total, sroot = us[:used].sum(), root[:used].sum()
    flows_sorted = np.zeros_like(us)
    flows_sorted[:used] = us[:used] - root[:used] * (total - r) / sroot
    flows = np.empty_like(u)
    flows[order] = flows_sorted
    opt = float((sroot**2) / (total - r) - used)
    return BoundResult(
        value=float(used),
        quantity="PoA",
        setting=f"Wardrop routing of rate {r:g} to {u.size} parallel M/M/1 servers",
        tight=True,
        tight_instance="Haviv-Roughgarden construction with that many servers used by OPT",
        source="Haviv and Roughgarden, The price of anarchy in an exponential multi-server, "
        "ORL 35(4) 2007",
        theorem="PoA <= number of servers used by the optimum (tight)",
        certificate={"optimal_flows": flows, "servers_used": int(used), "optimal_cost": opt},
    )
