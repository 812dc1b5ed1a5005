"""Readers for the TNTP transportation-network format (Bar-Gera's test networks).

The TransportationNetworks collection ships, per network, a link file ``*_net.tntp``
(metadata tags, then one line per link: ``init_node term_node capacity length
free_flow_time b power speed toll link_type ;``), a demand file ``*_trips.tntp``
(``Origin o`` blocks of ``d : rate;`` entries), a best-known solution ``*_flow.tntp``
(``From To Volume Cost``) and a ``README.md`` whose section ``## Generalized Cost
Weights`` gives the toll and distance factors of the generalized cost.

Link cost (Bureau of Public Roads 1964, plus the generalized-cost constant)::

    c(x) = fft * (1 + b (x / capacity)^power) + toll_factor * toll + distance_factor * length

Nodes numbered below ``<FIRST THRU NODE>`` are zones: paths may start or end there but
not pass through (:class:`~gametheory.games.network.routing.RoutingGame` ``zones``). Malformed
input raises :class:`~gametheory.errors.GameError` naming the file and line.
"""

from __future__ import annotations

import gc
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from os import PathLike
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from gametheory.costs import BPR, Constant, CostFunction, SumCost
from gametheory.errors import GameError
from gametheory.games.network.routing import RoutingGame

__all__ = ["read_generalized_cost_weights", "read_tntp", "read_tntp_flows"]

FloatArray = NDArray[np.float64]
PathArg = str | PathLike[str]

_TAG = re.compile(r"^\s*<([^>]+)>\s*(.*?)\s*$")
_LINK_FIELDS = (
    "init_node",
    "term_node",
    "capacity",
    "length",
    "free_flow_time",
    "b",
    "power",
    "speed",
    "toll",
    "link_type",
)


def _fail(path: PathArg, line: int | None, message: str) -> GameError:
    where = f"{path}, line {line}" if line is not None else f"{path}"
    return GameError(f"{where}: {message}")


def _read_lines(path: PathArg) -> list[str]:
    try:
        return Path(path).read_text(encoding="utf-8", errors="strict").splitlines()
    except OSError as exc:
        raise GameError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise GameError(f"{path}: not a UTF-8 text file ({exc.reason})") from exc


def _metadata(path: PathArg, lines: list[str]) -> tuple[dict[str, str], int]:
    """Metadata tags (upper-cased names) and the index of the first line after them."""
    meta: dict[str, str] = {}
    for i, line in enumerate(lines):
        match = _TAG.match(line)
        if match is None:
            if line.strip() and not line.lstrip().startswith("~"):
                raise _fail(path, i + 1, f"expected a <TAG> metadata line, got {line.strip()!r}")
            continue
        name = match.group(1).strip().upper()
        if name == "END OF METADATA":
            return meta, i + 1
        meta[name] = match.group(2)
    raise _fail(path, None, "no <END OF METADATA> tag")


def _meta_int(path: PathArg, meta: dict[str, str], name: str) -> int | None:
    if name not in meta:
        return None
    try:
        return int(float(meta[name].split()[0]))
    except (ValueError, IndexError) as exc:
        raise _fail(path, None, f"<{name}> is not a number: {meta[name]!r}") from exc


