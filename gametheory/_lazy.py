"""Modules imported on first use, so that ``import gametheory`` stays quick.

cvxpy and matplotlib take most of a second to import and only some functions need
them. A module that uses one writes::

    if TYPE_CHECKING:
        import cvxpy as cp
    else:
        cp = lazy_module("cvxpy")

so type checkers see the real module and the import happens at the first attribute
access (``cp.Variable``), once per process.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["lazy_module"]


class _LazyModule:
    """Stand-in for a module that imports it on the first attribute access."""

    __slots__ = ("_module", "_name")

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy_module(name: str) -> Any:
    """A stand-in for module ``name`` that imports it when first used.

    Parameters
    ----------
    name
        Absolute module name, e.g. ``"cvxpy"``.
    """
    return _LazyModule(name)
