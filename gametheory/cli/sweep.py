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
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

import pandas as pd

from gametheory.cli import progress_bar
from gametheory.cli._checks import read_toml
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


def _as_tuple(value: Any, convert: Any, name: str) -> tuple[Any, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    try:
        return tuple(convert(x) for x in items)
    except (TypeError, ValueError) as exc:
        raise GameError(f"{name}: {exc}") from None


def grid_from(config: dict[str, Any], args: argparse.Namespace | None = None) -> SweepGrid:
    """A grid from TOML values, overridden by the flags that were given."""
    values = dict(config)
    if args is not None:
        for name in (*_AXES, *_SCALARS):
            flag = getattr(args, name, None)
            if flag is not None:
                values[name] = flag
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name == "topologies":
            out[name] = tuple(
                tuple(int(v) for v in t) if isinstance(t, (list, tuple)) else parse_topology(t)
                for t in _as_tuple(value, lambda x: x, name)
            )
        elif name in ("concurrency", "seeds"):
            out[name] = _as_tuple(value, int, name)
        elif name in ("omegas", "taus"):
            out[name] = _as_tuple(value, float, name)
        elif name == "policies":
            out[name] = _as_tuple(value, str.strip, name)
        else:
            out[name] = value
    try:
        return SweepGrid(**out)
    except TypeError as exc:
        raise GameError(f"bad grid: {exc}") from None


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
        theirs = json.loads(record.read_text())
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


def _run(args: argparse.Namespace) -> int:
    config = _config(args.config) if args.config is not None else {}
    grid = grid_from(config, args)
    out = Path(args.out)
    cells_dir = _prepare(out, grid)
    cells = list(grid.cells())
    done = {cell_key(c) for c in cells if (cells_dir / f"{cell_key(c)}.json").is_file()}
    todo = [c for c in cells if cell_key(c) not in done]
    print(f"{len(cells)} cells: {len(done)} already done, {len(todo)} to run", file=sys.stderr)
    bar = progress_bar(len(todo), "cell", args.quiet)
    with _executor(args) as executor:
        rows = map(run_cell, todo) if executor is None else executor.map(run_cell, todo)
        for cell, row in zip(todo, rows, strict=True):
            clean = {
                k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()
            }
            (cells_dir / f"{cell_key(cell)}.json").write_text(json.dumps(clean) + "\n")
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    table = pd.DataFrame(
        [json.loads((cells_dir / f"{cell_key(c)}.json").read_text()) for c in cells]
    )
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
    p.add_argument("--requests-per-user", type=int)
    p.add_argument("--min-requests", type=int)
    p.add_argument("--n-bootstrap", type=int, help="bootstrap replicates of PoA-hat")
    add_deployment_arguments(p)
    p.set_defaults(model=None, gpu=None, decode_batch_limit=None)
    p.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://127.0.0.1:8786")
    p.add_argument("--connect-timeout", default="10s", help="for --scheduler")
    p.add_argument("--workers", type=int, default=1, help="local worker processes")
    p.add_argument("--format", choices=("csv", "parquet"), default="csv")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_run)
