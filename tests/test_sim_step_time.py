"""Roofline step times, hardware and model descriptions, the prefix cache, and the
calibration against aiconfigurator measurements."""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest

from gametheory.errors import GameError
from gametheory.sim import (
    B200,
    DEFAULT_PARAMS,
    H100,
    H200,
    LLAMA_3_1_70B,
    NEMOTRON_4_340B,
    VLLM_PARAMS,
    ModelSpec,
    PrefixCache,
    StepTimeModel,
    StepTimeParams,
    calibrate,
    gpu,
    model,
    predict_aggregated,
    silicon_rows,
)


def test_lookups() -> None:
    assert gpu("b200_sxm") is B200 and gpu("H100") is H100 and gpu("h200") is H200
    assert model("meta-llama/Llama-3.1-70B") is LLAMA_3_1_70B
    assert model("Nemotron-4-340B") is NEMOTRON_4_340B
    assert B200.dense_flops("fp8") == 4.5e15 and H200.hbm_bandwidth == 4.8e12
    # Llama-3.1-70B KV: 2 x 80 layers x 8 heads x 128 dims x 2 bytes = 320 KiB in BF16
    assert LLAMA_3_1_70B.kv_bytes_per_token("bf16") == 320 * 1024
    assert NEMOTRON_4_340B.kv_bytes_per_token("fp8") == 2 * 96 * 8 * 192


def test_kv_capacity_from_hbm_after_weights() -> None:
    s = StepTimeModel.build("Llama-3.1-70B", "B200", tp=4)
    free = 4 * 180e9 * 0.9 - 70.6e9
    assert s.kv_capacity_tokens() == pytest.approx(free / (2 * 80 * 8 * 128))
    with pytest.raises(GameError, match=r"does not fit on 1 x H100: weights 682 GB"):
        StepTimeModel.build("Nemotron-4-340B", "H100", precision="bf16")


def test_decode_is_memory_bound_and_prefill_compute_bound() -> None:
    s = StepTimeModel.build("Llama-3.1-70B", "B200", tp=1, params=DEFAULT_PARAMS)
    p = DEFAULT_PARAMS
    # batch 1, no context: weights read once at eta_d of 8 TB/s, plus the overheads
    weights = 70.6e9 / (8e12 * p.decode_efficiency)
    assert float(s.decode_step_time(1, 0)) == pytest.approx(
        p.decode_overhead_s + p.decode_request_s + weights
    )
    # decode is memory-bound: KV tokens cost traffic, each request a fixed 25.6 us
    assert float(s.decode_step_time(64, 64 * 1000)) > float(s.decode_step_time(1, 1000))
    assert float(s.decode_step_time(64, 1000) - s.decode_step_time(1, 1000)) == pytest.approx(
        63 * p.decode_request_s
    )
    # prefill: 2 N FLOPs per token at eta_p of 4.5 PFLOP/s, plus attention and overhead
    t = float(s.prefill_time(1000))
    linear = 2 * 70.6e9 * 1000 / (4.5e15 * p.prefill_efficiency)
    assert p.prefill_overhead_s + linear < t < p.prefill_overhead_s + 1.1 * linear
    # a short standalone pass is bound by the weight read, like a decode step
    assert float(s.prefill_time(16)) == pytest.approx(
        p.prefill_overhead_s + (70.6e9 + 16 * 2 * 80 * 8 * 128) / (8e12 * p.decode_efficiency)
    )
    assert float(s.prefill_compute(16)) < float(s.prefill_memory(16))
    # tensor parallelism speeds up as tp ** tp_exponent
    s4 = StepTimeModel.build("Llama-3.1-70B", "B200", tp=4)
    assert float(s.prefill_compute(1000)) / float(s4.prefill_compute(1000)) == pytest.approx(
        4**p.tp_exponent
    )


def test_scalar_coefficients_match_array_model() -> None:
    s = StepTimeModel.build("Nemotron-4-340B", "H200", tp=8)
    over, one, weights, per_kv, per_req, per_kv_c = s.decode_coefficients()
    for b, kv in ((1, 100.0), (32, 32 * 2000.0), (4096, 4096 * 100.0)):
        scalar = over + one * b + max(weights + per_kv * kv, per_req * b + per_kv_c * kv)
        assert scalar == pytest.approx(float(s.decode_step_time(b, kv)), rel=1e-12)
    p_over, p_tok, p_pair, p_w, p_kv = s.prefill_coefficients()
    for t, k in ((300.0, 200.0), (16.0, 0.0)):
        scalar = p_over + max(p_tok * t + p_pair * t * (k + t / 2), p_w + p_kv * (t + k))
        assert scalar == pytest.approx(float(s.prefill_time(t, k)), rel=1e-12)
    # large batches turn decode compute-bound
    assert per_req * 4096 > weights


