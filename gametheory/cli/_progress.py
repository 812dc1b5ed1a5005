"""A progress bar on a terminal, nothing in pipes (tqdm, on standard error)."""

from __future__ import annotations

import sys
from typing import Any


def progress_bar(total: int, unit: str, quiet: bool = False) -> Any:
    """A ``tqdm`` bar of ``total`` ``unit`` on standard error when it is a terminal and
    ``quiet`` is False; else None."""
    if quiet or not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=unit, file=sys.stderr)
