"""The project's own import graph, read from the source with `ast` (nothing is imported).

    python bin/import_graph.py            # cycles, imports inside functions, back-references
    python bin/import_graph.py --edges    # also every package-to-package edge with its modules

Figures:
- cycles: strongly connected groups of two or more modules, counting every import (those inside
  functions too, since an import moved into a function to dodge a cycle still is one);
- imports inside functions of the project's own modules;
- back-references: pairs of packages (`scheduling.api`, `notifications`, `audit`, ...) that
  import each other, directly or around a longer loop.
`tests/test_architecture.py` holds the tree to no cycles and no imports inside functions.
"""
from __future__ import annotations

import argparse
import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("api", "audit", "limits", "notifications", "scheduling", "vertebro_site")
SKIPPED_PARTS = {"migrations", "tests", "__pycache__"}


@dataclass
class Graph:
    edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    # (module, imported module, line) of every import written inside a function
    inner: list[tuple[str, str, int]] = field(default_factory=list)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if SKIPPED_PARTS.isdisjoint(path.relative_to(ROOT).parts):
                found[module_name(path)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest project module that `name` (a module or a name inside one) points into."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _targets(node: ast.AST, current: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level:
        base = current.split(".")
        base = base[: len(base) - node.level + (1 if is_package else 0)]
        prefix = ".".join(base + ([node.module] if node.module else []))
    else:
        prefix = node.module or ""
    return [f"{prefix}.{alias.name}" for alias in node.names] + [prefix]


def build() -> Graph:
    modules = project_modules()
    graph = Graph()
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        functions = [
            n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
        ]
        inside = {id(n) for f in functions for n in ast.walk(f) if n is not f}
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            targets = {
                target
                for raw in _targets(node, name, path.name == "__init__.py")
                if (target := _resolve(raw, modules)) and target != name
            }
            graph.edges[name] |= targets
            if id(node) in inside:
                graph.inner += [(name, target, node.lineno) for target in sorted(targets)]
    return graph


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more nodes (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    groups.append(sorted(group))
    return groups


def package_of(module: str) -> str:
    """`scheduling.api.views` -> `scheduling.api`; a top-level module of an app is the app."""
    parts = module.split(".")
    if len(parts) > 2 and parts[0] in PACKAGES:
        return ".".join(parts[:2])
    if len(parts) == 2 and (ROOT / parts[0] / parts[1]).is_dir():
        return module
    return parts[0]


def package_edges(graph: Graph) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for source, targets in graph.edges.items():
        for target in targets:
            a, b = package_of(source), package_of(target)
            if a != b:
                edges[a].add(b)
    return edges


def back_references(graph: Graph) -> list[list[str]]:
    return cycles(package_edges(graph))


def mutual_pairs(graph: Graph) -> list[tuple[str, str]]:
    """Pairs of packages each of which imports the other directly."""
    edges = package_edges(graph)
    return sorted((a, b) for a in edges for b in edges[a] if a < b and a in edges.get(b, ()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edges", action="store_true", help="print every package-level edge")
    args = parser.parse_args(argv)
    graph = build()
    module_cycles = cycles(graph.edges)
    package_cycles = back_references(graph)
    print(f"modules: {len(project_modules())}")
    print(f"import cycles between modules: {len(module_cycles)}")
    for group in module_cycles:
        print("  " + " <-> ".join(group))
    print(f"imports inside functions: {len(graph.inner)}")
    for source, target, line in graph.inner:
        print(f"  {source}:{line} -> {target}")
    print(f"packages importing each other (groups): {len(package_cycles)}")
    for group in package_cycles:
        print("  " + " <-> ".join(group))
    pairs = mutual_pairs(graph)
    print(f"pairs of packages importing each other directly: {len(pairs)}")
    for a, b in pairs:
        print(f"  {a} <-> {b}")
    if args.edges:
        edges = package_edges(graph)
        for source in sorted(edges):
            print(f"{source} -> {', '.join(sorted(edges[source]))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
