"""Format detection, ``load`` and the ``gametheory report`` command."""

from __future__ import annotations

from pathlib import Path

import genai_perf_exports
import pandas as pd
import pytest

from gametheory.cli import main
from gametheory.errors import TelemetryError
from gametheory.telemetry import build_report, detect_format, load

DATA = Path(__file__).parent / "data" / "telemetry"


def test_detect_formats(shared_data: Path, tmp_path: Path) -> None:
    tel = shared_data / "telemetry"
    expected = {
        "aiperf-run1/profile_export.jsonl": "aiperf-jsonl",
        "aiperf-run1/profile_export_aiperf.json": "aiperf-json",
        "aiperf-run1/profile_export_aiperf.csv": "aiperf-csv",
        "aiperf-0.8-schema/profile_export_aiperf.json": "aiperf-json",
        "aiconfigurator/silicon_sample.csv": "aiconfigurator",
        "dynamo-metrics/frontend_scrape.prom": "prometheus",
        "dynamo-router-logs/kv_router_scheduler_v0.6.log": "router-log",
        "dcgm/default-counters.csv": None,
    }
    for rel, fmt in expected.items():
        assert detect_format(tel / rel) == fmt, rel
    genai = genai_perf_exports.write_sweep(tmp_path)
    run = genai / f"{genai_perf_exports.DEPLOYMENT}-concurrency32"
    assert detect_format(run / "profile_export_genai_perf.csv") == "genai-perf-csv"


def test_load_shared_folder(shared_data: Path) -> None:
    data = load(shared_data / "telemetry")
    assert len(data.requests) == 100
    assert len(data.decisions) == 2
    assert len(data.samples) == 89 + 227 + 474
    assert len(data.sweep) == 3937 + 2
    assert data.skipped == 19
    assert any("dcgm/default-counters.csv" in n for n in data.notes)


def test_load_fixtures_renumbers_decisions(tmp_path: Path) -> None:
    log = (DATA / "kv_router_new_shape.log").read_bytes()
    (tmp_path / "a.log").write_bytes(log)
    (tmp_path / "b.log").write_bytes(log)
    data = load(tmp_path)
    assert data.decisions["decision"].tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]
    report = build_report(data, window=1)
    assert set(report.poa) == {str(tmp_path / "a.log"), str(tmp_path / "b.log")}
    assert all(p.poa_hat == 1.0 for p in report.poa.values())


def test_load_errors(tmp_path: Path) -> None:
    with pytest.raises(TelemetryError) as info:
        load(tmp_path / "nope")
    assert info.value.file == str(tmp_path / "nope")
    (tmp_path / "readme.txt").write_text("hello\n")
    with pytest.raises(TelemetryError, match="no recognised telemetry"):
        load(tmp_path)


def test_report_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    code = main(
        [
            "report",
            str(DATA / "silicon_tiny.csv"),
            str(genai_perf_exports.write_sweep(tmp_path)),
            str(DATA / "kv_router_new_shape.log"),
            "--out",
            str(out),
            "--window",
            "1",
            "--quiet",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert "knee (ttft_ms_avg)" in text
    assert "PoA-hat" in text and "1.0000" in text
    sweep = pd.read_csv(out / "sweep.csv")
    assert {"regime", "knee", "knee_low", "knee_high"} <= set(sweep.columns)
    assert set(sweep["regime"]) <= {"below saturation", "transition", "saturated", "unknown"}
    assert list(out.glob("knee_*.png"))
    assert list(out.glob("poa_hat_*.png"))
    assert (out / "reads.csv").is_file()


def test_report_command_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "no such file" in capsys.readouterr().err
