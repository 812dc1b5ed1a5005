"""The ``gametheory bound`` subcommand (through its registrar)."""

from __future__ import annotations

import json

import pytest

from gametheory.cli import main


def run(argv: list[str]) -> int:
    return main(argv)


def test_polynomial_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bound", "polynomial", "--degree", "4"]) == 0
    out = capsys.readouterr().out
    assert "PoA <= 2.150502" in out and "Roughgarden" in out


def test_atomic_lp_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bound", "atomic", "--degree", "2", "--players", "10", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["value"] == pytest.approx(115 / 12, abs=1e-6)
    assert data["certificate"]["mu"] == pytest.approx(12 / 115, abs=1e-9)


def test_atomic_weighted_and_closed_form(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bound", "atomic", "--degree", "1", "--weighted", "--latex"]) == 0
    assert capsys.readouterr().out.strip() == r"\frac{\sqrt{5}}{2} + \frac{3}{2}"
    assert run(["bound", "atomic", "--degree", "3", "--latex"]) == 0
    assert capsys.readouterr().out.strip() == r"\frac{1163}{28}"


def test_mm1_latex_and_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bound", "mm1", "--umin", "1", "--rmax", "0.9", "--latex"]) == 0
    assert capsys.readouterr().out.strip() == r"\frac{1}{2} + \frac{\sqrt{10}}{2}"
    assert run(["bound", "mm1", "--umin", "1", "--rmax", "1.2"]) == 2
    assert run(["bound", "polynomial", "--degree", "-1"]) == 2


def test_bpr_smoothness_symbolic(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["bound", "bpr", "--rho", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == pytest.approx(1.0750164, abs=1e-6)
    assert run(["bound", "smoothness", "--degree", "1", "--players", "20", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["value"] == pytest.approx(2.5) and data["quantity"] == "robust PoA"
    assert run(["bound", "symbolic", "a + b*x", "--latex"]) == 0
    assert capsys.readouterr().out.strip() == r"\frac{4}{3}"
