"""``import gametheory`` leaves the heavy optional machinery (cvxpy, matplotlib, kneed,
nashpy) unimported until a function needs it."""

from __future__ import annotations

import subprocess
import sys

from gametheory._lazy import lazy_module

HEAVY = ("cvxpy", "matplotlib", "kneed", "nashpy")


def test_import_gametheory_does_not_import_heavy_modules() -> None:
    code = (
        "import sys, gametheory as gt\n"
        f"print(','.join(m for m in {HEAVY!r} if m in sys.modules))\n"
        "game = gt.AtomicCongestionGame.singleton([gt.Affine(1.0, 0.0)] * 2, 3)\n"
        "gt.social_optimum(game, method='milp')\n"
        "print('cvxpy' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert out[0] == "", f"imported at start-up: {out[0]}"
    assert out[1] == "True"  # the MILP imported cvxpy on first use


def test_lazy_module_imports_on_first_attribute() -> None:
    stand_in = lazy_module("json")
    assert "not imported yet" in repr(stand_in)
    assert stand_in.dumps([1]) == "[1]"
    assert "(imported)" in repr(stand_in)
