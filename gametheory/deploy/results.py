"""Results of the deployment tools."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gametheory.results import Result

__all__ = ["ProbeResult"]


@dataclass(frozen=True, repr=False)
class ProbeResult(Result):
    """What :func:`probe_router` measured.

    Attributes
    ----------
    decisions
        ``decisions`` schema, every candidate of every decision.
    requests
        ``requests`` schema, one row per request (TTFT, latency, tokens).
    logged
        The router's own log of the run, read (query and booking lines).
    logit_mismatches
        Decisions whose chosen candidate's cost differs from the logged logit by more
        than ``1e-6`` (0 when the probe saw the router's state).
    folder
        Where the files are: ``probe.jsonl``, ``probe_router.log`` (the router's log)
        and ``router_candidates.log``.
    """

    decisions: pd.DataFrame
    requests: pd.DataFrame
    logged: pd.DataFrame
    logit_mismatches: int
    folder: Path

    def _rows(self) -> list[tuple[str, str]]:
        n = int(self.decisions["decision"].nunique()) if len(self.decisions) else 0
        return [
            ("decisions", str(n)),
            ("candidates", str(self.decisions["worker"].nunique() if n else 0)),
            ("requests", str(len(self.requests))),
            ("logit_mismatches", str(self.logit_mismatches)),
            ("folder", str(self.folder)),
        ]
