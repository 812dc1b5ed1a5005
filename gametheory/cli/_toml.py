"""TOML settings files of the subcommands: read, with unknown keys named."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

from gametheory.errors import GameError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["read_toml"]


def read_toml(path: Path, known: Mapping[str, Set[str]]) -> dict[str, Any]:
    """The table of ``path``, checked against ``known`` keys per section ("" for the top).

    Raises
    ------
    GameError
        Naming the file when it cannot be read, is not valid TOML (with the parser's line
        and column) or has a key that is not known.
    """
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise GameError(f"{path}: cannot read: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise GameError(f"{path}: not valid TOML: {exc}") from None
    for section, keys in known.items():
        table = data if not section else data.get(section, {})
        unknown = sorted(set(table) - set(keys))
        if unknown:
            where = f"[{section}] " if section else ""
            raise GameError(
                f"{path}: unknown {where}keys {unknown}; expected some of {sorted(keys)}"
            )
    return data
