"""The P/D resource game's models: Erlang-C prefill, decode fixed point, B200 defaults."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from gametheory.errors import GameError
from gametheory.games.base import ContinuousGame
from gametheory.games.pd.defaults import (
    LLAMA_31_70B,
    NEMOTRON_4_340B,
    llama_70b_b200,
    nemotron_340b_b200,
)
from gametheory.games.pd.latency import DecodeStepModel, PrefillQueue, erlang_c
from gametheory.games.pd.resource import PDResourceGame, PDSocialCost


def _erlang_c_sum(c: int, a: float) -> float:
    """Erlang C from the textbook finite sum."""
    terms = [a**k / math.factorial(k) for k in range(c)]
    last = a**c / math.factorial(c) * c / (c - a)
    return last / (sum(terms) + last)


@pytest.mark.parametrize(("c", "a"), [(1, 0.3), (2, 0.5), (3, 2.2), (8, 6.5), (20, 17.0)])
def test_erlang_c_matches_textbook(c: int, a: float) -> None:
    np.testing.assert_allclose(erlang_c(c, a), _erlang_c_sum(c, a), rtol=1e-10)


def test_erlang_c_real_servers_interpolate_monotonically() -> None:
    c = np.linspace(2.01, 8.0, 300)
    values = erlang_c(c, 2.0)
    assert np.all(np.diff(values) < 0)
    assert np.all((values > 0) & (values < 1))
    assert erlang_c([1.5, 2.0], 2.0).tolist() == [1.0, 1.0]
    assert erlang_c([1.0, 3.0], 0.0).tolist() == [0.0, 0.0]


def test_ttft_is_convex_decreasing_and_infinite_when_unstable() -> None:
    q = PrefillQueue(service_time=0.05, overhead=0.002)
    load = 50.0  # offered 2.5 Erlangs
    c = np.linspace(2.6, 10.0, 200)
    t = q.ttft(c, load)
    assert np.all(np.diff(t) < 0) and np.all(np.diff(t, 2) > 0)
    assert np.isinf(q.ttft([2.5, 2.0], load)).all()
    np.testing.assert_allclose(q.ttft(1.0, 10.0), 0.05 / (1 - 0.5) + 0.002, rtol=1e-12)
    h = 1e-6
    fd = (q.ttft(4.0 + h, load) - q.ttft(4.0 - h, load)) / (2 * h)
    np.testing.assert_allclose(q.ttft_derivative(4.0, load), fd, rtol=1e-5)
    assert q.ttft_second_derivative(4.0, load)[0] > 0
    # M/M/1 rate meeting a target: s / (1 - lambda s) + overhead = target.
    lam = q.rate_at_target(0.2)
    np.testing.assert_allclose(q.ttft(1.0, lam), 0.2, rtol=1e-10)


def test_decode_fixed_point_and_littles_law() -> None:
    d = DecodeStepModel(step_base=0.005, step_per_sequence=4e-5, osl=200, max_batch=500)
    load, x = 30.0, 2.0
    n = d.batch(x, load)[0]
    itl = d.itl(x, load)[0]
    np.testing.assert_allclose(itl, 0.005 + 4e-5 * n, rtol=1e-12)
    # Little: requests in decode = arrival rate x time in decode (OSL steps).
    np.testing.assert_allclose(n * x, load * 200 * itl, rtol=1e-12)
    h = 1e-6
    fd = (d.itl(x + h, load) - d.itl(x - h, load)) / (2 * h)
    np.testing.assert_allclose(d.itl_derivative(x, load), fd, rtol=1e-6)
    cap = float(d.capacity(1.0))
    assert np.isfinite(d.itl(1.0, 0.999 * cap)).all()
    assert np.isinf(d.itl(1.0, 1.001 * cap)).all()
    np.testing.assert_allclose(d.batch(1.0, cap), 500, rtol=1e-9)
    lam = d.rate_at_target(0.01)
    np.testing.assert_allclose(d.itl(1.0, lam), 0.01, rtol=1e-10)


def test_public_figures_and_derivations() -> None:
    assert LLAMA_31_70B.kv_bytes_per_token(1) == 163_840
    assert NEMOTRON_4_340B.kv_bytes_per_token(1) == 294_912
    assert LLAMA_31_70B.kv_bytes_per_token(2) == 2 * 163_840
    llama = llama_70b_b200()
    np.testing.assert_allclose(llama.step_base, 70.6e9 / (0.7 * 4 * 8e12) + 160 * 8e-6)
    np.testing.assert_allclose(llama.prefill_service_time(3000), 0.04838, rtol=1e-3)
    nemo = nemotron_340b_b200()
    assert nemo.tp == 8
    np.testing.assert_allclose(nemo.step_base, 340e9 / (0.7 * 8 * 8e12) + 192 * 8e-6)
    # BF16 doubles the bytes moved and halves the FLOP rate.
    bf16 = llama_70b_b200("bf16")
    assert bf16.step_base > llama.step_base
    np.testing.assert_allclose(
        bf16.prefill_service_time(3000), 2 * llama.prefill_service_time(3000), rtol=1e-12
    )
    with pytest.raises(GameError, match="precision"):
        type(llama)(LLAMA_31_70B, llama.gpu, 4, "int4")  # type: ignore[arg-type]
    with pytest.raises(GameError, match="do not fit"):
        type(llama)(NEMOTRON_4_340B, llama.gpu, 1)


def test_decode_model_against_aiconfigurator_b200(shared_data: Path) -> None:
    """The roofline ITL is 50-100% of measured TPOT of Llama-3.1-70B FP8 TP=4 on B200.

    The measurements are aggregated serving (prefill chunks share the decode steps), so
    the disaggregated decode model should sit below them, within a factor of two.
    """
    df = pd.read_csv(shared_data / "telemetry" / "aiconfigurator" / "silicon_sample.csv")
    rows = df[
        (df["system"] == "b200_sxm")
        & df["model_path"].str.contains("Llama-3.1-70B")
        & (df["mode"] == "agg")
        & (df["tp_size"] == 4)
        & (df["precision"] == "fp8")
        & (df["backend"] == "trtllm")
        & (df["isl"] == 1024)
        & (df["osl"] == 1024)
    ]
    assert len(rows) >= 5
    model = llama_70b_b200().decode_model(1024, 1024)
    batch = rows["batch_size"].to_numpy(dtype=float)
    predicted = (model.step_base + model.step_per_sequence * batch) * 1e3
    ratio = predicted / rows["silicon_tpot_ms"].to_numpy(dtype=float)
    assert np.all((ratio > 0.5) & (ratio < 1.0)), ratio


def test_game_construction_and_bad_input() -> None:
    game = PDResourceGame.default(load=20.0)
    assert isinstance(game, ContinuousGame)
    assert game.n_instances == 6 and game.unit == 4
    assert game.splits().tolist() == [[1, 5], [2, 4], [3, 3], [4, 2], [5, 1]]
    assert len(game.profiles()) == 15
    q, d = game.prefill, game.decode
    with pytest.raises(GameError, match="multiple"):
        PDResourceGame(26, 4, 1.0, q, d)
    with pytest.raises(GameError, match="one unit"):
        PDResourceGame(4, 4, 1.0, q, d)
    with pytest.raises(GameError, match="load"):
        PDResourceGame(24, 4, -1.0, q, d)
    with pytest.raises(GameError, match="load"):
        PDResourceGame(24, 4, float("nan"), q, d)
    with pytest.raises(GameError, match="beyond what the whole budget can serve"):
        PDResourceGame(24, 4, game.capacity, q, d)
    with pytest.raises(GameError, match="budget"):
        PDResourceGame(24.5, 4, 1.0, q, d)  # type: ignore[arg-type]
    assert "6 instances of 4 GPUs" in game._repr_html_()
    assert "capacity=103.4 req/s" in repr(game)


def test_costs_are_finite_or_explicitly_infinite() -> None:
    idle = PDResourceGame.default(load=0.0)
    costs = idle.social_costs(idle.profiles())
    assert np.all(np.isfinite(costs))
    # At zero load every split costs the zero-load latency.
    np.testing.assert_allclose(costs, costs[0], rtol=1e-12)
    busy = PDResourceGame.default(load=60.0)
    ttft, itl = busy.latencies(busy.profiles())
    values = busy.social_costs(busy.profiles())
    assert not np.isnan(values).any()
    assert np.isinf(values[busy.profiles()[:, 0] == 1]).all()  # one prefill instance
    assert np.isinf(ttft).any() and np.all(np.isfinite(itl))


def test_social_cost_parts_add_up_with_slo_penalties() -> None:
    slo = PDSocialCost(ttft_target=0.06, itl_target=0.005, penalty=2.0)
    game = PDResourceGame.default(load=40.0, social_cost=slo)
    alloc = np.array([3.0, 3.0])
    ttft, itl = game.latencies(alloc)
    expected = ttft + 150 * itl + 2.0 * (max(0.0, ttft / 0.06 - 1) + max(0.0, itl / 0.005 - 1))
    np.testing.assert_allclose(game.social_cost(alloc), expected, rtol=1e-12)
    np.testing.assert_allclose(game.costs(alloc).sum(), expected, rtol=1e-12)
    with pytest.raises(GameError, match="required"):
        PDSocialCost(penalty=1.0)
