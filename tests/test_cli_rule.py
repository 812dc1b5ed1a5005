"""One rule for the whole command line (issue 26): a bad flag or a library error is one
line on stderr and exit code 2, any other exception one line with the way to its
traceback and exit code 1, a closed pipe a quiet end; and the checks that flags and
settings-file keys share."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from gametheory.cli import _checks, main
from gametheory.cli import bound as bound_cli
from gametheory.errors import GameError


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_a_bad_flag_is_one_line_naming_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bound", "polynomial", "--degree", "x"]) == 2
    line = _one_line(capsys.readouterr().err)
    assert "argument --degree" in line and "'x'" in line


def test_a_library_error_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "/no/such/telemetry"]) == 2
    assert _one_line(capsys.readouterr().err) == (
        "gametheory: error: /no/such/telemetry: no such file or folder"
    )


def test_an_unknown_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["frobnicate"]) == 2
    assert "invalid choice: 'frobnicate'" in _one_line(capsys.readouterr().err)


def test_another_exception_points_to_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def boom(args: argparse.Namespace) -> int:
        raise ZeroDivisionError("deep inside")

    monkeypatch.setattr(bound_cli, "_run", boom)
    assert main(["bound", "polynomial", "--degree", "2"]) == 1
    line = _one_line(capsys.readouterr().err)
    assert line == (
        "gametheory: internal error: ZeroDivisionError: deep inside "
        "(run again with --debug for the traceback)"
    )
    with pytest.raises(ZeroDivisionError):
        main(["--debug", "bound", "polynomial", "--degree", "2"])


def test_help_and_version_return_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "COMMAND" in capsys.readouterr().out
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("gametheory ")


def test_a_closed_pipe_ends_quietly() -> None:
    # `gametheory bound ... | head -1`: the reader leaves after the first line
    proc = subprocess.Popen(
        [sys.executable, "-m", "gametheory.cli", "demo", "--no-sim"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 0
    assert first.startswith(b"gametheory demo")
    assert err == b""


@pytest.mark.parametrize(
    ("check", "value", "message"),
    [
        (_checks.port, "99999", "must be a port in 1-65535, got '99999'"),
        (_checks.port, 0, "must be a port in 1-65535, got 0"),
        (_checks.positive_float, "-1", "must be a number > 0, got '-1'"),
        (_checks.positive_float, "nan", "must be a number > 0 (finite), got 'nan'"),
        (_checks.finite_float, "1e400", "must be a number (finite), got '1e400'"),
        (
            _checks.finite_float,
            10**400,
            "must be a number (finite), got 1" + "0" * 19 + "... (401 characters)",
        ),
        (_checks.positive_int, "2.5", "must be a whole number >= 1, got '2.5'"),
        (_checks.positive_int, 2.0, "must be a whole number >= 1, got 2.0"),
        (_checks.positive_int, True, "must be a whole number >= 1, got True"),
        (_checks.positive_int, "0", "must be a whole number >= 1, got '0'"),
        (_checks.int_at_least(0, 10), 11, "must be a whole number in 0-10, got 11"),
        (_checks.float_in(0, 1), "1.5", "must be a number in [0, 1], got '1.5'"),
        (_checks.http_url, "notaurl", "must be an http:// or https:// URL, got 'notaurl'"),
        (_checks.http_url, "http://h:99999/x", "must be an http:// or https:// URL"),
        (_checks.http_url, 5, "must be an http:// or https:// URL, got 5"),
    ],
)
def test_checks_refuse_with_one_message(
    check: _checks.Check[object], value: object, message: str
) -> None:
    with pytest.raises(GameError) as info:
        check(value)
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(
    ("check", "value", "expected"),
    [
        (_checks.port, "9090", 9090),
        (_checks.positive_int, " 3 ", 3),
        (_checks.positive_float, 0.5, 0.5),
        (_checks.nonnegative_float, "0", 0.0),
        (_checks.http_url, "http://127.0.0.1:9090", "http://127.0.0.1:9090"),
    ],
)
def test_checks_pass_good_values(
    check: _checks.Check[object], value: object, expected: object
) -> None:
    assert check(value) == expected


def test_flag_and_setting_say_the_same() -> None:
    parser = argparse.ArgumentParser(exit_on_error=False)
    parser.add_argument("--serve", type=_checks.flag(_checks.port))
    with pytest.raises(argparse.ArgumentError, match="must be a port in 1-65535, got '99999'"):
        parser.parse_args(["--serve", "99999"])
    with pytest.raises(GameError) as info:
        _checks.setting({"serve": 99999}, "serve", _checks.port, None, source="ctl.toml")
    assert str(info.value) == "ctl.toml: serve: must be a port in 1-65535, got 99999"
    with pytest.raises(GameError, match=r"^s\.toml: detector\.alpha: must be a number"):
        _checks.setting(
            {"alpha": "x"}, "alpha", _checks.finite_float, 0.3, source="s.toml", section="detector"
        )
    assert _checks.setting({}, "serve", _checks.port, None) is None


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["demo", "--workers", "0"], "argument --workers: must be a whole number >= 1, got '0'"),
        (["demo", "--players", "1e3"], "argument --players: must be a whole number >= 1"),
        (["bound", "bpr", "--alpha", "inf"], "argument --alpha: must be a number >= 0 (finite)"),
        (["report", "x", "--max-deployments", "-5"], "argument --max-deployments: must be a"),
        (["report", "x", "--window", "0"], "argument --window: must be a whole number >= 1"),
        (["pd-game", "--load", "nan"], "argument --load: must be a number > 0 (finite)"),
        (["pd-game", "--budget", "2.5"], "argument --budget: must be a whole number >= 1"),
        (["affinity", "--workers", "0"], "argument --workers: must be a whole number >= 1"),
        (["affinity", "--zipf", "-1"], "argument --zipf: must be a number >= 0, got '-1'"),
        (["simulate", "--tp", "0"], "argument --tp: must be a whole number >= 1, got '0'"),
        (["simulate", "--speedup", "-2"], "argument --speedup: must be a number >= 0"),
        (["sweep", "--n-bootstrap", "-1"], "argument --n-bootstrap: must be a whole number >= 0"),
        (["control", "--serve", "99999"], "argument --serve: must be a port in 1-65535"),
        (["deploy", "1P2D", "--dir", "d", "--tp", "0"], "argument --tp: must be a whole number"),
    ],
)
def test_every_subcommand_checks_its_flags(
    capsys: pytest.CaptureFixture[str], argv: list[str], named: str
) -> None:
    assert main(argv) == 2
    line = _one_line(capsys.readouterr().err)
    assert named in line and line.startswith(f"gametheory {argv[0]}")
    assert ": error: argument --" in line
