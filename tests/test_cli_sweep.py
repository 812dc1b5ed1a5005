"""``gametheory sweep``: grids from flags or TOML, resumable, on a real Dask LocalCluster."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from gametheory.cli import main

SMALL = [
    "--topologies", "1P2D", "--concurrency", "2,4", "--omegas", "1", "--taus", "0,0.5",
    "--min-requests", "40", "--requests-per-user", "4", "--n-bootstrap", "10", "--quiet",
]  # fmt: skip


def _cells(out: Path) -> dict[str, float]:
    return {p.name: p.stat().st_mtime_ns for p in sorted((out / "cells").glob("*.json"))}


def test_a_sweep_resumes_without_recomputing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    assert main(["sweep", "--out", str(out), *SMALL]) == 0
    assert "4 cells: 0 already done, 4 to run" in capsys.readouterr().err
    first = _cells(out)
    table = pd.read_csv(out / "sweep.csv")
    assert len(table) == 4
    assert set(table["tau"]) == {0.0, 0.5} and set(table["concurrency"]) == {2.0, 4.0}
    assert table["poa_hat"].notna().all()
    # the same grid again: nothing runs; a longer grid: only the new cells run
    assert main(["sweep", "--out", str(out), *SMALL]) == 0
    assert "4 already done, 0 to run" in capsys.readouterr().err
    longer = [a if a != "2,4" else "2,4,8" for a in SMALL]
    assert main(["sweep", "--out", str(out), *longer, "--format", "parquet"]) == 0
    assert "6 cells: 4 already done, 2 to run" in capsys.readouterr().err
    after = _cells(out)
    assert {k: after[k] for k in first} == first
    assert len(pd.read_parquet(out / "sweep.parquet")) == 6


def test_another_grid_in_the_same_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sweep", "--out", str(tmp_path), *SMALL]) == 0
    changed = [a if a != "40" else "50" for a in SMALL]
    assert main(["sweep", "--out", str(tmp_path), *changed]) == 2
    assert "different grid (fields ['min_requests'] differ)" in capsys.readouterr().err


def test_a_toml_grid_and_its_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "grid.toml"
    config.write_text(
        '[grid]\ntopologies = ["1P2D"]\nconcurrency = [2]\nomegas = [1.0]\ntaus = [0.0]\n'
        "min_requests = 40\nrequests_per_user = 4\nn_bootstrap = 10\n"
    )
    out = tmp_path / "out"
    assert main(["sweep", "--config", str(config), "--out", str(out), "--quiet"]) == 0
    assert len(pd.read_csv(out / "sweep.csv")) == 1
    # a flag overrides the file
    args = ["sweep", "--config", str(config), "--out", str(out), "--concurrency", "2,3"]
    assert main([*args, "--quiet"]) == 0
    assert len(pd.read_csv(out / "sweep.csv")) == 2
    capsys.readouterr()
    bad = tmp_path / "bad.toml"
    bad.write_text("[grid]\nconcurrency = [2,\n")
    assert main(["sweep", "--config", str(bad), "--out", str(out)]) == 2
    assert f"{bad}: not valid TOML" in capsys.readouterr().err
    unknown = tmp_path / "unknown.toml"
    unknown.write_text("concurency = [2]\n")
    assert main(["sweep", "--config", str(unknown), "--out", str(out)]) == 2
    assert "unknown keys ['concurency']" in capsys.readouterr().err
    assert main(["sweep", "--config", str(tmp_path / "absent.toml"), "--out", str(out)]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["sweep", "--out", str(out), "--policies", "greedy"]) == 2
    assert "unknown policies ['greedy']" in capsys.readouterr().err


def test_on_a_dask_local_cluster_the_rows_are_the_same(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed", reason="dask.distributed is a test extra")
    assert main(["sweep", "--out", str(tmp_path / "here"), *SMALL]) == 0
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        address = cluster.scheduler_address
        code = main(["sweep", "--out", str(tmp_path / "dask"), "--scheduler", address, *SMALL])
    assert code == 0
    here = pd.read_csv(tmp_path / "here" / "sweep.csv")
    there = pd.read_csv(tmp_path / "dask" / "sweep.csv")
    pd.testing.assert_frame_equal(here, there)
    grid = json.loads((tmp_path / "dask" / "grid.json").read_text())
    assert grid["min_requests"] == 40


def test_an_unreachable_scheduler_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("distributed", reason="dask.distributed is a test extra")
    args = ["sweep", "--out", str(tmp_path), "--scheduler", "tcp://127.0.0.1:9"]
    assert main([*args, "--connect-timeout", "2s", *SMALL]) == 2
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in capsys.readouterr().err


def test_damaged_cells_are_named_and_recomputed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    assert main(["sweep", "--out", str(out), *SMALL]) == 0
    capsys.readouterr()
    table = pd.read_csv(out / "sweep.csv")
    cells = sorted((out / "cells").glob("*.json"))
    cells[0].write_text("")  # empty
    cells[1].write_text('{"concurrency": 2, "poa_h')  # cut short
    cells[2].write_text("[1, 2]")  # JSON of another shape
    assert main(["sweep", "--out", str(out), *SMALL]) == 0
    err = capsys.readouterr().err
    assert "4 cells: 1 already done, 3 to run" in err
    assert f"3 damaged cell files in {out / 'cells'} are recomputed: " in err
    assert cells[0].name in err and cells[1].name in err and cells[2].name in err
    again = pd.read_csv(out / "sweep.csv")
    pd.testing.assert_frame_equal(again, table)  # the same rows, recomputed
    assert not list((out / "cells").glob("*.part"))
    (out / "grid.json").write_text("{not json")
    assert main(["sweep", "--out", str(out), *SMALL]) == 2
    assert "grid.json: damaged" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--omegas", "nan"], "omegas: must be a number (finite), got 'nan'"),
        (["--concurrency", "2.5"], "concurrency: must be a whole number >= 0, got '2.5'"),
        (["--workers", "0"], "argument --workers: must be a whole number >= 1, got '0'"),
        (["--min-requests", "1e400"], "argument --min-requests: must be a whole number >= 1"),
    ],
)
def test_bad_flags_are_refused_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], named: str
) -> None:
    assert main(["sweep", "--out", str(tmp_path / "s"), *SMALL, *flags]) == 2
    assert named in capsys.readouterr().err
    assert not (tmp_path / "s").exists()


@pytest.mark.parametrize(
    ("toml", "named"),
    [
        ('requests_per_user = "x"', "requests_per_user: must be a whole number >= 0, got 'x'"),
        ("seeds = [1.5]", "seeds: must be a whole number >= 0, got 1.5"),
        ("omegas = [1e400]", "omegas: must be a number (finite), got inf"),
        ("optimistic_state = 1", "optimistic_state: must be true or false, got 1"),
        ("requests_per_user = 0", "requests_per_user must be a whole number >= 1, got 0"),
        ("grid = 5", "grid must be a table ([grid]), got 5"),
    ],
)
def test_bad_settings_are_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], toml: str, named: str
) -> None:
    config = tmp_path / "grid.toml"
    config.write_text(toml + "\n")
    assert main(["sweep", "--config", str(config), "--out", str(tmp_path / "s")]) == 2
    assert named in capsys.readouterr().err


def test_a_settings_file_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "grid.toml"
    config.write_bytes(b"seeds = [1]\n# caf\xe9\n")
    assert main(["sweep", "--config", str(config), "--out", str(tmp_path / "s")]) == 2
    assert (
        capsys.readouterr().err.strip()
        == f"gametheory: error: {config}: not UTF-8 text (byte 17): TOML files are UTF-8"
    )
