"""The ``gametheory affinity`` command."""

from __future__ import annotations

from pathlib import Path

import pytest

from gametheory.cli import main
from gametheory.cli.affinity import read_hash_ids
from gametheory.errors import TelemetryError


def test_synthetic_curve(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    plot = tmp_path / "poa.png"
    code = main(
        ["affinity", "--requests", "40", "--knee", "4", "--loads", "10,40", "--plot", str(plot)]
    )
    out = capsys.readouterr().out
    assert code == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("requests"))
    assert "cache-aware router" in lines[header] and "optimum gap" in lines[header]
    low, high = (line.split() for line in lines[header + 1 : header + 3])
    # Columns: load, dynamics, kv, cache-aware, round robin, least loaded, gap.
    assert low[0] == "10" and high[0] == "40"
    assert float(low[3]) < 1.05 < 2.0 < float(high[3])
    assert plot.stat().st_size > 0


def test_trace_input_and_errors(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, shared_data: Path
) -> None:
    trace = shared_data / "traces" / "conversation_trace.jsonl"
    assert main(["affinity", "--trace", str(trace), "--requests", "30", "--workers", "3"]) == 0
    assert "30 requests, 3 workers" in capsys.readouterr().out
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"hash_ids": [1, 2]}\n{"hash_ids": "x"}\n')
    with pytest.raises(TelemetryError, match=r"line 2.*hash_ids"):
        read_hash_ids(bad, 10)
    assert main(["affinity", "--trace", str(bad)]) == 2
    assert main(["affinity", "--loads", "0,5"]) == 2
    assert "--loads" in capsys.readouterr().err
