"""The code of docs/tutorials/simulate-a-cluster.md runs and gives the figures it
states."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "tutorials" / "simulate-a-cluster.md"


def test_tutorial_runs_and_matches_its_figures(
    monkeypatch: pytest.MonkeyPatch, shared_data: Path
) -> None:
    monkeypatch.chdir(ROOT)  # the page reads ../shared/data relative to the repository
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert len(blocks) == 7
    ns: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), ns)
    run, fit, data = ns["run"], ns["fit"], ns["data"]
    assert run.converged  # type: ignore[attr-defined]
    assert round(run.duration_s, 1) == 55.3  # type: ignore[attr-defined]
    assert round(run.request_throughput, 1) == 180.9  # type: ignore[attr-defined]
    assert round(run.requests["ttft_ms"].quantile(0.99), 1) == 1052.5  # type: ignore[attr-defined]
    assert len(data.decisions) == 50_000  # type: ignore[attr-defined]
    assert round(fit.ttft_mdape, 3) == 0.234 and round(fit.tpot_mdape, 3) == 0.091  # type: ignore[attr-defined]
    assert round(float(ns["hit_rate"]), 2) == 0.60  # type: ignore[arg-type]
    assert ns["trace_run"].converged  # type: ignore[attr-defined]
    assert ns["open_run"].converged  # type: ignore[attr-defined]
