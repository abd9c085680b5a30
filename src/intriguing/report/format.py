"""Formatting shared by the report's sections: numbers, Markdown tables and images, and a rate
beside the paper's.

A rate is "consistent" with the paper when the paper's value lies inside our 95% Wilson
interval (the verdict rules are in intriguing.report.verdicts).

This is the leaf of the report package: it imports no other report module.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

OUTSIDE_CI_MARK = "✱"


@dataclass(frozen=True)
class RateComparison:
    """One of our rates (with its 95% CI) beside the paper's value."""

    label: str
    ours: float
    ci: tuple[float, float]
    n: int
    paper: float

    @property
    def consistent(self) -> bool:
        return self.ci[0] <= self.paper <= self.ci[1]

    @property
    def difference(self) -> float:
        return self.ours - self.paper

    def cells(self) -> list[str]:
        """Table cells: ours with its CI (marked when the paper lies outside), paper's, Δ."""
        mark = "" if self.consistent else f" {OUTSIDE_CI_MARK}"
        return [
            f"{percent(self.ours)} [{percent(self.ci[0])}, {percent(self.ci[1])}]{mark}",
            percent(self.paper),
            f"{self.difference * 100:+.2f} pp",
        ]


def percent(value: float) -> str:
    """A rate in percent with two decimals, e.g. '1.60%'."""
    return f"{value * 100:.2f}%"


def bound(value: float | None) -> str:
    """A frame bound or gain in 3 significant digits; '—' where it was not computed."""
    return "—" if value is None else f"{value:.3g}"


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown (GitHub) table: the header, its rule, one line per row."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def image(alt: str, path: str | Path, base_dir: Path) -> str:
    """A Markdown image, its path relative to the report's directory (the HTML page inlines it)."""
    return f"![{alt}]({Path(os.path.relpath(path, base_dir)).as_posix()})"
