"""Figures of the adversarial sets: example grids (as the paper's Figure 5) and distortion
histograms, with the histogram counts as CSV for `dvc plots`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from intriguing.common.plotting import pyplot, save_figure

MAGNIFICATION = 10.0
HISTOGRAM_BINS = np.linspace(0.0, 0.2, 41)


def magnified_difference(x: torch.Tensor, x_adv: torch.Tensor, factor: float) -> torch.Tensor:
    """0.5 + factor·(x_adv − x), clipped to [0, 1]: grey where nothing changed (Figure 5's
    middle column)."""
    return (0.5 + factor * (x_adv - x)).clamp(0, 1)


def plot_examples(
    x: torch.Tensor,
    adversarial: dict[str, Any],
    title: str,
    path: str | Path,
    count: int = 8,
    factor: float = MAGNIFICATION,
) -> None:
    """Rows: originals, their differences magnified `factor`×, adversarials; one column per
    example, labelled with its true label, target and distortion."""
    plt = pyplot()
    count = min(count, len(x))
    x_adv = adversarial["x_adv"][:count]
    rows = [
        ("original", x[:count]),
        (f"difference ×{factor:g}", magnified_difference(x[:count], x_adv, factor)),
        ("adversarial", x_adv),
    ]
    figure, axes = plt.subplots(3, count, figsize=(1.2 * count + 0.8, 4.2), squeeze=False)
    for row, (name, images) in enumerate(rows):
        for column in range(count):
            axis = axes[row, column]
            axis.imshow(images[column, 0].numpy(), cmap="gray", vmin=0, vmax=1)
            axis.set_xticks([])
            axis.set_yticks([])
            if column == 0:
                axis.set_ylabel(name, fontsize=8)
            if row == 0:
                axis.set_title(
                    f"{int(adversarial['labels'][column])}→{int(adversarial['target'][column])}"
                    f"\nd={float(adversarial['distortion'][column]):.3f}",
                    fontsize=7,
                )
    figure.suptitle(title, fontsize=9)
    figure.subplots_adjust(wspace=0.05, hspace=0.1, left=0.08, right=0.99, top=0.82, bottom=0.02)
    save_figure(figure, path)


def successful_distortions(sets: dict[str, dict[str, Any]]) -> dict[str, np.ndarray]:
    return {name: s["distortion"][s["success"]].numpy() for name, s in sets.items()}


def histogram_rows(
    distortions: dict[str, np.ndarray], bins: np.ndarray = HISTOGRAM_BINS
) -> list[dict[str, Any]]:
    """Per set and bin: the bin's centre and the share of the set's examples in it."""
    rows = []
    centres = (bins[:-1] + bins[1:]) / 2
    for name, values in distortions.items():
        counts, _ = np.histogram(np.clip(values, bins[0], bins[-1]), bins=bins)
        for centre, count in zip(centres, counts, strict=True):
            share = count / max(len(values), 1)
            rows.append({"set": name, "distortion": round(float(centre), 4), "share": share})
    return rows


def plot_histograms(
    distortions: dict[str, np.ndarray], paper: dict[str, float], path: str | Path
) -> None:
    """One panel per set: the distribution of minimal distortions, with our mean and the
    paper's mean distortion as vertical lines."""
    import seaborn as sns

    plt = pyplot()
    names = list(distortions)
    columns = min(3, len(names))
    rows = -(-len(names) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4 * columns, 2.6 * rows), squeeze=False, layout="constrained"
    )
    for axis, name in zip(axes.flat, names, strict=False):
        values = distortions[name]
        sns.histplot(values, bins=HISTOGRAM_BINS, ax=axis, stat="percent", color="#4c72b0")
        axis.axvline(
            values.mean(), color="#4c72b0", linestyle="--", label=f"ours {values.mean():.3f}"
        )
        model = name.rsplit("_", 1)[0]
        if model in paper:
            axis.axvline(paper[model], color="#c44e52", label=f"paper {paper[model]:.3f}")
        axis.set_title(f"{name} (n = {len(values)})", fontsize=9)
        axis.set_xlabel("minimal distortion")
        axis.legend(fontsize=7)
    for axis in list(axes.flat)[len(names) :]:
        axis.set_visible(False)
    save_figure(figure, path)
