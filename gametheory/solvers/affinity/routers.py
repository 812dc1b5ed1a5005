"""Request routers as mechanisms on an :class:`~gametheory.games.affinity.game.AffinityRoutingGame`.

Each router places the requests one by one in arrival order, seeing only the requests
already placed (their load and the prefixes they left in each worker's KV cache), and
returns a :class:`~gametheory.solvers.affinity.results.RouterOutcome`: the assignment,
each request's cost *in the game* at the final assignment, the social cost, and a
decision log in the telemetry ``decisions`` schema (one row per decision x candidate worker, see
:data:`DECISION_COLUMNS`) that the PoA-hat estimator of :mod:`gametheory.telemetry`
(``poa_hat(decisions)``) reads. ``decision`` is the arrival position, ``request_id`` the
request index, ``worker`` the worker index (both as strings, as in parsed logs); ``time``
and ``source`` are missing (no clock, no file).

Per candidate worker ``w`` of request ``i`` the log records

* ``cached_blocks``: blocks of ``i``'s prompt already cached on ``w`` (anonymous model:
  the group prefix if a member of ``i``'s group was placed on ``w``; overlap model:
  ``sum_j overlap[i, j]`` over requests ``j`` already on ``w``);
* ``prefill_blocks``: blocks still to compute, ``prompt_i - cached_blocks``, and
  ``prefill_cost = omega * prefill_blocks`` (``prefill_weight = omega``);
* ``decode_blocks``: KV blocks active on ``w`` (prompt blocks of the requests placed there);
* ``cost``: Dynamo's KV-router logit ``omega * prefill_blocks + decode_blocks`` (for routers
  that rank otherwise, with the reference weight ``omega`` they are given, so that the logs
  of different routers are on one scale).

Routers
-------
* :func:`kv_router`: NVIDIA Dynamo's KV router (``--kv-overlap-score-weight`` ``omega``,
  ``--router-temperature`` ``tau``): the minimum logit at ``tau = 0`` (ties to the smaller
  cached tree, then at random), else a sample with probabilities proportional to
  ``exp(-(logit / (max - min)) / tau)`` as Dynamo's ``softmax_sample`` does. At
  ``tau = 0`` and with costs measured by the logit it is sequential best response.
* :func:`cache_aware_router`: SGLang router's ``cache_aware`` policy: if the load is
  imbalanced by both thresholds (``max - min > balance_abs_threshold`` and
  ``max > balance_rel_threshold * min``) the shortest queue; else the best prefix match
  if its match rate exceeds ``cache_threshold``, else the worker with the smallest tree.
* :func:`round_robin_router` and :func:`least_loaded_router`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.solvers.affinity.results import RouterOutcome

__all__ = [
    "DECISION_COLUMNS",
    "RouterView",
    "cache_aware_router",
    "kv_choice",
    "kv_router",
    "least_loaded_router",
    "round_robin_router",
    "route",
]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

#: Columns and dtypes of the decision log: those of the telemetry ``decisions`` schema
#: (:data:`gametheory.telemetry.schemas.DECISIONS`), so that a router's log and a parsed
#: Dynamo router log feed the same PoA-hat estimator.
DECISION_COLUMNS: dict[str, str] = {
    "decision": "Int64",
    "time": "datetime64[ns, UTC]",
    "request_id": "string",
    "worker": "string",
    "cost": "float64",
    "prefill_weight": "float64",
    "prefill_blocks": "float64",
    "prefill_cost": "float64",
    "decode_blocks": "float64",
    "cached_blocks": "float64",
    "chosen": "bool",
    "stage": "string",
    "source": "string",
}


class RouterView:
    """What a router sees before placing a request: per-worker queue length, active
    blocks, cached tree size and cached prefix of every request.

    Parameters
    ----------
    game
        The affinity routing game whose requests are being routed.
    """

    def __init__(self, game: AffinityRoutingGame) -> None:
        self.game = game
        m = game.m
        self.queue = np.zeros(m)
        self.active = np.zeros(m)
        self.tree = np.zeros(m)
        self._present = np.zeros((m, game.n_groups), dtype=bool)
        self._saved = np.zeros((game.n_players, m)) if game.overlap is not None else None

    def overlap_blocks(self, request: int) -> FloatArray:
        """Blocks of ``request``'s prompt cached on each worker."""
        if self._saved is not None:
            return np.asarray(self._saved[request], dtype=np.float64)
        g = int(self.game.group[request])
        return np.asarray(self.game.prefix[g] * self._present[:, g], dtype=np.float64)

    def place(self, request: int, worker: int, overlap: float) -> None:
        """Record that ``request`` went to ``worker`` where ``overlap`` blocks were cached."""
        prompt = float(self.game.prompt_blocks[request])
        self.queue[worker] += 1.0
        self.active[worker] += prompt
        self.tree[worker] += prompt - overlap
        self._present[worker, int(self.game.group[request])] = True
        if self._saved is not None and self.game.overlap is not None:
            self._saved[:, worker] += self.game.overlap[:, request]


