"""Results of the bounds: a bound with its closed form, and the check of a game against its
class bound.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gametheory.results import Result

__all__ = ["BoundCheckResult", "BoundResult"]


@dataclass(frozen=True, repr=False)
class BoundResult(Result):
    """A Price-of-Anarchy (or Price-of-Stability) bound for a class of games.

    Attributes
    ----------
    value
        The bound (``inf`` when the class has unbounded PoA; ``nan`` only for a symbolic
        bound that still depends on free parameters: see ``expr`` and :meth:`at`).
    quantity
        What is bounded: ``"PoA"``, ``"PoS"`` or ``"robust PoA"`` (coarse correlated
        equilibria).
    setting
        The class of games, e.g. ``"nonatomic routing, polynomial costs of degree <= 2"``.
    tight
        Whether the bound is attained (or approached) by some instance of the class.
    tight_instance
        The instance attaining it, in words (empty when not tight or unknown).
    source
        The paper the bound comes from.
    theorem
        The theorem (or section) of that paper.
    certificate
        Evidence for the value: the maximising ``(cost, x, r)`` of a Pigou supremum, the
        ``(lambda, mu)`` of a smoothness LP, the dual multipliers of the exact PoA LP.
    expr
        A sympy expression of the bound when a closed form exists, else None.
    latex
        LaTeX of ``expr`` (empty when there is none).
    method
        ``"closed form"``, ``"numerical supremum"``, ``"linear program"``, ...
    converged
        Whether the computation behind the value succeeded to its tolerance.
    iterations
        Iterations of the numerical method (0 for closed forms).
    notes
        Caveats, for example that a result is unconfirmed in the primary source.
    """

    value: float
    quantity: str
    setting: str
    tight: bool
    tight_instance: str
    source: str
    theorem: str
    certificate: dict[str, Any] = field(default_factory=dict)
    expr: Any = None
    latex: str = ""
    method: str = "closed form"
    converged: bool = True
    iterations: int = 0
    notes: str = ""

    def __float__(self) -> float:
        return float(self.value)

    def at(self, **values: float) -> float:
        """Evaluate ``expr`` with its free symbols (by name) set to ``values``."""
        from gametheory.errors import GameError

        if self.expr is None:
            raise GameError("this bound has no symbolic expression to evaluate")
        subs = {s: values[s.name] for s in self.expr.free_symbols if s.name in values}
        missing = sorted(s.name for s in self.expr.free_symbols if s.name not in values)
        if missing:
            raise GameError(f"values missing for the free symbols {missing}")
        return float(self.expr.subs(subs).evalf())

    def _repr_latex_(self) -> str:
        lhs = r"\mathrm{" + self.quantity.replace(" ", r"\ ") + "}"
        num = f"{self.value:.6g}"
        if self.latex:
            return f"${lhs} \\le {self.latex} \\approx {num}$"
        return f"${lhs} \\le {num}$"


@dataclass(frozen=True, repr=False)
class BoundCheckResult(Result):
    """The outcome of a search for counterexamples to a claimed PoA bound.

    Attributes
    ----------
    claimed
        The claimed upper bound on the PoA.
    survived
        True when no instance with a PoA above ``claimed`` (beyond ``tolerance``) was found.
    worst_ratio
        The largest PoA found.
    witness
        The game attaining ``worst_ratio`` (re-solvable with the library's solvers).
    witness_result
        The solved PoA of the witness.
    family
        The class of instances searched.
    trials
        Random instances sampled.
    local_steps
        Local-search moves tried from the worst sampled instance.
    instances_solved
        Instances solved in total.
    tolerance
        Relative slack allowed before a ratio counts as a counterexample (solver accuracy).
    class_bound
        The known bound for the class, when the library has one (None otherwise).
    method
        The search performed.
    seed
        The seed of the random generator.
    """

    claimed: float
    survived: bool
    worst_ratio: float
    witness: Any
    witness_result: Any
    family: str
    trials: int
    local_steps: int
    instances_solved: int
    tolerance: float
    class_bound: float | None
    method: str
    seed: int | None = None
