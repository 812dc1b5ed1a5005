"""Telemetry files as stored: plain, gzip-compressed (``.gz``) or zstandard (``.zst``).

Users archive benchmark runs compressed (``profile_export.jsonl.gz``, a Prometheus scrape
``metrics.prom.zst``). Every reader goes through :func:`read_bytes` and looks at file
names through :func:`plain_name`, so a compressed export reads exactly like the plain one
and is recognised by the name it had before compression. Gzip is the standard library's
(RFC 1952); zstandard (RFC 8878) needs the optional ``zstandard`` package, and a missing
package, a truncated or corrupt stream are :class:`~gametheory.errors.TelemetryError`
naming the file.
"""

from __future__ import annotations

import gzip
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gametheory.errors import TelemetryError

__all__ = ["COMPRESSIONS", "find_beside", "plain_name", "plain_suffix", "read_bytes", "read_head"]

COMPRESSIONS = {".gz": "gzip", ".zst": "zstandard"}


def _compression(path: Path) -> str | None:
    return COMPRESSIONS.get(path.suffix.lower())


def plain_name(path: str | Path) -> str:
    """The file name without a compression suffix (``a.jsonl.gz`` -> ``a.jsonl``)."""
    p = Path(path)
    return p.stem if _compression(p) else p.name


def plain_suffix(path: str | Path) -> str:
    """The lower-case suffix of :func:`plain_name` (``a.CSV.zst`` -> ``.csv``)."""
    return Path(plain_name(path)).suffix.lower()


def find_beside(path: Path, name: str) -> Path | None:
    """The file called ``name`` (or ``name`` compressed) in the folder of ``path``."""
    for candidate in (name, *(name + ext for ext in COMPRESSIONS)):
        beside = path.with_name(candidate)
        if beside.is_file():
            return beside
    return None


def _zstandard(path: Path) -> Any:
    try:
        return importlib.import_module("zstandard")
    except ImportError:
        raise TelemetryError(
            "a .zst file needs the zstandard package (pip install zstandard)", file=str(path)
        ) from None


@contextmanager
def _reading(path: Path, kind: str | None) -> Iterator[None]:
    """Turn the errors of reading and decompressing ``path`` into TelemetryError."""
    try:
        yield
    except TelemetryError:
        raise
    except gzip.BadGzipFile as exc:
        raise TelemetryError(f"corrupt gzip data: {exc}", file=str(path)) from None
    except OSError as exc:
        raise TelemetryError(f"cannot read: {exc.strerror or exc}", file=str(path)) from None
    except Exception as exc:  # EOFError, zlib.error, zstandard.ZstdError
        raise TelemetryError(f"corrupt {kind} data: {exc}", file=str(path)) from None


def read_head(path: Path, size: int) -> bytes:
    """The first ``size`` bytes of the decompressed content of ``path`` (all if negative).

    Raises
    ------
    TelemetryError
        If the file cannot be read, is not valid gzip or zstandard data, or is a ``.zst``
        file while the ``zstandard`` package is missing.
    """
    kind = _compression(path)
    with _reading(path, kind):
        if kind == "gzip":
            with gzip.open(path, "rb") as f:
                return f.read(size)
        if kind == "zstandard":
            zstd = _zstandard(path)
            with path.open("rb") as raw, zstd.ZstdDecompressor().stream_reader(raw) as f:
                data: bytes = f.read(size)
                return data
        with path.open("rb") as f:
            return f.read(size)


def read_bytes(path: Path) -> bytes:
    """The whole decompressed content of ``path`` (errors as :func:`read_head`).

    A zstandard file may hold several frames (``cat a.zst b.zst``); each must end with
    its end-of-frame mark, so a truncated file is an error, not a shorter export.
    """
    if _compression(path) != "zstandard":
        return read_head(path, -1)
    decompressor = _zstandard(path).ZstdDecompressor()
    parts: list[bytes] = []
    with _reading(path, "zstandard"):
        packed = path.read_bytes()
        while packed:
            frame = decompressor.decompressobj()
            parts.append(frame.decompress(packed))
            if not frame.eof:
                raise TelemetryError("truncated zstandard data", file=str(path))
            packed = frame.unused_data
    return b"".join(parts)
