"""``gametheory sweep``: a resumable grid of simulations, here or on a Dask cluster.

The grid (:class:`gametheory.sim.sweep.SweepGrid`) comes from its defaults, then a TOML
file (``--config``, keys named as the grid's fields; topologies as ``"1P5D"`` strings),
then the flags. Each cell (:func:`gametheory.sim.sweep.run_cell`) is written to
``OUT/cells/<cell>.json`` as soon as it is done, and cells already there are not run
again, so an interrupted sweep resumes where it stopped; ``OUT/grid.json`` records the
grid so that a different grid is never mixed into the same folder. The table of every
cell, in grid order, is ``OUT/sweep.csv`` (or ``.parquet``). ``--scheduler
tcp://HOST:PORT`` runs the cells on a Dask cluster (``distributed.Client``), ``--workers
N`` on local processes. A progress bar shows on a terminal only.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
import types
import typing
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pandas as pd

from gametheory.cli import progress_bar
from gametheory.cli._checks import finite_float, flag, int_at_least, positive_int, read_toml
from gametheory.cli.simulate import add_deployment_arguments, write_table
from gametheory.errors import GameError, TelemetryError
from gametheory.sim.routing import POLICIES
from gametheory.sim.serving.cluster import parse_topology
from gametheory.sim.sweep import Cell, SweepGrid, run_cell

__all__ = ["cell_key", "grid_from", "register"]

_AXES = ("topologies", "concurrency", "omegas", "taus", "policies", "seeds")
_SCALARS = (
    "model",
    "gpu",
    "decode_batch_limit",
    "requests_per_user",
    "min_requests",
    "n_bootstrap",
)


def cell_key(cell: Cell) -> str:
    """A file name for ``cell``, unique within its grid."""
    knobs = "" if cell.policy != "kv" else f"-w{cell.omega:g}-t{cell.tau:g}"
    return (
        f"{cell.n_prefill}P{cell.n_decode}D-c{cell.concurrency}-{cell.policy}{knobs}-s{cell.seed}"
    )


def _config(path: Path) -> dict[str, Any]:
    """The grid's fields from a TOML file: at the top level or in a ``[grid]`` table."""
    known = {f.name for f in fields(SweepGrid)}
    data = read_toml(path, {"": known | {"grid"}, "grid": known})
    return dict(data.get("grid", data))


def _items(value: Any) -> list[Any]:
    """A list from a TOML array or a comma-separated flag."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    return [value]


def _scalar(kind: Any, value: Any) -> Any:
    """``value`` as ``kind`` (int, float, str, bool), checked, never truncated."""
    if kind is bool:
        if not isinstance(value, bool):
            raise GameError(f"must be true or false, got {value!r}")
        return value
    if kind is int:
        return int_at_least(0)(value)
    if kind is float:
        return finite_float(value)
    if kind is str:
        if not isinstance(value, str):
            raise GameError(f"must be a string, got {value!r}")
        return value.strip()
    raise GameError(f"cannot be set from a settings file (a {kind})")


def _coerce(hint: Any, value: Any) -> Any:
    """``value`` of a settings file or flag as a field of type ``hint`` of SweepGrid."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (types.UnionType, typing.Union):
        return _coerce(args[0], value)
    if typing.get_origin(hint) is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v) for v in _items(value))
        items = _items(value)
        if len(items) != len(args):
            raise GameError(f"must have {len(args)} entries, got {value!r}")
        return tuple(_coerce(a, v) for a, v in zip(args, items, strict=True))
    return _scalar(hint, value)


def grid_from(config: dict[str, Any], args: argparse.Namespace | None = None) -> SweepGrid:
    """A grid from TOML values, overridden by the flags that were given.

    Every value is checked against the type of its :class:`SweepGrid` field (whole
    numbers are never truncated, numbers must be finite, lists element by element), with
    the same message for a flag and a settings key.
    """
    values = dict(config)
    if args is not None:
        for name in (*_AXES, *_SCALARS):
            flag = getattr(args, name, None)
            if flag is not None:
                values[name] = flag
    hints = typing.get_type_hints(SweepGrid)
    out: dict[str, Any] = {}
    for name, value in values.items():
        try:
            if name == "topologies":
                out[name] = tuple(
                    tuple(int_at_least(1)(v) for v in t)
                    if isinstance(t, (list, tuple))
                    else parse_topology(t)
                    for t in _items(value)
                )
            else:
                out[name] = _coerce(hints[name], value)
        except GameError as exc:
            raise GameError(f"{name}: {exc}") from None
    return SweepGrid(**out)


def _fingerprint(grid: SweepGrid) -> dict[str, Any]:
    """The grid's fields that change a cell's result (all but the axes)."""
    return {k: v for k, v in asdict(grid).items() if k not in _AXES}


