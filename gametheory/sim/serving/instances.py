"""The mutable state of one prefill or decode instance while
:func:`gametheory.sim.engine.simulate` runs: queues, the running batch, the KV blocks in
use and reserved, and the instance's prefix cache."""

from __future__ import annotations

from collections import deque

from gametheory.sim.serving.cache import PrefixCache

__all__ = ["DecodeState", "PrefillState"]


class DecodeState:
    """State of one decode instance during a run: its queue, batch, KV use and cache."""

    __slots__ = (
        "busy",
        "cache",
        "finish",
        "kv",
        "new",
        "out_reserved",
        "reserved",
        "running",
        "step",
        "waiting",
    )

    def __init__(self, capacity_blocks: int) -> None:
        self.cache = PrefixCache(capacity_blocks)
        self.waiting: deque[int] = deque()
        self.finish: list[tuple[int, int]] = []
        self.new: list[int] = []
        self.running = 0
        self.kv = 0.0
        self.reserved = 0.0
        self.out_reserved = 0.0
        self.step = 0
        self.busy = False


class PrefillState:
    """State of one prefill instance during a run: its queue, link and cache."""

    __slots__ = ("busy", "cache", "link_free", "queue", "queued_tokens")

    def __init__(self, capacity_blocks: int) -> None:
        self.cache = PrefixCache(capacity_blocks)
        self.queue: deque[int] = deque()
        self.queued_tokens = 0.0
        self.link_free = 0.0
        self.busy = False