def _number(path: PathArg, line: int, text: str, field: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise _fail(path, line, f"field {field!r} is not a number: {text!r}") from exc
    if not math.isfinite(value):
        raise _fail(path, line, f"field {field!r} is not finite: {text!r}")
    return value


def _node(path: PathArg, line: int, value: float, field: str) -> int:
    if value != int(value) or value < 1:
        raise _fail(path, line, f"field {field!r} must be a positive integer node, got {value!r}")
    return int(value)


def _link_values(
    path: PathArg, rows: list[list[str]], linenos: list[int], n_nodes: int
) -> NDArray[np.float64]:
    """The first nine fields of every link row as numbers, all rows checked at once.

    Well-formed files convert in one NumPy call; on any failure the rows are read one by
    one (:func:`_link_row`), so an error names the first bad line.
    """
    width = len(_LINK_FIELDS)
    table = None
    if all(len(r) >= width for r in rows):
        try:
            table = np.array([r[:width] for r in rows], dtype=np.float64).reshape(-1, width)
        except ValueError:
            table = None
    if table is not None:
        nodes = table[:, :2]
        ok = np.isfinite(table).all(axis=1)
        ok &= (nodes == np.floor(nodes)).all(axis=1) & (nodes >= 1).all(axis=1)
        ok &= (nodes <= n_nodes).all(axis=1) & (table[:, 2] > 0)
        ok &= (table[:, [3, 4, 5, 6, 8]] >= 0).all(axis=1)
        if ok.all():
            return table[:, :9]
    checked = [_link_row(path, n, fields, n_nodes) for fields, n in zip(rows, linenos, strict=True)]
    return np.array(checked, dtype=np.float64).reshape(-1, width)[:, :9]


def _link_row(path: PathArg, lineno: int, fields: list[str], n_nodes: int) -> list[float]:
    """One link row's numbers, checked, or a :class:`GameError` that names its line."""
    if len(fields) < len(_LINK_FIELDS):
        raise _fail(path, lineno, f"expected {len(_LINK_FIELDS)} link fields, got {len(fields)}")
    vals = [_number(path, lineno, f, name) for f, name in zip(fields, _LINK_FIELDS)]
    u = _node(path, lineno, vals[0], "init_node")
    v = _node(path, lineno, vals[1], "term_node")
    for node, field in ((u, "init_node"), (v, "term_node")):
        if node > n_nodes:
            raise _fail(path, lineno, f"{field} {node} exceeds <NUMBER OF NODES> {n_nodes}")
    capacity, length, fft, b, power, _speed, toll = vals[2:9]
    if capacity <= 0:
        raise _fail(path, lineno, f"capacity must be positive, got {capacity!r}")
    for name, value in (("length", length), ("free_flow_time", fft), ("b", b)):
        if value < 0:
            raise _fail(path, lineno, f"{name} must be >= 0, got {value!r}")
    if power < 0 or toll < 0:
        raise _fail(path, lineno, "power and toll must be >= 0")
    return vals


def read_tntp(
    net_file: PathArg,
    trips_file: PathArg,
    toll_factor: float = 0.0,
    distance_factor: float = 0.0,
) -> RoutingGame:
    """Read a TNTP network and trip table into a :class:`RoutingGame`.

    Parameters
    ----------
    net_file
        The ``*_net.tntp`` link file.
    trips_file
        The ``*_trips.tntp`` demand file.
    toll_factor, distance_factor
        Generalized-cost weights (minutes per toll unit and per length unit); a link costs
        ``fft (1 + b (x/cap)^power) + toll_factor * toll + distance_factor * length``. Read
        them from the network's README with :func:`read_generalized_cost_weights`
        (Chicago-Sketch: 0.02 and 0.04).

    Returns
    -------
    RoutingGame
        Nodes are the integer node numbers of the files. The graph is a MultiDiGraph, so
        parallel links are kept (keyed 0, 1, ... per node pair in file order); edges are in
        networkx order (by tail node), which :func:`read_tntp_flows` follows. Zones are
        the nodes below ``<FIRST THRU NODE>``. Intra-zonal demand (origin = destination) is
        kept and travels at zero cost.

    Raises
    ------
    GameError
        Naming the file and line of a malformed or inconsistent entry (missing metadata, a
        non-numeric field, a nonpositive capacity, a negative time, a link or zone count
        that disagrees with the metadata, a duplicate OD entry, an OD node not in the
        network, a total demand that disagrees with ``<TOTAL OD FLOW>``).
    """
    for name, value in (("toll_factor", toll_factor), ("distance_factor", distance_factor)):
        if not (isinstance(value, (int, float)) and np.isfinite(value) and value >= 0):
            raise GameError(f"{name} must be a finite number >= 0, got {value!r}")
    with _cyclic_gc_paused():
        graph, zones = _read_net(net_file, float(toll_factor), float(distance_factor))
        demands = _read_trips(trips_file, graph)
        return RoutingGame(graph, demands, zones=zones)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a network is built.

    Building a city network allocates hundreds of thousands of objects that all stay
    alive (costs, graph attribute dicts, OD keys); each allocation burst triggers a
    collection that traverses everything built so far, which took a third to half of the
    time to read Berlin-Center. Reference counting still frees garbage meanwhile; the
    collector is restored (if it was on) when the block ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _read_net(
    path: PathArg, toll_factor: float, distance_factor: float
) -> tuple[nx.MultiDiGraph, list[int]]:
    lines = _read_lines(path)
    meta, start = _metadata(path, lines)
    n_links = _meta_int(path, meta, "NUMBER OF LINKS")
    n_nodes = _meta_int(path, meta, "NUMBER OF NODES")
    n_zones = _meta_int(path, meta, "NUMBER OF ZONES")
    first_thru = _meta_int(path, meta, "FIRST THRU NODE")
    if n_links is None or n_nodes is None or first_thru is None:
        raise _fail(path, None, "missing <NUMBER OF LINKS>, <NUMBER OF NODES> or <FIRST THRU NODE>")
    rows: list[list[str]] = []
    linenos: list[int] = []
    for i in range(start, len(lines)):
        text = lines[i].strip()
        if text and not text.startswith("~"):
            rows.append(text.replace(";", " ").split())
            linenos.append(i + 1)
    values = _link_values(path, rows, linenos, n_nodes)
    graph = nx.MultiDiGraph()
    graph.add_nodes_from(range(1, n_nodes + 1))
    for u, v, capacity, length, fft, b, power, _speed, toll in values.tolist():
        cost: CostFunction = BPR(fft, capacity, b, power)
        extra = toll_factor * toll + distance_factor * length
        if extra > 0:
            cost = SumCost([cost, Constant(extra)])
        graph.add_edge(int(u), int(v), cost=cost, capacity=capacity, length=length, toll=toll)
    count = len(rows)
    if count != n_links:
        raise _fail(path, None, f"<NUMBER OF LINKS> is {n_links} but {count} links were read")
    if n_zones is not None and first_thru > n_zones + 1:
        raise _fail(path, None, f"<FIRST THRU NODE> {first_thru} exceeds the zones ({n_zones})")
    return graph, list(range(1, first_thru))


_ENTRY = re.compile(r"^\s*([^:\s]+)\s*:\s*([^;\s]+)\s*$")


def _read_trips(path: PathArg, graph: nx.MultiDiGraph) -> dict[tuple[Any, Any], float]:
    lines = _read_lines(path)
    meta, start = _metadata(path, lines)
    demands: dict[tuple[Any, Any], float] = {}
    origin: int | None = None
    for i in range(start, len(lines)):
        text = lines[i].strip()
        if not text or text.startswith("~"):
            continue
        lineno = i + 1
        if text.lower().startswith("origin"):
            parts = text.split()
            if len(parts) != 2:
                raise _fail(path, lineno, f"expected 'Origin <node>', got {text!r}")
            origin = _node(path, lineno, _number(path, lineno, parts[1], "origin"), "origin")
            if origin not in graph:
                raise _fail(path, lineno, f"origin {origin} is not a node of the network")
            continue
        if origin is None:
            raise _fail(path, lineno, "a demand entry before any 'Origin' line")
        for entry in filter(None, (e.strip() for e in text.split(";"))):
            match = _ENTRY.match(entry)
            if match is None:
                raise _fail(path, lineno, f"expected 'destination : rate', got {entry!r}")
            dest = _node(
                path, lineno, _number(path, lineno, match.group(1), "destination"), "destination"
            )
            rate = _number(path, lineno, match.group(2), "rate")
            if dest not in graph:
                raise _fail(path, lineno, f"destination {dest} is not a node of the network")
            if rate < 0:
                raise _fail(path, lineno, f"demand {origin} -> {dest} is negative ({rate!r})")
            if (origin, dest) in demands:
                raise _fail(path, lineno, f"duplicate demand {origin} -> {dest}")
            demands[(origin, dest)] = rate
    if "TOTAL OD FLOW" in meta:
        declared = _number(path, 0, meta["TOTAL OD FLOW"].split()[0], "TOTAL OD FLOW")
        total = float(sum(demands.values()))
        if abs(total - declared) > 1e-6 * max(abs(declared), 1.0):
            raise _fail(
                path, None, f"<TOTAL OD FLOW> is {declared!r} but the entries sum to {total!r}"
            )
    return demands


def read_tntp_flows(flow_file: PathArg, game: RoutingGame) -> FloatArray:
    """Read a TNTP ``*_flow.tntp`` solution as link flows aligned to ``game.edges``.

    The file has a header ``From To Volume Cost`` and one line per link. The k-th line
    for a node pair maps to the k-th parallel edge of that pair (key ``k``).

    Raises
    ------
    GameError
        Naming the file and line of a malformed line, a link the game does not have, or a
        duplicate; naming the file when some edge of the game has no flow.
    """
    lines = _read_lines(flow_file)
    index = {e: i for i, e in enumerate(game.edges)}
    out = np.full(game.n_edges, np.nan)
    seen: dict[tuple[int, int], int] = {}
    for i, line in enumerate(lines):
        text = line.strip()
        if not text or text.startswith("~"):
            continue
        lineno = i + 1
        fields = text.replace(";", " ").split()
        if fields[0].lower() == "from":
            continue
        if len(fields) < 3:
            raise _fail(flow_file, lineno, f"expected 'From To Volume [Cost]', got {text!r}")
        u = _node(flow_file, lineno, _number(flow_file, lineno, fields[0], "From"), "From")
        v = _node(flow_file, lineno, _number(flow_file, lineno, fields[1], "To"), "To")
        volume = _number(flow_file, lineno, fields[2], "Volume")
        if volume < 0:
            raise _fail(flow_file, lineno, f"negative volume {volume!r}")
        k = seen.get((u, v), 0)
        seen[(u, v)] = k + 1
        key = (u, v, k) if game.multigraph else (u, v)
        if key not in index:
            raise _fail(
                flow_file, lineno, f"link {u} -> {v} (occurrence {k + 1}) is not in the game"
            )
        out[index[key]] = volume
    missing = np.flatnonzero(np.isnan(out))
    if missing.size:
        raise _fail(
            flow_file,
            None,
            f"{missing.size} edge(s) of the game have no flow, the first being "
            f"{game.edges[int(missing[0])]!r}",
        )
    return out


_WEIGHT = re.compile(r"^\s*(toll|distance)\s*:\s*(.*)$", re.IGNORECASE)
_FLOAT = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def read_generalized_cost_weights(readme: PathArg) -> tuple[float, float]:
    """Read ``(toll_factor, distance_factor)`` from a TNTP network README.

    The section ``## Generalized Cost Weights`` has lines ``Toll: 0.02 minutes/cent`` and
    ``Distance: 0.04 minutes/mile``; an empty value means 0.

    Raises
    ------
    GameError
        Naming the file (and line) when the section or a weight is missing or malformed.
    """
    lines = _read_lines(readme)
    inside = False
    found: dict[str, float] = {}
    for i, line in enumerate(lines):
        if line.startswith("#"):
            inside = line.lstrip("#").strip().lower() == "generalized cost weights"
            continue
        match = _WEIGHT.match(line) if inside else None
        if match is None:
            continue
        value = match.group(2).strip()
        number = _FLOAT.match(value)
        if value and number is None:
            raise _fail(readme, i + 1, f"{match.group(1)} weight is not a number: {value!r}")
        weight = float(number.group(0)) if number is not None else 0.0
        if weight < 0:
            raise _fail(readme, i + 1, f"{match.group(1)} weight is negative: {weight!r}")
        found[match.group(1).lower()] = weight
    if set(found) != {"toll", "distance"}:
        raise _fail(
            readme, None, "no '## Generalized Cost Weights' section with Toll: and Distance: lines"
        )
    return found["toll"], found["distance"]
