"""Telemetry files as stored: plain, gzip-compressed (``.gz``) or zstandard (``.zst``).

Users archive benchmark runs compressed (``profile_export.jsonl.gz``, a Prometheus scrape
``metrics.prom.zst``). Every reader goes through :func:`read_bytes` and looks at file
names through :func:`plain_name`, so a compressed export reads exactly like the plain one
and is recognised by the name it had before compression. Gzip is the standard library's
(RFC 1952); zstandard (RFC 8878) needs the optional ``zstandard`` package, and a missing
package, a truncated or corrupt stream are :class:`~gametheory.errors.TelemetryError`
naming the file.

Decompression is bounded: a file that expands past :data:`MAX_DECOMPRESSED` bytes (a
"zip bomb": 1 MiB of gzip can hold 1 GiB of zeros) is refused as soon as the limit is
passed, with memory and time bounded by the limit. :func:`decompression_limit` sets
another limit for a block of code (``gametheory.load(..., max_decompressed=...)`` and
``gametheory report --max-decompressed-mb`` use it).
"""

from __future__ import annotations

import contextvars
import gzip
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gametheory.errors import TelemetryError

__all__ = [
    "COMPRESSIONS",
    "MAX_DECOMPRESSED",
    "decompression_limit",
    "find_beside",
    "plain_name",
    "plain_suffix",
    "read_bytes",
    "read_head",
]

COMPRESSIONS = {".gz": "gzip", ".zst": "zstandard"}

#: The default bound on the decompressed size of one file: 1 GiB, ten times the largest
#: per-request export we have seen (about 100 MB for 100,000 requests).
MAX_DECOMPRESSED = 1 << 30

_LIMIT: contextvars.ContextVar[int] = contextvars.ContextVar(
    "max_decompressed", default=MAX_DECOMPRESSED
)
_CHUNK = 1 << 16  # compressed bytes fed at a time (zstandard) / decompressed read (gzip)


@contextmanager
def decompression_limit(max_bytes: int) -> Iterator[None]:
    """Bound the decompressed size of every file read inside the block.

    Raises
    ------
    TelemetryError
        If ``max_bytes`` is not a positive integer.
    """
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
        raise TelemetryError(
            f"max_decompressed must be a whole number of bytes >= 1, got {max_bytes!r}"
        )
    token = _LIMIT.set(max_bytes)
    try:
        yield
    finally:
        _LIMIT.reset(token)


def _too_large(path: Path, limit: int) -> TelemetryError:
    return TelemetryError(
        f"expands past {limit:,} bytes when decompressed (a decompression bomb, or raise the "
        "limit: max_decompressed / --max-decompressed-mb)",
        file=str(path),
    )


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
    if size < 0 and kind is not None:
        return read_bytes(path)
    with _reading(path, kind):
        if kind == "gzip":
            with gzip.open(path, "rb") as f:
                return f.read(size)
        if kind == "zstandard":
            zstd = _zstandard(path)
            with path.open("rb") as raw, zstd.ZstdDecompressor().stream_reader(raw) as f:
                data: bytes = f.read(size)
            if len(data) < size:
                # the whole content is shorter than asked: check that its frames are whole,
                # so a truncated file is an error rather than an unrecognised one
                return read_bytes(path)
            return data
        with path.open("rb") as f:
            return f.read(size)


def _gunzip(path: Path, limit: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    with gzip.open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            total += len(chunk)
            if total > limit:
                raise _too_large(path, limit)
            parts.append(chunk)
    return b"".join(parts)


def _unzstd(path: Path, limit: int) -> bytes:
    """Every frame of a zstandard file, each required to end with its end-of-frame mark."""
    decompressor = _zstandard(path).ZstdDecompressor()
    parts: list[bytes] = []
    total = 0
    frame = decompressor.decompressobj()
    in_frame = False
    with path.open("rb") as raw:
        pending = b""
        while data := pending or raw.read(_CHUNK):
            pending = b""
            # feed a little at a time: one highly compressed chunk can expand a lot
            for start in range(0, len(data), 1024):
                piece = frame.decompress(data[start : start + 1024])
                in_frame = True
                total += len(piece)
                if total > limit:
                    raise _too_large(path, limit)
                parts.append(piece)
                if frame.eof:
                    pending = frame.unused_data + data[start + 1024 :]
                    frame = decompressor.decompressobj()
                    in_frame = False
                    break
    if in_frame:
        raise TelemetryError("truncated zstandard data", file=str(path))
    return b"".join(parts)


def read_bytes(path: Path) -> bytes:
    """The whole decompressed content of ``path`` (errors as :func:`read_head`).

    A zstandard file may hold several frames (``cat a.zst b.zst``); each must end with
    its end-of-frame mark, so a truncated file is an error, not a shorter export. A
    compressed file that expands past the decompression limit is an error naming it.
    """
    kind = _compression(path)
    limit = _LIMIT.get()
    with _reading(path, kind):
        if kind == "gzip":
            return _gunzip(path, limit)
        if kind == "zstandard":
            return _unzstd(path, limit)
        return path.read_bytes()
