"""Gambit's .nfg files: both versions read to the right payoffs, round trips, clear errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.errors import GameError
from gametheory.games.nfg import parse_nfg, read_nfg, write_nfg
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.finite.vertex_enumeration import vertex_enumeration

# Battle of the sexes in the outcome version, as Gambit's catalog writes it
# (gambitproject/gambit, catalog/journals/ijgt/nau2004/sec3.nfg: TL (3, 2), BR (2, 3)).
BOS_OUTCOME = """NFG 1 R "Battle of the Sexes" { "Player 1" "Player 2" }

{ { "Top" "Bottom" }
{ "Left" "Right" }
}
"Three equilibria: TL, BR and one completely mixed."

{
{ "" 3, 2 }
{ "" 0, 0 }
{ "" 0, 0 }
{ "" 2, 3 }
}
1 2 3 4
"""

# A 2 x 2 x 2 game in the payoff version: player 1's strategy changes fastest and each
# profile lists the three payoffs in player order; rationals and decimals allowed.
THREE_PAYOFF = """NFG 1 D "three" { "A" "B" "C" } { 2 2 2 }
1 2 3  4 5 6  7 8 9  10 11 12
1/2 -1 0.25  0 0 0  -3 3e1 2  1 1 1
"""


def test_the_outcome_version_gives_the_catalog_payoffs_and_equilibria() -> None:
    nf = parse_nfg(BOS_OUTCOME)
    assert nf.version == "outcome"
    assert nf.title == "Battle of the Sexes" and nf.players == ("Player 1", "Player 2")
    assert nf.game.labels == (("Top", "Bottom"), ("Left", "Right"))
    a, b = nf.game.bimatrix(payoffs=True)
    np.testing.assert_array_equal(a, [[3, 0], [0, 2]])
    np.testing.assert_array_equal(b, [[2, 0], [0, 3]])
    res = vertex_enumeration(nf.game)
    exact = {tuple(tuple(map(float, s)) for s in eq) for eq in res.exact_equilibria}
    assert exact == {((1, 0), (1, 0)), ((0, 1), (0, 1)), ((0.6, 0.4), (0.4, 0.6))}


def test_the_payoff_version_orders_profiles_with_player_one_fastest() -> None:
    nf = parse_nfg(THREE_PAYOFF)
    assert nf.version == "payoff" and nf.comment == ""
    u = nf.game.payoff_tensor
    assert u.shape == (3, 2, 2, 2)
    # profiles: (0,0,0) (1,0,0) (0,1,0) (1,1,0) (0,0,1) (1,0,1) (0,1,1) (1,1,1)
    np.testing.assert_array_equal(u[:, 0, 0, 0], [1, 2, 3])
    np.testing.assert_array_equal(u[:, 1, 0, 0], [4, 5, 6])
    np.testing.assert_array_equal(u[:, 0, 1, 0], [7, 8, 9])
    np.testing.assert_array_equal(u[:, 1, 1, 0], [10, 11, 12])
    np.testing.assert_array_equal(u[:, 0, 0, 1], [0.5, -1, 0.25])
    np.testing.assert_array_equal(u[:, 0, 1, 1], [-3, 30, 2])
    np.testing.assert_array_equal(nf.game.cost_tensor, -u)


def test_the_null_outcome_pays_zero() -> None:
    text = 'NFG 1 R "" { "1" "2" } { { "a" "b" } { "c" } } { { "x" 5 6 } } 1 0'
    u = parse_nfg(text).game.payoff_tensor
    np.testing.assert_array_equal(u[:, :, 0], [[5, 0], [6, 0]])


def test_strategy_names_with_a_payoff_list() -> None:
    # Gambit's grammar pairs either strategy form with either body
    text = 'NFG 1 R "" { "1" "2" } { { "U" "D" } { "L" "R" } } "" 1 2 3 4 5 6 7 8'
    nf = parse_nfg(text)
    assert nf.version == "payoff" and nf.game.labels == (("U", "D"), ("L", "R"))
    np.testing.assert_array_equal(nf.game.payoff_tensor[:, 1, 0], [3, 4])
    np.testing.assert_array_equal(nf.game.payoff_tensor[:, 0, 1], [5, 6])


def test_escaped_quotes_in_strings() -> None:
    nf = parse_nfg('NFG 1 R "say \\"hi\\"" { "P" } { 1 } "c" 7')
    assert nf.title == 'say "hi"'
    assert write_nfg(nf.game, title=nf.title).startswith('NFG 1 R "say \\"hi\\""')


payoffs = st.one_of(
    st.integers(-1000, 1000).map(float),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=40, deadline=None)
@given(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    data=st.data(),
    version=st.sampled_from(["payoff", "outcome"]),
)
def test_write_then_read_gives_the_same_game(
    shape: list[int], data: st.DataObject, version: str
) -> None:
    n = len(shape)
    flat = data.draw(
        st.lists(payoffs, min_size=n * int(np.prod(shape)), max_size=n * int(np.prod(shape)))
    )
    game = NormalFormGame.from_payoffs(np.array(flat).reshape(n, *shape))
    text = write_nfg(game, title="t", comment="c", version=version)  # type: ignore[arg-type]
    back = parse_nfg(text)
    np.testing.assert_array_equal(back.game.cost_tensor, game.cost_tensor)
    assert back.version == version
    if version == "outcome":
        assert back.game.labels == game.labels


def test_files_on_disk(tmp_path: Path) -> None:
    game = parse_nfg(BOS_OUTCOME).game
    f = tmp_path / "bos.nfg"
    write_nfg(game, f, title="BoS", players=["Row", "Column"], version="outcome")
    nf = read_nfg(f)
    assert nf.players == ("Row", "Column") and nf.title == "BoS"
    np.testing.assert_array_equal(nf.game.cost_tensor, game.cost_tensor)
    with pytest.raises(GameError, match="cannot read"):
        read_nfg(tmp_path / "absent.nfg")
    with pytest.raises(GameError, match="players must name the 2 players"):
        write_nfg(game, players=["only one"])
    with pytest.raises(GameError, match="version must be"):
        write_nfg(game, version="tree")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('EFG 2 R "" { "1" }', "line 1: a strategic-form file starts with 'NFG'"),
        ('NFG 2 R "" { "1" } { 1 } 0', "only version 1"),
        (
            'NFG 1 R "" { "1" "2" }\n{ 2 2 }\n1 2 3 4 5 6 7',
            "line 3: expected a payoff, found the end",
        ),
        (
            'NFG 1 R "" { "1" "2" }\n{ 2 2 }\n1 2 3 x 5 6 7 8',
            "line 3: a payoff must be a number, got 'x'",
        ),
        (
            'NFG 1 R "" { "1" "2" }\n{ 2 }\n1 2',
            "line 2: 2 players need one positive strategy count",
        ),
        (
            'NFG 1 R "" { "1" "2" }\n{ 2 0 }\n',
            "line 2: a strategy count must be a positive integer",
        ),
        ('NFG 1 R "" { "1" } { 1 }\n"c"\n1 2', "line 3: unexpected '2' after the payoffs"),
        ('NFG 1 R "unterminated { "1" }', "unterminated string"),
        (
            'NFG 1 R "" { "1" } { { "a" } }\n{ { "o" 1 2 } }\n1',
            "line 2: an outcome needs 1 payoffs, got 2",
        ),
        (
            'NFG 1 R "" { "1" } { { "a" } }\n{ { "o" 1 } }\n\n2',
            "line 4: outcome numbers run from 0 to 1",
        ),
        ('NFG 1 R "" { "1" } { 1 \n', "line 1: expected '}', found the end of the file"),
    ],
)
def test_malformed_files_name_the_line(text: str, message: str) -> None:
    with pytest.raises(GameError, match=message.replace("(", r"\(")):
        parse_nfg(text, "bad.nfg")
