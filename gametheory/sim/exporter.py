"""The metrics a Dynamo frontend and its decode workers expose, fed by a live simulation.

:class:`DynamoExporter` is a ``prometheus_client`` collector: the simulator's event loop
records requests into plain Python counters (no locks on the hot path) and each scrape
(``generate_latest``) turns them into the families Dynamo's ``/metrics`` carries, with
their real names, types, labels and histogram buckets (as in
``../shared/data/telemetry/dynamo-metrics``):

=========================================================  =========  ======================
family                                                     type       labels
=========================================================  =========  ======================
``dynamo_frontend_requests_total``                         counter    model, endpoint,
                                                                      request_type, status
``dynamo_frontend_inflight_requests``                      gauge      model
``dynamo_frontend_time_to_first_token_seconds``            histogram  model
``dynamo_frontend_inter_token_latency_seconds``            histogram  model
``dynamo_frontend_request_duration_seconds``               histogram  model
``dynamo_frontend_input_sequence_tokens``                  histogram  model
``dynamo_frontend_output_sequence_tokens``                 histogram  model
``dynamo_frontend_output_tokens_total``                    counter    model
``dynamo_frontend_model_total_kv_blocks`` (and block size,  gauge      model
max_num_seqs, max_num_batched_tokens)
``dynamo_component_inflight_requests``                     gauge      worker
``dynamo_component_kvstats_active_blocks``                 gauge      worker
``dynamo_component_kvstats_total_blocks``                  gauge      worker
``dynamo_component_kvstats_gpu_cache_usage_percent``       gauge      worker
=========================================================  =========  ======================

Worker families carry Dynamo's ``dynamo_namespace="dynamo"`` and
``dynamo_component="backend"`` plus a ``worker_id`` label (one exporter stands for all
the decode workers, which in Dynamo each serve their own ``/metrics``). What the
simulator cannot observe is approximated and said so: a request's inter-token gaps all
count at its mean gap (``output_tokens - 1`` observations of ``(done - first) /
(output_tokens - 1)``), output tokens are counted when the request completes, and a
worker's active blocks are the blocks its unfinished requests reserve (prompt plus
output, as the simulated block manager does).
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Iterator, Sequence

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)

from gametheory.sim.output import TTFT_BUCKETS

__all__ = ["DynamoExporter"]

#: Bucket bounds of Dynamo's frontend histograms other than TTFT (seconds or tokens).
ITL_BUCKETS = (0.0, 0.0019, 0.0035, 0.0067, 0.013, 0.024, 0.045, 0.084, 0.16, 0.3, 0.56, 1.1, 2.0)
DURATION_BUCKETS = (0.0, 1.9, 3.4, 6.3, 12.0, 22.0, 40.0, 75.0, 140.0, 260.0)
ISL_BUCKETS = (0.0, 100, 210, 430, 870, 1800, 3600, 7400, 15000, 31000, 63000, 130000)
OSL_BUCKETS = (0.0, 100, 210, 430, 880, 1800, 3700, 7600, 16000, 32000)


class _Histogram:
    """Bucket counts and sum of one histogram (``le`` semantics: ``x <= bound``)."""

    __slots__ = ("bounds", "counts", "total")

    def __init__(self, bounds: Sequence[float]) -> None:
        self.bounds = [float(b) for b in bounds if math.isfinite(b)]
        self.counts = [0] * (len(self.bounds) + 1)
        self.total = 0.0

    def observe(self, value: float, times: int = 1) -> None:
        self.counts[bisect_left(self.bounds, value)] += times
        self.total += value * times

    def family(self, name: str, doc: str, labels: dict[str, str]) -> HistogramMetricFamily:
        counts = list(self.counts)  # one snapshot: the event loop may be adding
        cumulative, buckets = 0, []
        for bound, count in zip([*self.bounds, math.inf], counts, strict=True):
            cumulative += count
            buckets.append(("+Inf" if bound == math.inf else f"{bound:g}", float(cumulative)))
        fam = HistogramMetricFamily(name, doc, labels=list(labels))
        fam.add_metric(list(labels.values()), buckets, self.total)
        return fam


class DynamoExporter:
    """Dynamo's frontend and worker metrics for ``n_workers`` simulated decode workers.

    Parameters
    ----------
    model
        Value of the ``model`` label (e.g. ``"Llama-3.1-70B"``).
    n_workers
        Decode workers.
    total_blocks
        KV blocks one decode worker holds.
    block_size, max_num_seqs, max_num_batched_tokens
        The deployment's KV block size, decode batch limit and prefill token budget,
        exposed as Dynamo's ``dynamo_frontend_model_*`` gauges.

    Examples
    --------
    >>> from prometheus_client import CollectorRegistry, generate_latest
    >>> exporter = DynamoExporter("m", 2, 1000, 16, 48, 8192)
    >>> exporter.arrived(0, 128, 128)
    >>> exporter.first_token(0.05)
    >>> exporter.finished(0, 2.0, 0.05, 128, 128)
    >>> registry = CollectorRegistry()
    >>> registry.register(exporter)
    >>> b'dynamo_frontend_time_to_first_token_seconds_count{model="m"} 1.0' in (
    ...     generate_latest(registry))
    True
    """

    def __init__(
        self,
        model: str,
        n_workers: int,
        total_blocks: int,
        block_size: int,
        max_num_seqs: int,
        max_num_batched_tokens: int,
    ) -> None:
        self.model = model
        self.total_blocks = total_blocks
        self.block_size = block_size
        self.config = {
            "total_kv_blocks": ("Total KV cache blocks available for a worker", total_blocks),
            "kv_cache_block_size": ("KV cache block size in tokens", block_size),
            "max_num_seqs": ("Maximum number of sequences for a worker", max_num_seqs),
            "max_num_batched_tokens": (
                "Maximum number of batched tokens for a worker",
                max_num_batched_tokens,
            ),
        }
        self.requests = 0
        self.output_tokens = 0
        self.inflight = [0] * n_workers
        self.active_blocks = [0] * n_workers
        self.ttft = _Histogram(TTFT_BUCKETS)
        self.itl = _Histogram(ITL_BUCKETS)
        self.duration = _Histogram(DURATION_BUCKETS)
        self.isl = _Histogram(ISL_BUCKETS)
        self.osl = _Histogram(OSL_BUCKETS)

    def _blocks(self, input_tokens: int, output_tokens: int) -> int:
        return -(-(input_tokens + output_tokens) // self.block_size)

    def arrived(self, worker: int, input_tokens: int, output_tokens: int) -> None:
        """A request routed to ``worker``."""
        self.inflight[worker] += 1
        self.active_blocks[worker] += self._blocks(input_tokens, output_tokens)
        self.isl.observe(input_tokens)

    def first_token(self, ttft_s: float) -> None:
        """A request's first token, ``ttft_s`` after its arrival."""
        self.ttft.observe(ttft_s)

    def finished(
        self,
        worker: int,
        duration_s: float,
        ttft_s: float,
        input_tokens: int,
        output_tokens: int,
    ) -> None:
        """A request completed on ``worker`` ``duration_s`` after its arrival."""
        self.inflight[worker] -= 1
        self.active_blocks[worker] -= self._blocks(input_tokens, output_tokens)
        self.requests += 1
        self.output_tokens += output_tokens
        self.duration.observe(duration_s)
        self.osl.observe(output_tokens)
        if output_tokens > 1:
            self.itl.observe((duration_s - ttft_s) / (output_tokens - 1), output_tokens - 1)

    def collect(self) -> Iterator[Metric]:
        """The families of one scrape."""
        model = {"model": self.model}
        requests = CounterMetricFamily(
            "dynamo_frontend_requests",
            "Total number of LLM requests processed",
            labels=["endpoint", "model", "request_type", "status"],
        )
        requests.add_metric(["chat_completions", self.model, "stream", "success"], self.requests)
        yield requests
        inflight = list(self.inflight)
        gauge = GaugeMetricFamily(
            "dynamo_frontend_inflight_requests", "Number of inflight requests", labels=["model"]
        )
        gauge.add_metric([self.model], sum(inflight))
        yield gauge
        for name, doc, hist in (
            ("time_to_first_token_seconds", "Time to first token in seconds", self.ttft),
            ("inter_token_latency_seconds", "Inter-token latency in seconds", self.itl),
            ("request_duration_seconds", "Duration of LLM requests", self.duration),
            ("input_sequence_tokens", "Input sequence length in tokens", self.isl),
            ("output_sequence_tokens", "Output sequence length in tokens", self.osl),
        ):
            yield hist.family(f"dynamo_frontend_{name}", doc, model)
        tokens = CounterMetricFamily(
            "dynamo_frontend_output_tokens",
            "Total number of output tokens generated",
            labels=["model"],
        )
        tokens.add_metric([self.model], self.output_tokens)
        yield tokens
        for key, (doc, value) in self.config.items():
            gauge = GaugeMetricFamily(f"dynamo_frontend_model_{key}", doc, labels=["model"])
            gauge.add_metric([self.model], value)
            yield gauge
        yield from self._workers(inflight, list(self.active_blocks))

    def _workers(self, inflight: list[int], active: list[int]) -> Iterator[Metric]:
        labels = ["dynamo_namespace", "dynamo_component", "worker_id"]
        families = {
            "dynamo_component_inflight_requests": "Number of requests currently being processed",
            "dynamo_component_kvstats_active_blocks": "Number of active KV cache blocks in use",
            "dynamo_component_kvstats_total_blocks": "Total number of KV cache blocks available",
            "dynamo_component_kvstats_gpu_cache_usage_percent": (
                "GPU cache usage as a percentage (0.0-1.0)"
            ),
        }
        values: dict[str, list[float]] = {
            "dynamo_component_inflight_requests": [float(x) for x in inflight],
            "dynamo_component_kvstats_active_blocks": [float(x) for x in active],
            "dynamo_component_kvstats_total_blocks": [float(self.total_blocks)] * len(active),
            "dynamo_component_kvstats_gpu_cache_usage_percent": [
                min(1.0, a / self.total_blocks) for a in active
            ],
        }
        for name, doc in families.items():
            gauge = GaugeMetricFamily(name, doc, labels=labels)
            for worker, value in enumerate(values[name]):
                gauge.add_metric(["dynamo", "backend", str(worker)], value)
            yield gauge
