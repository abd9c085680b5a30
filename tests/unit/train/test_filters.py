"""The first-layer filter grid (the AE400 figure)."""

import pytest
import torch

from conftest import png_pixels
from intriguing.train.filters import filter_grid, plot_filters


def test_each_filter_is_a_28x28_tile_scaled_by_its_own_largest_weight():
    weight = torch.zeros(5, 784)
    weight[0, 0] = 2.0  # filter 0: one bright pixel at its top left
    weight[1, 783] = -0.5  # filter 1: one dark pixel at its bottom right
    grid = filter_grid(weight, columns=3)
    assert grid.shape == (2 * 29 - 1, 3 * 29 - 1)
    assert grid[0, 0] == 1.0 and grid[1, 1] == 0.5  # +max -> white, zero weight -> grey
    assert grid[27, 29 + 27] == 0.0  # -max of filter 1 -> black
    assert grid[28, 0] == 1.0  # the gap between rows
    assert (grid[29:, 2 * 29 :] == 1.0).all()  # the unused sixth tile stays blank


def test_filters_of_other_sizes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="no 28×28 images"):
        filter_grid(torch.zeros(3, 100))
    plot_filters(torch.randn(16, 784), "sixteen", tmp_path / "filters.png")
    pixels = png_pixels(tmp_path / "filters.png")
    assert pixels.std() > 10  # 16 tiles of random weights, not a blank page
