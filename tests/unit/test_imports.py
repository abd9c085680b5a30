"""The library's import graph has no cycle (imports inside functions included)."""

from __future__ import annotations

from pathlib import Path

from imports import PACKAGE, library_graph


def cycles(graph: dict[Path, set[Path]]) -> list[list[Path]]:
    """One cycle through each strongly connected component of more than one file (or a file
    that imports itself), by Tarjan's algorithm."""
    index: dict[Path, int] = {}
    low: dict[Path, int] = {}
    stack: list[Path] = []
    found: list[list[Path]] = []

    def visit(node: Path) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_library_has_no_import_cycle():
    found = cycles(library_graph())
    assert not found, "import cycles: " + "; ".join(
        " <-> ".join(str(path.relative_to(PACKAGE)) for path in cycle) for cycle in found
    )


def test_cycle_finder_finds_a_cycle():
    a, b, c = Path("a.py"), Path("b.py"), Path("c.py")
    assert cycles({a: {b}, b: {c}, c: {a}}) == [[a, b, c]]
    assert cycles({a: {b}, b: {c}, c: set()}) == []
