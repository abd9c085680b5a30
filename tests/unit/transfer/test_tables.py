"""Transfer tables (Tables 2, 4), noise baselines and their report sections, on toy models."""

import numpy as np
import pytest
import torch
from torch import nn

from intriguing.common.stats import wilson_interval
from intriguing.core.sets import shared_originals
from intriguing.reference import paper_reference
from intriguing.report.transfer import (
    cell_groups,
    figure7_section,
    transfer_claims,
    transfer_section,
)
from intriguing.report.verdicts import VerdictSettings
from intriguing.transfer.replicates import replicate_summary, seed_mean_view
from intriguing.transfer.tables import (
    gaussian_noise,
    heatmap_rows,
    matched_block,
    matching_factor,
    mcnemar_against_noise,
    misclassified,
    pack_errors,
    table_rows,
    target_share,
    transfer_table,
    unpack_errors,
)

SETTINGS = VerdictSettings(
    distortion_tolerance=0.1,
    exact_ratio_bound=1.02,
    alpha=0.05,
    transfer_share=0.75,
    noise_clean_margin=0.01,
    pattern_rho=0.5,
    bootstrap_resamples=200,
    bootstrap_seed=0,
)


class Threshold(nn.Module):
    """Predicts 1 when the mean pixel exceeds `level`, else 0."""

    def __init__(self, level: float):
        super().__init__()
        self.level = level

    def forward(self, x):
        score = x.flatten(1).mean(dim=1) - self.level
        return torch.stack([-score, score], dim=1)


class Lookup(nn.Module):
    """Predicts the class written in the first pixel (value / 10): a chosen prediction per image."""

    def forward(self, x):
        classes = (x.flatten(1)[:, 0] * 10).round().long().clamp(0, 9)
        return nn.functional.one_hot(classes, 10).float()


def adversarial_set(x_adv, success=None, indices=(0, 1, 2, 3), split="train", target=None):
    n = len(x_adv)
    return {
        "split": split,
        "indices": torch.tensor(indices),
        "labels": torch.zeros(n, dtype=torch.long),
        "target": torch.ones(n, dtype=torch.long) if target is None else torch.tensor(target),
        "x_adv": x_adv,
        "success": torch.ones(n, dtype=torch.bool) if success is None else success,
        "distortion": torch.full((n,), 0.05),
        "target_policy": "random",
    }


