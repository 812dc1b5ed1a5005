"""All-or-nothing assignment on several processes: origins split, trees in shared memory.

SciPy's Dijkstra holds the GIL, so threads do not speed it up; processes do. The origins
are split into contiguous groups, one sub-network per group (the same nodes and edges,
the group's OD pairs). Each process builds the all-or-nothing step of the groups it is
given (:class:`~gametheory.solvers.network.shortest_paths.AllOrNothing`, once per
process), runs it on the link costs it receives, writes its shortest-path trees into one
shared-memory array and returns only its link flows (one float per edge). The link flows
of one call are the sum of the groups' in group order, so a run is reproducible for a
given number of workers (the sum differs from the one-process sum only by rounding).
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from multiprocessing import resource_tracker
from multiprocessing.shared_memory import SharedMemory
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from gametheory.errors import GameError
from gametheory.games.network.routing import RoutingNetwork

__all__ = ["ParallelTrees", "split_origins"]

FloatArray = NDArray[np.float64]


class _Trees(Protocol):
    """What one all-or-nothing step returns (an ``Assignment``)."""

    @property
    def link_flows(self) -> FloatArray: ...

    @property
    def predecessors(self) -> NDArray[np.int32]: ...


#: Builds the all-or-nothing step of a network (``AllOrNothing``, passed in by the caller
#: so that this module does not import it).
StepFactory = Callable[[RoutingNetwork], Callable[[FloatArray], _Trees]]


@dataclass
class _Worker:
    """What one worker process keeps between calls."""

    net: RoutingNetwork
    bounds: list[tuple[int, int]]
    memory: SharedMemory
    factory: StepFactory
    steps: dict[int, Callable[[FloatArray], _Trees]] = field(default_factory=dict)


_WORKER: list[_Worker] = []  # the worker process's state (one entry once initialised)


def split_origins(n_origins: int, groups: int) -> list[tuple[int, int]]:
    """``groups`` contiguous ``(start, stop)`` ranges of nearly equal size over the origins."""
    edges = np.linspace(0, n_origins, groups + 1).round().astype(int).tolist()
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def _subnetwork(net: RoutingNetwork, start: int, stop: int) -> RoutingNetwork:
    """The network with only origins ``start:stop`` and their OD pairs."""
    keep = (net.od_row >= start) & (net.od_row < stop)
    return replace(
        net,
        origins=net.origins[start:stop],
        od_row=net.od_row[keep] - start,
        od_dest=net.od_dest[keep],
        od_rate=net.od_rate[keep],
        od_index=net.od_index[keep],
    )


def _init(
    net: RoutingNetwork,
    bounds: list[tuple[int, int]],
    shm_name: str,
    own_tracker: bool,
    factory: StepFactory,
) -> None:
    memory = SharedMemory(name=shm_name)
    if own_tracker:
        # A spawned worker has its own resource tracker, which would unlink the parent's
        # segment (or warn of a leak) when the worker exits; forked workers share the
        # parent's, where the segment is registered once.
        resource_tracker.unregister(memory._name, "shared_memory")  # type: ignore[attr-defined]
    _WORKER.append(_Worker(net, bounds, memory, factory))


def _run(group: int, costs: FloatArray) -> FloatArray:
    """One group's all-or-nothing step in a worker: trees to shared memory, flows back."""
    state = _WORKER[0]
    start, stop = state.bounds[group]
    if group not in state.steps:
        state.steps[group] = state.factory(_subnetwork(state.net, start, stop))
    assignment = state.steps[group](costs)
    shape = (state.net.origins.size, state.net.n_nodes)
    trees = np.ndarray(shape, dtype=np.int32, buffer=state.memory.buf)
    trees[start:stop] = assignment.predecessors
    return assignment.link_flows


def _context() -> multiprocessing.context.BaseContext:
    """``fork`` where the platform has it: the workers inherit the loaded modules, and a
    script without a ``__main__`` guard is not run again in each of them (as ``spawn``
    would); ``spawn`` elsewhere."""
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class ParallelTrees:
    """A pool of processes computing the all-or-nothing step of groups of origins.

    Parameters
    ----------
    network
        The split network of a routing game.
    workers
        Number of processes (>= 2); the origins are split into as many groups.
    factory
        Builds the one-process all-or-nothing step of a sub-network (picklable: a class
        or a module-level function).

    Raises
    ------
    GameError
        If ``workers`` is below 2 or exceeds the number of origins.
    """

    def __init__(self, network: RoutingNetwork, workers: int, factory: StepFactory) -> None:
        n_o = int(network.origins.size)
        if not 2 <= workers <= n_o:
            raise GameError(f"workers must be in [2, {n_o}] (the origins), got {workers!r}")
        self.bounds = split_origins(n_o, workers)
        self.shape = (n_o, int(network.n_nodes))
        self._memory: SharedMemory | None = SharedMemory(
            create=True, size=max(1, n_o * network.n_nodes * 4)
        )
        self.trees = np.ndarray(self.shape, dtype=np.int32, buffer=self._memory.buf)
        context = _context()
        self._pool = ProcessPoolExecutor(
            workers,
            mp_context=context,
            initializer=_init,
            initargs=(
                network,
                self.bounds,
                self._memory.name,
                context.get_start_method() != "fork",
                factory,
            ),
        )

    def __call__(self, costs: FloatArray) -> tuple[FloatArray, NDArray[np.int32]]:
        """Link flows and a copy of the trees (``(origins, nodes)`` predecessors)."""
        futures = [self._pool.submit(_run, g, costs) for g in range(len(self.bounds))]
        flows = futures[0].result()
        for future in futures[1:]:
            flows = flows + future.result()
        return flows, self.trees.copy()

    def close(self) -> None:
        """Stop the processes and free the shared memory (idempotent)."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._memory is not None:
            self.trees = np.zeros((0, 0), dtype=np.int32)  # drop the view before closing
            self._memory.close()
            self._memory.unlink()
            self._memory = None
