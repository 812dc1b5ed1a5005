"""Closed-form Price-of-Anarchy and Price-of-Stability bounds for atomic congestion games.

Price of Anarchy:

* Affine costs: pure PoA 5/2 unweighted and ``(3 + sqrt 5)/2`` weighted (Christodoulou and
  Koutsoupias, STOC 2005; Awerbuch, Azar and Epstein, STOC 2005: their main theorems).
* Symmetric games with affine costs and ``N`` players: ``(5N - 2)/(2N + 1)``
  (Christodoulou and Koutsoupias, STOC 2005, the symmetric case).
* Polynomial costs of degree ``d`` with nonnegative coefficients: the exact values of
  Aland, Dumrauf, Gairing, Monien and Schoppmann (SICOMP 40(5) 2011, main theorems for
  weighted and unweighted players). With ``Phi_d`` the positive root of ``(x + 1)^d = x^(d+1)`` and
  ``k = floor(Phi_d)``, the unweighted PoA is

  ``((k+1)^(2d+1) - k^(d+1) (k+2)^d) / ((k+1)^(d+1) - (k+2)^d + (k+1)^d - k^(d+1))``

  and the weighted one is ``Phi_d^(d+1)``. Both are tight, and they hold for mixed and
  correlated equilibria too.

Price of Stability, and the Price of Anarchy of fair cost sharing:

* Atomic congestion games with affine costs: PoS ``1 + 1/sqrt(3)`` (about 1.577350). The
  lower bound is Christodoulou and Koutsoupias (ESA 2005); the matching upper bound is
  attributed to Caragiannis, Flammini, Kaklamanis, Kanellopoulos and Moscardelli (ICALP
  2006) and was *not* confirmed in the primary source here: the result says so.
* Fair cost sharing ``c_e(k) = C_e / k`` (Anshelevich, Dasgupta, Kleinberg, Tardos, Wexler
  and Roughgarden, SICOMP 38(4) 2008): PoS ``<= H_n`` (tight in directed networks, via
  Rosenthal's potential) and PoA ``= n``.
* Nonatomic routing: every Wardrop equilibrium has the same cost (Beckmann, McGuire and
  Winsten 1956), so PoS = PoA and the Pigou bound applies
  (:func:`gametheory.bounds.nonatomic.pigou_bound`).
"""

from __future__ import annotations

import sympy as sp

from gametheory.bounds._common import as_count, as_degree, closed_form
from gametheory.bounds.results import BoundResult

__all__ = [
    "affine_bound",
    "affine_pos_bound",
    "aland_bound",
    "fair_sharing_poa_bound",
    "fair_sharing_pos_bound",
    "phi_d",
    "symmetric_affine_bound",
]

_ALAND = (
    "Aland, Dumrauf, Gairing, Monien and Schoppmann, Exact price of anarchy for polynomial "
    "congestion games, SICOMP 40(5) 2011"
)
_CK = "Christodoulou and Koutsoupias, The price of anarchy of finite congestion games, STOC 2005"
_AAE = "Awerbuch, Azar and Epstein, The price of routing unsplittable flow, STOC 2005"
_ANSHELEVICH = (
    "Anshelevich, Dasgupta, Kleinberg, Tardos, Wexler and Roughgarden, The price of "
    "stability for network design with fair cost allocation, SICOMP 38(4) 2008"
)
_Z = sp.Symbol("z", positive=True)


def phi_d(degree: int) -> sp.Expr:
    """``Phi_d``: the positive real root of ``(x + 1)^d = x^(d+1)``, exactly (sympy).

    ``Phi_1`` is the golden ratio; ``Phi_0 = 1``.
    """
    d = int(as_degree(degree, integer=True))
    poly = sp.Poly((_Z + 1) ** d - _Z ** (d + 1), _Z)
    roots = [r for r in sp.real_roots(poly) if r.is_positive]
    root: sp.Expr = roots[0]
    return root


def _aland_unweighted(d: int) -> sp.Expr:
    k = int(sp.floor(phi_d(d)))
    num = (k + 1) ** (2 * d + 1) - k ** (d + 1) * (k + 2) ** d
    den = (k + 1) ** (d + 1) - (k + 2) ** d + (k + 1) ** d - k ** (d + 1)
    return sp.Rational(num, den)


def aland_bound(degree: int, *, weighted: bool = False) -> BoundResult:
    """Exact PoA of atomic congestion games with polynomial costs of degree ``<= d``.

    Parameters
    ----------
    degree
        The degree ``d >= 0`` (an integer) of the cost polynomials (nonnegative
        coefficients).
    weighted
        Weighted players (``Phi_d^(d+1)``) instead of unweighted ones.

    Returns
    -------
    BoundResult
        The exact value as a sympy expression (a rational number when unweighted); tight
        (for large numbers of players), certificate ``Phi_d`` and ``k = floor(Phi_d)``.

    References
    ----------
    Aland et al., SICOMP 40(5) 2011: the exact (upper bound and matching lower-bound
    construction) PoA for weighted and for unweighted players.
    """
    d = int(as_degree(degree, integer=True))
    phi = phi_d(d)
    k = int(sp.floor(phi))
    if weighted:
        expr = sp.simplify(phi ** (d + 1)) if d <= 1 else phi ** (d + 1)
        thm = "exact PoA for weighted players: Phi_d^(d+1), with matching lower bound"
    else:
        expr = _aland_unweighted(d)
        thm = "exact PoA for unweighted players, with matching lower bound"
    kind = "weighted" if weighted else "unweighted"
    return closed_form(
        expr,
        quantity="PoA",
        setting=f"atomic congestion games, {kind}, polynomial costs of degree <= {d}",
        tight=True,
        tight_instance=f"the lower-bound construction of Aland et al. for d={d} (k={k})",
        source=_ALAND,
        theorem=thm,
        certificate={"phi_d": float(sp.N(phi, 30)), "k": k},
    )


