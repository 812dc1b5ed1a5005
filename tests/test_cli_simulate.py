"""``gametheory simulate``: a run written as telemetry that the readers read back."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from gametheory.cli import main
from gametheory.errors import GameError
from gametheory.sim import parse_topology
from gametheory.telemetry.readers.loader import load


def test_a_run_reads_back_through_the_telemetry_readers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "simulate", "--topology", "1P/2D", "--requests", "120", "--concurrency", "8",
            "--out", str(tmp_path / "run"), "--tables", str(tmp_path / "tables"),
            "--format", "parquet", "--json",
        ]
    )  # fmt: skip
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["requests"] == 120 and summary["concurrency"] == 8
    assert summary["deployment"] == "Llama-3.1-70B B200 1P/2D"
    data = load(tmp_path / "run")
    assert len(data.requests) == 120
    assert data.decisions["decision"].nunique() == 120
    assert len(data.sweep) == 1 and data.sweep["concurrency"].iloc[0] == 8
    assert len(data.samples) > 0
    tables = pd.read_parquet(tmp_path / "tables" / "requests.parquet")
    assert len(tables) == 120
    assert sorted(tables["request_id"]) == sorted(data.requests["request_id"])


def test_open_loop_from_a_mooncake_trace(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    trace = shared_data / "traces" / "conversation_trace.jsonl"
    code = main(["simulate", "--trace", str(trace), "--requests", "80", "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "requests: 80" in out and "open-loop" in out
    assert len(load(tmp_path).requests) == 80


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--topology", "2X"], "a topology is written like 1P5D"),
        (["--topology", "0P3D"], "a topology is written like 1P5D"),
        (["--rate", "2", "--trace", "t.jsonl"], "give one"),
        (["--concurrency", "0"], "argument --concurrency: must be a whole number >= 1, got '0'"),
        (["--requests", "0"], "argument --requests: must be a whole number >= 1, got '0'"),
        (["--input-tokens", "2.5"], "argument --input-tokens: must be a whole number >= 1"),
        (["--omega", "nan"], "argument --omega: must be a number >= 0 (finite), got 'nan'"),
        (["--rate", "1e400"], "argument --rate: must be a number > 0 (finite)"),
        (["--serve", "99999"], "argument --serve: must be a port in 1-65535, got '99999'"),
    ],
)
def test_bad_input_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert main(["simulate", "--out", str(tmp_path), *argv]) == 2
    assert message in capsys.readouterr().err


def test_topology_names() -> None:
    assert parse_topology("1P5D") == (1, 5)
    assert parse_topology(" 2p/3d ") == (2, 3)
    with pytest.raises(GameError):
        parse_topology("1P")


class _Terminal:
    """A standard error that says it is a terminal and keeps what is written."""

    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        return None


def test_a_progress_bar_on_a_terminal_and_none_in_pipes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["simulate", "--requests", "150", "--concurrency", "8", "--out", str(tmp_path)]
    terminal = _Terminal()
    with monkeypatch.context() as m:
        m.setattr("sys.stderr", terminal)
        assert main([*argv, "--json"]) == 0
    assert "150/150" in terminal.text and "req" in terminal.text
    assert json.loads(capsys.readouterr().out)["requests"] == 150
    quiet = _Terminal()
    with monkeypatch.context() as m:
        m.setattr("sys.stderr", quiet)
        assert main([*argv, "--quiet", "--force"]) == 0  # the same folder: replaced
    assert quiet.text == ""
    assert main([*argv, "--force"]) == 0  # a pipe (captured): no bar
    assert capsys.readouterr().err == ""
