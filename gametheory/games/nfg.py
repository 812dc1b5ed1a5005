"""Gambit's strategic-form file format (``.nfg``): read and write :class:`NormalFormGame`.

A file starts ``NFG 1 R "title" { "Player 1" ... }`` (``D`` instead of ``R`` in old
files) and comes in two versions (Gambit documentation, "Game representation formats"):

* the strategies, as counts ``{ s_1 ... s_n }`` or as names
  ``{ { "a" "b" } { "c" "d" } }``, then an optional comment string;
* **payoff version**: ``n * s_1 * ... * s_n`` payoffs, profile by profile with player 1's
  strategy changing fastest, and within a profile player 1's payoff first;
* **outcome version**: the outcomes ``{ { "name" u_1 ... u_n } ... }`` (payoffs may be
  separated by commas), then one outcome number per profile in the same order (1-based;
  0 is the null outcome, all payoffs zero).

Either way of giving the strategies goes with either body (Gambit's grammar keeps the
two choices independent); the writer uses counts with payoffs and names with outcomes.

Payoffs are integers, decimals or rationals (``3/4``); Gambit maximises payoffs, so the
game's costs are their negatives. Written payoffs are exact for integers and use the
shortest decimal that reads back to the same float otherwise, so a file read, written and
read again gives the same game. A malformed file raises :class:`~gametheory.errors.GameError`
naming the file and the line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError, shown
from gametheory.games.normal_form import NormalFormGame

__all__ = ["NFGFile", "parse_nfg", "read_nfg", "write_nfg"]

FloatArray = NDArray[np.float64]
Version = Literal["payoff", "outcome"]

_TOKEN = re.compile(
    r'\s*(?:(?P<str>"(?:[^"\\]|\\.)*")|(?P<brace>[{}])|(?P<comma>,)|(?P<num>[^\s{}",]+))',
    re.S,
)


@dataclass(frozen=True)
class NFGFile:
    """A strategic-form game with the metadata of its ``.nfg`` file.

    Attributes
    ----------
    game
        The game (costs are the negated payoffs).
    title, comment
        The file's title and comment strings.
    players
        Player names.
    version
        ``"payoff"`` or ``"outcome"``: the version the file was written in.
    """

    game: NormalFormGame
    title: str
    players: tuple[str, ...]
    comment: str
    version: Version


class _Tokens:
    """Tokens of an ``.nfg`` text with their line numbers."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.items: list[tuple[str, str, int]] = []
        pos, line = 0, 1
        while True:
            m = _TOKEN.match(text, pos)
            if m is None:
                rest = text[pos:]
                if rest.strip():
                    line += rest[: len(rest) - len(rest.lstrip())].count("\n")
                    raise self.error("unterminated string", line)
                break
            line += text[pos : m.start(m.lastgroup or 0)].count("\n")
            kind = m.lastgroup or ""
            self.items.append((kind, m.group(kind), line))
            line += m.group(kind).count("\n")
            pos = m.end()
        self.i = 0

    def error(self, message: str, line: int | None = None) -> GameError:
        return GameError(f"{self.source}, line {self.line() if line is None else line}: {message}")

    def line(self) -> int:
        """Line of the next token (of the last one at the end)."""
        return self.items[min(self.i, len(self.items) - 1)][2] if self.items else 1

    def peek(self) -> tuple[str, str]:
        if self.i >= len(self.items):
            return ("end", "")
        kind, value, _ = self.items[self.i]
        return kind, value

    def _unexpected(self, what: str) -> GameError:
        got, value = self.peek()
        found = "the end of the file" if got == "end" else repr(value)
        return self.error(f"expected {what}, found {found}")

    def take(self, kind: str, what: str) -> str:
        got, value = self.peek()
        if got != kind:
            raise self._unexpected(what)
        self.i += 1
        return value

    def brace(self, value: str) -> None:
        if self.peek() != ("brace", value):
            raise self._unexpected(f"'{value}'")
        self.i += 1

    def string(self, what: str) -> str:
        return _unquote(self.take("str", what))

    def number(self, what: str) -> Fraction:
        text = self.take("num", what)
        try:
            # each part of "p/q" within a float first: Fraction("1e999999999") would build
            # a billion-digit integer, and float(Fraction("1e400")) overflows
            within = all(math.isfinite(float(part)) for part in text.split("/"))
            value = Fraction(text) if within else None
        except (ValueError, ZeroDivisionError):
            value = None
            within = True
        if value is None:
            self.i -= 1
            why = "a number" if within else "a number a float can hold"
            raise self.error(f"{what} must be {why}, got {shown(text)}")
        return value

    def remaining(self) -> int:
        """Tokens not read yet."""
        return len(self.items) - self.i

    def strings(self, what: str) -> list[str]:
        self.brace("{")
        out = []
        while self.peek()[0] == "str":
            out.append(self.string(what))
        self.brace("}")
        return out


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def parse_nfg(text: str, source: str = "<string>") -> NFGFile:
    """Parse the text of an ``.nfg`` file (payoff or outcome version).

    Raises
    ------
    GameError
        On a malformed file, naming ``source`` and the line.
    """
    tok = _Tokens(text, source)
    if tok.take("num", "'NFG'") != "NFG":
        raise tok.error("a strategic-form file starts with 'NFG'", 1)
    if tok.take("num", "the format version") != "1":
        raise tok.error("only version 1 of the .nfg format exists")
    if tok.take("num", "'R' or 'D'") not in ("R", "D"):
        raise tok.error("the version is followed by 'R' or 'D'")
    title = tok.string("the title")
    players = tok.strings("a player name")
    if not players:
        raise tok.error("a game needs at least one player")
    counts_line = tok.line()
    tok.brace("{")
    if tok.peek()[0] == "brace":
        labels = []
        while tok.peek() == ("brace", "{"):
            labels.append(tok.strings("a strategy name"))
        tok.brace("}")
        counts = [len(names) for names in labels]
    else:
        counts = []
        while tok.peek()[0] == "num":
            count = tok.number("a strategy count")
            if count.denominator != 1 or count < 1:
                raise tok.error(f"a strategy count must be a positive integer, got {count}")
            counts.append(int(count))
        tok.brace("}")
        labels = []
    if len(counts) != len(players) or min(counts, default=0) < 1:
        raise tok.error(
            f"{len(players)} players need one positive strategy count each, got {counts}",
            counts_line,
        )
    comment = tok.string("the comment") if tok.peek()[0] == "str" else ""
    profiles = math.prod(counts)
    if profiles > tok.remaining():  # each profile needs at least one number in the file
        raise tok.error(
            f"strategy counts {counts} make {profiles:.3g} profiles, but only "
            f"{tok.remaining()} tokens follow",
            counts_line,
        )
    labels = labels or [[str(k + 1) for k in range(c)] for c in counts]
    # Strategy names or counts, then payoffs or outcomes: the two choices are independent
    # in Gambit's grammar (its catalog has files with names and a payoff list).
    version: Version = "outcome" if tok.peek() == ("brace", "{") else "payoff"
    if version == "payoff":
        flat = [tok.number("a payoff") for _ in range(profiles * len(players))]
        payoffs = np.array(flat, dtype=np.float64).reshape(profiles, len(players))
    else:
        payoffs = _outcome_payoffs(tok, len(players), profiles)
    if tok.peek()[0] != "end":
        raise tok.error(f"unexpected {tok.peek()[1]!r} after the payoffs")
    # profile k has player 1's strategy changing fastest: Fortran order over the axes
    tensor = payoffs.T.reshape((len(players), *counts), order="F")
    game = NormalFormGame.from_payoffs(tensor, labels)
    return NFGFile(game, title, tuple(players), comment, version)


