"""Read the conformance cases in ``data/*.json`` and check equilibria in exact arithmetic.

Every JSON number is read as an exact :class:`~fractions.Fraction` (``parse_float``), so
decimal payoffs such as ``52.46337`` keep their decimal value. Probabilities are strings
(``"1/3"``, ``"0.4516129"``) or integers. A game is given either as ``{"bimatrix": {"A",
"B"}}`` (row and column player's payoffs, indexed ``[row][column]``), as ``{"tensor": ...}``
of shape ``(n_players, s_1, ..., s_n)``, optionally with a uniform ``"scale"``, or, for the
Gambit catalog, as integer ``"payoffs"`` with a ``"payoff_scale"`` divisor. Payoffs are
maximised; :class:`~gametheory.games.normal_form.NormalFormGame` stores their negatives.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gametheory.games.normal_form import NormalFormGame

DATA = Path(__file__).resolve().parent / "data"

Profile = tuple[tuple[Fraction, ...], ...]


@cache
def load(source: str) -> dict[str, Any]:
    """The parsed ``data/<source>.json`` (numbers as ints and Fractions)."""
    with (DATA / f"{source}.json").open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f, parse_float=Fraction)
    return data


def params(source: str, section: str | None = None, key: str = "cases") -> list[Any]:
    """``pytest.param`` per case of ``source`` (those having ``section``), id = case name."""
    return [
        pytest.param(case, id=case["name"])
        for case in load(source)[key]
        if section is None or section in case
    ]


def unchecked(source: str, sections: set[str], key: str = "cases") -> list[str]:
    """Names of the cases of ``source`` that have none of ``sections`` (should be none)."""
    return [case["name"] for case in load(source)[key] if not sections & set(case)]


# ---------------------------------------------------------------------- games
def exact_payoffs(case: dict[str, Any]) -> np.ndarray:
    """Payoff tensor ``(n, s_1, ..., s_n)`` of Fractions."""
    if "payoffs" in case:  # Gambit catalog: integers over a common scale
        scale = Fraction(case["payoff_scale"])
        return np.vectorize(lambda v: Fraction(v) / scale, otypes=[object])(
            np.array(case["payoffs"], dtype=object)
        )
    game = case["game"]
    if "bimatrix" in game:
        raw = np.array([game["bimatrix"]["A"], game["bimatrix"]["B"]], dtype=object)
    else:
        raw = np.array(game["tensor"], dtype=object)
    scale = Fraction(game.get("scale", 1))
    return np.vectorize(lambda v: Fraction(v) * scale, otypes=[object])(raw)


def float_game(case: dict[str, Any]) -> NormalFormGame:
    """The game as a user would build it: float payoffs through ``from_payoffs``."""
    tensor = np.vectorize(float, otypes=[float])(exact_payoffs(case))
    return NormalFormGame.from_payoffs(tensor)


def integer_game(case: dict[str, Any]) -> NormalFormGame:
    """The same game with payoffs scaled by a positive constant to coprime integers.

    A positive rescaling changes no best response, so the equilibria are those of
    :func:`float_game`; integer payoffs let ``vertex_enumeration`` verify exactly.
    """
    exact = exact_payoffs(case)
    lcm = math.lcm(*(v.denominator for v in exact.ravel()))
    ints = [int(v * lcm) for v in exact.ravel()]
    gcd = math.gcd(*ints) or 1
    tensor = np.array([v // gcd for v in ints], dtype=np.float64).reshape(exact.shape)
    return NormalFormGame.from_payoffs(tensor)


def payoff_range(case: dict[str, Any]) -> float:
    """Largest minus smallest payoff (1 for a constant game)."""
    values = [float(v) for v in exact_payoffs(case).ravel()]
    return max(values) - min(values) or 1.0


# ---------------------------------------------------------------------- profiles
def profile(raw: Sequence[Sequence[Any]]) -> Profile:
    """A mixed profile of exact probabilities from strings or numbers."""
    return tuple(tuple(Fraction(str(p)) for p in strategy) for strategy in raw)


def as_floats(prof: Profile) -> list[np.ndarray]:
    return [np.array([float(p) for p in strategy]) for strategy in prof]


def pure_profile(raw: Sequence[int], sizes: Sequence[int]) -> Profile:
    return tuple(
        tuple(Fraction(int(a == k)) for k in range(s)) for a, s in zip(raw, sizes, strict=True)
    )


def close(a: Sequence[Sequence[Any]], b: Sequence[Sequence[Any]], **tol: float) -> bool:
    """Whether two profiles agree entrywise (``np.isclose`` with ``tol``)."""

    def num(x: Any) -> float:
        return float(Fraction(x)) if isinstance(x, str) else float(x)

    return all(
        np.allclose([num(x) for x in s], [num(y) for y in t], **tol)
        for s, t in zip(a, b, strict=True)
    )


# ---------------------------------------------------------------------- exact arithmetic
def expected_payoffs(payoffs: np.ndarray, prof: Sequence[Sequence[Any]], player: int) -> list:
    """Exact expected payoff of each pure strategy of ``player`` against the others' mixture."""
    n = payoffs.shape[0]
    sizes = payoffs.shape[1:]
    others = [k for k in range(n) if k != player]
    support = [[(a, p) for a, p in enumerate(prof[k]) if p != 0] for k in others]
    values = [0] * sizes[player]
    for combo in itertools.product(*support):
        weight = math.prod(p for _, p in combo)
        index = [0] * n
        for k, (a, _) in zip(others, combo, strict=True):
            index[k] = a
        for j in range(sizes[player]):
            index[player] = j
            values[j] += weight * payoffs[(player, *index)]
    return values


def check_probabilities(prof: Profile, sizes: Sequence[int]) -> None:
    assert len(prof) == len(sizes)
    for strategy, size in zip(prof, sizes, strict=True):
        assert len(strategy) == size and sum(strategy) == 1 and min(strategy) >= 0, strategy


def regret(payoffs: np.ndarray, prof: Profile) -> Fraction:
    """Largest gain of a unilateral pure deviation, exactly (0 iff a Nash equilibrium)."""
    check_probabilities(prof, payoffs.shape[1:])
    gains = []
    for i in range(payoffs.shape[0]):
        values = expected_payoffs(payoffs, prof, i)
        gains.append(max(values) - sum(p * v for p, v in zip(prof[i], values, strict=True)))
    return Fraction(max(gains))


def is_nash(payoffs: np.ndarray, prof: Profile) -> bool:
    return regret(payoffs, prof) == 0


def best_responses(payoffs: np.ndarray, prof: Profile) -> list[bool]:
    """Per player: is every strategy in the support a best response to the others?"""
    out = []
    for i in range(payoffs.shape[0]):
        values = expected_payoffs(payoffs, prof, i)
        best = max(values)
        out.append(all(v == best for p, v in zip(prof[i], values, strict=True) if p))
    return out


def exact_pure_equilibria(payoffs: np.ndarray) -> list[list[int]]:
    """All pure Nash equilibria by brute force over profiles, exactly."""
    sizes = payoffs.shape[1:]
    return [
        list(prof)
        for prof in itertools.product(*(range(s) for s in sizes))
        if is_nash(payoffs, pure_profile(prof, sizes))
    ]
