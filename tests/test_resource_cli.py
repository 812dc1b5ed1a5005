"""The ``gametheory pd-game`` subcommand."""

from __future__ import annotations

import re

import pytest

from gametheory.cli import main


def test_pd_game_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pd-game", "--load", "40", "--curve", "3"]) == 0
    out = capsys.readouterr().out
    assert "optimum            [3 3]" in out
    assert "PoA inf (worst [1 5]), PoS 1" in out
    assert "SLA planner        [3 1] ratio 1.18" in out
    rows = [line for line in out.splitlines() if re.match(r"^ +\d+\.\d{3} ", line)]
    assert len(rows) == 3


def test_pd_game_command_rejects_overload(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pd-game", "--load", "200"]) == 2
    assert "beyond what the whole budget can serve" in capsys.readouterr().err
    assert main(["pd-game", "--model", "nemotron-340b", "--budget", "20"]) == 2
    assert "multiple of unit" in capsys.readouterr().err
