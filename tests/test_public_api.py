"""The public names of ``import gametheory as gt`` before the family regrouping stay.

The lists are the ``__all__`` of each public namespace (and the instance builders of
``gt.library``) as they stood before solvers, results and the command line moved into
family subpackages; user code and the notebooks rely on them.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

import gametheory as gt

DATA = Path(__file__).parent / "data" / "public_api.json"
PUBLIC: dict[str, list[str]] = {
    k: v for k, v in json.loads(DATA.read_text()).items() if not k.startswith("_")
}


@pytest.mark.parametrize("namespace", sorted(PUBLIC))
def test_every_public_name_is_still_there(namespace: str) -> None:
    module = gt.library if namespace == "gametheory.library" else importlib.import_module(namespace)
    missing = [name for name in PUBLIC[namespace] if not hasattr(module, name)]
    assert missing == []


@pytest.mark.parametrize("namespace", [ns for ns in sorted(PUBLIC) if ns != "gametheory.library"])
def test_all_lists_the_names(namespace: str) -> None:
    module = importlib.import_module(namespace)
    assert set(PUBLIC[namespace]) <= set(module.__all__)


def test_the_two_poa_curves_have_distinct_names() -> None:
    from gametheory.solvers.affinity import poa
    from gametheory.solvers.pd import regimes

    assert hasattr(poa, "affinity_poa_curve") and not hasattr(poa, "poa_curve")
    assert hasattr(regimes, "pd_poa_curve") and not hasattr(regimes, "poa_curve")
