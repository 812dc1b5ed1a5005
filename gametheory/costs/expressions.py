"""Cost expressions typed by a user, parsed by a small grammar and never evaluated.

``sympy.sympify`` runs Python's ``eval`` on its input, so a string such as
``'__import__("os").system(...)'`` handed to it runs code. :func:`parse_expression`
instead reads the string with Python's own parser (``ast``, which only builds a tree)
and admits a fixed grammar, building the sympy expression node by node::

    expr   := number | name | expr op expr | ("+" | "-") expr | "(" expr ")"
            | function "(" expr ["," expr ...] ")"
    op     := "+" | "-" | "*" | "/" | "**" | "^"

``name`` is any identifier not starting with ``_`` (a symbol, or the constants ``pi``
and ``E``); ``function`` is one of :data:`FUNCTIONS`. Everything else (attribute
access, subscripts, strings, lambdas, comprehensions, keyword arguments, calls of other
names) is refused with a :class:`~gametheory.errors.GameError` naming it. Numeric
exponents are limited to ``|p| <= 1000``, so ``9**9**9`` is refused rather than computed.
"""

from __future__ import annotations

import ast
import math
from collections.abc import Callable

import sympy as sp

from gametheory.errors import GameError

__all__ = ["CONSTANTS", "FUNCTIONS", "MAX_EXPONENT", "MAX_LENGTH", "parse_expression"]

#: The functions an expression may call, by name.
FUNCTIONS: dict[str, Callable[..., sp.Expr]] = {
    "sqrt": sp.sqrt,
    "cbrt": sp.cbrt,
    "exp": sp.exp,
    "log": sp.log,
    "Abs": sp.Abs,
    "Min": sp.Min,
    "Max": sp.Max,
}
#: Names that stand for constants rather than symbols.
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}
#: The longest expression accepted, in characters.
MAX_LENGTH = 2000
#: The largest magnitude of a numeric exponent.
MAX_EXPONENT = 1000

_BINARY: dict[type[ast.operator], Callable[[sp.Expr, sp.Expr], sp.Expr]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
}
_WHAT = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscripts",
    ast.Lambda: "lambdas",
    ast.ListComp: "comprehensions",
    ast.GeneratorExp: "comprehensions",
    ast.Compare: "comparisons",
    ast.BoolOp: "and/or",
    ast.IfExp: "conditional expressions",
    ast.NamedExpr: "assignments",
    ast.Starred: "starred arguments",
    ast.JoinedStr: "strings",
}


def _refuse(text: str, why: str) -> GameError:
    return GameError(f"expression {text!r}: {why}")


def _power(text: str, base: sp.Expr, exponent: sp.Expr) -> sp.Expr:
    if exponent.is_number and not (abs(complex(exponent)) <= MAX_EXPONENT):
        raise _refuse(text, f"a numeric exponent must be at most {MAX_EXPONENT} in size")
    return sp.Pow(base, exponent)


def _build(node: ast.AST, text: str, symbols: dict[str, sp.Symbol]) -> sp.Expr:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _refuse(text, f"{value!r} is not a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise _refuse(text, "a number too large for a float")
        return sp.Integer(value) if isinstance(value, int) else sp.Float(repr(value))
    if isinstance(node, ast.Name):
        name = node.id
        if name.startswith("_"):
            raise _refuse(text, f"names starting with '_' ({name}) are not allowed")
        if name in FUNCTIONS:
            raise _refuse(text, f"{name} is a function: call it, {name}(...)")
        if name in CONSTANTS:
            return CONSTANTS[name]
        return symbols.setdefault(name, sp.Symbol(name))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.UAdd, ast.USub)):
        operand = _build(node.operand, text, symbols)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left = _build(node.left, text, symbols)
        right = _build(node.right, text, symbols)
        if isinstance(node.op, ast.Pow):
            return _power(text, left, right)
        combine = _BINARY.get(type(node.op))
        if combine is None:
            raise _refuse(text, f"the operator {type(node.op).__name__} is not allowed")
        return combine(left, right)
    if isinstance(node, ast.Call):
        if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
            shown = ast.unparse(node.func)
            raise _refuse(
                text, f"calls of {shown} are not allowed; the functions are {sorted(FUNCTIONS)}"
            )
        name = node.func.id
        if node.keywords or not node.args:
            raise _refuse(text, f"{name}() takes positional arguments only")
        args = [_build(arg, text, symbols) for arg in node.args]
        try:
            return FUNCTIONS[name](*args)
        except (TypeError, ValueError) as exc:
            raise _refuse(text, f"{name}: {exc}") from None
    what = _WHAT.get(type(node), type(node).__name__)
    raise _refuse(text, f"{what}: not allowed in a cost expression")


def parse_expression(text: str) -> sp.Expr:
    """The sympy expression of ``text``, read by the grammar of this module.

    Parameters
    ----------
    text
        An arithmetic expression such as ``"a + b*x**d"`` or ``"1/(u - x)"``.

    Returns
    -------
    sympy.Expr
        Its free symbols are plain ``Symbol`` objects named as in ``text``.

    Raises
    ------
    GameError
        If ``text`` is not a string, is empty or too long, does not parse, or uses
        anything outside the grammar (named in the message).
    """
    if not isinstance(text, str):
        raise GameError(f"an expression must be a string, got {type(text).__name__}")
    if not text.strip():
        raise GameError("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise _refuse(text[:40] + "...", f"longer than {MAX_LENGTH} characters")
    try:
        # "^" is a power, as in sympy (Python would read it, more loosely, as xor)
        tree = ast.parse(text.strip().replace("^", "**"), mode="eval")
    except SyntaxError as exc:
        raise _refuse(text, f"not an expression ({exc.msg})") from None
    except (RecursionError, MemoryError, ValueError):
        raise _refuse(text, "nested too deeply or not text") from None
    try:
        return _build(tree.body, text, {})
    except RecursionError:
        raise _refuse(text, "nested too deeply") from None
