"""Per-instance prefix cache of KV blocks with least-recently-used eviction.

Blocks are identified by hash-chain ids, so the cached prefix of a prompt is its
longest run of leading blocks present in the cache (vLLM's automatic prefix caching,
Kwon et al., SOSP 2023; SGLang's RadixAttention, Zheng et al., NeurIPS 2024). The
capacity is the instance's KV memory in blocks (the HBM left after the weights); the
output tokens reserved by running requests take room from it
(:meth:`PrefixCache.insert`'s ``room``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from gametheory.errors import GameError

__all__ = ["PrefixCache"]


class PrefixCache:
    """An LRU set of KV blocks.

    Parameters
    ----------
    capacity
        Blocks the cache can hold.
    """

    __slots__ = ("_blocks", "capacity")

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise GameError(f"prefix cache capacity must be >= 1 block, got {capacity}")
        self.capacity = int(capacity)
        self._blocks: OrderedDict[int, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._blocks)

    def match(self, blocks: Sequence[int]) -> int:
        """Number of leading ``blocks`` present (the cached prefix)."""
        held = self._blocks
        k = 0
        for b in blocks:
            if b not in held:
                break
            k += 1
        return k

    def insert(self, blocks: Sequence[int], room: int | None = None) -> None:
        """Add ``blocks`` as most recently used, evicting the least recently used.

        Parameters
        ----------
        blocks
            Block ids, in prompt order.
        room
            Blocks the cache may hold now (default its capacity); below the capacity
            when running requests occupy part of the KV memory, as in vLLM, where
            cached blocks are free blocks evicted on demand.
        """
        held = self._blocks
        for b in blocks:
            if b in held:
                held.move_to_end(b)
            else:
                held[b] = None
        limit = self.capacity if room is None else max(0, min(self.capacity, room))
        while len(held) > limit:
            held.popitem(last=False)
