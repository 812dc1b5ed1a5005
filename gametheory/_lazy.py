"""Modules and names imported on first use, so that ``import gametheory`` stays quick.

cvxpy and matplotlib take most of a second to import and only some functions need
them. A module that uses one writes::

    if TYPE_CHECKING:
        import cvxpy as cp
    else:
        cp = lazy_module("cvxpy")

so type checkers see the real module and the import happens at the first attribute
access (``cp.Variable``), once per process. A package whose namespace re-exports names
from heavy modules (``gametheory``, ``gametheory.bounds``, ...) uses :func:`lazy_exports`,
so ``import gametheory`` loads none of them until a name is used.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

__all__ = ["lazy_exports", "lazy_module"]


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


def _type_checking_imports(source: str, filename: str) -> dict[str, tuple[str, str]]:
    """The names bound by ``from X import a as b`` inside ``if TYPE_CHECKING:`` blocks."""
    found: dict[str, tuple[str, str]] = {}
    for node in ast.parse(source, filename).body:
        if not (isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.ImportFrom) or not statement.module:
                raise ImportError(f"{filename}: only 'from X import a' belongs in the lazy block")
            for alias in statement.names:
                found[alias.asname or alias.name] = (statement.module, alias.name)
    return found


def lazy_exports(
    package: str, filename: str, namespace: dict[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Module-level ``__getattr__`` and ``__dir__`` that import public names on first use.

    The package's ``__init__`` lists its public names once, as ordinary imports inside an
    ``if TYPE_CHECKING:`` block, so type checkers and readers see where each name comes
    from; at run time that block is read from the source and each name is imported on its
    first access (PEP 562), then stored in the package so later accesses cost nothing (a
    name defined in a submodule of the same name is imported at once, see below)::

        if TYPE_CHECKING:
            from gametheory.bounds.atomic import affine_bound
        else:
            __getattr__, __dir__ = lazy_exports(__name__, __file__, globals())

    Parameters
    ----------
    package
        The package's ``__name__``.
    filename
        The package's ``__file__`` (its ``__init__.py``).
    namespace
        The package's ``globals()``, where resolved names are stored.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__)`` for the package.
    """
    source = Path(filename).read_text(encoding="utf-8")
    exports = _type_checking_imports(source, filename)
    for name, (module_name, attr) in exports.items():
        if module_name == f"{package}.{name}":
            # A name defined in a submodule of the same name (telemetry.poa_hat) is
            # imported now: importing the submodule later would bind the package
            # attribute to the module, hiding the function.
            namespace[name] = getattr(importlib.import_module(module_name), attr)

    def __getattr__(name: str) -> Any:
        try:
            module_name, attr = exports[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        if module_name == package:
            value: Any = importlib.import_module(f"{package}.{attr}")
        else:
            module = importlib.import_module(module_name)
            try:
                value = getattr(module, attr)
            except AttributeError:
                value = importlib.import_module(f"{module_name}.{attr}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | exports.keys())

    return __getattr__, __dir__
