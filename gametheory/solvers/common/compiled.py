"""Optional compiled kernels: which inner loops run under Numba.

A few inner loops (the shortest-path trees of traffic assignment, the Lemke-Howson
pivot) are written twice: vectorised NumPy, always available, and a scalar loop compiled
by Numba (Lam, Pitrou and Seibert, "Numba: a LLVM-based Python JIT compiler", LLVM-HPC
2015) when the optional ``fast`` extra is installed (``pip install
disagg-gametheory[fast]``). Both give the same answers; the compiled one is faster and
releases the GIL, so it also runs on several threads. Solvers that have both take
``kernel="auto" | "numba" | "numpy"``; :func:`use_compiled` resolves it.

Compiled functions are cached on disk next to their module (Numba's ``cache=True``), so
only the first call on a machine pays for compilation.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import cache
from typing import Any, Literal, TypeVar, cast

from gametheory.errors import GameError

__all__ = ["KERNELS", "Kernel", "jit", "numba_available", "use_compiled"]

Kernel = Literal["auto", "numba", "numpy"]

#: The accepted values of a solver's ``kernel`` argument.
KERNELS: tuple[str, ...] = ("auto", "numba", "numpy")

F = TypeVar("F", bound=Callable[..., Any])


@cache
def numba_available() -> bool:
    """Whether Numba can be imported (the ``fast`` extra is installed)."""
    return importlib.util.find_spec("numba") is not None


def use_compiled(kernel: str) -> bool:
    """Whether a solver asked for ``kernel`` runs its compiled loop.

    Parameters
    ----------
    kernel
        ``"auto"``: compiled when Numba is installed; ``"numba"``: compiled, an error
        without Numba; ``"numpy"``: the vectorised NumPy loop.

    Returns
    -------
    bool
        True for the compiled loop.

    Raises
    ------
    GameError
        On an unknown value, or ``"numba"`` without Numba installed.
    """
    if kernel not in KERNELS:
        raise GameError(f"kernel must be one of {KERNELS}, got {kernel!r}")
    if kernel == "numpy":
        return False
    if kernel == "numba" and not numba_available():
        raise GameError(
            "kernel='numba' needs Numba: pip install 'disagg-gametheory[fast]' "
            "(or use kernel='auto' or 'numpy')"
        )
    return numba_available()


def jit(func: F) -> F:
    """Compile ``func`` with Numba in nopython mode, without the GIL, cached on disk.

    Only modules imported after :func:`use_compiled` returned True apply it, so Numba
    is imported only when it is installed.
    """
    import numba

    return cast(F, numba.njit(cache=True, nogil=True)(func))