def _prepare(out: Path, grid: SweepGrid) -> Path:
    cells_dir = out / "cells"
    try:
        cells_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise TelemetryError(f"cannot create folder: {exc.strerror}", file=str(out)) from None
    record = out / "grid.json"
    mine = json.loads(json.dumps(_fingerprint(grid)))
    if record.is_file():
        try:
            theirs = json.loads(record.read_text(encoding="utf-8"))
        except (ValueError, OSError) as exc:
            raise GameError(
                f"{record}: damaged ({exc}); remove {out} or use another --out"
            ) from None
        if theirs != mine:
            diff = sorted(k for k in mine.keys() | theirs.keys() if mine.get(k) != theirs.get(k))
            raise GameError(
                f"{out} holds cells of a different grid (fields {diff} differ); "
                "use another --out or remove the folder"
            )
    else:
        record.write_text(json.dumps(mine, indent=1) + "\n")
    return cells_dir


@contextmanager
def _executor(args: argparse.Namespace) -> Iterator[Executor | None]:
    if args.scheduler is not None:
        try:
            distributed: Any = importlib.import_module("distributed")
        except ImportError:
            raise GameError(
                "--scheduler needs dask.distributed (pip install dask[distributed])"
            ) from None
        try:
            client = distributed.Client(args.scheduler, timeout=args.connect_timeout)
        except (OSError, TimeoutError) as exc:
            raise GameError(f"cannot reach the Dask scheduler at {args.scheduler}: {exc}") from None
        try:
            yield client.get_executor()
        finally:
            client.close()
    elif args.workers > 1:
        with ProcessPoolExecutor(args.workers) as pool:
            yield pool
    else:
        yield None


def _read_cell(path: Path) -> dict[str, Any] | None:
    """The row of a finished cell, or None when its file is absent, empty or damaged."""
    try:
        row = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return row if isinstance(row, dict) and "concurrency" in row else None


def _write_cell(path: Path, row: dict[str, Any]) -> None:
    """Write a cell's row whole or not at all (an interrupted run leaves no half file)."""
    clean = {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(clean) + "\n", encoding="utf-8")
    partial.replace(path)


def _run(args: argparse.Namespace) -> int:
    config = _config(args.config) if args.config is not None else {}
    grid = grid_from(config, args)
    out = Path(args.out)
    cells_dir = _prepare(out, grid)
    cells = list(grid.cells())
    rows_of = {cell_key(c): _read_cell(cells_dir / f"{cell_key(c)}.json") for c in cells}
    damaged = sorted(
        k for k, row in rows_of.items() if row is None and (cells_dir / f"{k}.json").exists()
    )
    todo = [c for c in cells if rows_of[cell_key(c)] is None]
    done = len(cells) - len(todo)
    print(f"{len(cells)} cells: {done} already done, {len(todo)} to run", file=sys.stderr)
    if damaged:
        shown = ", ".join(f"{k}.json" for k in damaged[:5])
        more = f" and {len(damaged) - 5} more" if len(damaged) > 5 else ""
        print(
            f"{len(damaged)} damaged cell files in {cells_dir} are recomputed: {shown}{more}",
            file=sys.stderr,
        )
    bar = progress_bar(len(todo), "cell", args.quiet)
    with _executor(args) as executor:
        rows = map(run_cell, todo) if executor is None else executor.map(run_cell, todo)
        for cell, row in zip(todo, rows, strict=True):
            _write_cell(cells_dir / f"{cell_key(cell)}.json", row)
            rows_of[cell_key(cell)] = _read_cell(cells_dir / f"{cell_key(cell)}.json")
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    table = pd.DataFrame([rows_of[cell_key(c)] for c in cells])
    path = write_table(table, out / f"sweep.{args.format}")
    print(f"wrote {path} ({len(table)} rows)", file=sys.stderr)
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``sweep`` subcommand."""
    p = subparsers.add_parser(
        "sweep",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    p.add_argument("--out", default="gametheory-sweep", help="folder of the cells and table")
    p.add_argument("--config", type=Path, help="TOML file with the grid's fields")
    p.add_argument("--topologies", help="comma-separated, e.g. 1P5D,1P2D")
    p.add_argument("--concurrency", help="comma-separated closed-loop users")
    p.add_argument("--omegas", help="comma-separated KV-router overlap weights")
    p.add_argument("--taus", help="comma-separated KV-router temperatures")
    p.add_argument("--policies", help=f"comma-separated, of {', '.join(POLICIES)}")
    p.add_argument("--seeds", help="comma-separated seeds")
    p.add_argument("--requests-per-user", type=flag(positive_int))
    p.add_argument("--min-requests", type=flag(positive_int))
    p.add_argument(
        "--n-bootstrap", type=flag(int_at_least(0)), help="bootstrap replicates of PoA-hat"
    )
    add_deployment_arguments(p)
    p.set_defaults(model=None, gpu=None, decode_batch_limit=None)
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--connect-timeout", default="10s", help="for --scheduler")
    p.add_argument("--workers", type=flag(positive_int), default=1, help="local worker processes")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