def amplified_set(x_adv, mode, value, target=None):
    return {
        **adversarial_set(x_adv, target=target),
        "distortion": torch.full((len(x_adv),), 0.1),
        "original_distortion": torch.full((len(x_adv),), 0.04),
        "amplification": mode,
        f"amplified_{mode}": value,
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
    # every target is 1: the landing share is the share predicted 1
    assert table["target_share"] == [[1.0, 0.0], [0.5, 0.0]]
    assert set(table["noise"]) == set(table["noise_clipped"]) == {"0.1"}
    assert table["noise"]["0.1"] == [0.0, 0.0]
    assert table["noise_clipped_distortion"]["0.1"] < table["noise_distortion"]["0.1"]
    rows = table_rows(table)
    assert len(rows) == (2 + 2) * 2
    assert {"cell": "b → a", "error": 0.5}.items() <= rows[2].items()


def test_the_papers_noise_row_is_the_unclipped_one():
    """On black images clipping keeps only the bright half of the noise: a model that thresholds
    the mean pixel errs on every clipped image and on no unclipped one."""
    x = torch.zeros(50, 1, 28, 28)
    labels = torch.zeros(50, dtype=torch.long)
    sets = {"a": adversarial_set(x, indices=tuple(range(50)))}
    table = transfer_table(sets, {"a": Threshold(0.02)}, x, labels, [0.1], seed=0)
    assert table["noise"]["0.1"] == [0.0]
    assert table["noise_clipped"]["0.1"] == [1.0]
    assert table["noise_distortion"]["0.1"] == pytest.approx(0.1, rel=0.01)
    assert table["noise_clipped_distortion"]["0.1"] == pytest.approx(0.1 / 2**0.5, rel=0.01)
    assert table["noise_rows"]["noise"].startswith("unclipped: the paper's")
    rows = table_rows(table)
    assert [row["generated_for"] for row in rows[1:]] == ["noise 0.1", "noise 0.1 clipped"]
    assert [row["error"] for row in rows[1:]] == [0.0, 1.0]


def test_target_share_counts_predictions_equal_to_the_attacks_target():
    target = torch.tensor([3, 2, 5, 7, 1])
    predictions = torch.tensor([3, 3, 5, 1, 0])
    share = target_share(target, predictions)
    assert (share.errors, share.n, share.value) == (2, 5, 0.4)
    assert share.ci95 == pytest.approx(list(wilson_interval(2, 5)))
    assert target_share(torch.tensor([4, 4]), torch.tensor([4, 4])).value == 1.0
    with pytest.raises(ValueError, match="outside the 10 classes"):
        target_share(torch.tensor([3]), torch.tensor([10]))


def test_landing_share_per_cell_of_adversarial_and_amplified_sets():
    predicted = [3, 3, 5, 1]  # Lookup reads these from the first pixel
    x_adv = torch.zeros(4, 1, 2, 2)
    x_adv[:, 0, 0, 0] = torch.tensor(predicted) / 10
    sets = {"a": adversarial_set(x_adv, target=[3, 2, 5, 7])}
    amplified = {
        "stddev": {"a": amplified_set(x_adv, "stddev", 0.1, target=[3, 3, 5, 1])},
        "factor": {"a": amplified_set(x_adv, "factor", 0.1 / 0.06, target=[0, 0, 0, 1])},
    }
    x = torch.zeros(4, 1, 2, 2)
    labels = torch.zeros(4, dtype=torch.long)
    table = transfer_table(sets, {"a": Lookup()}, x, labels, [0.1], 0, amplified)
    assert table["error"] == [[1.0]]
    assert table["target_share"] == [[0.5]]
    assert table["target_share_ci95"] == [[pytest.approx(list(wilson_interval(2, 4)))]]
    assert table["amplified"]["target_share"] == [[1.0]]
    assert table["amplified_factor"]["target_share"] == [[0.25]]
    assert table["amplified"]["label"] == "amplified to distortion 0.1"
    assert table["amplified_factor"]["label"] == "amplified ×1.67, the paper's relative increase"
    assert table["amplified_factor"]["requested_factor"] == pytest.approx(1 / 0.6)
    assert table["amplified"]["mean_distortion_ratio"] == {"a": pytest.approx(2.5)}
    rows = table_rows(table)
    assert [row["generated_for"] for row in rows] == [
        "a",
        "a amplified to 0.1",
        "a amplified ×1.67",
        "noise 0.1",
        "noise 0.1 clipped",
    ]


def test_an_amplified_set_of_the_other_reading_is_refused():
    x = torch.zeros(4, 1, 2, 2)
    sets = {"a": adversarial_set(x)}
    amplified = {"factor": {"a": amplified_set(x, "stddev", 0.1)}}
    with pytest.raises(ValueError, match="not amplified by factor"):
        transfer_table(
            sets, {"a": Threshold(0.5)}, x, torch.zeros(4, dtype=torch.long), [], 0, amplified
        )


def test_sets_from_different_originals_are_refused():
    x = torch.zeros(4, 1, 2, 2)
    sets = {"a": adversarial_set(x), "b": adversarial_set(x, indices=(0, 1, 2, 5))}
    with pytest.raises(ValueError, match="'a' and 'b' were built from different originals"):
        shared_originals(sets)


def toy_table(error, noise_ci, amplified=False):
    names = ["softmax1", "n100"]
    table = {
        "generated_for": names,
        "evaluated_on": names,
        "n": 100,
        "split": "train",
        "target_policy": ["random"],
        "error": error,
        "error_ci95": [[[max(0, e - 0.05), min(1, e + 0.05)] for e in row] for row in error],
        "target_share": [[0.98, 0.123], [0.05, 1.0]],
        "target_share_ci95": [[[0.9, 1.0], [0.07, 0.2]], [[0.02, 0.1], [0.96, 1.0]]],
        "mean_distortion": {"softmax1": 0.04, "n100": 0.05},
        **{
            f"{kind}{field}": {"0.1": value}
            for kind, distortion in (("noise", 0.1), ("noise_clipped", 0.07))
            for field, value in (
                ("", [0.02, 0.02]),
                ("_ci95", noise_ci),
                ("_distortion", distortion),
            )
        },
    }
    if amplified:
        for key, mode, value in (
            ("amplified", "stddev", 0.1),
            ("amplified_factor", "factor", 1 / 0.6),
        ):
            table[key] = {
                "label": "amplified to distortion 0.1"
                if mode == "stddev"
                else "amplified ×1.67, the paper's relative increase",
                "amplification": mode,
                f"requested_{mode}": value,
                "generated_for": names,
                "mean_distortion": {"softmax1": 0.1, "n100": 0.08},
                "mean_distortion_ratio": {"softmax1": 2.5, "n100": 1.6},
                "error": [[1.0, 0.5], [0.4, 1.0]],
                "error_ci95": [[[0.9, 1.0], [0.4, 0.6]], [[0.3, 0.5], [0.9, 1.0]]],
                "target_share": [[1.0, 0.3], [0.2, 1.0]],
                "target_share_ci95": [[[0.9, 1.0], [0.2, 0.4]], [[0.1, 0.3], [0.9, 1.0]]],
            }
    return table


def test_transfer_section_sets_each_cell_beside_the_papers(tmp_path):
    reference = paper_reference()["table2"]
    table = toy_table([[1.0, 0.02], [0.289, 1.0]], [[0.0, 0.1], [0.0, 0.1]])
    table["noise_error_bits"] = {"0.1": [pack_errors(np.arange(100) < 2)] * 2}
    table["mcnemar"] = mcnemar_against_noise(
        [[pack_errors(np.arange(100) < round(e * 100)) for e in row] for row in table["error"]],
        table["noise_error_bits"],
        100,
    )
    train_sets = {"softmax1": "all", "n100": "all"}
    clean = {"softmax1": 0.067, "n100": 0.0}
    text = transfer_section(
        "Table 2", table, reference, None, tmp_path, train_sets, clean, SETTINGS
    )
    # n100's adversarials on softmax1: ours 28.9 [23.9, 33.9], the paper's 28.9: no mark
    assert "28.9 [23.9, 33.9] · 28.9 · +0.0 |" in text
    # the paper's noise row is the unclipped one, compared; the clipped one is compared with nothing
    assert (
        "noise σ=0.1 (unclipped, the paper's; distortion 0.100) | 2.0 [0.0, 10.0] · 5.0 · -3.0"
        in text
    )
    assert "noise σ=0.1 clipped to [0, 1] (secondary; distortion 0.070) | 2.0 [0.0, 10.0] |" in text
    # softmax1 → n100 errs on 2 originals, the noise on the same 2: no discordant pair;
    # n100 → softmax1 on 28.9 more: 1 of 2 cells, below the 75% reproduced needs
    assert (
        "**Partly reproduced** (transfer across models on one training set beats noise σ=0.1): "
        "1 of 2 cells" in text
    )
    # 2 off-diagonal cells and the softmax1 noise cell compared; the diagonal and the n100
    # noise cell (the paper's 0.0% at its clean 0.0%) left out
    assert "of 3 rates agree with the paper" in text
    assert "2 diagonal cells" in text and "1 noise cells at the paper's clean error" in text
    # the headline's numbers of each claim: cells supporting it, the largest Holm-adjusted p
    claims = {
        c.claim: c.metrics for c in transfer_claims(table, reference, train_sets, clean, SETTINGS)
    }
    assert claims["transfer across models on one training set beats noise σ=0.1"] == {
        "state": "Partly reproduced",
        "cells": 2,
        "supporting": 1,
        "largest_mcnemar_p_holm": 1.0,  # softmax1 → n100: no discordant pair
    }
    assert claims["transfer pattern follows the paper's"] == {"cells": 2, "state": "Inconclusive"}
    assert "Where the adversarials land" in text
    assert "| n100 | 5.0 [2.0, 10.0] | 100.0 [96.0, 100.0] |" in text


def test_table4_section_renders_both_amplifications_beside_the_papers_row(tmp_path):
    reference = paper_reference()["table4"]
    table = toy_table([[1.0, 0.02], [0.289, 1.0]], [[0.0, 0.1], [0.0, 0.1]], amplified=True)
    for key in ("generated_for", "evaluated_on"):
        table[key] = ["m1", "m2"]
    for block in ("amplified", "amplified_factor"):
        table[block]["generated_for"] = ["m1", "m2"]
        table[block]["mean_distortion"] = {"m1": 0.1, "m2": 0.08}
        table[block]["mean_distortion_ratio"] = {"m1": 2.5, "m2": 1.6}
    table["mean_distortion"] = {"m1": 0.04, "m2": 0.05}
    text = transfer_section(
        "Table 4", table, reference, None, tmp_path, {"m1": "p1", "m2": "p2"}, {}, SETTINGS
    )
    # M1's amplified on M2: ours 50.0, the paper's 43%, in both readings
    cells = "| 100.0 [90.0, 100.0] · 100.0 · +0.0 | 50.0 [40.0, 60.0] · 43.0 · +7.0 |"
    assert f"| m1 amplified to distortion 0.1 {cells}" in text
    assert f"| m1 amplified ×1.67, the paper's relative increase {cells}" in text
    assert "| 0.100 (×2.50) | 0.1 |" in text
    # made before the per-original errors were stored: no pairs, inconclusive
    assert (
        "**Inconclusive** (transfer across training sets, amplified to 0.1 beats noise σ=0.1)"
        in text
    )
    assert "(amplified ×1.67 rates agree with the paper): 3 of 4 rates" in text
    assert "**Inconclusive** (transfer pattern follows the paper's): 2 cells give no rank" in text
    assert "| m2 amplified ×1.67 | 20.0 [10.0, 30.0] | 100.0 [90.0, 100.0] |" in text


def test_figure7_section_compares_the_unclipped_accuracy_with_the_papers(tmp_path):
    result = {
        "noise_stddev": 1.0,
        "noise_distortion": 1.0,
        "noise_clipped_distortion": 0.55,
        "models": ["softmax1"],
        "noise_accuracy": {
            "softmax1": {
                "accuracy": 0.4,
                "accuracy_ci95": [0.3, 0.5],
                "accuracy_clipped": 0.7,
                "accuracy_clipped_ci95": [0.6, 0.8],
                "n": 100,
            }
        },
    }
    text = figure7_section(result, 0.51, None, tmp_path)
    assert "| softmax1 | 40.00% [30.00%, 50.00%] | 51.00% | 70.00% [60.00%, 80.00%] |" in text
    assert "distortion reached 1.00 unclipped, 0.55 clipped" in text


def test_heatmap_rows_align_the_papers_matrix_with_ours():
    reference = paper_reference()["table2"]
    table = toy_table([[1.0, 0.3], [0.25, 1.0]], [[0.0, 0.1], [0.0, 0.1]])
    labels, ours, theirs = heatmap_rows(table, reference)
    assert labels == [
        "adv. softmax1",
        "adv. n100",
        "noise σ=0.1, unclipped (paper's)",
        "noise σ=0.1, clipped (secondary)",
    ]
    assert ours.shape == theirs.shape == (4, 2)
    np.testing.assert_allclose(theirs[1], [0.289, 1.0])
    np.testing.assert_allclose(theirs[2], [0.05, 0.0])
    assert np.isnan(theirs[3]).all()


def test_heatmap_rows_set_both_amplifications_beside_the_papers_amplified_row():
    reference = paper_reference()["table4"]
    table = toy_table([[1.0, 0.3], [0.25, 1.0]], [[0.0, 0.1], [0.0, 0.1]], amplified=True)
    for block in (table, table["amplified"], table["amplified_factor"]):
        block["generated_for"] = ["m1", "m2"]
    table["evaluated_on"] = ["m1", "m2"]
    labels, ours, theirs = heatmap_rows(table, reference)
    assert labels[2:6] == [
        "m1 amplified to 0.1",
        "m2 amplified to 0.1",
        "m1 amplified ×1.67",
        "m2 amplified ×1.67",
    ]
    np.testing.assert_allclose(theirs[2], [1.0, 0.43])
    np.testing.assert_allclose(theirs[4], [1.0, 0.43])


def test_error_bits_round_trip_and_refuse_a_wrong_length():
    errors = np.array([True, False, False, True, True, False, True, False, True, True])
    packed = pack_errors(torch.from_numpy(errors))
    assert len(packed) == 4  # 10 bits in 2 bytes
    np.testing.assert_array_equal(unpack_errors(packed, 10), errors)
    with pytest.raises(ValueError, match="exactly 9"):
        unpack_errors(packed, 9)  # the tenth bit is set


def test_transfer_table_stores_per_original_errors_and_their_mcnemar_tests():
    x = torch.zeros(4, 1, 2, 2)
    bright = torch.ones(4, 1, 2, 2)
    sets = {"a": adversarial_set(bright), "b": adversarial_set(torch.cat([bright[:2], x[2:]]))}
    models = {"a": Threshold(0.5), "b": Threshold(2.0)}
    table = transfer_table(sets, models, x, torch.zeros(4, dtype=torch.long), [0.1], seed=0)
    assert unpack_errors(table["error_bits"][1][0], 4).tolist() == [True, True, False, False]
    assert unpack_errors(table["noise_error_bits"]["0.1"][0], 4).tolist() == [False] * 4
    test = table["mcnemar"]["0.1"]
    assert test["adversarial_only"] == [[4, 0], [2, 0]]
    assert test["noise_only"] == [[0, 0], [0, 0]]
    assert test["p_value"][0][0] == pytest.approx(0.125)  # 4 discordant pairs, all one way
    assert test["p_value"][1][1] == 1.0


def test_matching_factor_reaches_the_target_distortion_after_clipping():
    generator = torch.Generator().manual_seed(0)
    x = torch.rand(20, 1, 28, 28, generator=generator)
    x_adv = (x + 0.05 * torch.randn(x.shape, generator=generator)).clamp(0, 1)
    factor = matching_factor(x, x_adv, 0.08)
    block = matched_block(
        {"a": adversarial_set(x_adv, indices=tuple(range(20)))},
        x,
        {"a": 0.08},
        {"a": Threshold(0.5)},
        torch.zeros(20, dtype=torch.long),
    )
    assert block["factor"]["a"] == pytest.approx(factor)
    assert block["mean_distortion"]["a"] == pytest.approx(0.08, rel=1e-6)
    assert block["target_distortion"] == {"a": 0.08}
    assert block["own_distortion"]["a"] < 0.08 < factor * block["own_distortion"]["a"]
    with pytest.raises(ValueError, match="no paper distortion"):
        matched_block({"a": adversarial_set(x_adv)}, x, {}, {"a": Threshold(0.5)}, x[:, 0, 0, 0])
    with pytest.raises(ValueError, match="cannot be rescaled"):
        matching_factor(x, x, 0.08)


def test_matching_factor_stops_where_clipping_caps_the_distortion():
    x = torch.ones(3, 1, 4, 4)
    x_adv = x.clone()
    x_adv[:, 0, 0, 0] = 0.9  # only one pixel can move, by at most 1
    factor = matching_factor(x, x_adv, 0.5)
    assert factor >= 10  # the pixel reaches 0 and can go no further


def test_cells_are_grouped_by_training_set():
    groups = cell_groups(
        ["m1", "m1p", "m2"], ["m1", "m1p", "m2"], {"m1": "p1", "m1p": "p1", "m2": "p2"}
    )
    assert groups == {
        "across training sets": [(0, 2), (1, 2), (2, 0), (2, 1)],
        "across models on one training set": [(0, 1), (1, 0)],
    }
    with pytest.raises(ValueError, match="no training set"):
        cell_groups(["m1"], ["m3"], {"m1": "p1"})


def test_transfer_section_sets_the_sets_at_the_papers_distortion_beside_its_rows(tmp_path):
    reference = paper_reference()["table2"]
    table = toy_table([[1.0, 0.02], [0.289, 1.0]], [[0.0, 0.1], [0.0, 0.1]])
    table["matched"] = {
        "label": "at the paper's distortion",
        "generated_for": ["softmax1", "n100"],
        "target_distortion": {"softmax1": 0.062, "n100": 0.058},
        "own_distortion": {"softmax1": 0.04, "n100": 0.05},
        "factor": {"softmax1": 1.55, "n100": 1.16},
        "mean_distortion": {"softmax1": 0.062, "n100": 0.058},
        "error": [[0.5, 0.02], [0.289, 1.0]],
        "error_ci95": [[[0.4, 0.6], [0.0, 0.07]], [[0.239, 0.339], [0.95, 1.0]]],
    }
    text = transfer_section(
        "Table 2",
        table,
        reference,
        None,
        tmp_path,
        {"softmax1": "all", "n100": "all"},
        {},
        SETTINGS,
    )
    assert "| softmax1 at the paper's distortion | 50.0 [40.0, 60.0] · 100.0 · -50.0 ✱ |" in text
    assert "| 0.062 (×1.55) | 0.062 |" in text
    # its diagonal is no rate the paper gives: left out, so both off-diagonal cells agree
    assert (
        "**Reproduced** (rates at the paper's distortion agree with the paper): 2 of 2 rates"
        in text
    )
    assert "2 diagonal cells of the rescaled sets" in text
    assert "(transfer across models on one training set, at the paper's distortion beats" in text


def two_replicate_tables():
    """Table 2 of two replicates: `b` replicated (its networks err differently), `a` not."""
    x = torch.zeros(4, 1, 2, 2)
    bright = torch.ones(4, 1, 2, 2)
    half = torch.cat([bright[:2], x[2:]])
    labels = torch.zeros(4, dtype=torch.long)
    sets = {"a": adversarial_set(bright), "b": adversarial_set(half)}
    replicate_sets = [sets, {**sets, "b": adversarial_set(bright)}]
    replicate_models = [
        {"a": Threshold(0.5), "b": Threshold(2.0)},
        {"a": Threshold(0.5), "b": Threshold(0.5)},
    ]
    return [
        transfer_table(s, m, x, labels, [0.1], seed=0)
        for s, m in zip(replicate_sets, replicate_models, strict=True)
    ]


def test_replicate_summary_keeps_each_replicate_and_their_seed_means():
    tables = two_replicate_tables()
    summary = replicate_summary(tables, ["b", "other"])
    assert summary["count"] == 2 and summary["replicated_models"] == ["b"]
    assert [r["error"] for r in summary["per_replicate"]] == [t["error"] for t in tables]
    means = summary["seed_mean"]
    # replicate 0: [[1, 0], [0.5, 0]]; replicate 1: [[1, 1], [1, 1]]
    assert means["error"] == [[1.0, 0.5], [0.75, 0.5]]
    low, high = means["error_ci95"][0][1]
    assert low < 0.5 < high
    assert means["noise"]["0.1"] == [0.0, 0.0]
    assert means["mean_distortion"] == {"a": pytest.approx(0.05), "b": pytest.approx(0.05)}
    assert means["mean_distortion_ci95"]["a"] == [pytest.approx(0.05), pytest.approx(0.05)]


def test_seed_mean_view_replaces_the_rates_and_keeps_the_rest():
    tables = two_replicate_tables()
    table = {**tables[0], "replicates": replicate_summary(tables, ["b"])}
    view = seed_mean_view(table)
    assert view["error"] == [[1.0, 0.5], [0.75, 0.5]]
    assert view["n"] == table["n"] and table["error"] == tables[0]["error"]
    assert seed_mean_view(tables[0]) is tables[0]


def test_replicates_of_different_sizes_are_refused():
    tables = two_replicate_tables()
    with pytest.raises(ValueError, match="different numbers of originals"):
        replicate_summary([tables[0], {**tables[1], "n": 5}], ["b"])


def test_transfer_section_shows_the_seed_means(tmp_path):
    tables = two_replicate_tables()
    table = {**tables[0], "split": "train", "replicates": replicate_summary(tables, ["b"])}
    text = transfer_section(
        "Table 2",
        table,
        paper_reference()["table2"],
        None,
        tmp_path,
        {"a": "all", "b": "all"},
        {},
        SETTINGS,
    )
    assert "seed mean of 2 replicates" in text
    assert "| b | 75.0 [" in text
