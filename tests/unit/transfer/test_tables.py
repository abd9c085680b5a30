"""Transfer tables (Tables 2, 4), noise baselines and their report sections, on toy models."""

import numpy as np
import pytest
import torch
from torch import nn

from intriguing.adversarial.sets import shared_originals
from intriguing.reference import paper_reference
from intriguing.report.transfer import above_noise, transfer_section, transfer_verdict
from intriguing.transfer.tables import (
    gaussian_noise,
    heatmap_rows,
    misclassified,
    table_rows,
    transfer_table,
)


class Threshold(nn.Module):
    """Predicts 1 when the mean pixel exceeds `level`, else 0."""

    def __init__(self, level: float):
        super().__init__()
        self.level = level

    def forward(self, x):
        score = x.flatten(1).mean(dim=1) - self.level
        return torch.stack([-score, score], dim=1)


def adversarial_set(x_adv, success=None, indices=(0, 1, 2, 3), split="train"):
    n = len(x_adv)
    return {
        "split": split,
        "indices": torch.tensor(indices),
        "labels": torch.zeros(n, dtype=torch.long),
        "x_adv": x_adv,
        "success": torch.ones(n, dtype=torch.bool) if success is None else success,
        "distortion": torch.full((n,), 0.05),
        "target_policy": "random",
    }


def test_noise_is_seeded_clipped_and_the_same_draw_either_way():
    x = torch.rand(8, 1, 28, 28)
    clipped, reached = gaussian_noise(x, 0.3, seed=5)
    again, _ = gaussian_noise(x, 0.3, seed=5)
    raw, raw_reached = gaussian_noise(x, 0.3, seed=5, clip=False)
    assert torch.equal(clipped, again)
    assert clipped.min() >= 0 and clipped.max() <= 1
    assert torch.equal(raw.clamp(0, 1), clipped)
    assert (reached < raw_reached).all()
    assert raw_reached.mean().item() == pytest.approx(0.3, rel=0.05)
    assert not torch.equal(gaussian_noise(x, 0.3, seed=6)[0], clipped)


def test_misclassified_compares_with_the_true_label():
    x = torch.cat([torch.zeros(2, 1, 2, 2), torch.ones(2, 1, 2, 2)])
    errs = misclassified(Threshold(0.5), x, torch.tensor([0, 1, 0, 1]))
    assert errs.tolist() == [False, True, True, False]


def test_transfer_table_counts_every_cell_with_intervals():
    x = torch.zeros(4, 1, 2, 2)
    bright = torch.ones(4, 1, 2, 2)
    half = torch.cat([bright[:2], x[2:]])
    sets = {"a": adversarial_set(bright), "b": adversarial_set(half)}
    models = {"a": Threshold(0.5), "b": Threshold(2.0)}
    table = transfer_table(sets, models, x, torch.zeros(4, dtype=torch.long), [0.1], seed=0)
    assert table["generated_for"] == ["a", "b"] and table["evaluated_on"] == ["a", "b"]
    assert table["error"] == [[1.0, 0.0], [0.5, 0.0]]
    low, high = table["error_ci95"][1][0]
    assert low < 0.5 < high
    assert set(table["noise"]) == set(table["noise_unclipped"]) == {"0.1"}
    assert table["noise"]["0.1"] == [0.0, 0.0]
    assert table["noise_distortion"]["0.1"] < table["noise_unclipped_distortion"]["0.1"]
    rows = table_rows(table)
    assert len(rows) == (2 + 2) * 2
    assert {"cell": "b → a", "error": 0.5}.items() <= rows[2].items()


def test_sets_from_different_originals_are_refused():
    x = torch.zeros(4, 1, 2, 2)
    sets = {"a": adversarial_set(x), "b": adversarial_set(x, indices=(0, 1, 2, 5))}
    with pytest.raises(ValueError, match="'a' and 'b' were built from different originals"):
        shared_originals(sets)


def toy_table(error, noise_ci):
    names = ["softmax1", "n100"]
    return {
        "generated_for": names,
        "evaluated_on": names,
        "n": 100,
        "split": "train",
        "target_policy": ["random"],
        "error": error,
        "error_ci95": [[[max(0, e - 0.05), min(1, e + 0.05)] for e in row] for row in error],
        "mean_distortion": {"softmax1": 0.04, "n100": 0.05},
        **{
            f"{kind}{field}": {"0.1": value}
            for kind in ("noise", "noise_unclipped")
            for field, value in (("", [0.02, 0.02]), ("_ci95", noise_ci), ("_distortion", 0.07))
        },
    }


def test_transfer_verdict_follows_the_noise_baseline():
    table = toy_table([[1.0, 0.3], [0.25, 1.0]], [[0.0, 0.1], [0.0, 0.1]])
    counts = above_noise(
        table["error"],
        table["error_ci95"],
        table["generated_for"],
        table["evaluated_on"],
        table["noise_ci95"]["0.1"],
    )
    assert counts == (2, 2)
    assert transfer_verdict(*counts, "x", "noise").startswith("**Reproduced**")
    assert transfer_verdict(1, 4, "x", "noise").startswith("**Partly reproduced**")
    assert transfer_verdict(0, 4, "x", "noise").startswith("**Not reproduced**")


def test_transfer_section_sets_each_cell_beside_the_papers(tmp_path):
    reference = paper_reference()["table2"]
    table = toy_table([[1.0, 0.02], [0.289, 1.0]], [[0.0, 0.1], [0.0, 0.1]])
    text = transfer_section("Table 2", table, reference, None, tmp_path)
    # n100's adversarials on softmax1: ours 28.9 [23.9, 33.9], the paper's 28.9: no mark
    assert "28.9 [23.9, 33.9] · 28.9 · +0.0 |" in text
    # softmax1's on n100: ours 2.0, the paper's 2.0 -> inside; the noise row is marked
    assert "noise σ=0.1 (clipped, distortion 0.070)" in text
    assert "Partly reproduced** (adversarials transfer): 1 of 2" in text


def test_heatmap_rows_align_the_papers_matrix_with_ours():
    reference = paper_reference()["table2"]
    table = toy_table([[1.0, 0.3], [0.25, 1.0]], [[0.0, 0.1], [0.0, 0.1]])
    labels, ours, theirs = heatmap_rows(table, reference)
    assert labels[:2] == ["adv. softmax1", "adv. n100"]
    assert ours.shape == theirs.shape == (4, 2)
    np.testing.assert_allclose(theirs[1], [0.289, 1.0])
    np.testing.assert_allclose(theirs[2], [0.05, 0.0])
