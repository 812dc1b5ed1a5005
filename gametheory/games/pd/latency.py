"""Latency models of the prefill and decode pools of a disaggregated LLM deployment.

Prefill: the pool is an M/M/c queue whose servers are the engine instances (Erlang 1917;
see Kleinrock, *Queueing Systems* vol. 1, 1975, section 3.5). Requests arrive as a Poisson
stream of rate ``lambda``; one instance prefills one request in ``s`` seconds on average
(the ISL-token forward pass). The time to first token is the Erlang-C waiting time plus the
service time plus a constant hand-off (the KV-cache transfer to the decode pool)::

    TTFT(c) = C(c, a) s / (c - a) + s + overhead,   a = lambda s (offered load, Erlangs).

It is infinite when ``c <= a`` (the queue is unstable). The instance count ``c`` may be
real: the continuous relaxation uses the analytic extension of the Erlang-B formula,
``1/B(c, a) = e^a a^(-c) Gamma(c + 1, a)`` (Jagers and van Doorn, Oper. Res. Lett. 5(1)
1986, who show it is convex and decreasing in ``c``), and ``C = c B / (c - a (1 - B))``.

Decode: an instance runs continuous batching; one decode step over a batch of ``n``
sequences takes ``a + b n`` seconds (``a``: reading the weights, ``b``: reading one
sequence's KV cache and its share of the matmul FLOPs). Each request stays for OSL steps,
so by Little's law the batch per instance at load ``lambda`` over ``x`` instances is the
fixed point ``n = lambda OSL (a + b n) / x``. For this affine step time the fixed point is
explicit, ``n* = lambda OSL a / (x - lambda OSL b)``, and the inter-token latency is
``ITL = a + b n* = a x / (x - lambda OSL b)``. The batch is also bounded by the KV-cache
memory of the instance (``max_batch``): past ``n* > max_batch``, or when
``x <= lambda OSL b``, the pool is saturated and ITL is infinite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import gammaincc, gammaln

from gametheory.errors import GameError

__all__ = ["DecodeStepModel", "PrefillQueue", "erlang_c"]

FloatArray = NDArray[np.float64]

_FD_STEP = 1e-5


def _positive(value: float, name: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise GameError(f"{name} must be a positive finite number, got {value!r}")
    return v


def _nonnegative(value: float, name: str) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise GameError(f"{name} must be a nonnegative finite number, got {value!r}")
    return v


def _load(load: float) -> float:
    return _nonnegative(load, "load")


def erlang_c(servers: ArrayLike, offered: float) -> FloatArray:
    """Probability of waiting in an M/M/c queue, for real numbers of servers.

    Parameters
    ----------
    servers
        Number of servers ``c`` (real, > 0), scalar or array.
    offered
        Offered load ``a = lambda / mu`` in Erlangs (>= 0).

    Returns
    -------
    numpy.ndarray
        ``C(c, a)`` where ``c > a``, and 1 where ``c <= a`` (every arrival waits).

    Notes
    -----
    Uses the analytic extension of Erlang B through the upper incomplete gamma function,
    ``B(c, a) = a^c e^(-a) / Gamma(c + 1, a)`` (Jagers and van Doorn 1986), evaluated in
    log space, and ``C = c B / (c - a (1 - B))``; at integer ``c`` these are Erlang's
    formulas.
    """
    c = np.atleast_1d(np.asarray(servers, dtype=np.float64))
    a = _nonnegative(offered, "offered")
    out = np.ones_like(c)
    stable = c > a
    if a == 0.0:
        out[stable] = 0.0
        return out
    cs = c[stable]
    log_b = cs * math.log(a) - a - gammaln(cs + 1.0) - np.log(gammaincc(cs + 1.0, a))
    b = np.exp(log_b)
    out[stable] = cs * b / (cs - a * (1.0 - b))
    return out


@dataclass(frozen=True)
class PrefillQueue:
    """The prefill pool as an M/M/c queue of engine instances.

    Parameters
    ----------
    service_time
        Mean prefill time of one request on one instance, in seconds.
    overhead
        Constant added to every TTFT (KV-cache transfer to decode), in seconds.
    """

    service_time: float
    overhead: float = 0.0

    def __post_init__(self) -> None:
        _positive(self.service_time, "service_time")
        _nonnegative(self.overhead, "overhead")

    def threshold(self, load: float) -> float:
        """Instances below which the queue is unstable: ``lambda s``."""
        return _load(load) * self.service_time

    def capacity(self, instances: ArrayLike) -> FloatArray:
        """Largest arrival rate (req/s) that ``instances`` can serve: ``c / s``."""
        return np.asarray(instances, dtype=np.float64) / self.service_time

    def ttft(self, instances: ArrayLike, load: float) -> FloatArray:
        """Mean time to first token (s); ``inf`` where the queue is unstable."""
        c = np.atleast_1d(np.asarray(instances, dtype=np.float64))
        a = self.threshold(load)
        out = np.full_like(c, np.inf)
        stable = c > a
        cs = c[stable]
        wait = erlang_c(cs, a) * self.service_time / (cs - a)
        out[stable] = wait + self.service_time + self.overhead
        return out

    def ttft_derivative(self, instances: ArrayLike, load: float) -> FloatArray:
        """``d TTFT / d c`` by central differences.

        The step is ``1e-5 max(1, c)``, shrunk to a quarter of the distance to the
        stability threshold near it; ``-inf`` at or below the threshold.
        """
        c = np.atleast_1d(np.asarray(instances, dtype=np.float64))
        thr = self.threshold(load)
        h = np.minimum(_FD_STEP * np.maximum(1.0, c), 0.25 * np.abs(c - thr))
        out = np.full_like(c, -np.inf)
        ok = (c > thr) & (h > 0)
        up = self.ttft(c[ok] + h[ok], load)
        down = self.ttft(c[ok] - h[ok], load)
        out[ok] = (up - down) / (2.0 * h[ok])
        return out

    def ttft_second_derivative(self, instances: ArrayLike, load: float) -> FloatArray:
        """``d2 TTFT / d c2`` by central differences (``inf`` at or below the threshold).

        The step is ``1e-3 max(1, c)``, shrunk to a quarter of the distance to the threshold.
        """
        c = np.atleast_1d(np.asarray(instances, dtype=np.float64))
        thr = self.threshold(load)
        h = np.minimum(1e-3 * np.maximum(1.0, c), 0.25 * np.abs(c - thr))
        out = np.full_like(c, np.inf)
        ok = (c > thr) & (h > 0)
        up = self.ttft(c[ok] + h[ok], load)
        mid = self.ttft(c[ok], load)
        down = self.ttft(c[ok] - h[ok], load)
        out[ok] = (up - 2.0 * mid + down) / h[ok] ** 2
        return out

    def rate_at_target(self, ttft_target: float) -> float:
        """Arrival rate one instance serves within a mean TTFT target (M/M/1).

        Solves ``s / (1 - lambda s) + overhead = target``; zero when the target is below
        the zero-load TTFT ``s + overhead``.
        """
        t = _positive(ttft_target, "ttft_target") - self.overhead
        s = self.service_time
        return max(0.0, (1.0 - s / t) / s) if t > 0 else 0.0


@dataclass(frozen=True)
class DecodeStepModel:
    """The decode pool: continuous batching with an affine step time.

    Parameters
    ----------
    step_base
        ``a``: step time of an empty batch (weights read, communication), in seconds.
    step_per_sequence
        ``b``: extra step time per sequence in the batch, in seconds.
    osl
        Output sequence length (decode steps per request).
    max_batch
        Largest batch an instance holds (KV-cache memory), in sequences.
    """

    step_base: float
    step_per_sequence: float
    osl: float
    max_batch: float

    def __post_init__(self) -> None:
        _positive(self.step_base, "step_base")
        _nonnegative(self.step_per_sequence, "step_per_sequence")
        _positive(self.osl, "osl")
        _positive(self.max_batch, "max_batch")

    @property
    def rate_per_instance(self) -> float:
        """Largest arrival rate (req/s) one instance serves: ``B / (OSL (a + b B))``."""
        full_step = self.step_base + self.step_per_sequence * self.max_batch
        return self.max_batch / (self.osl * full_step)

    def threshold(self, load: float) -> float:
        """Instances below which decode saturates: ``lambda / rate_per_instance``."""
        return _load(load) / self.rate_per_instance

    def capacity(self, instances: ArrayLike) -> FloatArray:
        """Largest arrival rate (req/s) that ``instances`` can serve."""
        return np.asarray(instances, dtype=np.float64) * self.rate_per_instance

    def _beta(self, load: float) -> float:
        return _load(load) * self.osl * self.step_per_sequence

    def batch(self, instances: ArrayLike, load: float) -> FloatArray:
        """Batch per instance, the Little's-law fixed point; ``inf`` when saturated."""
        x = np.atleast_1d(np.asarray(instances, dtype=np.float64))
        out = np.full_like(x, np.inf)
        ok = (x >= self.threshold(load)) & (x > 0)
        out[ok] = _load(load) * self.osl * self.step_base / (x[ok] - self._beta(load))
        return out

    def itl(self, instances: ArrayLike, load: float) -> FloatArray:
        """Mean inter-token latency (s): ``a x / (x - lambda OSL b)``; ``inf`` when saturated."""
        x = np.atleast_1d(np.asarray(instances, dtype=np.float64))
        out = np.full_like(x, np.inf)
        ok = (x >= self.threshold(load)) & (x > 0)
        out[ok] = self.step_base * x[ok] / (x[ok] - self._beta(load))
        return out

    def itl_derivative(self, instances: ArrayLike, load: float) -> FloatArray:
        """``d ITL / d x = -a beta / (x - beta)^2``, ``beta = lambda OSL b`` (exact)."""
        x = np.atleast_1d(np.asarray(instances, dtype=np.float64))
        out = np.full_like(x, -np.inf)
        ok = (x >= self.threshold(load)) & (x > 0)
        beta = self._beta(load)
        out[ok] = -self.step_base * beta / (x[ok] - beta) ** 2
        return out

    def itl_second_derivative(self, instances: ArrayLike, load: float) -> FloatArray:
        """``d2 ITL / d x2 = 2 a beta / (x - beta)^3`` (exact)."""
        x = np.atleast_1d(np.asarray(instances, dtype=np.float64))
        out = np.full_like(x, np.inf)
        ok = (x >= self.threshold(load)) & (x > 0)
        beta = self._beta(load)
        out[ok] = 2.0 * self.step_base * beta / (x[ok] - beta) ** 3
        return out

    def rate_at_target(self, itl_target: float) -> float:
        """Arrival rate one instance serves within an ITL target.

        The batch meeting the target is ``n_T = min((T - a) / b, max_batch)``, served at
        ``n_T / (OSL (a + b n_T))`` requests per second; zero when ``T <= a``.
        """
        t = _positive(itl_target, "itl_target")
        if t <= self.step_base:
            return 0.0
        n = (
            self.max_batch
            if self.step_per_sequence == 0
            else min((t - self.step_base) / self.step_per_sequence, self.max_batch)
        )
        return n / (self.osl * (self.step_base + self.step_per_sequence * n))