def _outcome_payoffs(tok: _Tokens, n: int, profiles: int) -> FloatArray:
    outcomes: list[list[Fraction]] = []
    tok.brace("{")
    while tok.peek() == ("brace", "{"):
        tok.brace("{")
        tok.string("an outcome name")
        values = []
        while tok.peek()[0] in ("num", "comma"):
            if tok.peek()[0] == "comma":
                tok.i += 1
                continue
            values.append(tok.number("a payoff"))
        if len(values) != n:
            raise tok.error(f"an outcome needs {n} payoffs, got {len(values)}")
        tok.brace("}")
        outcomes.append(values)
    tok.brace("}")
    table = np.zeros((len(outcomes) + 1, n))
    for k, values in enumerate(outcomes, start=1):
        table[k] = [float(v) for v in values]
    index = []
    for _ in range(profiles):
        number = tok.number("an outcome number")
        if number.denominator != 1 or not 0 <= number <= len(outcomes):
            raise tok.error(f"outcome numbers run from 0 to {len(outcomes)}, got {number}")
        index.append(int(number))
    return table[np.array(index, dtype=np.int64)]


def read_nfg(path: str | Path) -> NFGFile:
    """Read a Gambit ``.nfg`` file.

    Raises
    ------
    GameError
        If the file cannot be read or is malformed (naming the file and the line).
    """
    p = Path(path)
    try:
        text = p.read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise GameError(f"{p}: cannot read: {exc.strerror}") from None
    return parse_nfg(text, str(p))


def _number(x: float) -> str:
    if x == 0:
        return "0"
    if float(x).is_integer():
        return str(int(x))
    return repr(float(x))


def write_nfg(
    game: NormalFormGame,
    path: str | Path | None = None,
    *,
    title: str = "",
    players: tuple[str, ...] | list[str] | None = None,
    comment: str = "",
    version: Version = "payoff",
) -> str:
    """The ``.nfg`` text of ``game`` (written to ``path`` when given).

    Parameters
    ----------
    game
        The game; its payoffs (negated costs) are written.
    path
        File to write; default: only return the text.
    title, players, comment
        File metadata (default players ``"Player 1"``, ...).
    version
        ``"payoff"`` (strategy counts) or ``"outcome"`` (strategy names and one outcome
        per profile).
    """
    if version not in ("payoff", "outcome"):
        raise GameError(f"version must be 'payoff' or 'outcome', got {version!r}")
    n = game.n_players
    names = [f"Player {i + 1}" for i in range(n)] if players is None else list(players)
    if len(names) != n:
        raise GameError(f"players must name the {n} players, got {len(names)}")
    rows = game.payoff_tensor.reshape(n, -1, order="F").T  # one row per profile
    head = f"NFG 1 R {_quote(title)} {{ {' '.join(_quote(p) for p in names)} }}"
    if version == "payoff":
        strategies = "{ " + " ".join(str(s) for s in game.n_strategies) + " }"
        body = "\n".join(" ".join(_number(v) for v in row) for row in rows)
    else:
        strategies = (
            "{ "
            + " ".join("{ " + " ".join(_quote(a) for a in labels) + " }" for labels in game.labels)
            + " }"
        )
        outcomes = "\n".join(
            f"{{ {_quote('')} {', '.join(_number(v) for v in row)} }}" for row in rows
        )
        body = "{\n" + outcomes + "\n}\n" + " ".join(str(k + 1) for k in range(len(rows)))
    text = f"{head}\n{strategies}\n\n{_quote(comment)}\n\n{body}\n"
    if path is not None:
        try:
            Path(path).write_text(text)
        except OSError as exc:
            raise GameError(f"{path}: cannot write: {exc.strerror}") from None
    return text
