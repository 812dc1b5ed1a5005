"""The package's layout: import layers, no cycles, small modules and folders, and an API
reference page for every module (docs/architecture.md describes the rules)."""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gametheory"
REFERENCE = ROOT / "docs" / "reference"

# Lower numbers are lower layers; a module may import its own layer or lower ones.
LAYERS = [
    ("gametheory.errors", 0),
    ("gametheory._lazy", 0),
    ("gametheory._version", 0),
    ("gametheory.results", 0),
    ("gametheory.costs", 0),
    ("gametheory.games", 1),
    ("gametheory.solvers", 2),
    ("gametheory.bounds", 3),
    ("gametheory.telemetry", 4),
    ("gametheory.control", 5),
    ("gametheory.sim", 6),
    ("gametheory.deploy", 7),
    ("gametheory.cli", 8),
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    if module == "gametheory":
        return 9
    for prefix, layer in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return layer
    raise AssertionError(f"{module} is in no layer of LAYERS")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of ``tree`` except the bodies of ``if TYPE_CHECKING:`` blocks."""
    nodes: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return nodes


def _imports(path: Path) -> set[str]:
    """The gametheory modules that ``path`` imports at run time (top level or in a function).

    ``from package import submodule`` counts as importing the submodule only.
    """
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] != "gametheory":
                continue
            subs = {f"{node.module}.{a.name}" for a in node.names}
            found |= subs & MODULES.keys()
            if not subs <= MODULES.keys():
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "gametheory")
    return {m for m in found if m in MODULES}


GRAPH = nx.DiGraph()
GRAPH.add_nodes_from(MODULES)
for _name, _path in MODULES.items():
    GRAPH.add_edges_from((_name, dep) for dep in _imports(_path) if dep != _name)


def test_imports_have_no_cycle() -> None:
    # a package's __init__ re-exporting its own submodules is not a cycle of concerns
    edges = [(a, b) for a, b in GRAPH.edges if not b.startswith(a + ".")]
    cycles = list(nx.simple_cycles(nx.DiGraph(edges)))
    assert cycles == []


def test_imports_point_down_the_layers() -> None:
    upward = [(a, b) for a, b in GRAPH.edges if _layer(b) > _layer(a)]
    assert upward == []


@pytest.mark.parametrize("word", ["sim", "control", "telemetry"])
def test_the_common_results_know_nothing_of_the_top_floors(word: str) -> None:
    text = (PACKAGE / "results.py").read_text()
    assert not any(
        dep.startswith(f"gametheory.{word}") for dep in GRAPH.successors("gametheory.results")
    )
    assert f"gametheory.{word}" not in text
    names = {n.name for n in ast.parse(text).body if isinstance(n, ast.ClassDef)}
    assert names == {"Result", "EquilibriumResult", "OptimumResult", "PoAResult"}


def test_modules_are_small() -> None:
    long = {name: n for name, p in MODULES.items() if (n := len(p.read_text().splitlines())) > 500}
    assert long == {}


def test_folders_hold_at_most_twelve_modules() -> None:
    counts = Counter(p.parent.relative_to(ROOT).as_posix() for p in MODULES.values())
    assert {folder: n for folder, n in counts.items() if n > 12} == {}


def test_solvers_are_grouped_by_family() -> None:
    top = sorted(p.name for p in (PACKAGE / "solvers").iterdir() if p.suffix == ".py")
    assert top == ["__init__.py", "poa.py"]
    families = sorted(
        p.name for p in (PACKAGE / "solvers").iterdir() if p.is_dir() and p.name != "__pycache__"
    )
    assert families == ["affinity", "caching", "common", "finite", "network", "pd"]
    for family in families:
        assert ast.get_docstring(
            ast.parse((PACKAGE / "solvers" / family / "__init__.py").read_text())
        )


def test_public_functions_have_one_home() -> None:
    homes: dict[str, list[str]] = {}
    for name, path in MODULES.items():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
                homes.setdefault(node.name, []).append(name)
    # every subcommand module has its own register(subparsers)
    shared = {n: m for n, m in homes.items() if len(m) > 1 and n != "register"}
    assert shared == {}


def test_every_module_has_one_reference_page() -> None:
    pages: dict[str, list[str]] = {}
    for page in sorted(REFERENCE.glob("*.md")):
        for module in re.findall(r"^::: (gametheory[\w.]*)", page.read_text(), re.M):
            pages.setdefault(module, []).append(page.name)
    public = {m for m in MODULES if m != "gametheory" and not m.rsplit(".", 1)[-1].startswith("_")}
    assert sorted(public - set(pages)) == []
    assert {m: p for m, p in pages.items() if len(p) > 1} == {}
    assert sorted(set(pages) - set(MODULES)) == []
