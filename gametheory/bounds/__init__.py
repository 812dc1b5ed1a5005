"""Analytic and LP-certified Price-of-Anarchy bounds, symbolic forms and bound checking.

Every function returns a :class:`~gametheory.bounds.results.BoundResult`: the value, whether it
is tight and on which instance, the source paper and theorem, a certificate and, where a
closed form exists, a sympy expression with its LaTeX. Known values and their sources are
listed in ``docs/theory/bounds.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gametheory._lazy import lazy_exports

if TYPE_CHECKING:
    from gametheory.bounds.atomic import (
        affine_bound,
        affine_pos_bound,
        aland_bound,
        fair_sharing_poa_bound,
        fair_sharing_pos_bound,
        phi_d,
        symmetric_affine_bound,
    )
    from gametheory.bounds.check import check_bound
    from gametheory.bounds.exact_lp import exact_poa_lp
    from gametheory.bounds.nonatomic import beta_bound, bpr_bound, pigou_bound, polynomial_bound
    from gametheory.bounds.queueing import haviv_roughgarden_bound, mm1_bound
    from gametheory.bounds.smoothness import smoothness_bound
    from gametheory.bounds.symbolic import symbolic_pigou_bound
else:
    __getattr__, __dir__ = lazy_exports(__name__, __file__, globals())

__all__ = [
    "affine_bound",
    "affine_pos_bound",
    "aland_bound",
    "beta_bound",
    "bpr_bound",
    "check_bound",
    "exact_poa_lp",
    "fair_sharing_poa_bound",
    "fair_sharing_pos_bound",
    "haviv_roughgarden_bound",
    "mm1_bound",
    "phi_d",
    "pigou_bound",
    "polynomial_bound",
    "smoothness_bound",
    "symbolic_pigou_bound",
    "symmetric_affine_bound",
]
