"""Output-length jitter in the paper workload, and the closed-loop waves it breaks."""

from __future__ import annotations

import numpy as np
import pytest

from gametheory.errors import GameError
from gametheory.sim import Cluster, paper_workload, simulate


def test_jitter_draws_lengths_and_keeps_the_prompts() -> None:
    fixed = paper_workload(4000, seed=3)
    jitter = paper_workload(4000, output_tokens_stddev=12.8, seed=3)
    assert fixed.blocks == jitter.blocks  # same template draws
    assert np.all(fixed.output_tokens == 128)
    out = jitter.output_tokens
    assert out.min() >= 1 and abs(out.mean() - 128) < 1.0 and abs(out.std() - 12.8) < 0.6
    tiny = paper_workload(500, output_tokens=2, output_tokens_stddev=5.0)
    assert tiny.output_tokens.min() == 1
    with pytest.raises(GameError, match="output_tokens_stddev"):
        paper_workload(10, output_tokens_stddev=-1.0)


def _steady_p99(stddev: float) -> float:
    cluster = Cluster.build(
        n_prefill=1, n_decode=5, tp_prefill=4, tp_decode=4, decode_batch_limit=1024
    )
    run = simulate(
        cluster, paper_workload(1600, output_tokens_stddev=stddev), "kv", concurrency=128
    )
    start = run.requests["start_ns"].to_numpy(dtype=np.float64)
    keep = start >= np.quantile(start, 0.25)  # past the first wave
    return float(np.quantile(run.requests["ttft_ms"].to_numpy()[keep], 0.99))


def test_fixed_lengths_keep_users_in_waves_and_jitter_spreads_them() -> None:
    # Paper deployment (TP4, vLLM's 1024 slots), C = 128: with identical 128-token
    # outputs the users come back in bursts prefilled as one batch (steady-state P99
    # about 153 ms); 10% jitter spreads them (about 106 ms).
    fixed, jitter = _steady_p99(0.0), _steady_p99(12.8)
    assert fixed == pytest.approx(153.2, rel=0.05)
    assert jitter == pytest.approx(105.8, rel=0.05)
    assert jitter < 0.8 * fixed


def test_warmup_fraction_leaves_out_the_first_wave() -> None:
    from gametheory.sim.output import sweep_row

    cluster = Cluster.build(
        n_prefill=1, n_decode=5, tp_prefill=4, tp_decode=4, decode_batch_limit=1024
    )
    run = simulate(cluster, paper_workload(1600), "kv", concurrency=128)
    every = sweep_row(run)
    steady = sweep_row(run, warmup_fraction=0.25)
    assert every["n_requests"] == 1600 and steady["n_requests"] == 1200
    # the first wave (128 users at once into empty caches) sets the all-request P99
    assert every["ttft_ms_p99"] == pytest.approx(372.8, rel=0.02)
    assert steady["ttft_ms_p99"] == pytest.approx(153.2, rel=0.05)
    with pytest.raises(GameError, match="warmup_fraction"):
        sweep_row(run, warmup_fraction=1.0)


def test_paper_grid_settings_and_flat_knee() -> None:
    from gametheory.control.policy import PAPER_MAPPING
    from gametheory.sim.sweep import SweepGrid, cell_controller, reduced, sweep
    from gametheory.telemetry import detect_knee

    g = SweepGrid.paper(
        topologies=((1, 5),),
        concurrency=(8, 32, 128, 256),
        omegas=(1.0,),
        taus=(0.0,),
        min_requests=200,
        n_bootstrap=20,
    )
    assert (g.tp_prefill, g.tp_decode, g.decode_batch_limit, g.backend) == (4, 4, 1024, "vllm")
    assert (g.warmup_fraction, g.output_tokens_stddev, g.poll_s) == (0.25, 0.0, 5.0)
    cell = next(g.cells())
    assert cell.cluster().decode.params.prefill_overhead_s == 0.0523  # the vLLM fit
    assert cell_controller(cell).mapping == PAPER_MAPPING
    table = sweep(g)
    # nothing saturates on the paper's deployment: throughput scales with C up to 256
    thr = table["request_throughput"].to_numpy()
    assert thr[-1] / thr[0] > 0.7 * 256 / 8
    knee = detect_knee(table)
    assert knee.end_elasticity > 0.6  # still scaling between C = 128 and 256
    # with 10% output jitter the closed-loop waves dissolve and the curve is flat
    jittered = detect_knee(sweep(reduced(g, output_tokens_stddev=12.8)))
    assert jittered.flat and not jittered.converged
    with pytest.raises(GameError, match="unknown backend"):
        SweepGrid(backend="sglang")
    with pytest.raises(GameError, match="poll_s must be positive"):
        SweepGrid(poll_s=0.0)
