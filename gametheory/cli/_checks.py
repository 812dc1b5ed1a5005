"""What every subcommand checks: flags and settings keys (one message for both), settings
files, and the output folders it writes into.

Each check takes what the user gave (a flag's text or a TOML value) and returns the
value to use, or raises :class:`~gametheory.errors.GameError` saying what was expected
and what came. :func:`flag` turns a check into an argparse ``type=`` (argparse then
names the flag: ``argument --serve: must be a port in 1-65535, got '99999'``), and
:func:`setting` reads a settings-file key with the same check, naming the file and key
(``ctl.toml: serve: must be a port in 1-65535, got 99999``). :func:`read_toml` reads a
subcommand's settings file, naming unknown keys. :func:`output_folder` guards a folder
given with ``--out``: the library never overwrites a file it did not write, and a folder
holding an earlier run is replaced whole only with ``--force``.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import urllib.parse
from collections.abc import Callable, Iterator, Mapping, Set
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from gametheory.errors import GameError, shown

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "MANIFEST",
    "Check",
    "finite_float",
    "flag",
    "float_in",
    "http_url",
    "int_at_least",
    "nonnegative_float",
    "output_folder",
    "port",
    "positive_float",
    "positive_int",
    "read_toml",
    "setting",
]

T = TypeVar("T")

#: A check: the user's value in, the value to use out (or a GameError).
Check = Callable[[Any], T]


def _as_float(value: Any, expected: str) -> float:
    if isinstance(value, bool):
        raise GameError(f"must be {expected}, got {shown(value)}")
    if isinstance(value, (int, float)):
        number = float(value) if not isinstance(value, int) or abs(value) < 2**1023 else math.inf
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            raise GameError(f"must be {expected}, got {shown(value)}") from None
    else:
        raise GameError(f"must be {expected}, got {shown(value)}")
    if not math.isfinite(number):
        raise GameError(f"must be {expected} (finite), got {shown(value)}")
    return number


def _as_int(value: Any, expected: str) -> int:
    if isinstance(value, bool):
        raise GameError(f"must be {expected}, got {shown(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            pass
    # floats (2.5, 1e3), other types: never truncated
    raise GameError(f"must be {expected}, got {shown(value)}")


def finite_float(value: Any) -> float:
    """A finite number."""
    return _as_float(value, "a number")


def positive_float(value: Any) -> float:
    """A finite number > 0."""
    number = _as_float(value, "a number > 0")
    if number <= 0:
        raise GameError(f"must be a number > 0, got {shown(value)}")
    return number


def nonnegative_float(value: Any) -> float:
    """A finite number >= 0."""
    number = _as_float(value, "a number >= 0")
    if number < 0:
        raise GameError(f"must be a number >= 0, got {shown(value)}")
    return number


def float_in(low: float, high: float) -> Check[float]:
    """A check for a finite number in ``[low, high]``."""
    expected = f"a number in [{low:g}, {high:g}]"

    def check(value: Any) -> float:
        number = _as_float(value, expected)
        if not low <= number <= high:
            raise GameError(f"must be {expected}, got {shown(value)}")
        return number

    return check


def int_at_least(low: int, high: int | None = None) -> Check[int]:
    """A check for a whole number ``>= low`` (and ``<= high`` when given)."""
    expected = f"a whole number >= {low}" if high is None else f"a whole number in {low}-{high}"

    def check(value: Any) -> int:
        number = _as_int(value, expected)
        if number < low or (high is not None and number > high):
            raise GameError(f"must be {expected}, got {shown(value)}")
        return number

    return check


positive_int: Check[int] = int_at_least(1)


def port(value: Any) -> int:
    """A TCP port, 1-65535."""
    number = _as_int(value, "a port in 1-65535")
    if not 1 <= number <= 65535:
        raise GameError(f"must be a port in 1-65535, got {shown(value)}")
    return number


def http_url(value: Any) -> str:
    """An ``http://`` or ``https://`` URL with a host (and a valid port, if any)."""
    if not isinstance(value, str):
        raise GameError(f"must be an http:// or https:// URL, got {shown(value)}")
    parts = urllib.parse.urlsplit(value.strip())
    try:
        valid_port = parts.port is None or 1 <= parts.port <= 65535
    except ValueError:
        valid_port = False
    if parts.scheme not in ("http", "https") or not parts.hostname or not valid_port:
        raise GameError(f"must be an http:// or https:// URL, got {shown(value)}")
    return value.strip()


