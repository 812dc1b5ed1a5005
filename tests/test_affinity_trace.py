"""The affinity game built from Mooncake block hashes (shared data) and from small lists."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from gametheory.costs import BPR, Affine
from gametheory.errors import GameError
from gametheory.games.affinity.game import AffinityRoutingGame
from gametheory.solvers.affinity.poa import outcome_poa
from gametheory.solvers.common.best_response import best_response_dynamics


def test_groups_prefixes_and_overlaps_by_hand() -> None:
    hashes = [[0, 1, 2, 3], [0, 1, 5], [0, 1, 2, 9, 9], [7, 8], [7, 8, 1]]
    g = AffinityRoutingGame.from_hash_ids([Affine(1, 1)] * 2, hashes)
    assert g.group.tolist() == [0, 0, 0, 1, 1]
    assert g.prefix.tolist() == [2.0, 2.0]
    assert g.suffix.tolist() == [2.0, 1.0, 3.0, 0.0, 1.0]
    h = AffinityRoutingGame.from_hash_ids([Affine(1, 1)] * 2, hashes, model="overlap")
    assert h.overlap is not None and h.has_potential
    # lcp(0, 2) = 3 blocks shared over the 2 mates of a group of 3.
    assert h.overlap[0].tolist() == [0.0, 1.0, 1.5, 0.0, 0.0]
    assert h.overlap[3, 4] == 2.0
    deeper = AffinityRoutingGame.from_hash_ids([Affine(1, 1)] * 2, [*hashes, [0, 2]], depth=2)
    assert deeper.n_groups == 3
    with pytest.raises(GameError, match="depth"):
        AffinityRoutingGame.from_hash_ids([Affine(1, 1)], hashes, depth=0)
    with pytest.raises(GameError, match=r"hash_ids\[1\]"):
        AffinityRoutingGame.from_hash_ids([Affine(1, 1)], [[1], []])


def read_hashes(path: Path, n: int) -> list[list[int]]:
    with path.open() as f:
        return [json.loads(line)["hash_ids"] for line, _ in zip(f, range(n))]


def test_mooncake_conversation_trace(shared_data: Path) -> None:
    hashes = read_hashes(shared_data / "traces" / "conversation_trace.jsonl", 60)
    workers = [BPR(1.0, 6, alpha=1.0, beta=4.0)] * 4
    g = AffinityRoutingGame.from_hash_ids(workers, hashes, depth=2, block_time=0.01)
    assert g.n_players == 60
    assert g.prompt_blocks.tolist() == [float(len(h)) for h in hashes]
    # Every group prefix is a common prefix of all its members.
    for k in range(g.n_groups):
        members = [hashes[i] for i in np.flatnonzero(g.group == k)]
        p = int(g.prefix[k])
        assert all(m[:p] == members[0][:p] for m in members)
    res = outcome_poa(g, seed=0)
    assert res.exact
    assert all(r >= 1 - 1e-9 for r in res.ratios.values())

    o = AffinityRoutingGame.from_hash_ids(workers, hashes, depth=2, model="overlap")
    assert o.has_potential
    eq = best_response_dynamics(o)
    assert eq.converged and o.is_equilibrium(eq.profile)
    assert np.all(np.diff(eq.potential_history) < 0)
