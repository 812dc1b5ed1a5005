"""Output folders (issue 26): gametheory never overwrites a file it did not write, and a
folder holding an earlier run is replaced whole only with ``--force``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gametheory.cli import main
from gametheory.cli._checks import MANIFEST, output_folder
from gametheory.errors import GameError

SIM = ["simulate", "--requests", "60", "--concurrency", "4", "--quiet"]


def _run_folder(out: Path) -> Path:
    (run,) = [p for p in out.iterdir() if p.is_dir()]
    return run


def test_a_second_simulate_into_the_same_folder_is_refused_then_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sim"
    assert main([*SIM, "--out", str(out)]) == 0
    run = _run_folder(out)
    first = sorted(p.relative_to(run) for p in run.rglob("*") if p.is_file())
    stale = run / "metrics" / "scrape_99999.prom"  # as if an older, longer run left it
    assert not stale.exists()
    listed = json.loads((run / MANIFEST).read_text())["files"]
    assert sorted(listed) == sorted(p.as_posix() for p in first if p.name != MANIFEST)
    capsys.readouterr()
    assert main([*SIM, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {run}: holds an earlier run ({len(listed)} files); add --force" in err
    assert main([*SIM, "--requests", "30", "--out", str(out), "--force"]) == 0
    second = sorted(p.relative_to(run) for p in run.rglob("*") if p.is_file())
    assert len(second) < len(first)  # the shorter run: fewer scrapes, none of the old left


def test_a_users_file_is_never_overwritten(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    out.mkdir()
    mine = out / "summary.csv"
    mine.write_text("my own table\n")
    assert main([*SIM, "--out", str(tmp_path / "sim")]) == 0
    capsys.readouterr()
    for force in ([], ["--force"]):
        assert main(["report", str(tmp_path / "sim"), "--out", str(out), *force]) == 2
        err = capsys.readouterr().err
        assert f"--out {out}: holds files gametheory did not write (summary.csv)" in err
        assert mine.read_text() == "my own table\n"
    file_out = tmp_path / "a-file"
    file_out.write_text("x")
    assert main(["report", str(tmp_path / "sim"), "--out", str(file_out)]) == 2
    assert "is a file, not a folder" in capsys.readouterr().err


def test_the_guard_lists_what_was_written_even_after_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), output_folder(tmp_path / "o", force=False) as out:
        (out / "a.txt").write_text("1")
        (out / "sub").mkdir()
        (out / "sub" / "b.txt").write_text("2")
        raise RuntimeError("the run failed half-way")
    assert json.loads((tmp_path / "o" / MANIFEST).read_text())["files"] == ["a.txt", "sub/b.txt"]
    with output_folder(tmp_path / "o", force=True) as out:
        assert list(out.iterdir()) == []  # the earlier run removed whole, its folders too
        (out / "d.txt").write_text("4")
    (tmp_path / "o" / "c.txt").write_text("3")  # a user's file beside the run
    with (
        pytest.raises(GameError, match="holds files gametheory did not write"),
        output_folder(tmp_path / "o", force=True),
    ):
        pass


def test_a_damaged_manifest_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "o"
    folder.mkdir()
    (folder / MANIFEST).write_text("[1, 2")
    with pytest.raises(GameError, match=rf"{MANIFEST}: damaged"), output_folder(folder, force=True):
        pass
