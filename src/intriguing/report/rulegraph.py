"""Draw Snakemake's rule graph as a PNG without Graphviz (which a fresh machine may lack).

    uv run snakemake --rulegraph --forceall | uv run python -m intriguing.report.rulegraph OUT.png

Reads the DOT text Snakemake prints, drops the aggregate `all` rule and every edge implied by a
longer path (transitive reduction), and lays the rules out in columns by their depth.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from intriguing.common.plotting import pyplot, save_figure

NODE = re.compile(r'^\s*(\d+)\[label = "([^"]+)"', re.MULTILINE)
EDGE = re.compile(r"^\s*(\d+) -> (\d+)", re.MULTILINE)


def parse_rulegraph(dot: str) -> tuple[list[str], set[tuple[str, str]]]:
    """Rule names and (upstream, downstream) edges of a `snakemake --rulegraph` DOT text."""
    names = dict(NODE.findall(dot))
    if not names:
        raise ValueError("no rules found: pipe `snakemake --rulegraph --forceall` into this")
    edges = {(names[a], names[b]) for a, b in EDGE.findall(dot)}
    rules = [name for name in names.values() if not name.startswith("all")]
    return rules, {(a, b) for a, b in edges if a in rules and b in rules}


def reachable(edges: set[tuple[str, str]], start: str, skip: tuple[str, str]) -> set[str]:
    seen, frontier = set(), [start]
    while frontier:
        node = frontier.pop()
        for a, b in edges:
            if a == node and (a, b) != skip and b not in seen:
                seen.add(b)
                frontier.append(b)
    return seen


def transitive_reduction(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Keep an edge only when no other path joins its ends."""
    return {(a, b) for a, b in edges if b not in reachable(edges, a, skip=(a, b))}


def depths(rules: list[str], edges: set[tuple[str, str]]) -> dict[str, int]:
    """Longest path from a source to each rule (the graph is acyclic)."""
    depth = dict.fromkeys(rules, 0)
    for _ in rules:
        for a, b in edges:
            depth[b] = max(depth[b], depth[a] + 1)
    return depth


def draw(dot: str, path: str | Path) -> None:
    rules, edges = parse_rulegraph(dot)
    edges = transitive_reduction(edges)
    depth = depths(rules, edges)
    columns: dict[int, list[str]] = {}
    for rule in rules:
        columns.setdefault(depth[rule], []).append(rule)
    height = max(len(column) for column in columns.values())
    position = {
        rule: (level * 2.2, (height - 1) / 2 - row)
        for level, column in columns.items()
        for row, rule in enumerate(sorted(column))
    }
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(2.2 * len(columns) + 0.5, 0.8 * height + 0.8))
    for a, b in sorted(edges):
        axis.annotate(
            "",
            xy=position[b],
            xytext=position[a],
            arrowprops={"arrowstyle": "-|>", "color": "grey", "shrinkA": 38, "shrinkB": 38},
        )
    for rule, (x, y) in position.items():
        axis.text(
            x,
            y,
            rule,
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round", "facecolor": "#e8eef7", "edgecolor": "#4c72b0"},
        )
    axis.set_xlim(-1.0, 2.2 * (len(columns) - 1) + 1.0)
    axis.set_ylim(-(height + 1) / 2, (height + 1) / 2)
    axis.axis("off")
    save_figure(figure, path)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(
            "usage: snakemake --rulegraph --forceall"
            " | python -m intriguing.report.rulegraph OUT.png"
        )
    draw(sys.stdin.read(), sys.argv[1])
