"""Matplotlib on a headless machine, and figures written atomically and reproducibly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intriguing.common import files


def pyplot() -> Any:
    """matplotlib.pyplot with the non-interactive Agg backend (jobs have no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure: Any, path: str | Path, dpi: int = 110) -> None:
    """Write a figure as PNG atomically, without the matplotlib version stamp (so a rerun with
    another matplotlib gives the same bytes when the pixels agree), then close it."""
    with files.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=dpi, metadata={"Software": None})
    pyplot().close(figure)
