"""Best-response dynamics for finite games.

Players move one at a time to a strategy that strictly lowers their cost (a best
response). In a game with an exact potential every move lowers the potential, so the
dynamics end at a pure Nash equilibrium (Rosenthal 1973; Monderer and Shapley, GEB 14(1)
1996). Games without a potential may cycle: a revisited state is detected and reported as
non-convergence instead of looping forever.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, Protocol, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.base import FiniteGame, as_profile
from gametheory.results import EquilibriumResult

__all__ = ["best_response_dynamics"]

Order = Literal["round-robin", "random", "max-gain"]
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


class _State(Protocol):
    profile: IntArray

    def cost(self, player: int) -> float: ...
    def deviation_costs(self, player: int) -> FloatArray: ...
    def move(self, player: int, strategy: int) -> None: ...
    def representatives(self) -> IntArray: ...


class _GenericState:
    """Evaluates deviations through the FiniteGame protocol."""

    def __init__(self, game: FiniteGame, profile: IntArray) -> None:
        self.game = game
        self.profile = profile.copy()
        self._costs = game.costs(self.profile)

    def cost(self, player: int) -> float:
        return float(self._costs[player])

    def deviation_costs(self, player: int) -> FloatArray:
        return self.game.deviation_costs(self.profile, player)

    def move(self, player: int, strategy: int) -> None:
        self.profile[player] = strategy
        self._costs = self.game.costs(self.profile)

    def representatives(self) -> IntArray:
        return np.arange(self.game.n_players, dtype=np.int64)


def _state(game: FiniteGame, profile: IntArray) -> _State:
    factory = getattr(game, "state", None)
    if callable(factory):
        state: _State = factory(profile)
        return state
    return _GenericState(game, profile)


def _potential(game: FiniteGame) -> Callable[[IntArray], float] | None:
    """The game's exact potential function, if it has one."""
    fn = getattr(game, "potential", None)
    if callable(fn) and bool(getattr(game, "has_potential", True)):
        return cast(Callable[[IntArray], float], fn)
    return None


def best_response_dynamics(
    game: FiniteGame,
    initial: ArrayLike | None = None,
    order: Order = "round-robin",
    max_steps: int = 1_000_000,
    seed: int | np.random.Generator | None = None,
    tol: float = 1e-12,
) -> EquilibriumResult:
    """Run best-response dynamics from ``initial`` until no player can improve.

    Parameters
    ----------
    game
        A finite game (any object with the FiniteGame protocol). Games that offer an
        incremental evaluator (``game.state(profile)``, as congestion games do) are
        evaluated incrementally.
    initial
        Starting profile; default: every player's first strategy.
    order
        ``"round-robin"`` (players in index order, repeatedly), ``"random"`` (a fresh
        random permutation each pass) or ``"max-gain"`` (the player with the largest
        improvement moves).
    max_steps
        Largest number of moves.
    seed
        Seed or generator for the random order.
    tol
        Relative improvement below which a move is not made.

    Returns
    -------
    EquilibriumResult
        ``converged`` is True when no player can improve (a pure Nash equilibrium).
        ``cycle`` is True when a state recurred (possible only without a potential).
        ``potential_history`` holds the exact potential after each move when the game
        has one (it then decreases strictly).
    """
    if order not in ("round-robin", "random", "max-gain"):
        raise GameError(f"order must be 'round-robin', 'random' or 'max-gain', got {order!r}")
    if max_steps < 0:
        raise GameError(f"max_steps must be >= 0, got {max_steps}")
    n = game.n_players
    start = np.zeros(n, dtype=np.int64) if initial is None else as_profile(game, initial)
    state = _state(game, start)
    rng = np.random.default_rng(seed)
    potential_fn = _potential(game)
    potential = potential_fn is not None
    phi = [float(potential_fn(state.profile))] if potential_fn is not None else []
    seen: dict[tuple[bytes, int], int] = {}
    steps = 0
    cycle = False

    def improvement(player: int) -> tuple[int, float]:
        dev = state.deviation_costs(player)
        best = int(np.argmin(dev))
        now = state.cost(player)
        gain = now - float(dev[best])
        return best, (gain if gain > tol * max(1.0, abs(now)) else 0.0)

    def record(player: int, strategy: int, gain: float, position: int) -> bool:
        nonlocal steps, cycle
        state.move(player, strategy)
        steps += 1
        if potential:
            phi.append(phi[-1] - gain)
        else:
            key = (state.profile.tobytes(), position)
            if key in seen:
                cycle = True
                return False
            seen[key] = steps
        return steps < max_steps

    converged = False
    running = max_steps > 0
    while running:
        moved = False
        if order == "max-gain":
            best_player, best_strategy, best_gain = -1, -1, 0.0
            for p in state.representatives():
                s, g = improvement(int(p))
                if g > best_gain:
                    best_player, best_strategy, best_gain = int(p), s, g
            if best_player >= 0:
                moved = True
                running = record(best_player, best_strategy, best_gain, 0)
        else:
            players = rng.permutation(n) if order == "random" else np.arange(n)
            for pos, p in enumerate(players):
                s, g = improvement(int(p))
                if g > 0:
                    moved = True
                    running = record(int(p), s, g, pos if order == "round-robin" else 0)
                    if not running:
                        break
        if not moved:
            converged = True
            break
    profile = state.profile.copy()
    costs = game.costs(profile)
    regret = float(_max_regret(game, profile, costs))
    return EquilibriumResult(
        profile=profile,
        costs=costs,
        social_cost=float(game.social_cost(profile)),
        converged=converged or regret <= tol * max(1.0, float(np.abs(costs).max())),
        iterations=steps,
        max_regret=regret,
        potential_history=np.asarray(phi, dtype=np.float64),
        cycle=cycle,
        method=f"best-response ({order})",
    )


def _max_regret(game: FiniteGame, profile: IntArray, costs: FloatArray) -> float:
    state = _state(game, profile)
    best = np.array([state.deviation_costs(i).min() for i in range(game.n_players)])
    return float(np.max(np.maximum(costs - best, 0.0))) if best.size else 0.0
