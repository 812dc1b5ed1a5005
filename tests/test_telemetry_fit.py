"""Latency curves to cost functions, and the model PoA of the fitted game."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import TelemetryError
from gametheory.telemetry import fit_costs, fit_curve, read_aiconfigurator
from gametheory.telemetry.schemas import conform


def _mm1_sweep(name: str, mu: float, loads: np.ndarray, t0: float = 0.0) -> pd.DataFrame:
    latency_ms = 1e3 * (t0 + 1.0 / (mu - loads))
    return pd.DataFrame(
        {
            "deployment": name,
            "concurrency": loads * latency_ms / 1e3,  # Little's law
            "request_throughput": loads,
            "ttft_ms_avg": latency_ms,
        }
    )


def test_mm1_parameters_recovered() -> None:
    loads = np.linspace(0.5, 3.5, 7)
    fit = fit_curve(loads, 0.2 + 1.0 / (4.0 - loads), "mm1")
    assert fit.converged
    assert fit.parameters["mu"] == pytest.approx(4.0, rel=1e-6)
    assert fit.parameters["t0"] == pytest.approx(0.2, abs=1e-6)
    assert fit.r2 == pytest.approx(1.0, abs=1e-9)


@settings(max_examples=25, deadline=None)
@given(
    a0=st.floats(0.0, 5.0),
    a1=st.floats(0.0, 5.0),
    a2=st.floats(0.0, 5.0),
    top=st.floats(1.0, 100.0),
)
def test_polynomial_recovers_nonnegative_coefficients(
    a0: float, a1: float, a2: float, top: float
) -> None:
    x = np.linspace(0.0, top, 9)
    y = a0 + a1 * x + a2 * x**2
    fit = fit_curve(x, y, "polynomial")
    pred = np.asarray(fit.cost(x))
    assert np.allclose(pred, y, rtol=1e-6, atol=1e-6 * max(1.0, float(y.max())))
    assert all(v >= 0 for v in fit.parameters.values())


def test_model_poa_of_theory_mm1_instance() -> None:
    # THEORY.md section 6: M/M/1 links u = (4, 1), r = 3: equilibrium 3, optimum 5/2.
    sweep = conform(
        pd.concat(
            [
                _mm1_sweep("fast", 4.0, np.linspace(0.4, 3.6, 9)),
                _mm1_sweep("slow", 1.0, np.linspace(0.1, 0.9, 9)),
            ],
            ignore_index=True,
        ),
        "sweep",
    )
    result = fit_costs(sweep, demand=3.0)
    assert result.best["fast"].family == "mm1" and result.best["slow"].family == "mm1"
    assert result.equilibrium is not None and result.optimum is not None
    assert result.equilibrium.total_cost == pytest.approx(3.0, rel=1e-4)
    assert result.optimum.total_cost == pytest.approx(2.5, rel=1e-4)
    assert result.model_poa == pytest.approx(1.2, rel=1e-4)
    assert result.converged


def test_fit_real_llama_sweeps(shared_data: Path) -> None:
    sweep = read_aiconfigurator(shared_data / "telemetry" / "aiconfigurator" / "silicon_sample.csv")
    names = [
        "Llama-3.1-70B|b200_sxm|trtllm|fp8|agg|8192x1024|fp8|tp1pp1dp1ep1mtp1",
        "Llama-3.1-70B|b200_sxm|trtllm|fp8|agg|8192x1024|fp8|tp2pp1dp1ep1mtp2",
    ]
    result = fit_costs(sweep, deployments=names)
    for name in names:
        assert result.fits[(name, "tabulated")].r2 == pytest.approx(1.0)
        assert result.best[name].r2 > 0.9
    assert result.model_poa >= 1.0 - 1e-6
    assert result.equilibrium is not None
    assert result.equilibrium.link_flows.sum() == pytest.approx(result.demand)


def test_fit_errors() -> None:
    with pytest.raises(TelemetryError) as info:
        fit_curve([1.0, 1.0], [1.0, 2.0], "mm1")
    assert info.value.field == "load"
    with pytest.raises(TelemetryError):
        fit_curve([1.0, 2.0], [1.0, 2.0], "spline")
    with pytest.raises(TelemetryError):
        fit_curve([1.0, 2.0], [1.0, np.nan], "polynomial")


def test_concurrency_costs_drive_the_affinity_game(shared_data: Path) -> None:
    from gametheory.games.affinity.game import AffinityRoutingGame

    sweep = read_aiconfigurator(shared_data / "telemetry" / "aiconfigurator" / "silicon_sample.csv")
    names = [
        "Llama-3.1-70B|b200_sxm|trtllm|fp8|agg|8192x1024|fp8|tp1pp1dp1ep1mtp1",
        "Llama-3.1-70B|b200_sxm|trtllm|fp8|agg|8192x1024|fp8|tp2pp1dp1ep1mtp2",
    ]
    result = fit_costs(sweep, deployments=names, load="concurrency")
    tab = result.fits[(names[0], "tabulated")].cost
    one = sweep[sweep["deployment"] == names[0]]
    # The tabulated cost passes through the measured TTFT (s) at each concurrency.
    assert np.allclose(tab(one["concurrency"].to_numpy()), one["ttft_ms_avg"].to_numpy() / 1e3)
    game = AffinityRoutingGame.synthetic(
        [result.best[n].cost for n in names], 12, n_groups=3, seed=0
    )
    assert game.social_cost(np.zeros(12, dtype=np.int64)) > 0
    with pytest.raises(TelemetryError):
        fit_costs(sweep, deployments=names, load="tokens")  # type: ignore[arg-type]
