"""The layout stays findable: no import cycle, imports run down the layers, few top-level modules,
unique and short files.

Imports are read statically, function-level ones included, so a lazy import cannot hide a cycle.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from conftest import ROOT

KIT = ROOT / "kit"
MAX_TOP_LEVEL = 12
MAX_LINES = 350
# Bottom to top: a module imports only from its own layer or below. The verbs (`kit.commands`) sit
# above every library package; `kit` is the package's __init__ (TensorFlow's settings).
LAYERS = (
    "kit.errors kit.paths kit.console",
    "kit",
    "kit.fileio kit.provenance kit.tracker",
    "kit.config",
    "kit.metrics kit.report kit.models kit.augment kit.targets",
    "kit.data",
    "kit.training",
    "kit.oof",
    "kit.submission",
    "kit.predict",
    "kit.scoring",  # a submission judged here (offline competitions): Kaggle's verbs use it
    "kit.tune kit.kaggle",
    "kit.commands",
    "kit.cli kit.__main__",
)


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def kit_modules() -> dict[str, Path]:
    return {module_name(p): p for p in KIT.rglob("*.py") if "__pycache__" not in p.parts}


def imported(path: Path, known: set[str]) -> set[str]:
    """The kit modules `path` imports (`from kit import x` counts as kit.x when that is a module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name in known}


def import_graph() -> dict[str, set[str]]:
    modules = kit_modules()
    return {name: imported(path, set(modules)) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle as a list of modules, or None (depth-first search with colours)."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for child in sorted(graph.get(node, ())):
            if state.get(child) == 1:
                return stack[stack.index(child) :] + [child]
            if child not in state and (cycle := visit(child)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_no_import_cycle():
    assert find_cycle(import_graph()) is None


def test_the_cycle_finder_finds_one():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_few_modules_directly_in_kit():
    top = sorted(p.name for p in KIT.glob("*.py"))
    assert len(top) <= MAX_TOP_LEVEL, top


def test_no_file_name_twice():
    names = Counter(p.name for p in KIT.rglob("*.py") if p.name != "__init__.py" and "__pycache__" not in p.parts)
    assert [name for name, count in names.items() if count > 1] == []


def test_no_module_too_long():
    long = {
        str(p.relative_to(ROOT)): n for p in KIT.rglob("*.py") if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert long == {}


def layer_of(module: str) -> int:
    """The layer of `module`: its package's (kit.data.infer -> kit.data), else its own."""
    rank = {name: number for number, names in enumerate(LAYERS) for name in names.split()}
    package = ".".join(module.split(".")[:2])
    if package not in rank:
        raise AssertionError(f"{package} is in no layer of LAYERS: place it")
    return rank[package]


def upward_imports(graph: dict[str, set[str]]) -> list[tuple[str, str]]:
    return sorted((a, b) for a, targets in graph.items() for b in targets if layer_of(b) > layer_of(a))


def test_imports_run_down_the_layers():
    assert upward_imports(import_graph()) == []


def test_an_upward_import_is_found():
    assert upward_imports({"kit.data.infer": {"kit.submission"}, "kit.submission": {"kit.data"}}) == [
        ("kit.data.infer", "kit.submission")
    ]
