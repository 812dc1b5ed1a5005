"""Saturation detection and the adaptive router policy (see docs/theory/adaptive-control.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gametheory._lazy import lazy_exports

if TYPE_CHECKING:
    from gametheory.control.detector import (
        CurvatureDetector,
        CusumDetector,
        Detector,
        EWMADetector,
        Regime,
    )
    from gametheory.control.evaluation import latency_transient, switch_rates, wilson_interval
    from gametheory.control.policy import (
        DEFAULT_MAPPING,
        TTFT_FAMILY,
        AdaptiveController,
        parameters_from_scrape,
    )
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__, globals())

__all__ = [
    "DEFAULT_MAPPING",
    "TTFT_FAMILY",
    "AdaptiveController",
    "CurvatureDetector",
    "CusumDetector",
    "Detector",
    "EWMADetector",
    "Regime",
    "latency_transient",
    "parameters_from_scrape",
    "switch_rates",
    "wilson_interval",
]
