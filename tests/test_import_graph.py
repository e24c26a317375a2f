"""The import graph of vlthink, read from the source (ast, no import run): no circle, and no
library module imports a command-line module.

Every import counts, also one inside a function (a lazy import is still an arrow), except those
under ``if TYPE_CHECKING:``. A module's own parent packages are not arrows (Python imports them
on the way in)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "vlthink"

#: (importer prefix, imported prefix) pairs that would point up: the lower layer never imports
#: the higher one.
UPWARD = [
    ("vlthink.harness", "vlthink.report"),
    ("vlthink.harness", "vlthink.demos"),
    ("vlthink.envs", "vlthink.harness"),
    ("vlthink.scene", "vlthink.harness"),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in ROOT.rglob("*.py")}


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for b in node.body for n in ast.walk(b)}
    return skip


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The vlthink modules ``name`` imports."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_nodes(tree)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*up, base] if base else up)
            found |= {
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            }
    parents = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    return {m for m in found if m in known and m != name and m not in parents}


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(name, path, set(mods)) for name, path in mods.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def is_cli(module: str) -> bool:
    return "cli" in module.rpartition(".")[2]


def test_the_import_graph_has_no_circle():
    assert cycles(graph()) == []


def test_no_library_module_imports_a_command_line_module():
    bad = sorted(
        f"{a} -> {b}" for a, bs in graph().items() for b in bs if is_cli(b) and not is_cli(a)
    )
    assert bad == []


def test_no_arrow_points_up_a_layer():
    bad = sorted(
        f"{a} -> {b}"
        for a, bs in graph().items()
        for b in bs
        for low, high in UPWARD
        if a.startswith(low) and b.startswith(high)
    )
    assert bad == []


def test_the_checker_sees_a_circle_and_a_cli_import_when_there_is_one():
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"x.cli"}, "x.cli": set()}
    assert cycles(edges) == [["a", "b", "c"]]
    assert [f"{a} -> {b}" for a, bs in edges.items() for b in bs if is_cli(b) and not is_cli(a)]
    # and the real graph has arrows at all (the parser found the imports)
    g = graph()
    assert "vlthink.harness.results" in g["vlthink.harness.rundir"]
