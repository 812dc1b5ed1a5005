"""Resource games: players claim shares of a divisible budget under a shared constraint.

:class:`SharedBudgetGame` is the general continuous game of this kind, given by callables
(Rosen, Econometrica 33(3) 1965: concave games with coupled constraints).
:class:`PDResourceGame` is the prefill/decode game of a disaggregated LLM deployment: two
pools, the prefill pool and the decode pool, share a budget of GPUs that comes in units of
one engine instance (the tensor-parallel size). The prefill pool's latency is the time to
first token (TTFT), the decode pool's the inter-token latency (ITL), both from the models
of :mod:`gametheory.games.pd.latency`. The operator's social cost is, by default, the
mean end-to-end latency ``TTFT + OSL x ITL`` at the offered load; each pool's cost is its
share of it (``TTFT`` for prefill, ``OSL x ITL`` for decode, plus optional SLO penalties),
so the pools' costs add up to the social cost.

The equal-multiplier (variational) equilibrium of a game whose costs add up to the social
cost and depend only on the player's own action is the social optimum of the continuous
relaxation: both are characterised by equal marginal costs. In raw latency units this is
Rosen's normalized equilibrium of the pools' objectives ``(TTFT, ITL)`` with weights
``r = (1, OSL)``.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.pd.defaults import Deployment, llama_70b_b200
from gametheory.games.pd.latency import DecodeStepModel, PrefillQueue

__all__ = ["PDResourceGame", "PDSocialCost", "SharedBudgetGame"]

FloatArray = NDArray[np.float64]
VectorFunction = Callable[[FloatArray], FloatArray]


def _vector(x: ArrayLike, n: int, name: str) -> FloatArray:
    arr = np.asarray(x, dtype=np.float64).reshape(-1)
    if arr.shape != (n,):
        raise GameError(f"{name} must have one entry per player ({n}), got shape {arr.shape}")
    return arr


class SharedBudgetGame:
    """A continuous game in which players claim amounts of one shared budget.

    Player ``i`` chooses ``x_i`` in ``[lower_i, upper_i]`` subject to the shared constraint
    ``sum_i a_i x_i <= budget`` and minimises ``costs(x)[i]``. Implements
    :class:`~gametheory.games.base.ContinuousGame`.

    Parameters
    ----------
    costs
        Callable returning every player's cost at a profile.
    pseudo_gradient
        Callable returning ``(d f_i / d x_i)_i``.
    budget
        Right-hand side of the shared constraint.
    lower, upper
        Bounds of each player's action (``upper`` defaults to ``+inf``).
    coefficients
        ``a_i`` of the shared constraint (default all ones).
    pseudo_jacobian
        Callable returning the Jacobian of the pseudo-gradient; default central differences.
    """

    def __init__(
        self,
        costs: VectorFunction,
        pseudo_gradient: VectorFunction,
        budget: float,
        lower: ArrayLike,
        upper: ArrayLike | None = None,
        coefficients: ArrayLike | None = None,
        pseudo_jacobian: VectorFunction | None = None,
    ) -> None:
        lo = np.asarray(lower, dtype=np.float64).reshape(-1)
        n = lo.size
        if n < 1:
            raise GameError("lower must give a bound for at least one player")
        hi = np.full(n, np.inf) if upper is None else _vector(upper, n, "upper")
        coef = np.ones(n) if coefficients is None else _vector(coefficients, n, "coefficients")
        if np.any(np.isnan(lo)) or np.any(np.isnan(hi)) or np.any(lo > hi):
            raise GameError("lower and upper must be ordered bounds without NaN")
        if not np.all(np.isfinite(coef)):
            raise GameError("coefficients must be finite")
        if not math.isfinite(budget):
            raise GameError(f"budget must be finite, got {budget!r}")
        self._costs = costs
        self._gradient = pseudo_gradient
        self._jacobian = pseudo_jacobian
        self._lower, self._upper, self._coef = lo, hi, coef
        self.budget = float(budget)

    @property
    def n_players(self) -> int:
        """Number of players."""
        return int(self._lower.size)

    @property
    def lower(self) -> FloatArray:
        """Lower bounds of the actions."""
        return self._lower.copy()

    @property
    def upper(self) -> FloatArray:
        """Upper bounds of the actions."""
        return self._upper.copy()

    @property
    def shared_constraints(self) -> tuple[FloatArray, FloatArray]:
        """``(A, b)`` with the single row ``a . x <= budget``."""
        return self._coef[None, :].copy(), np.array([self.budget])

    def costs(self, x: ArrayLike) -> FloatArray:
        """Every player's cost at ``x``."""
        point = _vector(x, self.n_players, "x")
        return _vector(self._costs(point), self.n_players, "costs(x)")

    def pseudo_gradient(self, x: ArrayLike) -> FloatArray:
        """``(d f_i / d x_i)_i`` at ``x``."""
        point = _vector(x, self.n_players, "x")
        return _vector(self._gradient(point), self.n_players, "pseudo_gradient(x)")

    def pseudo_jacobian(self, x: ArrayLike) -> FloatArray:
        """Jacobian of the pseudo-gradient (given, or by central differences)."""
        point = _vector(x, self.n_players, "x")
        n = self.n_players
        if self._jacobian is not None:
            jac = np.asarray(self._jacobian(point), dtype=np.float64)
            if jac.shape != (n, n):
                raise GameError(f"pseudo_jacobian(x) must have shape ({n}, {n})")
            return jac
        h = 1e-6 * np.maximum(1.0, np.abs(point))
        steps = np.diag(h)
        cols = [
            (self.pseudo_gradient(point + steps[j]) - self.pseudo_gradient(point - steps[j]))
            / (2.0 * h[j])
            for j in range(n)
        ]
        return np.column_stack(cols)

    def __repr__(self) -> str:
        return f"SharedBudgetGame(n_players={self.n_players}, budget={self.budget:g})"


