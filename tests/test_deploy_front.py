"""The router front's control side without Dynamo: the ``/router`` body, the setting and
its change log, the deployment's commands with the front."""

from __future__ import annotations

import json
from typing import Any

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


def test_the_decision_log_scores_every_pair_by_the_fixed_default_cost(tmp_path: Any) -> None:
    from gametheory.deploy.adaptive import front_decisions, front_poa_hat

    def rec(n: int, omega: float, worker: str, prefill: dict[str, int]) -> str:
        decode = {"1": 4, "2": 0}
        costs = {w: omega * prefill[w] / 16 + decode[w] for w in prefill}
        row = {
            "time": 100.0 + n,
            "decision": n,
            "stage": "decode",
            "omega": omega,
            "tau": 0.8 if omega < 1 else 0.0,
            "worker": worker,
            "costs": costs,
            "prefill_tokens": prefill,
            "decode_blocks": decode,
        }
        return json.dumps(row)

    log = tmp_path / "front_decisions.jsonl"
    lines = [
        rec(0, 1.0, "2", {"1": 32, "2": 32}),  # 2 + 0 against 2 + 4: the cheaper
        rec(1, 0.1, "2", {"1": 0, "2": 160}),  # 10 + 0 against 0 + 4 at omega 1
        json.dumps({"time": 99.0, "decision": 5, "stage": "prefill", "worker": "9"}),
    ]
    log.write_text("\n".join(lines) + "\n")
    frame = front_decisions(log)
    assert len(frame) == 4 and set(frame["stage"]) == {"decode"}
    chosen = frame[frame["chosen"]].sort_values("decision")
    assert chosen["worker"].tolist() == ["2", "2"]
    assert chosen["cost"].tolist() == [2.0, 10.0]  # omega 1, not the pair in force (1.0)
    # one window of both decisions: actual 2 + 10 = 12, the best one-per-worker 2 + 4 = 6
    # (under the pair in force it would be 3 against 6)
    assert front_poa_hat(log) == pytest.approx(2.0)
    with pytest.raises(GameError, match="no prefill decision"):
        front_decisions(log, stage="prefill")


def _trace(spike: bool) -> Any:
    import pandas as pd

    rows, t = [], 0.0
    for cycle in range(3):
        for phase, n in (("low", 60), ("high", 24)):
            start = t
            for k in range(n):
                value = 0.1 if phase == "low" or k < 2 else 1.0
                if spike and cycle == 1 and phase == "low" and k == 30:
                    value = 2.0  # one poll far past the threshold: a false switch
                rows.append(
                    {
                        "time_s": t,
                        "ttft_p99_s": value,
                        "phase": phase,
                        "cycle": cycle,
                        "phase_start_s": start,
                    }
                )
                t += 0.5
    return pd.DataFrame(rows)


def test_detection_rates_on_a_trace_follow_the_switch_rates_definitions() -> None:
    from gametheory.deploy.detection import detection_rates

    clean = detection_rates(_trace(False), (0.2, 0.4)).set_index("source")
    real = clean.loc["Dynamo mocker"]
    # low phases of 30 s, 5 s to settle, runs of 10 s: 2 runs a cycle
    assert (real["runs"], real["false_rate"], real["steps"], real["missed_rate"]) == (6, 0, 3, 0)
    assert real["mean_delay_s"] == pytest.approx(1.0)  # the signal rose 2 polls after the step
    assert 0 < real["false_high"] < 1 and real["false_low"] == 0
    assert "simulated scrapes" in clean.index
    spiked = detection_rates(_trace(True), (0.2, 0.4)).set_index("source").loc["Dynamo mocker"]
    assert spiked["false_rate"] == pytest.approx(1 / 6)
