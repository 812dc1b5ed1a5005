"""Routing policies the simulator calls request by request.

The decision rules are those of :mod:`gametheory.solvers.affinity.routers` (Dynamo's KV router,
SGLang's cache-aware router, round robin, least loaded), applied to the live state of
the simulated decode instances instead of a static game: at each arrival the policy
sees, per candidate decode worker, the prompt blocks already cached there
(``cached``), the active KV blocks (``load``, Dynamo's ``decode_blocks``), the
requests assigned and unfinished (``queue``) and the cached tree size (``tree``).
Dynamo's logit is ``omega * (prompt - cached) + load``; the simulator logs it, with a
*reference* weight, for every candidate in the telemetry ``decisions`` schema so that
the logs of all policies are on one scale (as :func:`~gametheory.solvers.affinity.routers.route`
does).

:class:`AdaptivePolicy` wraps the KV rule with parameters chosen by a
:class:`~gametheory.control.policy.AdaptiveController` from the TTFT signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from gametheory.control.policy import AdaptiveController
from gametheory.errors import GameError
from gametheory.solvers.affinity.routers import kv_choice

__all__ = [
    "AdaptivePolicy",
    "CacheAwarePolicy",
    "KVRouterPolicy",
    "LeastLoadedPolicy",
    "Policy",
    "RoundRobinPolicy",
    "make_policy",
]

FloatArray = NDArray[np.float64]


class Policy(Protocol):
    """What the simulator needs from a routing policy."""

    name: str

    def choose(
        self,
        prompt: float,
        cached: FloatArray,
        load: FloatArray,
        queue: FloatArray,
        tree: FloatArray,
        rng: np.random.Generator,
    ) -> int:
        """Index of the decode worker for a request of ``prompt`` blocks."""
        ...

    def observe(self, time: float, ttft_p99: float) -> bool:
        """Feed the polled TTFT P99 (s); True when the policy changed its parameters."""
        ...


class _Static:
    """A policy with fixed parameters: the polled signal never changes it."""

    def observe(self, time: float, ttft_p99: float) -> bool:
        """Ignore the signal (False: nothing changed)."""
        return False


def _check(omega: float, tau: float) -> None:
    if not (np.isfinite(omega) and omega >= 0):
        raise GameError(f"omega must be finite and nonnegative, got {omega!r}")
    if not (np.isfinite(tau) and tau >= 0):
        raise GameError(f"tau must be finite and nonnegative, got {tau!r}")


@dataclass
class KVRouterPolicy(_Static):
    """Dynamo's KV router with overlap weight ``omega`` and temperature ``tau``."""

    omega: float = 1.0
    tau: float = 0.0
    name: str = ""

    def __post_init__(self) -> None:
        _check(self.omega, self.tau)
        self.name = self.name or f"kv(omega={self.omega:g},tau={self.tau:g})"

    def choose(
        self,
        prompt: float,
        cached: FloatArray,
        load: FloatArray,
        queue: FloatArray,
        tree: FloatArray,
        rng: np.random.Generator,
    ) -> int:
        return kv_choice(self.omega * (prompt - cached) + load, tree, self.tau, rng)


@dataclass
class CacheAwarePolicy(_Static):
    """SGLang's ``cache_aware`` router.

    The rule of :func:`~gametheory.solvers.affinity.routers.cache_aware_router`: balance on
    queue lengths when they are too uneven, else the best prefix-match rate above
    ``cache_threshold``, else the smallest cached tree. Defaults are those of the
    current ``sglang_router`` ``RouterArgs``.
    """

    cache_threshold: float = 0.3
    balance_abs_threshold: float = 64.0
    balance_rel_threshold: float = 1.5
    name: str = "cache_aware"

    def __post_init__(self) -> None:
        if not 0.0 <= self.cache_threshold <= 1.0:
            raise GameError(f"cache_threshold must be in [0, 1], got {self.cache_threshold!r}")
        if self.balance_abs_threshold < 0 or self.balance_rel_threshold < 1:
            raise GameError(
                "balance_abs_threshold must be >= 0 and balance_rel_threshold >= 1, got "
                f"{self.balance_abs_threshold!r} and {self.balance_rel_threshold!r}"
            )

    def choose(
        self,
        prompt: float,
        cached: FloatArray,
        load: FloatArray,
        queue: FloatArray,
        tree: FloatArray,
        rng: np.random.Generator,
    ) -> int:
        hi, lo = float(queue.max()), float(queue.min())
        if hi - lo > self.balance_abs_threshold and hi > self.balance_rel_threshold * lo:
            return int(np.argmin(queue))
        rate = cached / prompt if prompt > 0 else np.zeros_like(cached)
        best = int(np.argmax(rate))
        if rate[best] > self.cache_threshold:
            return best
        return int(np.argmin(tree))


@dataclass
class RoundRobinPolicy(_Static):
    """Round robin over the decode workers."""

    name: str = "round_robin"
    _next: int = 0

    def choose(
        self,
        prompt: float,
        cached: FloatArray,
        load: FloatArray,
        queue: FloatArray,
        tree: FloatArray,
        rng: np.random.Generator,
    ) -> int:
        k = self._next % cached.size
        self._next = k + 1
        return k


@dataclass
class LeastLoadedPolicy(_Static):
    """The decode worker with the fewest unfinished requests (ties to the lowest index)."""

    name: str = "least_loaded"

    def choose(
        self,
        prompt: float,
        cached: FloatArray,
        load: FloatArray,
        queue: FloatArray,
        tree: FloatArray,
        rng: np.random.Generator,
    ) -> int:
        return int(np.argmin(queue))


@dataclass
class AdaptivePolicy:
    """The KV router with ``(omega, tau)`` set by an adaptive controller.

    Parameters
    ----------
    controller
        Maps the polled TTFT P99 to a regime and the regime to ``(omega, tau)``.
    """

    controller: AdaptiveController = field(default_factory=AdaptiveController)
    name: str = "adaptive"

    def choose(
        self,
        prompt: float,
        cached: FloatArray,
        load: FloatArray,
        queue: FloatArray,
        tree: FloatArray,
        rng: np.random.Generator,
    ) -> int:
        omega, tau = self.controller.parameters
        return kv_choice(omega * (prompt - cached) + load, tree, tau, rng)

    def observe(self, time: float, ttft_p99: float) -> bool:
        before = self.controller.parameters
        self.controller.update(time, ttft_p99)
        return self.controller.parameters != before


#: Names accepted by :func:`make_policy`.
POLICIES = ("kv", "cache_aware", "round_robin", "least_loaded", "adaptive")


def make_policy(
    name: str,
    *,
    omega: float = 1.0,
    tau: float = 0.0,
    controller: AdaptiveController | None = None,
) -> Policy:
    """A fresh policy by name: ``"kv"`` (with ``omega``, ``tau``), ``"cache_aware"``,
    ``"round_robin"``, ``"least_loaded"`` or ``"adaptive"`` (with ``controller``).

    Raises
    ------
    GameError
        For an unknown name.
    """
    if name == "kv":
        return KVRouterPolicy(omega, tau)
    if name == "cache_aware":
        return CacheAwarePolicy()
    if name == "round_robin":
        return RoundRobinPolicy()
    if name == "least_loaded":
        return LeastLoadedPolicy()
    if name == "adaptive":
        return AdaptivePolicy(controller if controller is not None else AdaptiveController())
    raise GameError(f"unknown policy {name!r}; expected one of {POLICIES}")
