"""Reader for NVIDIA genai-perf aggregate exports.

genai-perf writes ``profile_export_genai_perf.json`` (one key per metric, e.g.
``"time_to_first_token": {"unit": "ms", "avg": ..., "p99": ...}``, plus
``input_config``) and ``profile_export_genai_perf.csv`` (a per-metric table such as
``Time To First Token (ms),"1,234.56",...``, a blank line, then ``Metric,Value`` rows;
numbers may carry thousands separators). Artifact folders are named
``<model>-<service>-<endpoint>-concurrency<N>``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from gametheory.errors import TelemetryError
from gametheory.telemetry.files import plain_suffix
from gametheory.telemetry.readers.aiperf import read_csv_aggregate, read_json_aggregate

__all__ = ["read_genai_perf"]


def read_genai_perf(
    path: str | Path, *, deployment: str | None = None, concurrency: float | None = None
) -> pd.DataFrame:
    """Read a genai-perf ``profile_export_genai_perf.json`` or ``.csv`` into one sweep row.

    Parameters
    ----------
    path
        The JSON or CSV export.
    deployment
        Deployment name; by default the artifact folder name without its
        ``-concurrencyN`` suffix (else the model in the input config).
    concurrency
        Concurrency; by default from the input config or the folder name.

    Returns
    -------
    pandas.DataFrame
        ``sweep`` schema (one row), with ``attrs["read_report"]``.
    """
    p = Path(path)
    if not p.is_file():
        raise TelemetryError("no such file", file=str(p))
    if plain_suffix(p) == ".csv":
        return read_csv_aggregate(
            p, "genai-perf-csv", deployment=deployment, concurrency=concurrency
        )
    return read_json_aggregate(p, "genai-perf-json", deployment=deployment, concurrency=concurrency)
