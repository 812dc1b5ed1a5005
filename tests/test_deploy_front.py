"""The router front's control side without Dynamo: the ``/router`` body, the setting and
its change log, the deployment's commands with the front."""

from __future__ import annotations

import json

import pytest

from gametheory.deploy import deploy
from gametheory.deploy.front import RouterSetting, parse_router_body
from gametheory.errors import GameError


def test_bodies_in_both_namings_and_the_bad_ones() -> None:
    assert parse_router_body({"omega": 0.1, "tau": 0.8}) == (0.1, 0.8)
    assert parse_router_body({"overlap_score_weight": 2, "router_temperature": 0}) == (2.0, 0.0)
    assert parse_router_body({"tau": 0.5}) == (None, 0.5)
    for bad, words in (
        ([0.1], "JSON object"),
        ({}, "give omega"),
        ({"omega": True}, "must be a number"),
        ({"tau": -0.1}, "nonnegative"),
        ({"omega": float("nan")}, "finite"),
        ({"omega": 10**400}, "huge"),
    ):
        with pytest.raises(GameError, match=words):
            parse_router_body(bad)


def test_the_setting_logs_changes_with_the_first_decision_they_govern() -> None:
    prepared: list[tuple[float, float]] = []
    s = RouterSetting(prepare=prepared.append)
    assert s.take() == (1.0, 0.0, 1) and s.take() == (1.0, 0.0, 2)
    assert s.update({"omega": 0.1, "tau": 0.8}) == (0.1, 0.8)
    assert s.update({"tau": 0.8}) == (0.1, 0.8)  # no change: not prepared, not logged
    assert s.take() == (0.1, 0.8, 3)
    doc = s.document()
    assert doc["router"] == {"omega": 0.1, "tau": 0.8}
    assert [(r["decision"], r["omega"], r["tau"]) for r in doc["log"]] == [
        (0, 1.0, 0.0),
        (3, 0.1, 0.8),
    ]
    assert prepared == [(0.1, 0.8)]


def test_a_pair_whose_routers_cannot_be_built_is_not_put_in_force() -> None:
    def refuse(pair: tuple[float, float]) -> None:
        raise GameError(f"no routers for {pair}")

    s = RouterSetting(0.5, 0.0, prepare=refuse)
    with pytest.raises(GameError, match="no routers"):
        s.update({"tau": 1.0})
    assert s.pair == (0.5, 0.0) and len(s.document()["log"]) == 1


def test_the_commands_of_a_deployment_with_the_front(tmp_path: object) -> None:
    d = deploy(str(tmp_path), "1P2D", front=True)
    d.port, d.router_port = 8000, 8001
    cmds = d.commands()
    assert cmds["frontend"][cmds["frontend"].index("--router-mode") + 1] == "round-robin"
    assert cmds["frontend"][cmds["frontend"].index("--namespace") + 1] == "front"
    assert "dyn://pool.prefill.generate" in cmds["prefill"]
    assert "dyn://pool.backend.generate" in cmds["decode"]
    cfg = json.loads(cmds["front"][-1])
    assert cfg["port"] == 8001 and cfg["pool"] == "pool" and cfg["n_decode"] == 2
    assert d.router_url == "http://127.0.0.1:8001/router"
    plain = deploy(str(tmp_path), "1P2D").commands()
    assert "front" not in plain and "--namespace" not in plain["frontend"]
    assert deploy(str(tmp_path), "1P2D").router_url is None
    with pytest.raises(GameError, match="front must be True or False"):
        deploy(str(tmp_path), "1P2D", front="yes")
