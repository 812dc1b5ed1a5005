"""Compressed telemetry (.gz, .zst) reads exactly like the plain files it was made from."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from gametheory.errors import TelemetryError
from gametheory.telemetry.files import plain_name, plain_suffix, read_bytes, read_head
from gametheory.telemetry.readers.aiperf import read_aiperf_records, read_aiperf_sweep
from gametheory.telemetry.readers.loader import detect_format, load

zstandard = pytest.importorskip("zstandard", reason="zstandard is in the test extras")

DATASETS = ["aiperf-run1", "dynamo-metrics", "dynamo-router-logs", "aiconfigurator"]
KINDS = ("requests", "sweep", "decisions", "samples")


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _zst(data: bytes) -> bytes:
    out: bytes = zstandard.ZstdCompressor(level=3).compress(data)
    return out


COMPRESSORS: dict[str, Callable[[bytes], bytes]] = {".gz": _gz, ".zst": _zst}


def _compressed_copy(src: Path, dst: Path, ext: str) -> Path:
    """``src`` copied to ``dst`` with every file compressed and renamed ``name + ext``."""
    for f in sorted(src.rglob("*")):
        if f.is_file():
            target = dst / f.relative_to(src).parent / (f.name + ext)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(COMPRESSORS[ext](f.read_bytes()))
    return dst


def _normalised(frame: pd.DataFrame, root: Path, ext: str) -> pd.DataFrame:
    out = frame.copy()
    if "source" in out.columns:
        out["source"] = (
            out["source"].astype(str).str.replace(str(root), "ROOT").str.replace(ext, "")
        )
    return out


@pytest.mark.parametrize("ext", [".gz", ".zst"])
@pytest.mark.parametrize("dataset", DATASETS)
def test_compressed_exports_load_like_the_plain_ones(
    shared_data: Path, tmp_path: Path, dataset: str, ext: str
) -> None:
    src = shared_data / "telemetry" / dataset
    plain_root = tmp_path / "plain"
    shutil.copytree(src, plain_root)
    packed_root = _compressed_copy(src, tmp_path / "packed", ext)
    plain, packed = load(plain_root), load(packed_root)
    rows = 0
    for kind in KINDS:
        a = _normalised(getattr(plain, kind), plain_root, ext)
        b = _normalised(getattr(packed, kind), packed_root, ext)
        pd.testing.assert_frame_equal(a, b)
        rows += len(a)
    assert rows > 0
    assert [r.skipped for r in plain.reports] == [r.skipped for r in packed.reports]
    assert len(plain.notes) == len(packed.notes)


def test_formats_are_detected_through_the_compression(shared_data: Path, tmp_path: Path) -> None:
    src = shared_data / "telemetry" / "aiperf-run1"
    packed = _compressed_copy(src, tmp_path / "gz", ".gz")
    assert detect_format(packed / "profile_export.jsonl.gz") == "aiperf-jsonl"
    assert detect_format(packed / "profile_export_aiperf.json.gz") == "aiperf-json"
    assert detect_format(packed / "profile_export_aiperf.csv.gz") == "aiperf-csv"
    # the per-request file finds its compressed aggregate for the concurrency
    reqs = read_aiperf_records(packed / "profile_export.jsonl.gz")
    plain = read_aiperf_records(src / "profile_export.jsonl")
    assert reqs["concurrency"].tolist() == plain["concurrency"].tolist()
    sweep = read_aiperf_sweep(packed)
    assert len(sweep) == 1
    assert sweep["concurrency"].iloc[0] == plain["concurrency"].iloc[0]


def test_names_without_the_compression_suffix() -> None:
    assert plain_name("a/profile_export.jsonl.gz") == "profile_export.jsonl"
    assert plain_name("scrape.prom.ZST") == "scrape.prom"
    assert plain_name("log.txt") == "log.txt"
    assert plain_suffix("run.CSV.gz") == ".csv"


def test_heads_and_whole_contents(tmp_path: Path) -> None:
    text = b"# TYPE x counter\nx 1\n" * 1000
    for ext, pack in COMPRESSORS.items():
        f = tmp_path / f"m.prom{ext}"
        f.write_bytes(pack(text))
        assert read_bytes(f) == text
        assert read_head(f, 17) == text[:17]
        # concatenated members or frames (cat a.gz b.gz) are one file
        f.write_bytes(pack(text) + pack(b"y 2\n"))
        assert read_bytes(f) == text + b"y 2\n"


@pytest.mark.parametrize("ext", [".gz", ".zst"])
def test_corrupt_or_truncated_streams_name_the_file(tmp_path: Path, ext: str) -> None:
    bad = tmp_path / f"profile_export.jsonl{ext}"
    bad.write_bytes(b"this is not compressed")
    with pytest.raises(TelemetryError, match=f"{bad.name}: corrupt (gzip|zstandard) data"):
        read_bytes(bad)
    truncated = tmp_path / f"cut.prom{ext}"
    truncated.write_bytes(COMPRESSORS[ext](b"# TYPE x counter\n" * 500)[:-6])
    with pytest.raises(TelemetryError, match=truncated.name):
        read_bytes(truncated)
    with pytest.raises(TelemetryError, match=bad.name):
        load(bad)


def test_zst_without_the_package_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    f = tmp_path / "m.prom.zst"
    f.write_bytes(_zst(b"# TYPE x counter\nx 1\n"))
    real = importlib.import_module

    def no_zstandard(name: str, package: str | None = None) -> object:
        if name == "zstandard":
            raise ImportError(name)
        return real(name, package)

    monkeypatch.setattr(importlib, "import_module", no_zstandard)
    with pytest.raises(TelemetryError, match="pip install zstandard"):
        read_bytes(f)


def test_a_missing_file_is_a_telemetry_error(tmp_path: Path) -> None:
    with pytest.raises(TelemetryError, match="cannot read"):
        read_bytes(tmp_path / "absent.jsonl.gz")