#: A routing rule: (request, view, overlap, logits, rng) -> chosen worker.
Rule = Callable[[int, RouterView, FloatArray, FloatArray, np.random.Generator], int]


def _arrival_order(game: AffinityRoutingGame, order: ArrayLike | None) -> IntArray:
    n = game.n_players
    if order is None:
        return np.arange(n, dtype=np.int64)
    arr = np.asarray(order)
    if arr.shape != (n,) or not np.issubdtype(arr.dtype, np.integer):
        raise GameError(f"order must be a permutation of the {n} request indices")
    out = arr.astype(np.int64)
    if not np.array_equal(np.sort(out), np.arange(n)):
        raise GameError(f"order must be a permutation of the {n} request indices")
    return out


def _check_omega(omega: float) -> float:
    if not np.isfinite(omega) or omega < 0:
        raise GameError(f"omega must be finite and nonnegative, got {omega!r}")
    return float(omega)


def route(
    game: AffinityRoutingGame,
    rule: Rule,
    *,
    name: str,
    omega: float | Callable[[RouterView], float] = 1.0,
    order: ArrayLike | None = None,
    seed: int | np.random.Generator | None = None,
) -> RouterOutcome:
    """Place the requests one by one with ``rule`` and evaluate the outcome in the game.

    Parameters
    ----------
    game
        The affinity routing game.
    rule
        The routing rule, called as ``rule(request, view, overlap, logits, rng)`` with
        ``overlap`` the cached blocks and ``logits`` the KV-router logits of each worker.
    name
        Method name recorded in the outcome.
    omega
        Weight of prefill blocks in the logits, or a schedule giving it from the router's
        view before each decision (an adaptive router); recorded per decision.
    order
        Arrival order (a permutation of the request indices); default index order.
    seed
        Seed or generator for randomised rules.
    """
    if not isinstance(game, AffinityRoutingGame):
        raise GameError(f"game must be an AffinityRoutingGame, got {type(game).__name__}")
    schedule = omega if callable(omega) else None
    fixed = 0.0 if callable(omega) else _check_omega(omega)
    arrivals = _arrival_order(game, order)
    rng = np.random.default_rng(seed)
    n, m = game.n_players, game.m
    view = RouterView(game)
    overlap = np.empty((n, m))
    decode = np.empty((n, m))
    chosen = np.empty(n, dtype=np.int64)
    weight = np.full(n, fixed)
    for i in arrivals:
        ov = view.overlap_blocks(int(i))
        if schedule is not None:
            weight[i] = _check_omega(schedule(view))
        logits = weight[i] * (game.prompt_blocks[i] - ov) + view.active
        overlap[i], decode[i] = ov, view.active
        k = int(rule(int(i), view, ov, logits, rng))
        chosen[i] = k
        view.place(int(i), k, float(ov[k]))
    prefill = (game.prompt_blocks[:, None] - overlap)[arrivals].ravel()
    w = np.repeat(weight[arrivals], m)
    workers = np.arange(m, dtype=np.int64)
    log = pd.DataFrame(
        {
            "decision": np.repeat(np.arange(n), m),
            "time": pd.Series(pd.NaT, index=range(n * m), dtype="datetime64[ns, UTC]"),
            "request_id": np.repeat(arrivals, m).astype(str),
            "worker": np.tile(workers, n).astype(str),
            "cost": w * prefill + decode[arrivals].ravel(),
            "prefill_weight": w,
            "prefill_blocks": prefill,
            "prefill_cost": w * prefill,
            "decode_blocks": decode[arrivals].ravel(),
            "cached_blocks": overlap[arrivals].ravel(),
            "chosen": (chosen[arrivals][:, None] == workers[None, :]).ravel(),
            "stage": pd.NA,
            "source": pd.NA,
        },
        columns=list(DECISION_COLUMNS),
    ).astype(DECISION_COLUMNS)
    costs = game.costs(chosen)
    return RouterOutcome(
        assignment=chosen,
        costs=costs,
        social_cost=float(costs.sum()),
        decisions=log,
        max_regret=float(game.regrets(chosen).max()),
        iterations=n,
        converged=bool(np.all(np.isfinite(costs))),
        method=name,
    )


