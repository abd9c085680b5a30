"""Figures of the adversarial sets: Figure 5's magnified difference and distortion histograms."""

import numpy as np
import pytest
import torch

from intriguing.adversarial.figures import histogram_rows, magnified_difference


def test_magnified_difference_is_grey_where_nothing_changed():
    x = torch.full((1, 1, 2, 2), 0.5)
    x_adv = x + torch.tensor([0.0, 0.01, -0.01, 0.2]).view(1, 1, 2, 2)
    shown = magnified_difference(x, x_adv, 10).flatten().tolist()
    assert shown == pytest.approx([0.5, 0.6, 0.4, 1.0])


def test_histogram_rows_give_each_sets_share_per_bin():
    bins = np.array([0.0, 0.1, 0.2])
    rows = histogram_rows({"a_train": np.array([0.05, 0.15, 0.15, 0.5])}, bins)
    assert [(row["distortion"], row["share"]) for row in rows] == [(0.05, 0.25), (0.15, 0.75)]
