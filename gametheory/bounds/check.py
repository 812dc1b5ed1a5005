"""Search for counterexamples to a claimed Price-of-Anarchy bound.

``check_bound(claimed, family, ...)`` draws random instances of a class, solves each one
(nonatomic: Wardrop equilibrium and system optimum by bi-conjugate Frank-Wolfe; atomic:
every pure equilibrium and the optimum by exhaustive enumeration), and then runs a local
search from the worst instance found: a (1+1) evolution strategy on the logarithms of the
cost coefficients and of the demand, with the one-fifth success rule for its step size
(Rechenberg 1973), golden-section searches of the demand, random restarts, and moves that
switch a cost term off, which is how the worst cases of polynomial classes look (a
constant link against a monomial; Roughgarden, JCSS 67(2) 2003). Half of the random
instances are such extreme points: every link a single term. The claim survives when no
instance beats it by more than ``tolerance``. Surviving is evidence, not a proof; a
refutation comes with a witness game that can be re-solved.

Classes searched:

``model="nonatomic"``
    parallel links (2 to ``max_links``) and the Braess network, each edge a polynomial of
    degree ``<= d`` with nonnegative coefficients, one OD pair.
``model="atomic"``
    unweighted congestion games with 2 to ``max_players`` players, 2 to ``max_links``
    resources with polynomial costs, and 2 or 3 random resource sets per player.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from gametheory.bounds._common import as_count, as_degree, as_real
from gametheory.bounds.atomic import aland_bound
from gametheory.bounds.nonatomic import polynomial_bound
from gametheory.bounds.results import BoundCheckResult
from gametheory.costs import Polynomial
from gametheory.errors import GameError
from gametheory.games.congestion import AtomicCongestionGame
from gametheory.games.network.routing import RoutingGame
from gametheory.results import PoAResult
from gametheory.solvers.network.wardrop import routing_price_of_anarchy
from gametheory.solvers.poa import price_of_anarchy

__all__ = ["check_bound"]

FloatArray = NDArray[np.float64]

_LOG_LO, _LOG_HI = -12.0, 3.0  # exp(-12) ~ 6e-6: a coefficient that is switched off
_RESTART_AFTER = 60  # local-search moves without improvement before a random restart
_BRAESS = [("s", "a"), ("s", "b"), ("a", "t"), ("b", "t"), ("a", "b")]


@dataclass(frozen=True)
class _Instance:
    """A point of the search space: discrete structure and continuous log-parameters."""

    structure: Any
    params: FloatArray


@dataclass(frozen=True)
class _Space:
    """How to sample, perturb, build and solve the instances of one class."""

    sample: Callable[[np.random.Generator], _Instance]
    build: Callable[[_Instance], Any]
    solve: Callable[[Any], PoAResult]
    describe: str
    class_bound: float | None
    mutate: Callable[[_Instance, np.random.Generator], _Instance] | None = None
    scale_index: int | None = None


def _coefficients(z: FloatArray) -> FloatArray:
    """Polynomial coefficients from log-parameters; the lower end means 'off'."""
    c = np.exp(np.clip(z, _LOG_LO, _LOG_HI))
    return np.asarray(np.where(z <= _LOG_LO + 1e-9, 0.0, c), dtype=np.float64)


def _nonatomic_space(degree: int, max_links: int, rgap: float) -> _Space:
    width = degree + 1

    def sample(rng: np.random.Generator) -> _Instance:
        braess = bool(rng.random() < 0.25)
        m = len(_BRAESS) if braess else int(rng.integers(2, max_links + 1))
        z = rng.uniform(_LOG_LO, _LOG_HI, size=m * width + 1)
        coef = z[:-1].reshape(m, width)
        if rng.random() < 0.5:
            # an extreme point of the class: every link a single term, mostly a constant
            # or the top degree (the shape of the worst cases, Roughgarden 2003)
            weights = np.full(width, 0.5 / max(width - 2, 1))
            weights[0] = weights[-1] = 0.25 if width > 2 else 0.5
            keep = rng.choice(width, size=m, p=weights / weights.sum())
            coef[np.arange(width)[None, :] != keep[:, None]] = _LOG_LO
        else:
            coef[rng.random((m, width)) < 0.3] = _LOG_LO
        z[-1] = rng.uniform(-3.0, 3.0)
        return _Instance(("braess" if braess else "parallel", m), z)

    def build(inst: _Instance) -> RoutingGame:
        kind, m = inst.structure
        coeffs = _coefficients(inst.params[:-1]).reshape(m, width)
        if not np.any(coeffs[:, 1:] > 0):
            coeffs[0, -1] = 1.0  # keep some congestion: all-constant costs have PoA 1
        costs = [Polynomial(row) for row in coeffs]
        demand = float(math.exp(float(np.clip(inst.params[-1], -6.0, 6.0))))
        if kind == "parallel":
            return RoutingGame.parallel_links(costs, demand)
        g = nx.DiGraph()
        for (u, v), c in zip(_BRAESS, costs):
            g.add_edge(u, v, cost=c)
        return RoutingGame(g, {("s", "t"): demand})

    def solve(game: RoutingGame) -> PoAResult:
        return routing_price_of_anarchy(game, method="bfw", rgap=rgap, max_iter=5000)

    return _Space(
        sample,
        build,
        solve,
        f"nonatomic routing, polynomial costs of degree <= {degree} (parallel links <= "
        f"{max_links}, Braess network)",
        polynomial_bound(degree).value,
        scale_index=-1,
    )


def _atomic_space(degree: int, max_links: int, max_players: int) -> _Space:
    width = degree + 1

    def strategy_sets(m: int, rng: np.random.Generator) -> tuple[tuple[int, ...], ...]:
        k = int(rng.integers(2, 4))
        sets: set[tuple[int, ...]] = set()
        while len(sets) < min(k, 2**m - 1):
            size = int(rng.integers(1, m + 1))
            sets.add(tuple(sorted(rng.choice(m, size=size, replace=False).tolist())))
        return tuple(sorted(sets))

    def sample(rng: np.random.Generator) -> _Instance:
        n = int(rng.integers(2, max_players + 1))
        m = int(rng.integers(2, max_links + 1))
        strategies = tuple(strategy_sets(m, rng) for _ in range(n))
        # resources often share a cost shape (worst cases of atomic games do): a common
        # log-coefficient per degree, spread by a random amount, terms switched off
        base = rng.uniform(-2.0, 2.0, size=width)
        base[rng.random(width) < 0.3] = _LOG_LO
        spread = float(rng.choice([0.0, 1.0, 4.0]))
        z = base[None, :] + spread * rng.standard_normal((m, width))
        z[:, base <= _LOG_LO] = _LOG_LO
        return _Instance((n, m, strategies), np.clip(z, _LOG_LO, _LOG_HI).ravel())

    def mutate(inst: _Instance, rng: np.random.Generator) -> _Instance:
        n, m, strategies = inst.structure
        new = list(strategies)
        new[int(rng.integers(n))] = strategy_sets(m, rng)
        return _Instance((n, m, tuple(new)), inst.params)

    def build(inst: _Instance) -> AtomicCongestionGame:
        _, m, strategies = inst.structure
        coeffs = _coefficients(inst.params).reshape(m, width)
        if not np.any(coeffs[:, 1:] > 0):
            coeffs[0, -1] = 1.0
        return AtomicCongestionGame([Polynomial(row) for row in coeffs], list(strategies))

    return _Space(
        sample,
        build,
        _atomic_poa,
        f"atomic congestion games, polynomial costs of degree <= {degree} ("
        f"<= {max_players} players, <= {max_links} resources)",
        aland_bound(degree).value,
        mutate,
    )


def _atomic_poa(game: AtomicCongestionGame) -> PoAResult:
    """Exact pure PoA and PoS of a small game by enumerating every profile."""
    return price_of_anarchy(game, method="enumeration")


def _family_degree(family: str, degree: float | None) -> int:
    name = family.strip().lower() if isinstance(family, str) else ""
    fixed = {"affine": 1, "linear": 1, "quadratic": 2, "cubic": 3, "quartic": 4}
    if name in fixed:
        if degree is not None and int(as_degree(degree, integer=True)) != fixed[name]:
            raise GameError(f"family {family!r} has degree {fixed[name]}, got degree={degree!r}")
        return fixed[name]
    if name == "polynomial":
        if degree is None:
            raise GameError("family 'polynomial' needs degree=")
        d = int(as_degree(degree, integer=True))
        if d < 1:
            raise GameError(
                f"degree must be >= 1 for a search (constant costs have PoA 1), got {d}"
            )
        return d
    raise GameError(
        f"unknown family {family!r}: use 'polynomial' (with degree), 'affine', 'quadratic', "
        "'cubic' or 'quartic'"
    )


def check_bound(
    claimed: float,
    family: str,
    *,
    degree: int | None = None,
    model: str = "nonatomic",
    trials: int | None = None,
    local_steps: int | None = None,
    seed: int | None = None,
    tolerance: float = 1e-6,
    max_links: int = 4,
    max_players: int = 3,
    rgap: float = 1e-9,
) -> BoundCheckResult:
    """Look for an instance of a class whose PoA exceeds a claimed bound.

    Parameters
    ----------
    claimed
        The claimed upper bound on the PoA (>= 1).
    family
        The cost class: ``"polynomial"`` (with ``degree``), ``"affine"``, ``"quadratic"``,
        ``"cubic"`` or ``"quartic"`` (nonnegative coefficients).
    degree
        Degree for ``family="polynomial"``.
    model
        ``"nonatomic"`` (Wardrop routing) or ``"atomic"`` (congestion games, pure
        equilibria, solved exactly).
    trials
        Random instances sampled first (default 100 nonatomic, 1000 atomic: atomic games
        are small and solved in well under a millisecond).
    local_steps
        Instances solved by the local search (default 200 nonatomic, 3000 atomic).
    seed
        Seed of the random generator (``numpy.random.default_rng``).
    tolerance
        Relative slack: a ratio counts against the claim only above
        ``claimed * (1 + tolerance)``.
    max_links
        Largest number of parallel links (nonatomic) or resources (atomic).
    max_players
        Largest number of players (atomic).
    rgap
        Relative gap to which the nonatomic flows are solved.

    Returns
    -------
    BoundCheckResult
        Whether the claim survived, the worst ratio, the witness game (re-solvable with
        the library's solvers) and its solved PoA, and how much was searched.

    Raises
    ------
    GameError
        On an unknown family or model, or invalid numbers.

    Examples
    --------
    >>> res = check_bound(4 / 3, "quadratic", seed=0)   # doctest: +SKIP
    >>> res.survived, res.worst_ratio > 1.6               # doctest: +SKIP
    (False, True)
    """
    claim = as_real(claimed, "claimed", positive=True)
    if claim < 1:
        raise GameError(f"claimed must be >= 1 (a PoA is at least 1), got {claimed!r}")
    d = _family_degree(family, degree)
    atomic = model == "atomic"
    n_trials = as_count(trials if trials is not None else (1000 if atomic else 100), "trials")
    n_local = as_count(
        local_steps if local_steps is not None else (3000 if atomic else 200),
        "local_steps",
        minimum=0,
    )
    tol = as_real(tolerance, "tolerance")
    links = as_count(max_links, "max_links", minimum=2)
    if model == "nonatomic":
        space = _nonatomic_space(d, links, as_real(rgap, "rgap"))
    elif model == "atomic":
        space = _atomic_space(d, links, as_count(max_players, "max_players", minimum=2))
    else:
        raise GameError(f"model must be 'nonatomic' or 'atomic', got {model!r}")
    rng = np.random.default_rng(seed)
    best = _solve(space, space.sample(rng))
    for _ in range(n_trials - 1):
        cand = _solve(space, space.sample(rng))
        if cand[0] > best[0]:
            best = cand
    solved = n_trials
    best, local = _local_search(space, best, n_local, rng)
    solved += local
    ratio, _, witness, witness_res = best
    survived = ratio <= claim * (1.0 + tol)
    return BoundCheckResult(
        claimed=claim,
        survived=survived,
        worst_ratio=ratio,
        witness=witness,
        witness_result=witness_res,
        family=space.describe,
        trials=n_trials,
        local_steps=n_local,
        instances_solved=solved,
        tolerance=tol,
        class_bound=space.class_bound,
        method="random sampling + (1+1)-ES local search with term switching",
        seed=seed,
    )


def _solve(space: _Space, inst: _Instance) -> tuple[float, _Instance, Any, PoAResult]:
    game = space.build(inst)
    res = space.solve(game)
    return res.poa, inst, game, res


class _Budget:
    """Counts the instances solved by the local search."""

    def __init__(self, steps: int) -> None:
        self.left = steps
        self.used = 0

    def solve(self, space: _Space, inst: _Instance) -> tuple[float, _Instance, Any, PoAResult]:
        self.left -= 1
        self.used += 1
        return _solve(space, inst)


def _tune_scale(
    space: _Space,
    start: tuple[float, _Instance, Any, PoAResult],
    budget: _Budget,
    iterations: int = 14,
) -> tuple[float, _Instance, Any, PoAResult]:
    """Golden-section search of the scale parameter (the log-demand) over +-4 around its
    value, keeping the best instance seen (the ratio need not be unimodal in it)."""
    best = start
    if space.scale_index is None:
        return best
    j, z = space.scale_index, start[1].params
    g = (math.sqrt(5.0) - 1.0) / 2.0

    def at(v: float) -> tuple[float, _Instance, Any, PoAResult]:
        zz = z.copy()
        zz[j] = v
        return budget.solve(space, _Instance(start[1].structure, zz))

    lo, hi = z[j] - 4.0, z[j] + 4.0
    a, b = hi - g * (hi - lo), lo + g * (hi - lo)
    ca, cb = at(a), at(b)
    for _ in range(iterations):
        best = max((best, ca, cb), key=lambda c: c[0])
        if budget.left <= 0:
            break
        if ca[0] >= cb[0]:
            hi, b, cb = b, a, ca
            a = hi - g * (hi - lo)
            ca = at(a)
        else:
            lo, a, ca = a, b, cb
            b = lo + g * (hi - lo)
            cb = at(b)
    return max((best, ca, cb), key=lambda c: c[0])


def _switch_off(
    space: _Space,
    best: tuple[float, _Instance, Any, PoAResult],
    k: int,
    budget: _Budget,
) -> tuple[float, _Instance, Any, PoAResult]:
    """Switch cost term ``k`` off, then re-tune the scale parameter (the demand), since the
    other costs were balanced against that term."""
    z = best[1].params.copy()
    z[k] = _LOG_LO
    return _tune_scale(space, budget.solve(space, _Instance(best[1].structure, z)), budget)


def _local_search(
    space: _Space,
    start: tuple[float, _Instance, Any, PoAResult],
    steps: int,
    rng: np.random.Generator,
) -> tuple[tuple[float, _Instance, Any, PoAResult], int]:
    """(1+1) evolution strategy with the one-fifth rule, term on/off and structure moves.

    Half of the budget goes to random moves, restarting from a fresh random instance after
    ``_RESTART_AFTER`` moves without improvement; the rest to greedy passes that switch each
    cost term off in turn (re-tuning the demand) while that helps. Returns the best
    instance and the number of instances solved.
    """
    best = current = start
    sigma, stale = 1.0, 0
    budget = _Budget(steps - steps // 2)
    while budget.left > 0:
        if stale >= _RESTART_AFTER:
            current, sigma, stale = budget.solve(space, space.sample(rng)), 1.0, 0
        z = current[1].params.copy()
        move = rng.random()
        structure = current[1].structure
        if space.mutate is not None and move < 0.2:
            cand = budget.solve(space, space.mutate(current[1], rng))
        elif move < 0.35:
            k = int(rng.integers(z.size))
            if z[k] > _LOG_LO:
                cand = _switch_off(space, current, k, budget)
            else:
                z[k] = rng.uniform(_LOG_LO, _LOG_HI)
                cand = budget.solve(space, _Instance(structure, z))
        elif move < 0.45 and space.scale_index is not None:
            cand = _tune_scale(space, current, budget)
        else:
            z = np.clip(z + sigma * rng.standard_normal(z.size), _LOG_LO, _LOG_HI)
            cand = budget.solve(space, _Instance(structure, z))
        if cand[0] > current[0] or (move < 0.2 and cand[0] == current[0]):
            stale = 0 if cand[0] > current[0] else stale + 1
            current = cand
            sigma = min(sigma * 1.5, 4.0)
        else:
            stale += 1
            if move >= 0.35:
                sigma = max(sigma * 1.5 ** (-0.25), 1e-3)
        if current[0] > best[0]:
            best = current
    used = budget.used
    budget = _Budget(steps // 2)
    improved = True
    while improved and budget.left > 0:
        improved = False
        for k in np.argsort(best[1].params):
            if budget.left <= 0:
                break
            if best[1].params[k] <= _LOG_LO:
                continue
            cand = _switch_off(space, best, int(k), budget)
            if cand[0] > best[0]:
                best, improved = cand, True
    return best, used + budget.used
