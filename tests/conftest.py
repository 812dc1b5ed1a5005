"""Shared test fixtures: the location of ../shared/data and the Prometheus binary, each
with a skip when it is absent (taken before any other fixture starts a server)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path of ../shared/data; skips the test when the shared data is not present."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data not found at {SHARED_DATA} (clone with shared/ beside it)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def prometheus_binary() -> str:
    """Path of the ``prometheus`` binary; skips the test when it is not installed.

    Request it before fixtures that start servers, so a skip starts nothing.
    """
    binary = shutil.which("prometheus")
    if binary is None:
        pytest.skip("the prometheus binary is not installed (apt-get install prometheus)")
    return binary
