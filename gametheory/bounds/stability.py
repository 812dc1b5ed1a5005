"""Price-of-Stability bounds, and the Price of Anarchy of fair cost sharing.

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

from gametheory.bounds._common import as_count, closed_form
from gametheory.bounds.results import BoundResult

__all__ = ["affine_pos_bound", "fair_sharing_poa_bound", "fair_sharing_pos_bound"]

_ANSHELEVICH = (
    "Anshelevich, Dasgupta, Kleinberg, Tardos, Wexler and Roughgarden, The price of "
    "stability for network design with fair cost allocation, SICOMP 38(4) 2008"
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
