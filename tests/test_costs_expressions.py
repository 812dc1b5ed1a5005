"""Cost expressions a user types are parsed by a grammar, never evaluated (issue 26)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.bounds.symbolic import symbolic_pigou_bound
from gametheory.cli import main
from gametheory.costs.expressions import MAX_LENGTH, parse_expression
from gametheory.errors import GameError

x, a, b, d = sp.symbols("x a b d")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a + b*x**d", a + b * x**d),
        ("a + b*x^2", a + b * x**2),  # ^ is a power, binding as tightly as **
        ("1/(4 - x)", 1 / (4 - x)),
        ("-x + +3", 3 - x),
        ("sqrt(x) + exp(-x) + log(1 + x)", sp.sqrt(x) + sp.exp(-x) + sp.log(1 + x)),
        ("Max(x, 1)", sp.Max(x, 1)),
        ("pi*x + E", sp.pi * x + sp.E),
        ("0.15*x**4", sp.Float("0.15") * x**4),
        ("beta*x", sp.Symbol("beta") * x),  # a symbol, not sympy's beta function
    ],
)
def test_the_grammar_builds_the_expression(text: str, expected: sp.Expr) -> None:
    assert sp.simplify(parse_expression(text) - expected) == 0


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ('__import__("os").system("touch /tmp/gt_pwned")', "calls of __import__('os').system"),
        ("__import__('os')", "calls of __import__ are not allowed"),
        ("x.__class__", "attribute access: not allowed"),
        ("().__class__.__bases__[0]", "subscripts: not allowed"),
        ("__builtins__", "names starting with '_'"),
        ("_x + 1", "names starting with '_'"),
        ("(lambda: 1)()", "calls of lambda: 1 are not allowed"),
        ("lambda y: y", "lambdas: not allowed"),
        ("eval('1')", "calls of eval are not allowed"),
        ("open('/etc/passwd')", "calls of open are not allowed"),
        ("sympify('x')", "calls of sympify are not allowed"),
        ("x[0]", "subscripts: not allowed"),
        ("[y for y in x]", "comprehensions: not allowed"),
        ("'x'", "'x' is not a number"),
        ("x if x else 1", "conditional expressions: not allowed"),
        ("x < 1", "comparisons: not allowed"),
        ("x % 2", "the operator Mod is not allowed"),
        ("exp", "exp is a function: call it"),
        ("exp(x=1)", "positional arguments only"),
        ("import os", "not an expression"),
        ("x; y", "not an expression"),
        ("9**9**9", "numeric exponent must be at most 1000"),
        ("x**(10**6)", "numeric exponent must be at most 1000"),
        ("1e400*x", "a number too large for a float"),
        ("True*x", "True is not a number"),
        ("", "the expression is empty"),
        ("x" + "+x" * MAX_LENGTH, f"longer than {MAX_LENGTH} characters"),
        ("(" * 500 + "x" + ")" * 500, "too many nested parentheses"),
    ],
)
def test_everything_outside_the_grammar_is_refused(text: str, named: str) -> None:
    with pytest.raises(GameError) as info:
        parse_expression(text)
    assert named in str(info.value)


def test_the_command_line_runs_no_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "pwned"
    code = f'__import__("os").system("touch {target}")'
    assert main(["bound", "symbolic", code]) == 2
    assert not target.exists()
    assert "calls of __import__('os').system are not allowed" in capsys.readouterr().err


def test_the_api_takes_expression_strings_the_same_way(tmp_path: Path) -> None:
    target = tmp_path / "pwned"
    with pytest.raises(GameError, match="not allowed"):
        symbolic_pigou_bound(f"__import__('os').system('touch {target}')")
    with pytest.raises(GameError, match="not allowed"):
        symbolic_pigou_bound("x", r_max=f"__import__('os').system('touch {target}')")
    assert not target.exists()
    assert symbolic_pigou_bound("a + b*x^2").value == pytest.approx(1.625752, abs=1e-6)
    for bad in (float("inf"), -1.0, True):
        with pytest.raises(GameError, match="r_max"):
            symbolic_pigou_bound("x", r_max=bad)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="x()+-*/^._ab1e[]'\"lambdaimport,:", max_size=40))
def test_any_text_is_an_expression_or_a_game_error(text: str) -> None:
    try:
        expr = parse_expression(text)
    except GameError:
        return
    assert isinstance(expr, sp.Basic)
