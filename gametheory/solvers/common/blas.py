"""Thread control for BLAS-bound inner loops.

The pivoting and small Newton systems in the solvers are memory bound; on a multi-core
machine OpenBLAS/MKL threads only contend for them. :func:`single_blas_thread` limits
BLAS to one thread for the duration of a ``with`` block, through threadpoolctl
(Pedregosa et al., the scikit-learn project's thread-pool controller).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cache
from typing import Any

from threadpoolctl import ThreadpoolController

__all__ = ["single_blas_thread"]


@cache
def _controller() -> Any:
    """One process-wide controller (building it inspects the loaded libraries)."""
    return ThreadpoolController()


def single_blas_thread() -> AbstractContextManager[object]:
    """Context manager limiting BLAS to one thread while it is active.

    Returns
    -------
    AbstractContextManager
        Restores the previous thread counts on exit.
    """
    limiter: AbstractContextManager[object] = _controller().limit(limits=1, user_api="blas")
    return limiter
