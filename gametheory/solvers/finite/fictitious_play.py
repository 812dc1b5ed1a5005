"""Fictitious play in finite normal-form games.

Brown, "Iterative solution of games by fictitious play", in Activity Analysis of Production
and Allocation (Koopmans, ed.), 1951: every round each player plays a best response (a
least-cost pure strategy) to the empirical frequencies of the other players' past play,
treated as independent mixed strategies. Brown's original scheme is *alternating*; the
*simultaneous* variant updates every player from the same beliefs.

Convergence of the empirical frequencies to the Nash equilibrium set: two-player zero-sum
games (Robinson, "An iterative method of solving a game", Annals of Mathematics 54(2) 1951),
2 x 2 games (Miyasawa 1961), potential games (Monderer and Shapley, J. Econ. Theory 68(1)
1996). It can fail otherwise: in Shapley's 3 x 3 game (1964) play cycles forever. The
result therefore reports the maximum regret of the empirical profile (the epsilon of an
epsilon-equilibrium) and ``converged`` only when it falls to ``tol``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError
from gametheory.games.base import as_profile
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.results import FictitiousPlayResult

__all__ = ["fictitious_play"]

FloatArray = NDArray[np.float64]


def _deviation_costs(tensor: FloatArray, freqs: list[FloatArray], i: int) -> FloatArray:
    """Expected cost of each pure strategy of player ``i`` against the others' mixtures."""
    table = tensor[i]
    for k in range(len(freqs) - 1, -1, -1):
        if k != i:
            table = np.tensordot(table, freqs[k], axes=([k], [0]))
    return np.asarray(table, dtype=np.float64)


def _best(dev: FloatArray, rng: np.random.Generator | None) -> int:
    if rng is None:
        return int(np.argmin(dev))
    ties = np.flatnonzero(dev <= dev.min() + 1e-12 * max(1.0, abs(float(dev.min()))))
    return int(rng.choice(ties))


def fictitious_play(
    game: NormalFormGame,
    max_iter: int = 10_000,
    tol: float = 1e-3,
    initial: ArrayLike | None = None,
    update: Literal["simultaneous", "alternating"] = "simultaneous",
    tie_break: Literal["first", "random"] = "first",
    seed: int | np.random.Generator | None = None,
) -> FictitiousPlayResult:
    """Run fictitious play and return the empirical mixed profile.

    Parameters
    ----------
    game
        A :class:`~gametheory.games.normal_form.NormalFormGame` with any number of players.
    max_iter
        Number of rounds after the initial one.
    tol
        Stop once the maximum regret of the empirical profile is at most ``tol`` (an
        absolute cost difference).
    initial
        The pure profile of the first round (default: every player's first strategy).
    update
        ``"simultaneous"`` or ``"alternating"`` (Brown's original: player ``i`` sees the
        round's earlier moves of players ``0..i-1``).
    tie_break
        Among equally good best responses take the ``"first"`` or a ``"random"`` one.
    seed
        Seed or generator for random tie-breaking (the only randomness).

    Returns
    -------
    FictitiousPlayResult
        Empirical frequencies, their expected costs and maximum regret, the regret after
        each round, the last pure profile, ``converged`` and the rounds played.

    Raises
    ------
    GameError
        If an argument is invalid.
    """
    if not isinstance(game, NormalFormGame):
        raise GameError("fictitious_play needs a NormalFormGame")
    if not isinstance(max_iter, (int, np.integer)) or max_iter < 0:
        raise GameError(f"max_iter must be a non-negative integer, got {max_iter!r}")
    if not tol >= 0:
        raise GameError(f"tol must be non-negative, got {tol!r}")
    if update not in ("simultaneous", "alternating"):
        raise GameError(f"update must be 'simultaneous' or 'alternating', got {update!r}")
    if tie_break not in ("first", "random"):
        raise GameError(f"tie_break must be 'first' or 'random', got {tie_break!r}")
    rng = np.random.default_rng(seed) if tie_break == "random" else None
    n = game.n_players
    tensor = game.cost_tensor
    profile = as_profile(game, np.zeros(n, dtype=np.int64) if initial is None else initial)
    counts = [np.zeros(s) for s in game.n_strategies]
    for i in range(n):
        counts[i][profile[i]] += 1.0
    history = np.empty(max_iter + 1)
    rounds = 0

    def regret() -> tuple[float, list[FloatArray], list[FloatArray]]:
        freqs = [c / c.sum() for c in counts]
        devs = [_deviation_costs(tensor, freqs, i) for i in range(n)]
        gaps = [float(d @ f - d.min()) for d, f in zip(devs, freqs, strict=True)]
        return max(0.0, *gaps), freqs, devs

    value, freqs, devs = regret()
    history[0] = value
    while value > tol and rounds < max_iter:
        if update == "simultaneous":
            profile = np.array([_best(d, rng) for d in devs], dtype=np.int64)
            for i in range(n):
                counts[i][profile[i]] += 1.0
        else:
            for i in range(n):
                current = [c / c.sum() for c in counts]
                profile[i] = _best(_deviation_costs(tensor, current, i), rng)
                counts[i][profile[i]] += 1.0
        rounds += 1
        value, freqs, devs = regret()
        history[rounds] = value
    costs = np.array([float(d @ f) for d, f in zip(devs, freqs, strict=True)])
    return FictitiousPlayResult(
        strategies=tuple(freqs),
        costs=costs,
        social_cost=float(costs.sum()),
        max_regret=value,
        converged=value <= tol,
        iterations=rounds,
        regret_history=history[: rounds + 1].copy(),
        last_profile=profile.copy(),
        method=f"fictitious play ({update})",
    )
