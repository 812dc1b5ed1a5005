"""The named variants of the PoA-hat estimator: what each one charges and assumes.

PoA-hat compares, window by window, what the router's choices cost with the cheapest
assignment of the same requests. The paper behind the project (arXiv 2606.17081,
section 6.4) describes its estimator in one sentence: "computed via Hungarian algorithm
on frozen-latency cost matrix against actual routing outcomes". That sentence leaves
three choices open, and each variant here fixes all three:

``units``
    ``"logits"``: the router's own cost terms in KV blocks (Dynamo's logit
    ``prefill_load_scale * prefill_blocks + decode_blocks``), the reading of the
    author's replay tool (athrael-soju/Narwhal, ``game3-hindsight-replay.sh``).
    ``"latency"``: milliseconds, from a per-worker latency model fitted on the same
    telemetry (:func:`~gametheory.telemetry.latency_model.fit_latency_model`), the
    paper's "frozen-latency" matrix.
``actual``
    What the router's choice is charged. ``"frozen"``: the window-start matrix at the
    chosen worker (the same matrix as the optimum). ``"logged"``: the chosen cost at
    the decision's own time, so the load the window's earlier requests added is
    charged. ``"measured"``: the request's measured latency (the ``requests`` schema's
    ``ttft_ms`` or ``latency_ms``), what the request really experienced.
``optimum``
    ``"hungarian"``: one request per worker (Kuhn 1955, Munkres 1957), the paper's.
    ``"capacity"``: several requests may share a worker, the ``k``-th extra request
    paying ``k`` times a congestion term (a min-cost assignment to worker slots); the
    actual routing is charged the same term when the actual cost is not measured.

Properties a test holds each variant to (``tests/test_telemetry_poa_variants.py``):
``paper`` is at most 1 for a greedy (temperature 0) router, since the sum of
per-request minima of one matrix never exceeds a matching's cost; ``capacity`` is at
least 1, since the actual routing is a feasible slot assignment of the same costs.
The ``measured`` variants have no such bound: they are the only ones that can charge
queueing the frozen matrix does not see.
"""

from __future__ import annotations

from dataclasses import dataclass

from gametheory.errors import TelemetryError

__all__ = ["VARIANTS", "PoAHatVariant", "resolve_variant"]

_UNITS = ("logits", "latency")
_ACTUAL = ("frozen", "logged", "measured")
_OPTIMUM = ("hungarian", "capacity")
_METRICS = ("ttft_ms", "latency_ms")


@dataclass(frozen=True)
class PoAHatVariant:
    """One definition of PoA-hat.

    Attributes
    ----------
    name
        Short name (a key of :data:`VARIANTS` for the built-in ones).
    units
        ``"logits"`` or ``"latency"``.
    actual
        ``"frozen"``, ``"logged"`` or ``"measured"`` (latency units only).
    optimum
        ``"hungarian"`` or ``"capacity"``.
    metric
        Latency of the ``requests`` schema the latency model predicts and ``measured``
        charges: ``"ttft_ms"`` (the router's decision moves the TTFT) or
        ``"latency_ms"``.
    description
        The assumption the variant makes, in one sentence.
    """

    name: str
    units: str = "logits"
    actual: str = "frozen"
    optimum: str = "hungarian"
    metric: str = "ttft_ms"
    description: str = ""

    def __post_init__(self) -> None:
        for field, value, allowed in (
            ("units", self.units, _UNITS),
            ("actual", self.actual, _ACTUAL),
            ("optimum", self.optimum, _OPTIMUM),
            ("metric", self.metric, _METRICS),
        ):
            if value not in allowed:
                raise TelemetryError(
                    f"{field} must be one of {allowed}, got {value!r}", field=field
                )
        if self.actual == "measured" and self.units != "latency":
            raise TelemetryError(
                "a measured actual cost is a latency: use units='latency'", field="actual"
            )

    @property
    def needs_requests(self) -> bool:
        """Whether the variant reads the ``requests`` frame (latency units)."""
        return self.units == "latency"


#: The built-in variants, by name.
VARIANTS: dict[str, PoAHatVariant] = {
    v.name: v
    for v in (
        PoAHatVariant(
            "paper",
            description="router logits frozen at the window start, charged frozen, "
            "one request per worker (the replay tool's reading)",
        ),
        PoAHatVariant(
            "capacity",
            optimum="capacity",
            description="router logits frozen at the window start; requests may share a "
            "worker at a convex congestion cost, charged to the routing too",
        ),
        PoAHatVariant(
            "logged",
            actual="logged",
            description="router logits; the routing is charged its logged cost at each "
            "decision, the optimum the window-start matrix",
        ),
        PoAHatVariant(
            "frozen-latency",
            units="latency",
            description="fitted per-worker latency frozen at the window start, for both "
            "the routing and the one-per-worker optimum",
        ),
        PoAHatVariant(
            "measured-latency",
            units="latency",
            actual="measured",
            description="measured TTFT of the routed requests against the one-per-worker "
            "optimum of the frozen fitted latencies (the paper's sentence)",
        ),
        PoAHatVariant(
            "measured-latency-capacity",
            units="latency",
            actual="measured",
            optimum="capacity",
            description="measured TTFT against a capacity-aware optimum of the frozen "
            "fitted latencies",
        ),
    )
}


def resolve_variant(spec: str | PoAHatVariant) -> PoAHatVariant:
    """The variant named ``spec`` (or ``spec`` itself).

    Raises
    ------
    TelemetryError
        For an unknown name.
    """
    if isinstance(spec, PoAHatVariant):
        return spec
    try:
        return VARIANTS[spec]
    except KeyError:
        raise TelemetryError(
            f"unknown PoA-hat variant {spec!r}; expected one of {sorted(VARIANTS)}",
            field="variant",
        ) from None