def test_transfer_nvlink_faster_than_infiniband() -> None:
    s = StepTimeModel.build("Llama-3.1-70B", "H100", tp=2)
    nv, ib = float(s.transfer_time(1000, "nvlink")), float(s.transfer_time(1000, "ib"))
    assert ib / nv == pytest.approx(900 / 50)
    assert nv == pytest.approx(1000 * 163840 / (2 * 900e9))


def test_user_defined_model() -> None:
    tiny = ModelSpec("tiny", n_params=1e9, n_layers=16, hidden=2048, n_heads=16, n_kv_heads=4)
    assert tiny.head_size == 128
    s = StepTimeModel.build(tiny, "H100")
    assert s.kv_capacity_tokens() > 1e6
    with pytest.raises(GameError, match="n_layers must be positive"):
        ModelSpec("bad", 1e9, 0, 2048, 16, 4)


def test_params_are_checked() -> None:
    with pytest.raises(GameError, match="prefill_efficiency must be in"):
        StepTimeParams(prefill_efficiency=1.5)
    with pytest.raises(GameError, match="decode_overhead_s must be finite"):
        StepTimeParams(decode_overhead_s=-1.0)


def test_prefix_cache_lru() -> None:
    c = PrefixCache(4)
    c.insert([1, 2, 3])
    assert c.match([1, 2, 3, 9]) == 3 and c.match([2, 3]) == 2 and c.match([9, 1]) == 0
    c.insert([1, 5, 6])  # 1 refreshed, 2 is now the least recently used
    assert len(c) == 4 and c.match([2]) == 0 and c.match([3, 1, 5, 6]) == 4
    c.insert([7], room=2)  # running requests leave room for two blocks
    assert len(c) == 2 and c.match([6, 7]) == 2
    with pytest.raises(GameError, match="capacity must be >= 1"):
        PrefixCache(0)


def test_predict_aggregated_shape() -> None:
    s = StepTimeModel.build("Llama-3.1-70B", "B200", tp=2)
    ttft, tpot = predict_aggregated(s, [1, 8, 64, 512], 1024, 1024)
    assert np.all(np.diff(ttft) > 0) and np.all(np.diff(tpot) >= 0)


@pytest.fixture(scope="module")
def silicon(shared_data: Path) -> Path:
    return Path(shared_data) / "telemetry" / "aiconfigurator" / "silicon_sample.csv"


def test_silicon_rows(silicon: Path) -> None:
    rows = silicon_rows(silicon)
    assert len(rows) == 264
    assert set(rows["backend"]) == {"trtllm", "vllm"}
    assert sorted(set(rows["tp"])) == [1, 2, 4, 8]
    with pytest.raises(GameError, match=r"no aggregated rows of 'Llama-3\.1-70B' on 'gb300'"):
        silicon_rows(silicon, system="gb300")


def test_calibration_held_out_error_below_25_percent(silicon: Path) -> None:
    res = calibrate(silicon)
    assert res.converged
    assert (res.n_train, res.n_test) == (204, 60)
    # figures recorded in docs/tutorials/simulate-a-cluster.md
    assert res.ttft_mdape < 0.25 and res.tpot_mdape < 0.25
    assert res.ttft_mdape == pytest.approx(0.2340, abs=0.005)
    assert res.tpot_mdape == pytest.approx(0.0914, abs=0.005)
    # the Cluster defaults are the TensorRT-LLM fit, rounded; VLLM_PARAMS the vLLM fit
    for backend, rounded in (("trtllm", DEFAULT_PARAMS), ("vllm", VLLM_PARAMS)):
        fit = res.params[backend]
        for field in fields(StepTimeParams):
            expected = getattr(fit, field.name)
            assert getattr(rounded, field.name) == pytest.approx(expected, rel=0.02)
    # each running request costs about 26 us per decode step on both backends (the
    # planner profile's 8B/H200 figure is 39 us)
    assert 1.5e-5 < VLLM_PARAMS.decode_request_s < 4e-5
    with pytest.raises(GameError, match="holdout must be in"):
        calibrate(silicon, holdout=1.0)


def test_topology_names_round_trip() -> None:
    from gametheory.sim import parse_topology, topology_name

    assert parse_topology(topology_name(1, 5)) == (1, 5)
    assert parse_topology("12P/34D") == (12, 34)
    for bad in ("1P", "1D/5P", "xP/5D", "0P/5D", ""):
        with pytest.raises(GameError, match="a topology is written like 1P5D"):
            parse_topology(bad)