def kv_choice(logits: FloatArray, tree: FloatArray, tau: float, rng: np.random.Generator) -> int:
    """Dynamo's KV-router worker selection from the logits.

    ``tau = 0``: a minimum logit, ties to the smallest cached tree ``tree``, then at
    random; ``tau > 0``: a sample with probabilities proportional to
    ``exp(-(logit / (max - min)) / tau)`` (Dynamo's ``softmax_sample``; uniform when all
    logits are equal). Shared by :func:`kv_router` and the simulator's KV-router policy.
    """
    if tau == 0.0:
        ties = np.flatnonzero(logits == logits.min())
        if ties.size > 1:
            trees = tree[ties]
            ties = ties[trees == trees.min()]
        return int(ties[0] if ties.size == 1 else rng.choice(ties))
    spread = float(logits.max() - logits.min())
    if spread == 0.0:
        return int(rng.integers(logits.size))
    # Shifted by the minimum, so z <= 0 with z = 0 at the best worker; a tiny tau sends
    # the others to -inf (probability 0), the argmin limit.
    with np.errstate(over="ignore"):
        z = -((logits - logits.min()) / spread) / tau
    p = np.exp(z)
    return int(rng.choice(logits.size, p=p / p.sum()))


def kv_router(
    game: AffinityRoutingGame,
    omega: float = 1.0,
    temperature: float = 0.0,
    *,
    order: ArrayLike | None = None,
    seed: int | np.random.Generator | None = None,
) -> RouterOutcome:
    """NVIDIA Dynamo's KV router: logit ``omega * prefill_blocks + decode_blocks``.

    Parameters
    ----------
    game
        The affinity routing game.
    omega
        Overlap score weight (Dynamo's ``--kv-overlap-score-weight``, default 1); 0 is
        pure load balancing on active blocks.
    temperature
        Router temperature ``tau`` (``--router-temperature``): 0 picks a minimum-logit
        worker (ties: smallest cached tree, then at random); ``tau > 0`` samples worker
        ``w`` with probability proportional to ``exp(-(l_w / (max l - min l)) / tau)``
        (uniform when all logits are equal), following Dynamo's ``softmax_sample``.
    order
        Arrival order; default index order.
    seed
        Seed or generator for ties and sampling.

    Returns
    -------
    RouterOutcome
        The assignment, the requests' costs in the game and the decision log.
    """
    if not np.isfinite(temperature) or temperature < 0:
        raise GameError(f"temperature must be finite and nonnegative, got {temperature!r}")
    tau = float(temperature)

    def rule(
        _i: int, view: RouterView, _ov: FloatArray, logits: FloatArray, rng: np.random.Generator
    ) -> int:
        return kv_choice(logits, view.tree, tau, rng)

    name = f"kv router (omega={omega:g}, temperature={tau:g})"
    return route(game, rule, name=name, omega=omega, order=order, seed=seed)


