"""The adaptive controller and parameters_from_scrape on real and synthetic scrapes."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from gametheory.control import (
    DEFAULT_MAPPING,
    AdaptiveController,
    CurvatureDetector,
    EWMADetector,
    Regime,
    parameters_from_scrape,
)
from gametheory.errors import GameError, TelemetryError
from gametheory.telemetry import read_prometheus

FAMILY = "dynamo_frontend_time_to_first_token_seconds"
BOUNDS = ("0.1", "0.5", "1", "2.5", "+Inf")


def _scrape(path: Path, per_model: dict[str, list[int]], inflight: int = 0) -> Path:
    lines = [f"# HELP {FAMILY} Time to first token in seconds", f"# TYPE {FAMILY} histogram"]
    for model, cumulative in per_model.items():
        for le, count in zip(BOUNDS, cumulative, strict=True):
            lines.append(f'{FAMILY}_bucket{{model="{model}",le="{le}"}} {count}')
        lines.append(f'{FAMILY}_sum{{model="{model}"}} 1.0')
        lines.append(f'{FAMILY}_count{{model="{model}"}} {cumulative[-1]}')
    lines += [
        "# HELP dynamo_frontend_inflight_requests Number of inflight requests",
        "# TYPE dynamo_frontend_inflight_requests gauge",
        f'dynamo_frontend_inflight_requests{{model="a"}} {inflight}',
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_controller_maps_regimes_to_parameters() -> None:
    ctl = AdaptiveController.for_baseline(0.1, alpha=1.0, min_dwell_s=0.0)
    assert isinstance(ctl.detector, EWMADetector)
    assert (ctl.detector.low, ctl.detector.high) == pytest.approx((0.2, 0.4))
    assert ctl.update(0.0, 0.1) == DEFAULT_MAPPING[Regime.BELOW] == (2.0, 0.0)
    assert ctl.update(1.0, 0.3) == DEFAULT_MAPPING[Regime.TRANSITION] == (1.0, 0.0)
    assert ctl.update(2.0, 5.0) == DEFAULT_MAPPING[Regime.SATURATED] == (0.0, 0.0)
    assert ctl.history == [(1.0, Regime.TRANSITION), (2.0, Regime.SATURATED)]


def test_controller_rejects_bad_configuration() -> None:
    with pytest.raises(GameError, match="lacks regimes"):
        AdaptiveController(mapping={Regime.BELOW: (1.0, 0.0)})
    with pytest.raises(GameError, match="nonnegative"):
        AdaptiveController(
            mapping={
                Regime.BELOW: (1.0, 0.0),
                Regime.TRANSITION: (1.0, 0.0),
                Regime.SATURATED: (-1.0, 0.0),
            }
        )
    with pytest.raises(GameError, match="baseline_s"):
        AdaptiveController.for_baseline(0.0)
    with pytest.raises(GameError, match="out of order"):
        AdaptiveController.for_baseline(0.1, low=4.0, high=2.0)


def test_parameters_from_a_series_of_scrapes(tmp_path: Path) -> None:
    files = [
        _scrape(tmp_path / "0.prom", {"a": [50, 50, 50, 50, 50]}),  # 50 fast requests
        _scrape(tmp_path / "1.prom", {"a": [50, 50, 50, 100, 100]}),  # +50 in (1, 2.5]
        _scrape(tmp_path / "2.prom", {"a": [30, 30, 30, 30, 30]}),  # restart: reset
        _scrape(tmp_path / "3.prom", {"a": [60, 60, 60, 60, 60]}),
        _scrape(tmp_path / "4.prom", {"a": [90, 90, 90, 90, 90]}),
    ]
    ctl = AdaptiveController.for_baseline(0.1, min_dwell_s=0.0)
    out = parameters_from_scrape(read_prometheus(files), ctl, interval_s=15.0)
    assert out["time"].tolist() == [0.0, 15.0, 30.0, 45.0, 60.0]
    assert out["requests"].tolist() == [50, 50, 30, 30, 30]
    # PromQL interpolation: 0.1 * 0.99 in the first bucket; 1 + 1.5 * 0.99 in (1, 2.5].
    assert out["ttft_p99_s"].tolist() == pytest.approx([0.099, 2.485, 0.099, 0.099, 0.099])
    # EWMA (alpha 0.3): 0.099, 0.815, 0.600, 0.450, 0.344; enter saturation above 0.44,
    # leave it below 0.36.
    assert out["regime"].tolist() == ["below", "saturated", "saturated", "saturated", "transition"]
    assert list(zip(out["omega"], out["tau"], strict=True))[-1] == (1.0, 0.0)
    assert isinstance(ctl.detector, EWMADetector)
    assert ctl.detector.ewma == pytest.approx(0.3445, abs=1e-4)


def test_label_filter_and_load(tmp_path: Path) -> None:
    files = [
        _scrape(tmp_path / "0.prom", {"a": [0, 0, 0, 20, 20], "b": [20, 20, 20, 20, 20]}, 3),
        _scrape(tmp_path / "1.prom", {"a": [0, 0, 0, 40, 40], "b": [40, 40, 40, 40, 40]}, 7),
    ]
    samples = read_prometheus(files)
    only_b = parameters_from_scrape(samples, labels={"model": "b"})
    assert only_b["ttft_p99_s"].tolist() == pytest.approx([0.099, 0.099])
    assert set(only_b["regime"]) == {"below"}
    both = parameters_from_scrape(
        samples, load_metric="dynamo_frontend_inflight_requests", min_requests=1
    )
    # 40 requests, 20 in (1, 2.5]: rank 39.6 falls at 1 + 1.5 * 19.6 / 20.
    assert both["ttft_p99_s"].tolist() == pytest.approx([2.47, 2.47])
    assert both["load"].tolist() == [3.0, 7.0]
    assert both["regime"].tolist() == ["saturated", "saturated"]


def test_curvature_controller_on_scrapes_needs_load(tmp_path: Path) -> None:
    files = [_scrape(tmp_path / "0.prom", {"a": [20, 20, 20, 20, 20]}, 4)]
    ctl = AdaptiveController(CurvatureDetector())
    out = parameters_from_scrape(
        read_prometheus(files), ctl, load_metric="dynamo_frontend_inflight_requests"
    )
    assert out["regime"].tolist() == ["below"] and out["load"].tolist() == [4.0]
    with pytest.raises(GameError, match="load"):
        parameters_from_scrape(read_prometheus(files), AdaptiveController(CurvatureDetector()))


def test_bad_scrape_input(tmp_path: Path) -> None:
    samples = read_prometheus(_scrape(tmp_path / "0.prom", {"a": [1, 1, 1, 1, 1]}))
    with pytest.raises(TelemetryError, match="no buckets of histogram 'nope'"):
        parameters_from_scrape(samples, family="nope")
    with pytest.raises(TelemetryError, match="no samples"):
        parameters_from_scrape(samples, load_metric="nope")
    with pytest.raises(GameError, match="interval_s"):
        parameters_from_scrape(samples, interval_s=-1.0)
    with pytest.raises(GameError, match="quantile"):
        parameters_from_scrape(samples, quantile=1.5)
    with pytest.raises(GameError, match="min_requests"):
        parameters_from_scrape(samples, min_requests=0)


def test_dynamo_frontend_scrape_keeps_cache_affinity(shared_data: Path) -> None:
    scrape = shared_data / "telemetry" / "dynamo-metrics" / "frontend_scrape.prom"
    samples = read_prometheus(scrape)
    out = parameters_from_scrape(samples, load_metric="dynamo_frontend_inflight_requests")
    row = out.iloc[0]
    # One request served (TTFT 1.56 s, in the (1, 2.2] bucket), nothing in flight: a
    # fresh Qwen3-0.6B server after one warm-up request, not a saturated one. One
    # request is below min_requests, so it gives no signal and the router keeps
    # cache affinity.
    assert (row["requests"], row["load"]) == (1, 0.0)
    assert math.isnan(row["ttft_p99_s"])
    assert (row["regime"], row["omega"], row["tau"]) == ("below", 2.0, 0.0)
    # Taken at face value, that single request's P99 (1 + 1.2 * 0.99 = 2.188 s) is above
    # the default 1.1 s saturation threshold: load balancing.
    raw = parameters_from_scrape(samples, min_requests=1).iloc[0]
    assert raw["ttft_p99_s"] == pytest.approx(2.188)
    assert (raw["regime"], raw["omega"], raw["tau"]) == ("saturated", 0.0, 0.0)


def test_vllm_worker_scrape(shared_data: Path) -> None:
    scrape = shared_data / "telemetry" / "dynamo-metrics" / "vllm_worker_scrape.prom"
    out = parameters_from_scrape(
        read_prometheus(scrape), family="vllm:time_to_first_token_seconds", min_requests=1
    )
    # Two requests, one in (0.01, 0.02] and one in (0.25, 0.5]: 0.25 + 0.25 * 0.98.
    assert out["ttft_p99_s"].tolist() == pytest.approx([0.495])
    assert out["regime"].tolist() == ["below"]
