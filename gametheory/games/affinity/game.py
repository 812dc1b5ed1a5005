"""The routing congestion game with cache-affinity externalities.

A KV-aware router sends each request (a player) to one of ``m`` workers (its strategies).
A worker serving ``n`` requests makes each of them wait ``c_w(n)`` (congestion: queueing
latency versus load, e.g. M/M/1-like or a fitted :class:`~gametheory.costs.Tabulated`
curve), and a request pays the prefill time ``block_time`` per prompt block *not already
in that worker's KV cache*. Requests that share a prompt prefix make each other cheaper on
the same worker (a positive externality). Two externality models:

* ``"anonymous"``: request ``i`` belongs to prefix group ``g_i`` (prefix of ``P_g`` blocks)
  and has a private suffix of ``s_i`` blocks. The prefix of a group is computed once on a
  worker and its cost ``block_time P_g`` is shared fairly among the group's co-located
  members. This is an atomic congestion game over the resources ``worker w`` (cost
  ``c_w``) and ``(w, g)`` (cost ``Shared(block_time P_g)``), plus the constant suffix cost
  ``block_time s_i``; it therefore has Rosenthal's exact potential (Rosenthal, IJGT 2(1)
  1973) and every better-response path ends at a pure equilibrium. The fair-sharing part
  is Anshelevich et al.'s cost sharing (SICOMP 38(4) 2008), whose PoA alone is ``n``.
* ``"overlap"``: request ``i`` saves ``overlap[i, j]`` blocks when request ``j`` is on the
  same worker (player-specific pairwise externalities in the sense of de Keijzer and
  Schaefer, ESA 2012; Dynamo's per-worker ``overlap_blocks``). Its cost is
  ``c_w(n_w) + block_time (prompt_i - sum_{j ~ i} overlap[i, j])``. With a symmetric
  overlap matrix ``Phi = Rosenthal(loads) + block_time (sum_i prompt_i - sum_{i<j, i ~ j}
  overlap[i, j])`` is an exact potential (THEORY.md section 2); with asymmetric overlaps a
  pure equilibrium need not exist and best-response dynamics may cycle
  (:attr:`AffinityRoutingGame.has_potential` is then False).

Social cost is the sum of the requests' costs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.costs import CostFunction, CostVector, Shared
from gametheory.errors import GameError
from gametheory.games.affinity.state import AnonymousState, OverlapState
from gametheory.games.base import FiniteGameBase, as_profile
from gametheory.games.congestion import AtomicCongestionGame

__all__ = ["AffinityRoutingGame", "ExternalityModel"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]
ExternalityModel = Literal["anonymous", "overlap"]


def _vector(value: ArrayLike, name: str, *, ndim: int = 1) -> FloatArray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GameError(f"{name} must be numeric, got {value!r}") from exc
    if arr.ndim != ndim:
        raise GameError(f"{name} must be {ndim}-dimensional, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise GameError(f"{name} must be finite and nonnegative")
    return arr


class AffinityRoutingGame(FiniteGameBase):
    """Requests choosing workers, with congestion and shared-prefix (KV cache) savings.

    Parameters
    ----------
    workers
        Load-latency cost ``c_w(n)`` of each worker as a function of the number of requests
        it serves (a cost function or a constant).
    groups
        Prefix length in blocks of each prefix group.
    requests
        One ``(group, suffix_blocks)`` pair per request, in arrival order (an ``(n, 2)``
        array or a sequence of pairs).
    block_time
        Prefill time of one uncached block (the unit converting blocks to latency).
    model
        ``"anonymous"`` (prefix cost shared fairly within a group on a worker) or
        ``"overlap"`` (pairwise savings given by ``overlap``).
    overlap
        For the overlap model: ``overlap[i, j]`` is the number of blocks of request ``i``'s
        prompt served from cache when request ``j`` is on the same worker. Nonnegative,
        zero diagonal, and each row sums to at most request ``i``'s prompt blocks.

    Examples
    --------
    >>> from gametheory.costs import Affine
    >>> g = AffinityRoutingGame([Affine(0, 1)] * 2, groups=[4], requests=[(0, 1), (0, 1)])
    >>> g.costs([0, 0]).tolist()  # latency 2, shared prefix 4/2, suffix 1
    [5.0, 5.0]
    >>> g.costs([0, 1]).tolist()  # latency 1, full prefix 4, suffix 1
    [6.0, 6.0]
    """

    def __init__(
        self,
        workers: Sequence[CostFunction | float | int],
        groups: ArrayLike,
        requests: ArrayLike,
        *,
        block_time: float = 1.0,
        model: ExternalityModel = "anonymous",
        overlap: ArrayLike | None = None,
    ) -> None:
        if len(workers) == 0:
            raise GameError("workers is empty: the game needs at least one worker")
        self.worker_costs = CostVector(workers)
        self.m = len(self.worker_costs)
        self.prefix = _vector(groups, "groups")
        if self.prefix.size == 0:
            raise GameError("groups is empty: give the prefix length of at least one group")
        req = _vector(requests, "requests", ndim=2)
        if req.shape[0] == 0 or req.shape[1] != 2:
            raise GameError(f"requests must be (group, suffix_blocks) pairs, got shape {req.shape}")
        wrong = (req[:, 0] != np.round(req[:, 0])) | (req[:, 0] >= self.prefix.size)
        if np.any(wrong):
            bad = int(np.argmax(wrong))
            raise GameError(
                f"requests[{bad}] has group {req[bad, 0]!r}; groups are 0..{self.prefix.size - 1}"
            )
        self.group = req[:, 0].astype(np.int64)
        self.suffix = req[:, 1].copy()
        try:
            self.block_time = float(block_time)
        except (TypeError, ValueError) as exc:
            raise GameError(f"block_time must be a number, got {block_time!r}") from exc
        if not np.isfinite(self.block_time) or self.block_time <= 0:
            raise GameError(f"block_time must be positive and finite, got {block_time!r}")
        if model not in ("anonymous", "overlap"):
            raise GameError(f"model must be 'anonymous' or 'overlap', got {model!r}")
        self.model: ExternalityModel = model
        self._n = int(req.shape[0])
        self.prompt_blocks = self.prefix[self.group] + self.suffix
        self.overlap: FloatArray | None = None
        self.congestion: AtomicCongestionGame | None = None
        if model == "overlap":
            self.overlap = self._check_overlap(overlap)
        else:
            if overlap is not None:
                raise GameError("overlap is only used by model='overlap'")
            self.congestion = self._congestion_game()

    def _check_overlap(self, overlap: ArrayLike | None) -> FloatArray:
        if overlap is None:
            raise GameError("model='overlap' needs an overlap matrix (overlap=...)")
        v = _vector(overlap, "overlap", ndim=2)
        if v.shape != (self._n, self._n):
            raise GameError(f"overlap must have shape ({self._n}, {self._n}), got {v.shape}")
        if np.any(np.diag(v) != 0):
            raise GameError("overlap must have a zero diagonal (a request does not cache itself)")
        excess = v.sum(axis=1) - self.prompt_blocks
        if np.any(excess > 1e-9 * np.maximum(1.0, self.prompt_blocks)):
            i = int(np.argmax(excess))
            raise GameError(
                f"overlap row {i} saves {v[i].sum():g} blocks, more than request {i}'s "
                f"prompt of {self.prompt_blocks[i]:g} blocks"
            )
        return v

    def _congestion_game(self) -> AtomicCongestionGame:
        """Resources: the m workers, then (worker, group) prefix resources."""
        m, n_groups = self.m, self.prefix.size
        costs: list[CostFunction | float | int] = list(self.worker_costs.costs)
        costs += [Shared(self.block_time * p) for _ in range(m) for p in self.prefix]
        names: list[object] = [f"worker {w}" for w in range(m)]
        names += [(w, g) for w in range(m) for g in range(n_groups)]
        by_group = [[(w, m + w * n_groups + g) for w in range(m)] for g in range(n_groups)]
        strategies = [by_group[int(g)] for g in self.group]
        return AtomicCongestionGame(costs, strategies, resource_names=names)

    # --- constructors -------------------------------------------------------------
    @classmethod
    def synthetic(
        cls,
        workers: Sequence[CostFunction | float | int],
        n_requests: int,
        *,
        n_groups: int = 5,
        prefix_blocks: float = 16.0,
        suffix_blocks: float = 2.0,
        zipf: float = 1.0,
        block_time: float = 1.0,
        seed: int | np.random.Generator | None = None,
    ) -> AffinityRoutingGame:
        """A random anonymous instance: Zipf-popular prefix groups of equal prefix length.

        Parameters
        ----------
        workers
            Load-latency cost of each worker.
        n_requests
            Number of requests.
        n_groups
            Number of prefix groups; group ``g`` is drawn with probability
            proportional to ``(g + 1)^-zipf``.
        prefix_blocks, suffix_blocks
            Prefix length of every group, and the mean suffix length (suffixes are
            ``1 + Poisson(suffix_blocks - 1)``).
        zipf
            Zipf exponent of group popularity (0: uniform).
        block_time
            Prefill time per block.
        seed
            Seed or generator.
        """
        if n_requests < 1 or n_groups < 1:
            raise GameError(f"n_requests and n_groups must be >= 1, got {n_requests}, {n_groups}")
        if suffix_blocks < 1:
            raise GameError(f"suffix_blocks must be >= 1, got {suffix_blocks}")
        rng = np.random.default_rng(seed)
        weights = (np.arange(1, n_groups + 1, dtype=np.float64)) ** (-float(zipf))
        group = rng.choice(n_groups, size=n_requests, p=weights / weights.sum())
        suffix = 1.0 + rng.poisson(suffix_blocks - 1.0, size=n_requests)
        return cls(
            workers,
            np.full(n_groups, float(prefix_blocks)),
            np.column_stack([group, suffix]),
            block_time=block_time,
        )

    @classmethod
    def from_hash_ids(
        cls,
        workers: Sequence[CostFunction | float | int],
        hash_ids: Sequence[Sequence[int]],
        *,
        depth: int = 1,
        block_time: float = 1.0,
        model: ExternalityModel = "anonymous",
    ) -> AffinityRoutingGame:
        """A game from the prompt block hashes of each request (Mooncake traces).

        Each request is the list of hashes of its prompt's KV blocks (Mooncake's
        ``hash_ids``: 512-token blocks, equal ids mean equal prefixes; Qin et al.,
        FAST 2025). Requests are grouped by their first ``depth`` blocks (in Mooncake's
        conversation trace every prompt starts with the same block, so ``depth=2``
        separates the conversations). Anonymous model: a group's
        prefix is the longest common prefix of its members and each member's suffix is
        the rest of its prompt. Overlap model: two members of a group of ``k`` save each
        other ``lcp(i, j) / (k - 1)`` blocks (``lcp`` their longest common prefix), a
        symmetric convention under which a request surrounded by its whole group saves
        the mean common prefix, never more than its prompt, and the game keeps its
        potential.

        Parameters
        ----------
        workers
            Load-latency cost of each worker.
        hash_ids
            Block hashes of each request's prompt, in arrival order (nonempty).
        depth
            Number of leading blocks that define a prefix group.
        block_time
            Prefill time per block.
        model
            ``"anonymous"`` or ``"overlap"``.
        """
        seqs = [np.asarray(h, dtype=np.int64).ravel() for h in hash_ids]
        if not seqs:
            raise GameError("hash_ids is empty: give the block hashes of at least one request")
        empty = [i for i, h in enumerate(seqs) if h.size == 0]
        if empty:
            raise GameError(f"hash_ids[{empty[0]}] is empty: every prompt has a block")
        n = len(seqs)
        width = max(h.size for h in seqs)
        table = np.full((n, width), -1, dtype=np.int64)
        lengths = np.array([h.size for h in seqs], dtype=np.int64)
        for i, h in enumerate(seqs):
            table[i, : h.size] = h
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise GameError(f"depth must be an integer >= 1, got {depth!r}")
        keys = np.pad(table, ((0, 0), (0, max(0, depth - width))), constant_values=-1)
        _, group = np.unique(keys[:, :depth], axis=0, return_inverse=True)
        group = group.ravel()
        prefix = np.zeros(int(group.max()) + 1)
        overlap = np.zeros((n, n)) if model == "overlap" else None
        for g in range(prefix.size):
            members = np.flatnonzero(group == g)
            rows = table[members]
            same = np.all(rows == rows[0], axis=0) & np.all(rows >= 0, axis=0)
            prefix[g] = float(np.argmin(same)) if not same.all() else float(width)
            if overlap is not None and members.size > 1:
                lcp = _common_prefix_lengths(rows)
                overlap[np.ix_(members, members)] = lcp / (members.size - 1)
        requests = np.column_stack([group, lengths - prefix[group]])
        if overlap is not None:
            return cls(
                workers, prefix, requests, block_time=block_time, model=model, overlap=overlap
            )
        return cls(workers, prefix, requests, block_time=block_time, model=model)

    def first(self, n: int) -> AffinityRoutingGame:
        """The same cluster facing only the first ``n`` requests (a lower load)."""
        if not 1 <= n <= self._n:
            raise GameError(f"n must be in 1..{self._n}, got {n}")
        requests = np.column_stack([self.group[:n], self.suffix[:n]])
        overlap = None if self.overlap is None else self.overlap[:n, :n]
        return AffinityRoutingGame(
            self.worker_costs.costs,
            self.prefix,
            requests,
            block_time=self.block_time,
            model=self.model,
            overlap=overlap,
        )

    # --- FiniteGame protocol ------------------------------------------------------
    @property
    def n_players(self) -> int:
        return self._n

    @property
    def n_strategies(self) -> tuple[int, ...]:
        return (self.m,) * self._n

    @property
    def n_groups(self) -> int:
        """Number of prefix groups."""
        return int(self.prefix.size)

    @property
    def has_potential(self) -> bool:
        """Whether the game has an exact potential: always for the anonymous model, for the
        overlap model only when the overlap matrix is symmetric."""
        if self.overlap is None:
            return True
        return bool(np.allclose(self.overlap, self.overlap.T, rtol=0.0, atol=1e-12))

    def loads(self, profile: ArrayLike) -> FloatArray:
        """Number of requests on each worker."""
        prof = as_profile(self, profile)
        return np.bincount(prof, minlength=self.m).astype(np.float64)

    def cached_blocks(self, profile: ArrayLike) -> FloatArray:
        """Blocks of each request's prompt that it does not pay for at ``profile``.

        Anonymous model: the fraction ``1 - 1/k`` of the group prefix when ``k`` members of
        the group share the worker (the fair share of the prefix is paid). Overlap model:
        ``sum_{j ~ i} overlap[i, j]``.
        """
        prof = as_profile(self, profile)
        if self.overlap is None:
            k = np.bincount(prof * self.n_groups + self.group, minlength=self.m * self.n_groups)
            share = k[prof * self.n_groups + self.group].astype(np.float64)
            return np.asarray(self.prefix[self.group] * (1.0 - 1.0 / share), dtype=np.float64)
        same = prof[:, None] == prof[None, :]
        return np.asarray((self.overlap * same).sum(axis=1), dtype=np.float64)

    def latencies(self, profile: ArrayLike) -> FloatArray:
        """Load latency ``c_w(n_w)`` each request experiences at ``profile``."""
        prof = as_profile(self, profile)
        return self.worker_costs.value(self.loads(prof))[prof]

    def costs(self, profile: ArrayLike) -> FloatArray:
        prof = as_profile(self, profile)
        prefill = self.prompt_blocks - self.cached_blocks(prof)
        return np.asarray(self.latencies(prof) + self.block_time * prefill, dtype=np.float64)

    def costs_many(self, profiles: ArrayLike) -> FloatArray:
        """Costs of every player at each of many profiles, shape ``(k, n_players)``.

        Vectorised over the profiles (used by exhaustive enumeration).
        """
        prof = np.asarray(profiles, dtype=np.int64)
        if prof.ndim != 2 or prof.shape[1] != self._n:
            raise GameError(f"profiles must have shape (k, {self._n}), got {prof.shape}")
        if prof.size and (prof.min() < 0 or prof.max() >= self.m):
            raise GameError(f"profiles hold worker indices outside 0..{self.m - 1}")
        k = prof.shape[0]
        rows = np.repeat(np.arange(k), self._n)
        counts = np.bincount(rows * self.m + prof.ravel(), minlength=k * self.m)
        counts = counts.reshape(k, self.m).astype(np.float64)
        lat = np.column_stack(
            [
                np.asarray(c(counts[:, w]), dtype=np.float64)
                for w, c in enumerate(self.worker_costs.costs)
            ]
        )
        own = np.take_along_axis(lat, prof, axis=1)
        if self.overlap is None:
            cells = prof * self.n_groups + self.group[None, :]
            size = self.m * self.n_groups
            share = np.bincount((rows * size) + cells.ravel(), minlength=k * size).reshape(k, size)
            mates = np.take_along_axis(share, cells, axis=1).astype(np.float64)
            cached = self.prefix[self.group][None, :] * (1.0 - 1.0 / mates)
        else:
            same = prof[:, :, None] == prof[:, None, :]
            cached = np.einsum("kij,ij->ki", same, self.overlap)
        return np.asarray(own + self.block_time * (self.prompt_blocks - cached), dtype=np.float64)

    def deviation_costs(self, profile: ArrayLike, player: int) -> FloatArray:
        if not 0 <= player < self._n:
            raise GameError(f"player must be in 0..{self._n - 1}, got {player}")
        return self.state(profile).deviation_costs(player)

    def regrets(self, profile: ArrayLike) -> FloatArray:
        """How much each request would save by moving alone to its best worker (>= 0)."""
        state = self.state(profile)
        best = np.array([state.deviation_costs(i).min() for i in range(self._n)])
        own = np.array([state.cost(i) for i in range(self._n)])
        return np.asarray(np.maximum(own - best, 0.0), dtype=np.float64)

    def social_cost(self, profile: ArrayLike) -> float:
        """Total cost: ``sum_w n_w c_w(n_w)`` plus all prefill time actually paid."""
        return float(np.sum(self.costs(profile)))

    def potential(self, profile: ArrayLike) -> float:
        """Exact potential.

        Anonymous model: Rosenthal's potential of the underlying congestion game plus the
        constant suffix term. Overlap model with symmetric overlaps: Rosenthal's term of
        the worker loads plus ``block_time (sum_i prompt_i - sum_{i<j co-located}
        overlap[i, j])``.

        Raises
        ------
        GameError
            For the overlap model with an asymmetric overlap matrix (no potential).
        """
        prof = as_profile(self, profile)
        suffix_term = self.block_time * float(self.suffix.sum())
        if self.congestion is not None:
            return self.congestion.potential(prof) + suffix_term
        if not self.has_potential or self.overlap is None:
            raise GameError("the overlap model has an exact potential only for symmetric overlaps")
        counts = np.rint(self.loads(prof)).astype(np.int64)
        rosenthal = sum(float(c.rosenthal(int(k))) for c, k in zip(self.worker_costs.costs, counts))
        same = prof[:, None] == prof[None, :]
        pairs = float(np.triu(self.overlap * same, k=1).sum())
        return rosenthal + self.block_time * (float(self.prompt_blocks.sum()) - pairs)

    def state(self, profile: ArrayLike) -> AnonymousState | OverlapState:
        """An incremental evaluator starting at ``profile`` (used by best-response dynamics)."""
        if self.congestion is not None:
            return AnonymousState(self, profile)
        return OverlapState(self, profile)

    def __repr__(self) -> str:
        return (
            f"AffinityRoutingGame({self._n} requests, {self.m} workers, "
            f"{self.n_groups} prefix groups, model={self.model!r})"
        )

    def _repr_html_(self) -> str:
        sizes = np.bincount(self.group, minlength=self.n_groups)
        rows = "".join(
            f"<tr><td>{g}</td><td>{self.prefix[g]:g}</td><td>{sizes[g]}</td></tr>"
            for g in range(self.n_groups)
        )
        workers = ", ".join(repr(c) for c in self.worker_costs.costs)
        return (
            f"<p>{self!r}<br>workers: {workers}<br>block_time: {self.block_time:g}</p>"
            "<table><tr><th>group</th><th>prefix blocks</th><th>requests</th></tr>"
            f"{rows}</table>"
        )


def _common_prefix_lengths(rows: IntArray) -> FloatArray:
    """Pairwise longest common prefix of the rows (padding ``-1`` never matches), with a
    zero diagonal; memory ``k^2`` for ``k`` rows."""
    k = rows.shape[0]
    alive = np.ones((k, k), dtype=bool)
    lcp = np.zeros((k, k))
    for col in rows.T:
        alive &= (col[:, None] == col[None, :]) & (col >= 0)[:, None]
        if not alive.any():
            break
        lcp += alive
    np.fill_diagonal(lcp, 0.0)
    return lcp
