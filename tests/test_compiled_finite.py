"""The compiled finite-game kernels (Numba) against the NumPy and Qhull ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.common.compiled import numba_available
from gametheory.solvers.finite.lemke_howson import lemke_howson
from gametheory.solvers.finite.vertex_enumeration import _float_vertices, vertex_enumeration

pytestmark = pytest.mark.skipif(not numba_available(), reason="Numba not installed")


def _rows(points: np.ndarray) -> list[tuple[float, ...]]:
    return sorted(tuple(np.round(p, 9)) for p in points)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31), rows=st.integers(1, 9), d=st.integers(2, 9))
def test_pivoting_finds_the_qhull_vertices(seed: int, rows: int, d: int) -> None:
    from gametheory.solvers.finite.compiled_vertices import SIMPLE, simple_polytope_vertices

    M = np.random.default_rng(seed).uniform(0.05, 1.0, (rows, d))
    M /= M.max()
    found, tight, status = simple_polytope_vertices(M, 1e-9)
    assert status == SIMPLE  # continuous random data: simple almost surely
    assert not found[0].any() and tight[0, :d].all()  # the origin first
    ref, ref_tight = _float_vertices(M, 1e-9, compiled=False)
    assert _rows(found[1:]) == _rows(ref)
    order, ref_order = np.lexsort(found[1:].T), np.lexsort(ref.T)
    np.testing.assert_array_equal(tight[1:][order], ref_tight[ref_order])
    # every vertex is feasible and has exactly d tight labels
    assert (found >= 0).all() and (found @ M.T <= 1 + 1e-12).all()
    assert (tight.sum(axis=1) == d).all()


def test_a_degenerate_polytope_is_reported_and_left_to_qhull() -> None:
    from gametheory.solvers.finite.compiled_vertices import DEGENERATE, simple_polytope_vertices

    # two equal rows: a vertex where both constraints are tight (d + 1 labels)
    M = np.array([[1.0, 0.5], [1.0, 0.5], [0.2, 1.0]])
    found, tight, status = simple_polytope_vertices(M, 1e-9)
    assert status == DEGENERATE and found.shape == (0, 2) and tight.shape == (0, 5)
    compiled, labels = _float_vertices(M, 1e-9, compiled=True)  # Qhull's answer
    assert _rows(compiled) == _rows(_float_vertices(M, 1e-9, compiled=False)[0])
    assert (labels.sum(axis=1) > 2).any()


def _same_equilibria(a: object, b: object) -> None:
    ea, eb = a.equilibria, b.equilibria  # type: ignore[attr-defined]
    assert len(ea) == len(eb)
    for (x1, y1), (x2, y2) in zip(ea, eb, strict=True):
        np.testing.assert_allclose(x1, x2, atol=1e-9)
        np.testing.assert_allclose(y1, y2, atol=1e-9)


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31),
    m=st.integers(1, 7),
    n=st.integers(1, 7),
    kind=st.sampled_from(["normal", "integer", "coarse"]),
    polytopes=st.sampled_from(["both", "row"]),
)
def test_vertex_enumeration_same_equilibria_with_either_kernel(
    seed: int, m: int, n: int, kind: str, polytopes: str
) -> None:
    rng = np.random.default_rng(seed)
    if kind == "integer":  # small integer payoffs: degenerate games, exact arithmetic
        A, B = rng.integers(0, 3, (2, m, n)).astype(float)
    elif kind == "coarse":  # three fractional values: degenerate games in floating point
        A, B = rng.choice([0.1, 0.35, 0.7], (2, m, n))
    else:
        A, B = rng.standard_normal((2, m, n))
    game = NormalFormGame.from_bimatrix(A, B)
    fast = vertex_enumeration(game, polytopes=polytopes, kernel="numba")  # type: ignore[arg-type]
    slow = vertex_enumeration(game, polytopes=polytopes, kernel="numpy")  # type: ignore[arg-type]
    _same_equilibria(fast, slow)
    assert fast.degenerate == slow.degenerate and fast.exact == slow.exact
    assert fast.method == slow.method  # the row shortcut is taken, or not, by both
    assert fast.max_regret <= 1e-9


@pytest.mark.parametrize("size", [5, 30])
def test_lemke_howson_same_path_with_either_kernel(size: int) -> None:
    rng = np.random.default_rng(size)
    for _ in range(3):
        game = NormalFormGame.from_bimatrix(*rng.standard_normal((2, size, size)))
        for label in range(0, 2 * size, max(1, size // 4)):
            fast = lemke_howson(game, label, kernel="numba")
            slow = lemke_howson(game, label, kernel="numpy")
            assert fast.converged and slow.converged
            assert fast.iterations == slow.iterations
            for a, b in zip(fast.strategies, slow.strategies, strict=True):
                np.testing.assert_allclose(a, b, atol=1e-10)
            assert fast.max_regret <= 1e-9


def test_lemke_howson_degenerate_games_and_the_pivot_budget() -> None:
    rng = np.random.default_rng(7)
    for _ in range(20):  # payoffs in {0, 1, 2}: ties for the lexicographic rule
        A, B = rng.integers(0, 3, (2, 6, 6)).astype(float)
        game = NormalFormGame.from_bimatrix(A, B)
        for label in (0, 5, 11):
            fast = lemke_howson(game, label, kernel="numba")
            slow = lemke_howson(game, label, kernel="numpy")
            assert fast.iterations == slow.iterations and fast.max_regret <= 1e-9
            for a, b in zip(fast.strategies, slow.strategies, strict=True):
                np.testing.assert_allclose(a, b, atol=1e-10)
    game = NormalFormGame.from_bimatrix(*np.random.default_rng(1).standard_normal((2, 40, 40)))
    full = lemke_howson(game, 0, kernel="numba")
    cut = lemke_howson(game, 0, max_pivots=full.iterations - 1, kernel="numba")
    assert full.converged and not cut.converged and cut.iterations == full.iterations - 1


def test_a_degenerate_column_polytope_makes_the_row_shortcut_fall_back() -> None:
    from gametheory.solvers.finite.compiled_vertices import row_complements

    rng = np.random.default_rng(3)
    fallbacks = 0
    for _ in range(40):
        A, B = rng.standard_normal((2, 4, 4))
        A[:, 1] = A[:, 0]  # two identical columns for the row player
        game = NormalFormGame.from_bimatrix(A, B)
        fast = vertex_enumeration(game, polytopes="row", kernel="numba")
        slow = vertex_enumeration(game, polytopes="row", kernel="numpy")
        _same_equilibria(fast, slow)
        assert fast.method == slow.method and fast.max_regret <= 1e-9
        fallbacks += fast.method == "vertex-enumeration"  # both polytopes enumerated
    assert fallbacks == 3  # the games whose completing points are degenerate
    # the kernel's own verdict on such a game: status 1, nothing returned
    An = np.array([[1.0, 0.5], [1.0, 0.5]])
    tight = np.array([[False, True, True, False]])  # x on row 0, best response column 0
    hit, y, labels, status = row_complements(An, tight, 1e-9)
    assert status == 1 and hit.size == 0 and y.shape == (0, 2) and labels.shape == (0, 4)
