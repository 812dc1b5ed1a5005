"""``gametheory control`` checks its flags and settings keys on entry (issue 26): each bad
value is one line naming the flag, or the file and key, with the same check and message for
both, and exit code 2 before anything is contacted."""

from __future__ import annotations

from pathlib import Path

import pytest
from servers import Scripted, answer, free_port

from gametheory.cli import main


def _one_line(text: str) -> str:
    lines = text.strip().splitlines()
    assert len(lines) == 1, text
    return lines[0]


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--serve", "99999"], "argument --serve: must be a port in 1-65535, got '99999'"),
        (["--serve", "80.5"], "argument --serve: must be a port in 1-65535, got '80.5'"),
        (["--timeout", "-1"], "argument --timeout: must be a number > 0, got '-1'"),
        (["--timeout", "inf"], "argument --timeout: must be a number > 0 (finite), got 'inf'"),
        (
            ["--push", "notaurl"],
            "argument --push: must be an http:// or https:// URL, got 'notaurl'",
        ),
        (
            ["--prometheus", "ftp://127.0.0.1:9090"],
            "argument --prometheus: must be an http:// or https:// URL, got 'ftp://127.0.0.1:9090'",
        ),
        (["--interval", "nan"], "argument --interval: must be a number > 0 (finite), got 'nan'"),
        (["--interval", "0"], "argument --interval: must be a number > 0, got '0'"),
        (["--min-dwell-s", "-1"], "argument --min-dwell-s: must be a number >= 0, got '-1'"),
        (["--low-s", "x"], "argument --low-s: must be a number > 0, got 'x'"),
        (["--max-polls", "0"], "argument --max-polls: must be a whole number >= 1, got '0'"),
        (
            ["--query", " "],
            "argument --query: must be a PromQL query (a nonempty string), got ' '",
        ),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_a_bad_flag_is_one_line_naming_it(
    flags: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    assert main(["control", "--prometheus", closed, *flags]) == 2
    assert _one_line(capsys.readouterr().err) == (
        f"gametheory control: error: {message} (see gametheory control --help)"
    )


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ("serve = 99999", "serve: must be a port in 1-65535, got 99999"),
        ("serve = true", "serve: must be a port in 1-65535, got True"),
        ("timeout_s = -1", "timeout_s: must be a number > 0, got -1"),
        ('push = "notaurl"', "push: must be an http:// or https:// URL, got 'notaurl'"),
        ('interval_s = "fast"', "interval_s: must be a number > 0, got 'fast'"),
        ("interval_s = nan", "interval_s: must be a number > 0 (finite), got nan"),
        ("query = 5", "query: must be a PromQL query (a nonempty string), got 5"),
        ("detector = 5", "detector must be a table ([detector]), got 5"),
        ('mapping = "x"', "mapping must be a table ([mapping]), got 'x'"),
        ("[detector]\nlow_s = true", "detector.low_s: must be a number > 0, got True"),
        ("[detector]\nalpha = 2", "detector.alpha: must be a number in [0, 1], got 2"),
        ("[detector]\nmin_dwell_s = [5]", "detector.min_dwell_s: must be a number >= 0, got [5]"),
        (
            "[mapping]\nsaturated = [0.1]",
            "mapping.saturated: must be [omega, tau], two numbers >= 0, got [0.1]",
        ),
        (
            '[mapping]\nbelow = ["a", 0]',
            "mapping.below: must be [omega, tau], two numbers >= 0, got ['a', 0]",
        ),
        (
            "[mapping]\nbelow = [1, -1]",
            "mapping.below: must be [omega, tau], two numbers >= 0, got [1, -1]",
        ),
    ],
    ids=lambda v: v.split(":")[0] if isinstance(v, str) and ":" in v else None,
)
def test_a_bad_settings_key_is_one_line_naming_file_and_key(
    settings: str, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ctl.toml"
    path.write_text(f'prometheus = "http://127.0.0.1:{free_port()}"\n{settings}\n')
    assert main(["control", "--config", str(path)]) == 2
    assert _one_line(capsys.readouterr().err) == f"gametheory: error: {path}: {message}"


def test_flag_and_key_say_the_same(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "ctl.toml"
    path.write_text(f'prometheus = "http://127.0.0.1:{free_port()}"\nserve = "99999"\n')
    assert main(["control", "--config", str(path)]) == 2
    by_key = _one_line(capsys.readouterr().err)
    assert main(["control", "--config", str(path), "--serve", "99999"]) == 2
    by_flag = _one_line(capsys.readouterr().err)
    said = "must be a port in 1-65535, got '99999'"
    assert by_key == f"gametheory: error: {path}: serve: {said}"
    assert (
        by_flag
        == f"gametheory control: error: argument --serve: {said} (see gametheory control --help)"
    )


def test_settings_that_disagree_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "ctl.toml"
    path.write_text(
        f'prometheus = "http://127.0.0.1:{free_port()}"\n[detector]\nlow_s = 2\nhigh_s = 1\n'
    )
    assert main(["control", "--config", str(path)]) == 2
    assert _one_line(capsys.readouterr().err) == (
        "gametheory: error: thresholds out of order: need 0 < low < high, got low=2.0, high=1.0"
    )


def test_an_answer_that_is_no_query_result_at_start_is_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    server = Scripted([answer(200, [])])
    try:
        assert main(["control", "--prometheus", server.url, "--timeout", "2"]) == 2
    finally:
        server.close()
    assert _one_line(capsys.readouterr().err) == (
        f"gametheory: error: {server.url}: expected a JSON object, got a list"
    )
    assert len(server.requests) == 1  # checked once at start, then stopped