@dataclass(frozen=True)
class PDSocialCost:
    """The operator's social cost: mean end-to-end latency plus optional SLO penalties.

    ``cost = TTFT + OSL ITL + penalty (max(0, TTFT / ttft_target - 1)
    + max(0, ITL / itl_target - 1))``, in seconds per request. The prefill pool's share
    is the TTFT terms, the decode pool's the ITL terms. With ``penalty = 0`` (default) it
    is the mean end-to-end latency; both forms are convex in the allocation because TTFT
    and ITL are convex and decreasing.

    Parameters
    ----------
    ttft_target, itl_target
        SLO targets in seconds (needed when ``penalty > 0``).
    penalty
        Seconds of cost per unit of relative SLO violation.
    """

    ttft_target: float | None = None
    itl_target: float | None = None
    penalty: float = 0.0

    def __post_init__(self) -> None:
        if not math.isfinite(self.penalty) or self.penalty < 0:
            raise GameError(f"penalty must be a nonnegative number, got {self.penalty!r}")
        for name in ("ttft_target", "itl_target"):
            value = getattr(self, name)
            if value is not None and (not math.isfinite(value) or value <= 0):
                raise GameError(f"{name} must be a positive number of seconds, got {value!r}")
            if self.penalty > 0 and value is None:
                raise GameError(f"{name} is required when penalty > 0")

    @property
    def name(self) -> str:
        """Short description."""
        if self.penalty == 0:
            return "mean end-to-end latency TTFT + OSL x ITL (s)"
        return (
            f"mean end-to-end latency + {self.penalty:g} s per relative SLO violation "
            f"(TTFT {self.ttft_target:g} s, ITL {self.itl_target:g} s)"
        )

    def _slope(self, value: FloatArray, target: float | None) -> FloatArray:
        if self.penalty == 0 or target is None:
            return np.zeros_like(value)
        return np.where(value > target, self.penalty / target, 0.0)

    def prefill_part(self, ttft: FloatArray) -> FloatArray:
        """The prefill pool's share of the social cost."""
        out = np.asarray(ttft, dtype=np.float64)
        if self.penalty == 0 or self.ttft_target is None:
            return out
        return out + self.penalty * np.maximum(0.0, out / self.ttft_target - 1.0)

    def decode_part(self, itl: FloatArray, osl: float) -> FloatArray:
        """The decode pool's share of the social cost."""
        out = np.asarray(itl, dtype=np.float64)
        base = osl * out
        if self.penalty == 0 or self.itl_target is None:
            return base
        return base + self.penalty * np.maximum(0.0, out / self.itl_target - 1.0)

    def prefill_factor(self, ttft: FloatArray) -> FloatArray:
        """``d prefill_part / d TTFT`` (a subgradient at the kink)."""
        return 1.0 + self._slope(np.asarray(ttft, dtype=np.float64), self.ttft_target)

    def decode_factor(self, itl: FloatArray, osl: float) -> FloatArray:
        """``d decode_part / d ITL``."""
        return osl + self._slope(np.asarray(itl, dtype=np.float64), self.itl_target)