def cache_aware_router(
    game: AffinityRoutingGame,
    cache_threshold: float = 0.3,
    balance_abs_threshold: float = 64.0,
    balance_rel_threshold: float = 1.5,
    *,
    omega: float = 1.0,
    order: ArrayLike | None = None,
) -> RouterOutcome:
    """SGLang router's ``cache_aware`` policy with its absolute and relative thresholds.

    The load of a worker is its queue (number of requests placed on it). When
    ``max - min > balance_abs_threshold`` and ``max > balance_rel_threshold * min`` the
    request goes to the shortest queue; otherwise to the worker with the highest prefix
    match rate (cached blocks / prompt blocks) if that rate exceeds ``cache_threshold``,
    else to the worker with the smallest cached tree. Ties go to the lowest index.
    Defaults are those of the current ``sglang_router`` ``RouterArgs`` (early releases
    used ``cache_threshold=0.5``, ``balance_abs_threshold=32``,
    ``balance_rel_threshold=1.0001``).

    Parameters
    ----------
    game
        The affinity routing game.
    cache_threshold
        Minimum match rate (0..1) for cache-affinity routing.
    balance_abs_threshold, balance_rel_threshold
        Imbalance thresholds (both must be exceeded to balance).
    omega
        Reference weight for the logged Dynamo logits.
    order
        Arrival order; default index order.
    """
    if not 0.0 <= cache_threshold <= 1.0:
        raise GameError(f"cache_threshold must be in [0, 1], got {cache_threshold!r}")
    if balance_abs_threshold < 0 or balance_rel_threshold < 1:
        raise GameError(
            "balance_abs_threshold must be >= 0 and balance_rel_threshold >= 1, got "
            f"{balance_abs_threshold!r} and {balance_rel_threshold!r}"
        )

    def rule(
        i: int, view: RouterView, ov: FloatArray, _l: FloatArray, _r: np.random.Generator
    ) -> int:
        q = view.queue
        hi, lo = float(q.max()), float(q.min())
        if hi - lo > balance_abs_threshold and hi > balance_rel_threshold * lo:
            return int(np.argmin(q))
        prompt = float(game.prompt_blocks[i])
        rate = ov / prompt if prompt > 0 else np.zeros_like(ov)
        best = int(np.argmax(rate))
        if rate[best] > cache_threshold:
            return best
        return int(np.argmin(view.tree))

    name = (
        f"cache-aware router (cache_threshold={cache_threshold:g}, "
        f"abs={balance_abs_threshold:g}, rel={balance_rel_threshold:g})"
    )
    return route(game, rule, name=name, omega=omega, order=order)


def round_robin_router(
    game: AffinityRoutingGame,
    *,
    start: int = 0,
    omega: float = 1.0,
    order: ArrayLike | None = None,
) -> RouterOutcome:
    """Round robin: the ``k``-th arriving request goes to worker ``(start + k) mod m``.

    Parameters
    ----------
    game
        The affinity routing game.
    start
        Worker of the first request.
    omega
        Reference weight for the logged Dynamo logits.
    order
        Arrival order; default index order.
    """
    if not 0 <= start < game.m:
        raise GameError(f"start must be a worker index in 0..{game.m - 1}, got {start}")
    counter = [start]

    def rule(
        _i: int, _v: RouterView, _ov: FloatArray, _l: FloatArray, _r: np.random.Generator
    ) -> int:
        k = counter[0]
        counter[0] = (k + 1) % game.m
        return k

    return route(game, rule, name="round robin", omega=omega, order=order)


def least_loaded_router(
    game: AffinityRoutingGame,
    *,
    omega: float = 1.0,
    order: ArrayLike | None = None,
) -> RouterOutcome:
    """Least loaded: each request goes to the shortest queue (ties to the lowest index).

    Parameters
    ----------
    game
        The affinity routing game.
    omega
        Reference weight for the logged Dynamo logits.
    order
        Arrival order; default index order.
    """

    def rule(
        _i: int, view: RouterView, _ov: FloatArray, _l: FloatArray, _r: np.random.Generator
    ) -> int:
        return int(np.argmin(view.queue))

    return route(game, rule, name="least loaded", omega=omega, order=order)
