"""Argument checks shared by the caching games: numeric arrays, counts and broadcasting.

Every check raises :class:`~gametheory.errors.GameError` naming the offending argument.
Per-node and per-object parameters follow NumPy's broadcasting rules, with one addition
for the ``(n_nodes, n_objects)`` parameters of the selfish caching game: a scalar applies
to every node and object, a vector of length ``n`` gives one value per node (broadcast
over the objects), and an ``(n, m)`` array gives one value per node and object. The
number of objects ``m`` is read from the first two-dimensional argument when not given.

References
----------
Harris, C. R. et al. (2020). Array programming with NumPy. Nature 585, 357-362
(broadcasting).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gametheory.errors import GameError

__all__ = [
    "as_float_array",
    "check_count",
    "nonnegative_array",
    "nonnegative_vector",
    "object_count",
    "per_node_object",
    "positive_number",
]

FloatArray = NDArray[np.float64]


def as_float_array(value: object, name: str) -> FloatArray:
    """``value`` as a float array without NaN (GameError naming ``name`` otherwise)."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise GameError(f"{name} must be numeric, got {value!r}") from exc
    if np.any(np.isnan(arr)):
        raise GameError(f"{name} contains NaN")
    return arr


def nonnegative_array(value: object, name: str) -> FloatArray:
    """A finite, nonnegative float array (GameError naming ``name`` otherwise)."""
    arr = as_float_array(value, name)
    if not np.all(np.isfinite(arr)):
        raise GameError(f"{name} must be finite (no NaN or inf)")
    if np.any(arr < 0):
        raise GameError(f"{name} must be nonnegative, got minimum {arr.min():g}")
    return arr


def nonnegative_vector(value: ArrayLike, name: str, n: int) -> FloatArray:
    """A finite, nonnegative scalar or length-``n`` vector, broadcast to shape ``(n,)``."""
    arr = nonnegative_array(value, name)
    try:
        return np.broadcast_to(arr, (n,)).astype(np.float64)
    except ValueError as exc:
        raise GameError(f"{name} must be a scalar or have {n} entries, got {arr.shape}") from exc


def per_node_object(value: ArrayLike, name: str, n: int, m: int, *, finite: bool) -> FloatArray:
    """A nonnegative parameter broadcast to one value per node and object, ``(n, m)``.

    ``value`` is a scalar, one value per node (shape ``(n,)``) or an ``(n, m)`` array; with
    ``finite`` it must also be finite (``inf`` is allowed otherwise, e.g. no origin).
    """
    arr = as_float_array(value, name)
    if arr.ndim == 1 and arr.shape[0] == n:
        arr = arr[:, None]
    try:
        out = np.broadcast_to(arr, (n, m)).astype(np.float64)
    except ValueError as exc:
        raise GameError(
            f"{name} must be a scalar, one value per node (shape ({n},)) or one per node and "
            f"object (shape ({n}, {m})), got shape {arr.shape}"
        ) from exc
    if np.any(out < 0):
        i, o = (int(v) for v in np.argwhere(out < 0)[0])
        raise GameError(f"{name} must be nonnegative, got {out[i, o]:g} at node {i}, object {o}")
    if finite and not np.all(np.isfinite(out)):
        i, o = (int(v) for v in np.argwhere(~np.isfinite(out))[0])
        raise GameError(f"{name} must be finite, got {out[i, o]:g} at node {i}, object {o}")
    return out


def object_count(n_objects: int | None, *arrays: ArrayLike) -> int:
    """Number of objects: given, or read from the first 2-D argument (else 1)."""
    shapes = [np.shape(a) for a in arrays]
    found = [s[1] for s in shapes if len(s) == 2]
    if n_objects is not None:
        if isinstance(n_objects, bool) or not isinstance(n_objects, (int, np.integer)):
            raise GameError(f"n_objects must be a positive integer, got {n_objects!r}")
        if n_objects < 1:
            raise GameError(f"n_objects must be a positive integer, got {n_objects!r}")
        return int(n_objects)
    return int(found[0]) if found else 1


def check_count(value: object, name: str, *, minimum: int = 1) -> int:
    """An integer count of at least ``minimum`` (GameError naming ``name`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise GameError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def positive_number(value: object, name: str) -> float:
    """A positive finite number (GameError naming ``name`` otherwise)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
        raise GameError(f"{name} must be a positive number, got {value!r}")
    v = float(value)
    if not np.isfinite(v) or v <= 0:
        raise GameError(f"{name} must be a positive finite number, got {value!r}")
    return v
