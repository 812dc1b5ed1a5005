"""TNTP readers: the shared networks, generalized cost, flow alignment and malformed files."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

from gametheory.errors import GameError
from gametheory.games.network.tntp import read_generalized_cost_weights, read_tntp, read_tntp_flows
from gametheory.solvers.network.wardrop import wardrop_equilibrium

NET_HEADER = """<NUMBER OF ZONES> 2
<NUMBER OF NODES> 4
<FIRST THRU NODE> 3
<NUMBER OF LINKS> {links}
<END OF METADATA>

~\tinit_node\tterm_node\tcapacity\tlength\tfree_flow_time\tb\tpower\tspeed\ttoll\tlink_type\t;
"""
LINKS = [
    "1\t3\t10\t2\t1\t0.15\t4\t0\t5\t1\t;",
    "3\t4\t10\t3\t2\t0.15\t4\t0\t0\t1\t;",
    "3\t4\t20\t1\t4\t0.15\t4\t0\t0\t1\t;",
    "4\t2\t10\t2\t1\t0.15\t4\t0\t0\t1\t;",
]
TRIPS = """<NUMBER OF ZONES> 2
<TOTAL OD FLOW> 12.0
<END OF METADATA>

Origin 1
    1 :  0.0;    2 :   12.0;
"""


def _write(tmp_path: Path, links: list[str] | None = None, trips: str = TRIPS) -> tuple[Path, Path]:
    rows = LINKS if links is None else links
    net = tmp_path / "toy_net.tntp"
    net.write_text(NET_HEADER.format(links=len(rows)) + "\n".join(rows) + "\n")
    tr = tmp_path / "toy_trips.tntp"
    tr.write_text(trips)
    return net, tr


def test_toy_network(tmp_path: Path) -> None:
    net, trips = _write(tmp_path)
    game = read_tntp(net, trips)
    assert game.edges == [(1, 3, 0), (3, 4, 0), (3, 4, 1), (4, 2, 0)]
    assert game.zones == frozenset({1, 2})
    assert game.demands == {(1, 1): 0.0, (1, 2): 12.0}
    # BPR: fft (1 + 0.15 (x/cap)^4)
    x = np.array([10.0, 10.0, 20.0, 0.0])
    np.testing.assert_allclose(game.link_costs(x), [1.15, 2.3, 4.6, 1.0])
    res = wardrop_equilibrium(game, rgap=1e-10)
    assert res.link_flows[0] == pytest.approx(12.0)
    # The parallel links 3 -> 4: at 12 units the first (fft 2) is still cheaper than the
    # second's free-flow time 4, so it carries everything.
    np.testing.assert_allclose(res.link_flows[1:3], [12.0, 0.0])
    assert res.link_costs[1] == pytest.approx(2 * (1 + 0.15 * 1.2**4))
    assert res.link_costs[1] < res.link_costs[2]


def test_generalized_cost(tmp_path: Path) -> None:
    net, trips = _write(tmp_path)
    game = read_tntp(net, trips, toll_factor=0.1, distance_factor=0.5)
    np.testing.assert_allclose(
        game.link_costs(np.zeros(4)), [1 + 0.1 * 5 + 0.5 * 2, 2 + 1.5, 4 + 0.5, 1 + 1.0]
    )


def test_flow_file_alignment(tmp_path: Path) -> None:
    net, trips = _write(tmp_path)
    game = read_tntp(net, trips)
    flows = tmp_path / "toy_flow.tntp"
    flows.write_text(
        "From \tTo \tVolume \tCost \n4\t2\t12\t1\n1\t3\t12\t1\n3\t4\t7\t1\n3\t4\t5\t1\n"
    )
    np.testing.assert_allclose(read_tntp_flows(flows, game), [12.0, 7.0, 5.0, 12.0])
    flows.write_text("From To Volume Cost\n1 3 12 1\n3 4 7 1\n")
    with pytest.raises(GameError, match=r"toy_flow.tntp: 2 edge\(s\) of the game have no flow"):
        read_tntp_flows(flows, game)
    flows.write_text("From To Volume Cost\n1 3 12 1\n2 4 1 1\n")
    with pytest.raises(GameError, match=r"toy_flow.tntp, line 3: link 2 -> 4"):
        read_tntp_flows(flows, game)
    flows.write_text("From To Volume Cost\n1 3 twelve 1\n")
    with pytest.raises(GameError, match=r"line 2: field 'Volume' is not a number"):
        read_tntp_flows(flows, game)


@pytest.mark.parametrize(
    ("links", "message"),
    [
        ([*LINKS[:3], "4\t2\t10\t2\t1\t0.15\t;"], r"toy_net.tntp, line 11: expected 10 link"),
        ([*LINKS[:3], "4\t2\tbig\t2\t1\t0.15\t4\t0\t0\t1\t;"], r"line 11: field 'capacity'"),
        ([*LINKS[:3], "4\t2\t0\t2\t1\t0.15\t4\t0\t0\t1\t;"], r"line 11: capacity must be positive"),
        ([*LINKS[:3], "4\t2\t10\t2\t-1\t0.15\t4\t0\t0\t1\t;"], r"line 11: free_flow_time must"),
        ([*LINKS[:3], "4\t9\t10\t2\t1\t0.15\t4\t0\t0\t1\t;"], r"line 11: term_node 9 exceeds"),
        ([*LINKS[:3], "4.5\t2\t10\t2\t1\t0.15\t4\t0\t0\t1\t;"], r"line 11: field 'init_node'"),
        # numbers NumPy reads but the checks reject: each names its line
        (["1\t3\tinf\t2\t1\t0.15\t4\t0\t5\t1\t;", *LINKS[1:]], r"line 8: field 'capacity'"),
        ([*LINKS[:2], "3\t4\t20\t1\t4\t0.15\t4\t0\tnan\t1\t;", LINKS[3]], r"line 10: field 'toll'"),
        ([*LINKS[:3], "4\t2\t10\t2\t1\t0.15\t4\t0\t-1\t1\t;"], r"line 11: power and toll"),
        ([*LINKS[:3], "0\t2\t10\t2\t1\t0.15\t4\t0\t0\t1\t;"], r"line 11: field 'init_node'"),
    ],
)
def test_malformed_net_file(tmp_path: Path, links: list[str], message: str) -> None:
    net, trips = _write(tmp_path, links)
    with pytest.raises(GameError, match=message):
        read_tntp(net, trips)


def test_reading_restores_the_garbage_collector(tmp_path: Path) -> None:
    net, trips = _write(tmp_path)
    assert gc.isenabled()
    read_tntp(net, trips)
    assert gc.isenabled()
    (tmp_path / "bad").mkdir()
    bad, _ = _write(tmp_path / "bad", [*LINKS[:3], "4\t2\t0\t2\t1\t0.15\t4\t0\t0\t1\t;"])
    with pytest.raises(GameError):
        read_tntp(bad, trips)
    assert gc.isenabled()  # also after an error
    gc.disable()
    try:
        read_tntp(net, trips)
        assert not gc.isenabled()  # left off when the caller had turned it off
    finally:
        gc.enable()


def test_link_count_mismatch(tmp_path: Path) -> None:
    net, trips = _write(tmp_path)
    net.write_text(net.read_text().replace("<NUMBER OF LINKS> 4", "<NUMBER OF LINKS> 5"))
    with pytest.raises(GameError, match=r"toy_net.tntp: <NUMBER OF LINKS> is 5 but 4 links"):
        read_tntp(net, trips)


def test_missing_metadata(tmp_path: Path) -> None:
    net, trips = _write(tmp_path)
    net.write_text(net.read_text().replace("<END OF METADATA>\n", ""))
    with pytest.raises(GameError, match=r"toy_net.tntp, line 7: expected a <TAG>"):
        read_tntp(net, trips)
    net.write_text("<NUMBER OF NODES> 4\n<END OF METADATA>\n")
    with pytest.raises(GameError, match=r"missing <NUMBER OF LINKS>"):
        read_tntp(net, trips)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "Origin 1\n 2 : 12.0; 2 : 1.0;\n",
            r"toy_trips.tntp, line 5: duplicate demand 1 -> 2",
        ),
        ("Origin 1\n 2 : -12.0;\n", r"line 5: demand 1 -> 2 is negative"),
        ("Origin 1\n 2 = 12.0;\n", r"line 5: expected 'destination : rate'"),
        (" 2 : 12.0;\n", r"line 4: a demand entry before any 'Origin'"),
        ("Origin 7\n 2 : 12.0;\n", r"line 4: origin 7 is not a node"),
        ("Origin 1\n 8 : 12.0;\n", r"line 5: destination 8 is not a node"),
        ("Origin 1\n 2 : 11.0;\n", r"<TOTAL OD FLOW> is 12.0 but the entries sum to 11.0"),
    ],
)
def test_malformed_trips_file(tmp_path: Path, body: str, message: str) -> None:
    header = "<NUMBER OF ZONES> 2\n<TOTAL OD FLOW> 12.0\n<END OF METADATA>\n"
    net, trips = _write(tmp_path, trips=header + body)
    with pytest.raises(GameError, match=message):
        read_tntp(net, trips)


def test_unreadable_file(tmp_path: Path) -> None:
    net, trips = _write(tmp_path)
    with pytest.raises(GameError, match=r"cannot read .*missing_net.tntp"):
        read_tntp(tmp_path / "missing_net.tntp", trips)
    with pytest.raises(GameError, match=r"toll_factor must be a finite number >= 0"):
        read_tntp(net, trips, toll_factor=-1.0)


def test_readme_weights(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Net\n\n## Generalized Cost Weights\nToll: 0.5 min/cent\nDistance: \n")
    assert read_generalized_cost_weights(readme) == (0.5, 0.0)
    readme.write_text("# Net\n\n## Units\nToll: 3\n")
    with pytest.raises(GameError, match=r"README.md: no '## Generalized Cost Weights'"):
        read_generalized_cost_weights(readme)
    readme.write_text("## Generalized Cost Weights\nToll: cheap\nDistance: 0\n")
    with pytest.raises(GameError, match=r"README.md, line 2: Toll weight is not a number"):
        read_generalized_cost_weights(readme)


# -- shared data ----------------------------------------------------------------------------


def test_shared_readmes(shared_data: Path) -> None:
    nets = shared_data / "networks"
    assert read_generalized_cost_weights(nets / "Chicago-Sketch" / "README.md") == (0.02, 0.04)
    assert read_generalized_cost_weights(nets / "SiouxFalls" / "README.md") == (0.0, 0.0)
    assert read_generalized_cost_weights(nets / "Braess-Example" / "README.md") == (0.0, 0.0)


def test_braess_example_network(shared_data: Path) -> None:
    base = shared_data / "networks" / "Braess-Example"
    game = read_tntp(base / "Braess_net.tntp", base / "Braess_trips.tntp")
    assert game.n_edges == 5 and game.total_demand == 6.0
    res = wardrop_equilibrium(game, rgap=1e-10)
    assert res.converged
    # The textbook Braess numbers: with demand 6 every route costs 92 at equilibrium.
    assert res.total_cost / 6.0 == pytest.approx(92.0, rel=1e-6)


def test_chicago_sketch_best_known_objective(shared_data: Path) -> None:
    base = shared_data / "networks" / "Chicago-Sketch"
    toll, distance = read_generalized_cost_weights(base / "README.md")
    game = read_tntp(
        base / "ChicagoSketch_net.tntp", base / "ChicagoSketch_trips.tntp", toll, distance
    )
    assert game.n_edges == 2950 and len(game.nodes) == 933
    assert game.total_demand == pytest.approx(1_260_907.44, rel=1e-9)
    best = read_tntp_flows(base / "ChicagoSketch_flow.tntp", game)
    # The README's optimal objective includes the distance term of the generalized cost.
    assert game.beckmann(best) == pytest.approx(17_313_018.7387, rel=1e-9)
