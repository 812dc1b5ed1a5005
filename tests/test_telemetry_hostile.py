"""Hostile telemetry (issue 26): numbers a float cannot hold, unknown units, compressed
bombs and truncated streams, and files or folders that cannot be read: each is a counted
skip naming the field or an error naming the file, never a traceback or a silent guess."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from gametheory.errors import TelemetryError
from gametheory.telemetry import load, read_aiperf_aggregate, read_aiperf_records, read_report
from gametheory.telemetry.files import decompression_limit, read_bytes

zstandard = pytest.importorskip("zstandard", reason="the zstandard package (test extra)")


def _record(i: int, ttft: object = 12.5, unit: str = "ms", stamp: object = None) -> str:
    return json.dumps(
        {
            "metadata": {"x_request_id": f"r{i}", "timestamp_ns": stamp or 1_000_000 + i},
            "metrics": {
                "ttft": {"value": ttft, "unit": unit},
                "request_latency": {"value": 100.0 + i, "unit": "ms"},
            },
            "error": None,
        }
    )


def _jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ('{"value": 1e400, "unit": "ms"}', "infinite ttft_ms"),
        ('{"value": Infinity, "unit": "ms"}', "infinite ttft_ms"),
        ('{"value": 1' + "0" * 400 + ', "unit": "ms"}', "infinite ttft_ms"),
        ('{"value": 5, "unit": "fortnights"}', "unknown time unit 'fortnights' in field ttft"),
    ],
)
def test_per_request_numbers_and_units_are_counted_skips(
    tmp_path: Path, bad: str, reason: str
) -> None:
    good = [_record(i) for i in range(4)]
    hostile = _record(9).replace('{"value": 12.5, "unit": "ms"}', bad)
    frame = read_aiperf_records(_jsonl(tmp_path / "profile_export.jsonl", [*good, hostile]))
    report = read_report(frame)
    assert len(frame) == 4 and report.skipped == 1
    assert [r for r in report.reasons if reason in r] == [next(iter(report.reasons))]


def test_a_timestamp_beyond_64_bits_is_a_counted_skip(tmp_path: Path) -> None:
    lines = [_record(0), _record(1, stamp=10**400)]
    frame = read_aiperf_records(_jsonl(tmp_path / "profile_export.jsonl", lines))
    assert len(frame) == 1
    assert read_report(frame).reasons == {"timestamp_ns beyond a 64-bit integer": 1}


@pytest.mark.parametrize(
    ("unit", "ms"),
    [("ns", 12.5e-6), ("nanoseconds", 12.5e-6), ("us", 12.5e-3), ("sec", 12.5e3), ("MS", 12.5)],
)
def test_documented_units_are_converted(tmp_path: Path, unit: str, ms: float) -> None:
    frame = read_aiperf_records(
        _jsonl(tmp_path / "profile_export.jsonl", [_record(0, unit=unit), _record(1, unit=unit)])
    )
    assert frame["ttft_ms"].tolist() == pytest.approx([ms, ms])


@pytest.mark.parametrize(
    ("stat", "reason"),
    [
        ("Infinity", "negative, non-finite or non-numeric statistic in time_to_first_token"),
        ("1e400", "negative, non-finite or non-numeric statistic in time_to_first_token"),
        ("NaN", "negative, non-finite or non-numeric statistic in time_to_first_token"),
    ],
)
def test_a_summary_with_a_number_no_float_holds(tmp_path: Path, stat: str, reason: str) -> None:
    doc = (
        '{"time_to_first_token": {"unit": "ms", "avg": 10.0, "p99": ' + stat + "},"
        ' "request_latency": {"unit": "ms", "avg": 50.0, "p99": 90.0},'
        ' "input_config": {"loadgen": {"concurrency": 1' + "0" * 400 + "}}}"
    )
    path = tmp_path / "profile_export_aiperf.json"
    path.write_text(doc)
    frame = read_aiperf_aggregate(path)
    assert read_report(frame).reasons == {reason: 1}
    assert frame["ttft_ms_p99"].isna().all()  # not shown as a figure
    assert frame["latency_ms_p99"].tolist() == [90.0]


def test_a_summary_in_an_unknown_unit_is_named(tmp_path: Path) -> None:
    path = tmp_path / "profile_export_aiperf.json"
    path.write_text(json.dumps({"time_to_first_token": {"unit": "jiffies", "avg": 3.0}}))
    frame = read_aiperf_aggregate(path)
    assert read_report(frame).reasons == {"unknown time unit 'jiffies' in time_to_first_token": 1}


def _export(tmp_path: Path) -> bytes:
    return ("\n".join(_record(i) for i in range(50)) + "\n").encode()


def test_a_truncated_zstandard_file_is_named_not_unrecognised(tmp_path: Path) -> None:
    packed = zstandard.ZstdCompressor().compress(_export(tmp_path))
    path = tmp_path / "run" / "profile_export.jsonl.zst"
    path.parent.mkdir()
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(TelemetryError, match="truncated zstandard data") as info:
        load(path.parent)
    assert info.value.file == str(path)


def test_a_truncated_file_beside_good_ones_is_listed(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "profile_export.jsonl").write_bytes(_export(tmp_path))
    other = tmp_path / "other"
    other.mkdir()
    packed = zstandard.ZstdCompressor().compress(_export(tmp_path))
    (other / "profile_export.jsonl.zst").write_bytes(packed[:-3])
    data = load(tmp_path)
    assert len(data.requests) == 50
    assert [n for n in data.notes if n.startswith("unreadable:")] == [
        f"unreadable: {other / 'profile_export.jsonl.zst'}: truncated zstandard data"
    ]


@pytest.mark.parametrize("kind", ["gzip", "zstandard"])
def test_a_decompression_bomb_stops_at_the_limit(tmp_path: Path, kind: str) -> None:
    # a genuine first record, then 8 MiB of one byte: a few KiB compressed
    zeros = (_record(0) + "\n").encode() + b"0" * (8 << 20)
    if kind == "gzip":
        path, packed = tmp_path / "profile_export.jsonl.gz", gzip.compress(zeros)
    else:
        path = tmp_path / "profile_export.jsonl.zst"
        packed = zstandard.ZstdCompressor().compress(zeros)
    path.write_bytes(packed)
    assert len(packed) < 64 << 10
    with decompression_limit(1 << 20), pytest.raises(TelemetryError) as info:
        read_bytes(path)
    assert "expands past 1,048,576 bytes" in str(info.value) and info.value.file == str(path)
    with pytest.raises(TelemetryError, match="expands past 2,097,152 bytes"):
        load(path, max_decompressed=2 << 20)
    assert read_bytes(path) == zeros  # within the default limit
    with pytest.raises(TelemetryError, match="max_decompressed must be a whole number"):
        load(path, max_decompressed=0)


def test_the_report_command_takes_the_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from gametheory.cli import main

    path = tmp_path / "profile_export.jsonl.gz"
    path.write_bytes(gzip.compress((_record(0) + "\n").encode() + b"0" * (3 << 20)))
    assert main(["report", str(path), "--max-decompressed-mb", "1"]) == 2
    assert "expands past 1,048,576 bytes" in capsys.readouterr().err


def test_what_is_not_a_file_and_unlistable_folders_are_listed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "profile_export.jsonl").write_bytes(_export(tmp_path))
    (run / "gone.jsonl").symlink_to(tmp_path / "nowhere.jsonl")
    os.mkfifo(run / "pipe.prom")
    locked = tmp_path / "locked"
    locked.mkdir()
    real_scandir = os.scandir

    def scandir(path: object) -> object:  # as for a folder without read permission
        if Path(str(path)) == locked:
            raise PermissionError(13, "Permission denied", str(locked))
        return real_scandir(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", scandir)
    data = load(tmp_path)
    assert len(data.requests) == 50
    assert f"skipped {run / 'gone.jsonl'}: a dangling link" in data.notes
    assert f"skipped {run / 'pipe.prom'}: not a regular file" in data.notes
    assert f"cannot list folder {locked}: Permission denied" in data.notes
