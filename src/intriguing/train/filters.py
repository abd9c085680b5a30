"""The first-layer filters of a model, as a grid of images.

The paper trained AE400's sparse autoencoder "until it got very high quality first layer
filters"; this figure makes that claim checkable: each of the encoder's units is drawn as its
784 input weights on the 28×28 grid (Figure-1-style stroke detectors when training succeeded,
noise when it did not).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch

from intriguing.common.plotting import pyplot, save_figure
from intriguing.plan.specs import INPUT_SHAPE


def filter_grid(weight: torch.Tensor, columns: int | None = None) -> torch.Tensor:
    """(units, 784) weights -> one (rows·29−1, columns·29−1) image, each filter scaled to
    [0, 1] by its own largest |w| (0.5 = zero weight), a one-pixel gap between filters."""
    units, pixels = weight.shape
    side = INPUT_SHAPE[1]
    if pixels != side * side:
        raise ValueError(f"filters of {pixels} inputs are no {side}×{side} images")
    columns = columns or math.ceil(math.sqrt(units))
    rows = math.ceil(units / columns)
    scale = weight.abs().amax(dim=1, keepdim=True).clamp_min(1e-12)
    tiles = (0.5 + 0.5 * weight / scale).reshape(units, side, side)
    grid = torch.ones(rows * (side + 1) - 1, columns * (side + 1) - 1)
    for unit in range(units):
        row, column = divmod(unit, columns)
        top, left = row * (side + 1), column * (side + 1)
        grid[top : top + side, left : left + side] = tiles[unit]
    return grid


def plot_filters(weight: torch.Tensor, title: str, path: str | Path) -> None:
    """Save the grid of `weight`'s filters (see `filter_grid`) as a PNG."""
    plt = pyplot()
    grid = filter_grid(weight.detach().cpu().float())
    figure, axes = plt.subplots(figsize=(8, 8 * grid.shape[0] / grid.shape[1] + 0.4))
    axes.imshow(grid.numpy(), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    axes.set_title(title)
    axes.axis("off")
    save_figure(figure, path)
