"""``import gametheory`` and ``gametheory --help`` leave the heavy dependencies and the
heavy subpackages unimported until a name or a subcommand needs them (issue 27: a
property of ``sys.modules`` in a fresh interpreter, not a timing)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gametheory._lazy import lazy_module

HEAVY = ("cvxpy", "matplotlib", "kneed", "nashpy")

#: What neither ``import gametheory`` nor ``gametheory --help`` may load.
LEFT_OUT = (
    "sympy",
    "cvxpy",
    "scipy.optimize",
    "pandas",
    "matplotlib",
    "numba",
    "dask",
    "distributed",
    "prometheus_client",
    "networkx",
    "nashpy",
    "kneed",
    "gametheory.bounds",
    "gametheory.control",
    "gametheory.sim",
    "gametheory.solvers",
    "gametheory.telemetry",
)


def _loaded_after(code: str) -> list[str]:
    """The modules of LEFT_OUT that ``code`` leaves in ``sys.modules`` of a fresh process."""
    probe = f"import sys\n{code}\nprint(','.join(m for m in {LEFT_OUT!r} if m in sys.modules))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout
    return [m for m in out.strip().split(",") if m]


def test_import_gametheory_loads_no_heavy_module() -> None:
    assert _loaded_after("import gametheory") == []


def test_help_loads_no_heavy_module() -> None:
    code = (
        "import contextlib, io\n"
        "from gametheory.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    main(['--help'])"
    )
    assert _loaded_after(code) == []


def test_a_subcommand_loads_only_its_own_layer() -> None:
    code = (
        "import contextlib, io\n"
        "from gametheory.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['bound', 'polynomial', '--degree', '2'])"
    )
    loaded = _loaded_after(code)
    assert "gametheory.bounds" in loaded
    assert not {"gametheory.sim", "gametheory.control", "gametheory.telemetry", "pandas"} & set(
        loaded
    )


def test_names_resolve_on_first_use_and_are_kept() -> None:
    import gametheory as gt

    assert gt.poa_hat is gt.telemetry.poa_hat  # the function, not its module
    assert callable(gt.sim.sweep)
    assert {"price_of_anarchy", "read_tntp", "bounds"} <= set(dir(gt))
    assert "poa_hat" in vars(gt)  # stored after the first access
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        _ = gt.not_a_name


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
