"""Errors raised by :mod:`gametheory`.

Every error the library raises on bad input or a failed computation is one of these, so
callers can catch them without catching unrelated NumPy or SciPy exceptions. Each message
names the argument, file, line or field at fault.
"""

from __future__ import annotations

__all__ = ["GameError", "GameTheoryError", "SolverError", "TelemetryError", "shown"]


def shown(value: object, limit: int = 40) -> str:
    """``repr(value)`` for an error message, shortened when longer than ``limit``.

    A hostile input can be a 400-digit integer or a megabyte string: the message shows
    its start and its length, never the whole of it.
    """
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit // 2]}... ({len(text)} characters)"


class GameTheoryError(Exception):
    """Base class of every error raised by the library."""


class GameError(GameTheoryError, ValueError):
    """A game, cost function or argument is malformed (bad parameter, shape or value)."""


class SolverError(GameTheoryError, RuntimeError):
    """A solver failed: an optimisation status other than optimal, or a numerical failure."""


class TelemetryError(GameTheoryError, ValueError):
    """A telemetry input cannot be read.

    Parameters
    ----------
    message
        What is wrong.
    file
        The file being read, if any.
    line
        The 1-based line (or record) number, if known.
    field
        The field or column at fault, if known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.file = file
        self.line = line
        self.field = field
        where = []
        if file is not None:
            where.append(str(file))
        if line is not None:
            where.append(f"line {line}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