def affine_bound(*, weighted: bool = False) -> BoundResult:
    """PoA of atomic congestion games with affine costs: 5/2, or ``(3 + sqrt 5)/2`` weighted.

    Tight: the 3-player instance of Christodoulou and Koutsoupias (resources ``h0..h2``,
    ``g0..g2``, ``c(k) = k``) has a pure equilibrium of cost 15 against an optimum of 6.

    References
    ----------
    Christodoulou and Koutsoupias, STOC 2005 (5/2, pure and mixed; weighted (3 + sqrt 5)/2);
    Awerbuch, Azar and Epstein, STOC 2005 (the same values, unsplittable flow).
    """
    if weighted:
        expr: sp.Expr = (3 + sp.sqrt(5)) / 2
        instance = "the weighted lower-bound instance of Awerbuch, Azar and Epstein"
        thm = "weighted players, affine costs (both papers)"
    else:
        expr = sp.Rational(5, 2)
        instance = (
            "3 players, resources h0..h2, g0..g2 with c(k) = k; player i picks {h_i, g_i} "
            "or {h_(i+1), h_(i+2), g_(i+1)}: equilibrium 15, optimum 6"
        )
        thm = "unweighted players, affine costs (both papers)"
    return closed_form(
        expr,
        quantity="PoA",
        setting=f"atomic congestion games, {'weighted' if weighted else 'unweighted'}, "
        "affine costs",
        tight=True,
        tight_instance=instance,
        source=f"{_CK}; {_AAE}",
        theorem=thm,
    )


def symmetric_affine_bound(n_players: int) -> BoundResult:
    """PoA of symmetric atomic congestion games with affine costs and ``N`` players.

    ``(5N - 2)/(2N + 1)``: 1 for one player, tending to 5/2.

    References
    ----------
    Christodoulou and Koutsoupias, STOC 2005, the bound for symmetric games (tight).
    """
    n = as_count(n_players, "n_players")
    expr = sp.Rational(5 * n - 2, 2 * n + 1)
    return closed_form(
        expr,
        quantity="PoA",
        setting=f"symmetric atomic congestion games, affine costs, {n} players",
        tight=True,
        tight_instance="the symmetric lower-bound construction of Christodoulou and Koutsoupias",
        source=_CK,
        theorem="symmetric games with affine costs",
    )


def affine_pos_bound() -> BoundResult:
    """PoS of atomic congestion games with affine costs: ``1 + 1/sqrt(3)``.

    The value is a proven lower bound (Christodoulou and Koutsoupias, ESA 2005); that it
    is also an upper bound (Caragiannis et al., ICALP 2006) is *unconfirmed* here, and
    the result's ``notes`` say so.

    References
    ----------
    Christodoulou and Koutsoupias, On the price of anarchy and stability of correlated
    equilibria of linear congestion games, ESA 2005 (lower bound); Caragiannis,
    Flammini, Kaklamanis, Kanellopoulos and Moscardelli, Tight bounds for selfish and
    greedy load balancing, ICALP 2006 (upper bound, unconfirmed).
    """
    expr = 1 + 1 / sp.sqrt(3)
    return closed_form(
        expr,
        quantity="PoS",
        setting="atomic congestion games, unweighted, affine costs",
        tight=True,
        tight_instance="the lower-bound family of Christodoulou and Koutsoupias (ESA 2005)",
        source=(
            "Christodoulou and Koutsoupias, ESA 2005 (lower bound); Caragiannis et al., "
            "ICALP 2006 (matching upper bound, unconfirmed)"
        ),
        theorem="PoS of linear congestion games",
        notes="unconfirmed upper bound: the matching upper bound was not read in its source",
    )


def fair_sharing_pos_bound(n_players: int) -> BoundResult:
    """PoS of fair cost-sharing network design with ``n`` players: at most ``H_n``.

    Tight in directed networks: player ``i`` has an own edge of cost ``1/i`` or a shared
    edge of cost ``1 + eps``; the unique equilibrium costs ``H_n``.

    References
    ----------
    Anshelevich et al., SICOMP 38(4) 2008 (PoS <= H_n via Rosenthal's potential; tight
    for directed networks).
    """
    n = as_count(n_players, "n_players")
    expr = sp.harmonic(n)
    return closed_form(
        expr,
        quantity="PoS",
        setting=f"fair cost-sharing games (c_e(k) = C_e / k), {n} players",
        tight=True,
        tight_instance=(
            f"directed: player i owns an edge of cost 1/i, all share one edge of cost 1 + eps "
            f"(unique equilibrium cost H_{n}, optimum 1 + eps)"
        ),
        source=_ANSHELEVICH,
        theorem="PoS <= H_n (potential argument), tight in directed networks",
        certificate={"harmonic_number": float(expr)},
    )


def fair_sharing_poa_bound(n_players: int) -> BoundResult:
    """PoA of fair cost-sharing games with ``n`` players: exactly ``n``.

    Tight on two parallel edges of costs ``n`` and 1: all players on the expensive edge is
    an equilibrium of cost ``n``.

    References
    ----------
    Anshelevich et al., SICOMP 38(4) 2008 (PoA = n).
    """
    n = as_count(n_players, "n_players")
    return closed_form(
        sp.Integer(n),
        quantity="PoA",
        setting=f"fair cost-sharing games (c_e(k) = C_e / k), {n} players",
        tight=True,
        tight_instance=f"two parallel edges of cost {n} and 1, all players on the first",
        source=_ANSHELEVICH,
        theorem="PoA = n for fair cost sharing",
    )
