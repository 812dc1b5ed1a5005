"""The issue's command lines through ``gametheory.cli.main``, exact LP rationals, reprs."""

from __future__ import annotations

import json
import math

import pytest
import sympy as sp

from gametheory.bounds import (
    aland_bound,
    check_bound,
    exact_poa_lp,
    mm1_bound,
    polynomial_bound,
)
from gametheory.bounds.results import BoundCheckResult, BoundResult
from gametheory.cli import main
from gametheory.errors import GameError

COMMANDS = [
    (
        ["bound", "polynomial", "--degree", "4"],
        2.150502,
        r"\frac{1}{1 - \frac{4 \cdot 5^{\frac{3}{4}}}{25}}",
    ),
    (["bound", "atomic", "--degree", "2", "--players", "10"], 115 / 12, r"\frac{115}{12}"),
    (
        ["bound", "mm1", "--umin", "1", "--rmax", "0.9"],
        2.081139,
        r"\frac{1}{2} + \frac{\sqrt{10}}{2}",
    ),
]


@pytest.mark.parametrize(("argv", "value", "latex"), COMMANDS)
def test_issue_commands_in_three_formats(
    argv: list[str], value: float, latex: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert text.startswith(f"PoA <= {value:.6f}")
    assert "source" in text and "tight       : yes" in text
    assert main([*argv, "--latex"]) == 0
    assert capsys.readouterr().out.strip() == latex
    assert main([*argv, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["value"] == pytest.approx(value, abs=1e-6)
    assert data["latex"] == latex and data["tight"] is True and data["source"]
    assert float(sp.sympify(data["expr"])) == pytest.approx(value, abs=1e-6)


def test_cli_reports_bad_input_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bound", "mm1", "--umin", "1", "--rmax", "1"]) == 2
    assert "r_max must be below u_min" in capsys.readouterr().err
    assert main(["bound", "polynomial", "--degree", "-2"]) == 2
    assert "argument --degree: must be a number >= 0, got '-2'" in capsys.readouterr().err
    assert main(["bound", "atomic", "--degree", "2", "--players", "0"]) == 2
    assert "argument --players: must be a whole number >= 1" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["polynomial", "--degree", "1e400"], "argument --degree: must be a number >= 0 (finite)"),
        (["polynomial", "--degree", "nan"], "argument --degree: must be a number >= 0 (finite)"),
        (["mm1", "--umin", "inf", "--rmax", "1"], "argument --umin: must be a number > 0 (finite)"),
        (["bpr", "--rho", "-1"], "argument --rho: must be a number > 0, got '-1'"),
        (["atomic", "--degree", "2", "--players", "2.5"], "argument --players: must be a whole"),
        (["atomic", "--degree", "2", "--players", "100000"], "n_players = 100000 needs 5e+14 rows"),
        (["smoothness", "--degree", "1", "--players", "100000"], "n_players = 100000 needs 2e+10"),
    ],
)
def test_bound_parameters_out_of_range_or_too_large(
    capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    assert main(["bound", *argv]) == 2  # refused at once: nothing is allocated
    assert named in capsys.readouterr().err


def test_the_api_refuses_integers_beyond_a_float() -> None:
    with pytest.raises(GameError, match="must be a finite number"):
        polynomial_bound(10**400)
    with pytest.raises(GameError, match="must be a finite number"):
        mm1_bound(10**400, 1.0)


@pytest.mark.parametrize(
    ("n", "d", "value"),
    [
        (2, 1, sp.Integer(2)),
        (3, 1, sp.Rational(5, 2)),
        (2, 2, sp.Integer(4)),
        (3, 2, sp.Integer(9)),
        (4, 2, sp.Rational(115, 12)),
        (4, 3, sp.Rational(1163, 28)),
        (100, 3, sp.Rational(1163, 28)),
    ],
)
def test_exact_lp_value_is_an_exact_rational(n: int, d: int, value: sp.Rational) -> None:
    res = exact_poa_lp(n, degree=d)
    assert res.expr == value
    assert res.value == pytest.approx(float(value), abs=1e-6)
    assert "rational" in res.notes


def test_exact_lp_recovers_aland_quartic() -> None:
    assert exact_poa_lp(40, degree=4).expr == aland_bound(4).expr == sp.Rational(110269, 412)


def test_user_basis_without_integer_values_has_no_closed_form() -> None:
    res = exact_poa_lp(4, [lambda k: math.sqrt(k)])
    assert res.expr is None and res.latex == "" and res.value >= 1.0


def test_bound_results_render_in_jupyter() -> None:
    res = polynomial_bound(2)
    assert res._repr_latex_().startswith(r"$\mathrm{PoA} \le ")
    assert "1.62575" in res._repr_latex_()
    html = mm1_bound(1.0, 0.9)._repr_html_()
    assert "<table>" in html and "BoundResult" in html and "Roughgarden" in html
    assert isinstance(res, BoundResult) and float(res) == res.value
    lp = exact_poa_lp(3, degree=1)
    assert lp._repr_latex_() == r"$\mathrm{PoA} \le \frac{5}{2} \approx 2.5$"


def test_bound_check_result_renders_in_jupyter() -> None:
    res = check_bound(2.5, "affine", model="atomic", seed=3, trials=40, local_steps=20)
    assert isinstance(res, BoundCheckResult) and res.survived
    html = res._repr_html_()
    assert "BoundCheckResult" in html and "survived" in html and "AtomicCongestionGame" in html
    assert "worst_ratio" in str(res)
