"""Sweeps: every executor gives the serial table, bit for bit; grid validation."""

from __future__ import annotations

import math
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import pandas as pd
import pytest

from gametheory.errors import GameError
from gametheory.sim.sweep import PAPER_CONCURRENCY, SweepGrid, reduced, run_cell, sweep

GRID = SweepGrid(
    topologies=((1, 2),),
    concurrency=(4, 96),
    omegas=(0.0, 1.0),
    taus=(0.0, 0.5),
    policies=("kv", "adaptive"),
    seeds=(0, 1),
    min_requests=200,
    n_bootstrap=50,
)


@pytest.fixture(scope="module")
def serial() -> pd.DataFrame:
    return sweep(GRID)


def test_grid_cells_and_table_shape(serial: pd.DataFrame) -> None:
    # kv: 4 (omega, tau) cells, adaptive: one, per concurrency and seed.
    assert len(list(GRID.cells())) == 2 * 2 * (4 + 1) == len(serial)
    assert set(serial["policy_name"]) == {"kv", "adaptive"}
    assert serial.loc[serial["policy_name"] == "adaptive", "omega"].isna().all()
    assert (serial["n_requests"] == [max(200, 8 * c) for c in serial["concurrency"]]).all()
    assert (serial["poa_hat_low"] <= serial["poa_hat"]).all()
    assert (serial["poa_hat"] <= serial["poa_hat_high"]).all()
    assert PAPER_CONCURRENCY == (1, 2, 4, 8, 16, 32, 64, 96, 128, 192, 256)


def test_same_seed_same_result_bit_for_bit(serial: pd.DataFrame) -> None:
    cell = next(iter(GRID.cells()))
    assert run_cell(cell) == run_cell(cell)
    pd.testing.assert_frame_equal(sweep(GRID), serial, check_exact=True)
    other = sweep(reduced(GRID, seeds=(2,)))
    assert not other["ttft_ms_p99"].equals(serial.loc[serial["seed"] == 0, "ttft_ms_p99"])


def test_thread_and_process_pools_match_serial(serial: pd.DataFrame) -> None:
    with ThreadPoolExecutor(max_workers=2) as ex:
        pd.testing.assert_frame_equal(sweep(GRID, ex), serial, check_exact=True)
    with ProcessPoolExecutor(max_workers=2) as ex:
        pd.testing.assert_frame_equal(sweep(GRID, ex), serial, check_exact=True)


def test_dask_local_cluster_matches_serial(serial: pd.DataFrame) -> None:
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        table = sweep(GRID, client.get_executor())
    pd.testing.assert_frame_equal(table, serial, check_exact=True)


def test_bad_grids_raise_named_errors() -> None:
    with pytest.raises(GameError, match="unknown policies"):
        SweepGrid(policies=("kv", "oracle"))
    with pytest.raises(GameError, match="non-empty"):
        SweepGrid(seeds=())
    with pytest.raises(GameError, match="concurrency"):
        SweepGrid(concurrency=(0, 4))
    with pytest.raises(GameError, match="unknown grid fields"):
        reduced(GRID, concurency=(4,))
    assert math.isnan(next(c for c in GRID.cells() if c.policy == "adaptive").omega)


def test_grid_builds_the_paper_deployment_at_tp4() -> None:
    grid = SweepGrid(tp_prefill=4, tp_decode=4, decode_batch_limit=1024)
    cluster = next(grid.cells()).cluster()
    assert (cluster.prefill.tp, cluster.decode.tp, cluster.decode_batch_limit) == (4, 4, 1024)
    assert next(SweepGrid().cells()).cluster().decode.tp == 1
