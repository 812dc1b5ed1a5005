"""Readers of real telemetry formats into the tidy schemas of
:mod:`gametheory.telemetry.schemas`: aiperf and genai-perf exports, Prometheus text
scrapes, Dynamo router logs, aiconfigurator silicon tables, and :func:`load`, which
detects the format of every file under a path."""
