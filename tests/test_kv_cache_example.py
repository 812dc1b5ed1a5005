"""The selfish/KV caching example runs as a script and reports the expected figures."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest


def test_kv_caching_example_runs(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (shared_data / "traces" / "conversation_trace.jsonl").is_file()
    path = Path(__file__).resolve().parents[1] / "examples" / "kv_caching.py"
    runpy.run_path(str(path), run_name="__main__")
    out = capsys.readouterr().out
    assert "K6, d = 1, alpha = 2: worst NE 7, best NE 7, optimum 7" in out
    assert "star n = 5, alpha = 1.9: worst NE 8.6, best NE 5.9, optimum 5.9 at [0]" in out
    assert "line n = 14, alpha = 14: worst NE 105, best NE 63, optimum 52 at [3, 10]" in out
    assert "cluster 3x8, alpha = 6: worst NE 77, optimum 39" in out
    assert "paradox: True" in out
    assert "clique + outlier n = 16: PoA 7.4766 (closed form 7.4766, n/2 = 8)" in out
    assert "full trace: 12,031 requests, " in out
    assert "n_workers=24, n_nodes=3, n_blocks=182790" in out
    assert "full game equilibrium: 0.2721 s/s" in out and "converged True" in out
    assert "equilibrium / optimum = 1.0142 (oracle exact-dp, optimum optimal)" in out
