"""One Nash equilibrium of a bimatrix game by the Lemke-Howson algorithm.

Lemke and Howson, "Equilibrium points of bimatrix games", SIAM J. Appl. Math. 12(2) 1964,
in the formulation of Shapley (1974) and von Stengel ("Computing equilibria for two-person
games", Handbook of Game Theory vol. 3, ch. 45, 2002, Section 3): with the positive payoff
matrices ``A``, ``B``, the two tableaux

    B^T x + s = 1    (variables x_i with label i, slacks s_j with label m + j),
    r + A y = 1      (slacks r_i with label i, variables y_j with label m + j)

start at the artificial equilibrium ``x = 0, y = 0``. Dropping a label ``k`` lets the
variable with label ``k`` enter its tableau; whichever variable leaves, the variable with the
same label enters the *other* tableau (complementary pivoting), until the label ``k`` leaves:
the pair is then completely labelled, an equilibrium (von Stengel 2002, Theorem 3.4).

Degenerate games can make the minimum-ratio test tie and the path cycle. The leaving row is
therefore chosen by the *lexicographic* minimum ratio over ``(rhs, B^-1)`` divided by the
pivot column (Lemke, "Bimatrix equilibrium points and mathematical programming", Management
Science 11(7) 1965; von Stengel 2002, Section 3.7): the rows of the basis inverse are
linearly independent, so the choice is unique and every basis along the path is
lexico-feasible, which rules out cycling. The final basis is refactorised against the
original matrices to remove rounding accumulated along long paths.

With Numba installed (``kernel="auto"``) the path is followed by one compiled loop over
the same tableaux (:mod:`gametheory.solvers.finite.compiled_pivots`); without it, each
pivot is a few NumPy calls and one BLAS rank-one update.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy.linalg.blas import dger

from gametheory.errors import GameError, SolverError
from gametheory.games.normal_form import NormalFormGame
from gametheory.solvers.common.blas import single_blas_thread
from gametheory.solvers.common.compiled import Kernel, use_compiled
from gametheory.solvers.finite.results import MixedEquilibriumResult

__all__ = ["lemke_howson"]

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


def _unbounded(entering: int) -> SolverError:
    return SolverError(
        f"Lemke-Howson: column of label {entering} has no positive entry (unbounded ray)"
    )


class _Tableau:
    """A condensed tableau (dictionary) of ``M z + I slack = 1``.

    Only the nonbasic columns and the right-hand side are stored (Tucker's pivot), which
    halves the work of a pivot against the full tableau; the columns of the basis inverse
    needed by the lexicographic rule are read off the stored columns of nonbasic slacks and
    are unit vectors for basic slacks.
    """

    def __init__(self, matrix: FloatArray, slack_labels: IntArray, var_labels: IntArray) -> None:
        rows, k = matrix.shape
        # Column-major: the pivot column and the right-hand side are contiguous.
        self.table = np.empty((rows, k + 1), order="F")
        self.table[:, :k] = matrix
        self.table[:, k] = 1.0
        n_labels = k + rows
        self.slack_labels = slack_labels
        self.basis: list[int] = [int(v) for v in slack_labels]
        self.col_of: list[int] = [-1] * n_labels
        self.row_of: list[int] = [-1] * n_labels
        for c, label in enumerate(var_labels.tolist()):
            self.col_of[label] = c
        for r, label in enumerate(slack_labels.tolist()):
            self.row_of[label] = r
        self._ratios = np.empty(rows)

    def pivot(self, entering: int, tol: float) -> int:
        """Enter the variable with label ``entering``; return the label that leaves."""
        t = self.table
        c = self.col_of[entering]
        col = t[:, c].copy()
        # Minimum ratio over the rows with a positive entry (the caller silences the
        # division warnings: other rows are overwritten with inf).
        ratios = np.divide(t[:, -1], col, out=self._ratios)
        ratios[col <= tol] = np.inf
        r = int(ratios.argmin())
        low = float(ratios[r])
        if low == np.inf:
            raise _unbounded(entering)
        ratios[r] = np.inf  # a second row within the tie tolerance needs the lexicographic rule
        if float(ratios.min()) <= low + 1e-12 * max(1.0, abs(low)):
            rows = np.flatnonzero(col > tol)
            r = self._lexmin_row(rows, col[rows])
        leaving = self.basis[r]
        p = float(col[r])
        prow = t[r] / p
        # In-place rank-one update t -= col prow^T (BLAS dger on the column-major table).
        dger(-1.0, col, prow, a=t, overwrite_a=True)
        t[r] = prow
        np.multiply(col, -1.0 / p, out=t[:, c])
        t[r, c] = 1.0 / p
        self.basis[r] = entering
        self.row_of[entering], self.col_of[entering] = r, -1
        self.row_of[leaving], self.col_of[leaving] = -1, c
        return leaving

    def _lexmin_row(self, rows: IntArray, pivots: FloatArray) -> int:
        """The row of the lexicographically smallest ``(rhs, B^-1 row) / pivot``."""
        t = self.table
        ratios = t[rows, -1] / pivots
        best = int(np.argmin(ratios))
        low = ratios[best]
        ties = ratios <= low + 1e-12 * max(1.0, abs(low))
        if np.count_nonzero(ties) == 1:
            return int(rows[best])
        keep = np.flatnonzero(ties)
        for label in self.slack_labels.tolist():
            c = self.col_of[label]
            if c >= 0:
                column = t[rows[keep], c]
            else:
                column = (rows[keep] == self.row_of[label]).astype(np.float64)
            ratios = column / pivots[keep]
            low = ratios.min()
            keep = keep[ratios <= low + 1e-12 * max(1.0, abs(low))]
            if keep.size == 1:
                break
        return int(rows[keep[0]])

    def values(self, n_labels: int) -> FloatArray:
        """Value of every variable (by label) at the current basic solution."""
        out = np.zeros(n_labels)
        out[np.asarray(self.basis)] = self.table[:, -1]
        return out


def _refactorised(matrix: FloatArray, basis: IntArray, var_labels: IntArray) -> FloatArray | None:
    """Solve ``[M | I]`` restricted to the basic columns for the basic values, exactly once."""
    rows = matrix.shape[0]
    full = np.zeros((rows, matrix.shape[1] + rows))
    # Column layout by label: variables var_labels, slacks the remaining labels.
    labels = np.zeros(full.shape[1], dtype=np.int64)
    n_vars = len(var_labels)
    full[:, :n_vars] = matrix
    full[:, n_vars:] = np.eye(rows)
    slack_labels = np.setdiff1d(np.arange(full.shape[1]), var_labels)
    labels[:n_vars] = var_labels
    labels[n_vars:] = slack_labels
    position = np.empty_like(labels)
    position[labels] = np.arange(labels.size)
    try:
        sol = np.linalg.solve(full[:, position[basis]], np.ones(rows))
    except np.linalg.LinAlgError:
        return None
    values = np.zeros(full.shape[1])
    values[basis] = sol
    return values


def lemke_howson(
    game: NormalFormGame,
    initial_label: int = 0,
    max_pivots: int = 1_000_000,
    tol: float = 1e-12,
    *,
    kernel: Kernel = "auto",
) -> MixedEquilibriumResult:
    """One Nash equilibrium of a two-player game by lexicographic Lemke-Howson.

    Parameters
    ----------
    game
        A two-player :class:`~gametheory.games.normal_form.NormalFormGame` (costs).
    initial_label
        The label dropped at the artificial equilibrium: ``0..m-1`` are the row player's
        strategies, ``m..m+n-1`` the column player's. Different labels may reach different
        equilibria.
    max_pivots
        Pivot budget; the path can be exponentially long (Savani and von Stengel,
        Econometrica 74(2) 2006). Exhausting it returns ``converged=False``.
    tol
        Smallest column entry treated as positive in the ratio test (payoffs are scaled
        to ``[1, 2]`` first).
    kernel
        ``"auto"`` (the compiled pivot loop when Numba is installed), ``"numba"`` or
        ``"numpy"`` (:func:`~gametheory.solvers.common.compiled.use_compiled`).

    Returns
    -------
    MixedEquilibriumResult
        The equilibrium, its supports and expected costs, its maximum regret (the
        certificate), the number of pivots and the label.

    Raises
    ------
    GameError
        If the game is not a two-player game or the label is out of range.
    SolverError
        If the ratio test finds no pivot row (a numerical failure).
    """
    if not isinstance(game, NormalFormGame) or game.n_players != 2:
        raise GameError("lemke_howson needs a two-player NormalFormGame")
    costs1, costs2 = game.bimatrix()
    m, n = costs1.shape
    if not isinstance(initial_label, (int, np.integer)) or not 0 <= initial_label < m + n:
        raise GameError(f"initial_label must be in [0, {m + n}), got {initial_label!r}")
    compiled = use_compiled(kernel)
    # Positive payoffs scaled to [1, 2]; neither changes best responses.
    A = _scaled_payoffs(costs1)
    B = _scaled_payoffs(costs2)
    rows_lab = np.arange(m, dtype=np.int64)
    cols_lab = np.arange(m, m + n, dtype=np.int64)
    tableaux = (_Tableau(B.T, cols_lab, rows_lab), _Tableau(A, rows_lab, cols_lab))
    k = int(initial_label)
    entering, side = k, 0 if k < m else 1
    pivots, converged = 0, False
    with single_blas_thread(), np.errstate(divide="ignore", invalid="ignore"):
        if compiled:
            pivots, converged = _compiled_path(tableaux, k, side, max_pivots, tol)
        else:
            while pivots < max_pivots:
                leaving = tableaux[side].pivot(entering, tol)
                pivots += 1
                if leaving == k:
                    converged = True
                    break
                entering, side = leaving, 1 - side
        x, y = _strategies(tableaux, A, B, m, n)
    if not np.isfinite(x).all() or not np.isfinite(y).all():
        raise SolverError("Lemke-Howson ended at a basis with no finite solution")
    cost = np.array([x @ costs1 @ y, x @ costs2 @ y])
    regret = max(cost[0] - (costs1 @ y).min(), cost[1] - (x @ costs2).min(), 0.0)
    return MixedEquilibriumResult(
        strategies=(x, y),
        supports=(tuple(np.flatnonzero(x > 0).tolist()), tuple(np.flatnonzero(y > 0).tolist())),
        costs=cost,
        social_cost=float(cost.sum()),
        max_regret=float(regret),
        converged=converged,
        iterations=pivots,
        initial_label=k,
        method="lemke-howson (lexicographic)",
    )


def _compiled_path(
    tableaux: tuple[_Tableau, _Tableau], label: int, side: int, max_pivots: int, tol: float
) -> tuple[int, bool]:
    """Follow the path with the compiled loop; the tableaux are updated in place."""
    from gametheory.solvers.finite.compiled_pivots import UNBOUNDED, lemke_howson_path

    state = []
    for tab in tableaux:
        state.append(
            (
                tab.table,
                np.asarray(tab.basis, dtype=np.int64),
                np.asarray(tab.col_of, dtype=np.int64),
                np.asarray(tab.row_of, dtype=np.int64),
                np.ascontiguousarray(tab.slack_labels, dtype=np.int64),
            )
        )
    pivots, status, entering = lemke_howson_path(*state[0], *state[1], label, side, max_pivots, tol)
    for tab, (_, basis, col_of, row_of, _) in zip(tableaux, state, strict=True):
        tab.basis, tab.col_of, tab.row_of = basis.tolist(), col_of.tolist(), row_of.tolist()
    if status == UNBOUNDED:
        raise _unbounded(entering)
    return int(pivots), status == 1


def _scaled_payoffs(costs: FloatArray) -> FloatArray:
    spread = float(costs.max() - costs.min())
    scaled: FloatArray = 1.0 + (costs.max() - costs) / (spread if spread > 0 else 1.0)
    return scaled


def _strategies(
    tableaux: tuple[_Tableau, _Tableau], A: FloatArray, B: FloatArray, m: int, n: int
) -> tuple[FloatArray, FloatArray]:
    """Normalised strategies from the final bases, refactorised against ``A`` and ``B``."""
    labels = np.arange(m + n, dtype=np.int64)
    out = []
    for tab, matrix, var in ((tableaux[0], B.T, labels[:m]), (tableaux[1], A, labels[m:])):
        basis = np.asarray(tab.basis, dtype=np.int64)
        values = _refactorised(matrix, basis, var)
        if values is None or (values[basis] < -1e-9).any():
            values = tab.values(m + n)
        z = np.clip(values[var], 0.0, None)
        total = z.sum()
        out.append(z / total if total > 0 else z)
    return out[0], out[1]