def flag(check: Check[T], name: str | None = None) -> Callable[[str], T]:
    """``check`` as an argparse ``type=``: argparse names the flag in its error."""

    def parse(text: str) -> T:
        try:
            return check(text)
        except GameError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = name if name is not None else str(getattr(check, "__name__", "value"))
    return parse


def setting(
    table: Mapping[str, Any],
    key: str,
    check: Check[T],
    default: T,
    *,
    source: Path | str | None = None,
    section: str = "",
) -> T:
    """The value of ``key`` in a settings table, checked, or ``default`` when absent.

    Raises
    ------
    GameError
        ``"{source}: {section}.{key}: <what check says>"``.
    """
    if key not in table:
        return default
    try:
        return check(table[key])
    except GameError as exc:
        where = f"{section}.{key}" if section else key
        prefix = f"{source}: " if source is not None else ""
        raise GameError(f"{prefix}{where}: {exc}") from None


def read_toml(path: Path, known: Mapping[str, Set[str]]) -> dict[str, Any]:
    """The table of ``path``, checked against ``known`` keys per section ("" for the top).

    Raises
    ------
    GameError
        Naming the file when it cannot be read, is not UTF-8 text, is not valid TOML (with
        the parser's line and column), has a section that is not a table or a key that is
        not known.
    """
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise GameError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise GameError(
            f"{path}: not UTF-8 text (byte {exc.start}): TOML files are UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise GameError(f"{path}: not valid TOML: {exc}") from None
    for section, keys in known.items():
        table = data if not section else data.get(section, {})
        if not isinstance(table, dict):
            raise GameError(f"{path}: {section} must be a table ([{section}]), got {table!r}")
        unknown = sorted(set(table) - set(keys))
        if unknown:
            where = f"[{section}] " if section else ""
            raise GameError(
                f"{path}: unknown {where}keys {unknown}; expected some of {sorted(keys)}"
            )
    return data


#: The file in an output folder that lists what gametheory wrote there.
MANIFEST = ".gametheory-files.json"


def _files(folder: Path) -> list[str]:
    """Every file under ``folder`` but the manifest, relative, sorted."""
    if not folder.is_dir():
        return []
    found = (p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir())
    return sorted(f for f in found if f != MANIFEST)


def _ours(folder: Path) -> set[str]:
    """The files an earlier run listed in its manifest (none when there is none)."""
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return set()
    try:
        listed = json.loads(manifest.read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        raise GameError(f"{manifest}: damaged; remove it to confirm the files are yours") from None
    return {f for f in listed if isinstance(f, str)}


@contextmanager
def output_folder(folder: Path | str, *, force: bool, flag: str = "--out") -> Iterator[Path]:
    """A folder to write a run's files into, never over a file gametheory did not write.

    The folder must be new, empty, or hold only the files of an earlier run (listed in its
    :data:`MANIFEST`); the earlier run is removed first, and only with ``force``. On leaving
    (also on an error), the files now in the folder are listed in a new manifest.

    Raises
    ------
    GameError
        Naming the folder: a file in the way, files gametheory did not write, or an earlier
        run without ``force``.
    """
    path = Path(folder)
    if path.exists() and not path.is_dir():
        raise GameError(f"{flag} {path}: is a file, not a folder")
    present = _files(path)
    ours = _ours(path)
    foreign = [f for f in present if f not in ours]
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise GameError(
            f"{flag} {path}: holds files gametheory did not write ({foreign[0]}{more}); "
            "choose a new or empty folder"
        )
    if present:
        if not force:
            raise GameError(
                f"{flag} {path}: holds an earlier run ({len(present)} files); "
                "add --force to replace it, or choose another folder"
            )
        for name in present:
            (path / name).unlink()
        (path / MANIFEST).unlink(missing_ok=True)
        for sub in sorted((p for p in path.rglob("*") if p.is_dir()), reverse=True):
            if not any(sub.iterdir()):
                sub.rmdir()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise GameError(f"{flag} {path}: cannot create the folder ({exc.strerror})") from None
    try:
        yield path
    finally:
        written = _files(path)
        if written:
            (path / MANIFEST).write_text(json.dumps({"files": written}, indent=1) + "\n")