def _int_param(value: int, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise GameError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


class PDResourceGame:
    """Prefill and decode pools sharing a GPU budget (player 0: prefill, 1: decode).

    The real game is played in whole engine instances: an allocation ``(k_p, k_d)`` with
    ``k_p, k_d >= 1`` and ``k_p + k_d <= budget / unit``. For the continuous solvers it is
    also a :class:`~gametheory.games.base.ContinuousGame` over real instance counts
    (time-sharing of instances; Erlang's formula extended to real servers), with each
    action bounded below by one instance and by the pool's stability threshold.

    Parameters
    ----------
    budget
        GPUs available (a multiple of ``unit``, at least two instances).
    unit
        GPUs per engine instance (the tensor-parallel size).
    load
        Offered load in requests per second (>= 0 and below the budget's capacity).
    prefill_model
        The prefill pool's M/M/c model.
    decode_model
        The decode pool's step-time model.
    social_cost
        The operator's social cost (default: mean end-to-end latency).

    Raises
    ------
    GameError
        For a budget below one instance per pool or not a multiple of ``unit``, a negative
        or non-finite load, or a load at or beyond what the whole budget can serve (the
        message gives that capacity).
    """

    def __init__(
        self,
        budget: int,
        unit: int,
        load: float,
        prefill_model: PrefillQueue,
        decode_model: DecodeStepModel,
        social_cost: PDSocialCost | None = None,
    ) -> None:
        self.budget = _int_param(budget, "budget", 1)
        self.unit = _int_param(unit, "unit", 1)
        if self.budget % self.unit:
            raise GameError(
                f"budget ({self.budget} GPUs) must be a multiple of unit ({self.unit} GPUs)"
            )
        if self.budget < 2 * self.unit:
            raise GameError(
                f"budget ({self.budget} GPUs) is smaller than one unit ({self.unit} GPUs) per pool"
            )
        if not isinstance(prefill_model, PrefillQueue):
            raise GameError("prefill_model must be a PrefillQueue")
        if not isinstance(decode_model, DecodeStepModel):
            raise GameError("decode_model must be a DecodeStepModel")
        self.prefill = prefill_model
        self.decode = decode_model
        self.social = PDSocialCost() if social_cost is None else social_cost
        value = float(load)
        if not math.isfinite(value) or value < 0:
            raise GameError(f"load must be a nonnegative number of requests/s, got {load!r}")
        self.load = value
        cap = self.capacity
        if value >= cap:
            raise GameError(
                f"load {value:g} req/s is beyond what the whole budget can serve: the best "
                f"split of {self.n_instances} instances serves less than {cap:g} req/s"
            )

    @classmethod
    def from_deployment(
        cls,
        deployment: Deployment,
        budget: int,
        load: float,
        isl: float,
        osl: float,
        social_cost: PDSocialCost | None = None,
    ) -> PDResourceGame:
        """The game for a model deployment, workload ``(isl, osl)`` and load."""
        return cls(
            budget,
            deployment.tp,
            load,
            deployment.prefill_model(isl),
            deployment.decode_model(isl, osl),
            social_cost,
        )

    @classmethod
    def default(
        cls,
        load: float = 20.0,
        budget: int = 24,
        isl: float = 3000,
        osl: float = 150,
        social_cost: PDSocialCost | None = None,
    ) -> PDResourceGame:
        """Llama-3.1-70B FP8, TP=4 on B200 (24 GPUs = 3 nodes), ISL 3000, OSL 150.

        The workload is the example of Dynamo's SLA profiler (ISL 3000, OSL 150).
        """
        return cls.from_deployment(llama_70b_b200(), budget, load, isl, osl, social_cost)

    def with_load(self, load: float) -> PDResourceGame:
        """The same game at another offered load."""
        return PDResourceGame(self.budget, self.unit, load, self.prefill, self.decode, self.social)

    # ------------------------------------------------------------------ capacity
    @property
    def n_instances(self) -> int:
        """Instances the budget holds: ``budget // unit``."""
        return self.budget // self.unit

    def splits(self) -> NDArray[np.int64]:
        """Every split of the whole budget, ``(k, N - k)`` for ``k = 1..N-1``."""
        k = np.arange(1, self.n_instances, dtype=np.int64)
        return np.column_stack([k, self.n_instances - k])

    def profiles(self) -> NDArray[np.int64]:
        """Every integer allocation with ``k_p, k_d >= 1`` and ``k_p + k_d <= N``."""
        n = self.n_instances
        kp, kd = np.meshgrid(np.arange(1, n), np.arange(1, n), indexing="ij")
        keep = kp + kd <= n
        return np.column_stack([kp[keep], kd[keep]]).astype(np.int64)

    def split_capacity(self, allocation: ArrayLike) -> FloatArray:
        """Largest load each allocation serves: ``min(k_p / s, k_d x decode rate)``."""
        alloc = np.asarray(allocation, dtype=np.float64)
        return np.minimum(self.prefill.capacity(alloc[..., 0]), self.decode.capacity(alloc[..., 1]))

    @property
    def capacity(self) -> float:
        """Largest load the budget serves: the best integer split's capacity."""
        return float(self.split_capacity(self.splits()).max())

    # ------------------------------------------------------------------ latencies
    def latencies(self, allocation: ArrayLike) -> tuple[FloatArray, FloatArray]:
        """TTFT and ITL (s) at allocations of shape ``(..., 2)``; ``inf`` if unstable."""
        alloc = np.asarray(allocation, dtype=np.float64)
        if alloc.shape[-1:] != (2,):
            raise GameError(f"allocation must end in an axis of 2 pools, got {alloc.shape}")
        shape = alloc.shape[:-1]
        ttft = self.prefill.ttft(alloc[..., 0].reshape(-1), self.load).reshape(shape)
        itl = self.decode.itl(alloc[..., 1].reshape(-1), self.load).reshape(shape)
        return ttft, itl

    def player_costs(self, allocation: ArrayLike) -> FloatArray:
        """Each pool's share of the social cost at allocations of shape ``(..., 2)``."""
        ttft, itl = self.latencies(allocation)
        return np.stack(
            [self.social.prefill_part(ttft), self.social.decode_part(itl, self.decode.osl)],
            axis=-1,
        )

    def social_costs(self, allocation: ArrayLike) -> FloatArray:
        """Social cost at allocations of shape ``(..., 2)``."""
        return np.asarray(self.player_costs(allocation).sum(axis=-1), dtype=np.float64)

    def social_cost(self, allocation: ArrayLike) -> float:
        """Social cost of one allocation."""
        return float(self.social_costs(_vector(allocation, 2, "allocation")))

    # ------------------------------------------------------------------ ContinuousGame
    @property
    def n_players(self) -> int:
        """Two players: the prefill pool and the decode pool."""
        return 2

    @property
    def lower(self) -> FloatArray:
        """One instance, or the pool's stability threshold if larger."""
        return np.array(
            [
                max(1.0, self.prefill.threshold(self.load)),
                max(1.0, self.decode.threshold(self.load)),
            ]
        )

    @property
    def upper(self) -> FloatArray:
        """``N - 1`` instances: the other pool keeps at least one."""
        return np.full(2, float(self.n_instances - 1))

    @property
    def shared_constraints(self) -> tuple[FloatArray, FloatArray]:
        """``x_p + x_d <= N``."""
        return np.ones((1, 2)), np.array([float(self.n_instances)])

    def costs(self, x: ArrayLike) -> FloatArray:
        """Each pool's share of the social cost at the (real) allocation ``x``."""
        return np.asarray(self.player_costs(_vector(x, 2, "x")), dtype=np.float64)

    def pseudo_gradient(self, x: ArrayLike) -> FloatArray:
        """Each pool's marginal cost of one more instance (``-inf`` at instability)."""
        point = _vector(x, 2, "x")
        ttft, itl = self.latencies(point)
        dp = self.prefill.ttft_derivative(point[:1], self.load)[0]
        dd = self.decode.itl_derivative(point[1:], self.load)[0]
        return np.array(
            [
                dp * float(self.social.prefill_factor(ttft)),
                dd * float(self.social.decode_factor(itl, self.decode.osl)),
            ]
        )

    def pseudo_jacobian(self, x: ArrayLike) -> FloatArray:
        """Diagonal: each pool's cost depends only on its own instances."""
        point = _vector(x, 2, "x")
        ttft, itl = self.latencies(point)
        hp = self.prefill.ttft_second_derivative(point[:1], self.load)[0]
        hd = self.decode.itl_second_derivative(point[1:], self.load)[0]
        return np.diag(
            [
                hp * float(self.social.prefill_factor(ttft)),
                hd * float(self.social.decode_factor(itl, self.decode.osl)),
            ]
        )

    def __repr__(self) -> str:
        return (
            f"PDResourceGame(budget={self.budget} GPUs, unit={self.unit}, "
            f"instances={self.n_instances}, load={self.load:g} req/s, "
            f"capacity={self.capacity:.4g} req/s)"
        )

    def _repr_html_(self) -> str:
        rows = {
            "budget": f"{self.budget} GPUs = {self.n_instances} instances of {self.unit} GPUs",
            "load": f"{self.load:g} req/s (capacity {self.capacity:.4g} req/s)",
            "prefill": f"service {self.prefill.service_time * 1e3:.3g} ms per request",
            "decode": (
                f"step {self.decode.step_base * 1e3:.3g} ms + "
                f"{self.decode.step_per_sequence * 1e6:.3g} us/sequence, OSL {self.decode.osl:g}"
            ),
            "social cost": self.social.name,
        }
        body = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in rows.items()
        )
        return f"<table><caption>PDResourceGame</caption>{body}</table>"

    def replace_social_cost(self, social_cost: PDSocialCost) -> PDResourceGame:
        """The same game with another social cost."""
        return PDResourceGame(
            self.budget, self.unit, self.load, self.prefill, self.decode, social_cost
        )
