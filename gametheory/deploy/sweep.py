"""A load sweep on a real Dynamo deployment: one aiperf run per concurrency, resumable.

:func:`load_sweep` starts the deployment once and runs aiperf at each concurrency of the
grid, each into ``OUT/<topology>/<topology>-concurrency<C>/`` (the folder name carries
the deployment and the concurrency, as :func:`gametheory.telemetry.load` and
:func:`gametheory.telemetry.read_aiperf_sweep` expect, so that ``gametheory report OUT``
finds one sweep per topology, its knee and regimes). A cell whose
folder already holds aiperf's summary (``profile_export_aiperf.json``) is kept, not run
again, so a sweep that was stopped resumes where it stopped, as ``gametheory sweep``
does for the simulator. Each start of the deployment gets its own folder
``OUT/<topology>/run_<k>/`` (model, timing tables, logs: the frontend's log holds the
router's decisions of that run), and ``deployment.json`` records the deployment.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from gametheory.deploy.launcher import DynamoDeployment
from gametheory.deploy.loadgen import run_aiperf
from gametheory.deploy.spec import DeploymentSpec
from gametheory.errors import GameError

__all__ = ["PAPER_CONCURRENCIES", "SweepCell", "load_sweep"]

#: The paper's concurrency grid.
PAPER_CONCURRENCIES = (1, 2, 4, 8, 16, 32, 64, 128, 256)


@dataclass(frozen=True)
class SweepCell:
    """One cell of a load sweep: where aiperf wrote it and how long it took.

    Attributes
    ----------
    concurrency
        Requested concurrency.
    folder
        The aiperf artifact folder.
    seconds
        Wall time of the aiperf run; NaN when the cell was already done.
    resumed
        The cell was found done and not run again.
    """

    concurrency: int
    folder: Path
    seconds: float
    resumed: bool


def _grid(concurrencies: Sequence[int]) -> list[int]:
    out: list[int] = []
    for c in concurrencies:
        if isinstance(c, bool) or not isinstance(c, int) or c < 1:
            raise GameError(f"concurrencies must be integers >= 1, got {c!r}")
        if c not in out:
            out.append(c)
    if not out:
        raise GameError("concurrencies must not be empty")
    return out


def load_sweep(
    spec: DeploymentSpec,
    out: str | Path,
    concurrencies: Sequence[int] = PAPER_CONCURRENCIES,
    *,
    requests_per_level: int = 100,
    min_requests_factor: int = 2,
    isl: int = 128,
    osl: int = 128,
    seed: int = 0,
    timeout_s: float = 900.0,
    progress: Callable[[SweepCell], None] | None = None,
) -> list[SweepCell]:
    """Run aiperf at each concurrency on one deployment of ``spec`` (see the module).

    Parameters
    ----------
    spec
        The deployment.
    out
        Root folder; the cells go to ``out/<topology>/<topology>-concurrency<C>``.
    concurrencies
        The grid (duplicates dropped).
    requests_per_level
        Requests per cell, at least ``min_requests_factor * C`` so that every cell
        reaches its steady state.
    isl, osl
        Input and output tokens per request.
    seed
        aiperf's ``--random-seed``.
    timeout_s
        Longest aiperf run of one cell.
    progress
        Called with each finished (or resumed) cell.

    Returns
    -------
    list of SweepCell
        In grid order.

    Raises
    ------
    GameError
        For a bad grid or count.
    DeploymentError
        If the deployment or an aiperf run fails (the deployment is stopped).
    """
    grid = _grid(concurrencies)
    for name, value in (
        ("requests_per_level", requests_per_level),
        ("min_requests_factor", min_requests_factor),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise GameError(f"{name} must be an integer >= 1, got {value!r}")
    name = spec.topology.replace("/", "")
    root = Path(out) / name
    root.mkdir(parents=True, exist_ok=True)
    (root / "deployment.json").write_text(json.dumps(spec.as_dict(), indent=1))
    cells: list[SweepCell] = []
    todo: list[int] = []
    for c in grid:
        folder = root / f"{name}-concurrency{c}"
        if (folder / "profile_export_aiperf.json").is_file():
            cells.append(SweepCell(c, folder, float("nan"), True))
            if progress is not None:
                progress(cells[-1])
        else:
            todo.append(c)
    if todo:
        run = root / f"run_{len(list(root.glob('run_*')))}"
        with DynamoDeployment(spec, run) as d:
            for c in todo:
                folder = root / f"{name}-concurrency{c}"
                if folder.exists():
                    shutil.rmtree(folder)
                t0 = time.monotonic()
                run_aiperf(
                    d.url,
                    spec.served_name,
                    d.model_dir,
                    folder,
                    concurrency=c,
                    request_count=max(requests_per_level, min_requests_factor * c),
                    isl=isl,
                    osl=osl,
                    seed=seed,
                    timeout_s=timeout_s,
                )
                cells.append(SweepCell(c, folder, time.monotonic() - t0, False))
                if progress is not None:
                    progress(cells[-1])
    return sorted(cells, key=lambda cell: grid.index(cell.concurrency))
