"""Every verdict rule reaches each of its states, from plain numbers."""

import pytest

from intriguing.report.verdicts import (
    AgreementCell,
    DistortionCell,
    PairedCell,
    Verdict,
    VerdictSettings,
    above_noise_verdict,
    agreement_verdict,
    distortion_verdict,
    exact_minimum_verdict,
    pattern_verdict,
    premise_verdict,
)


def test_settings_come_from_the_params_block_and_lines_name_the_claim():
    block = {
        "distortion_tolerance": 0.1,
        "exact_ratio_bound": 1.02,
        "alpha": 0.05,
        "transfer_share": 0.75,
        "noise_clean_margin": 0.01,
        "pattern_rho": 0.5,
        "bootstrap_resamples": 200,
        "bootstrap_seed": 0,
    }
    assert VerdictSettings.from_params(block).exact_ratio_bound == 1.02
    assert Verdict("Holds", "x.").line("a claim") == "**Holds** (a claim): x."
    with pytest.raises(ValueError, match="parentheses"):
        Verdict("Holds", "x.").line("a (claim)")


@pytest.mark.parametrize(
    ("ratios", "state"),
    [
        ([1.0, 0.95, 1.08], "Reproduced"),
        ([1.0, 0.95, 0.85], "Partly reproduced"),
        ([1.0, 0.8, 0.85], "Not reproduced"),
        ([], "Inconclusive"),
    ],
)
def test_distortion_verdict_judges_distortion_within_the_tolerance(ratios, state):
    cells = [DistortionCell(f"m{i}", 0.1 * ratio, 0.1) for i, ratio in enumerate(ratios)]
    verdict = distortion_verdict(cells, 0.1)
    assert verdict.state == state
    if cells:
        assert (
            f"of {len(cells)} models' mean minimal distortion lies within ±10%" in verdict.numbers
        )


@pytest.mark.parametrize(
    ("ratios", "state"),
    [
        ({"softmax1": 1.0, "softmax2": 1.019}, "Holds"),
        ({"softmax1": 1.0, "softmax2": 1.044}, "Partly holds"),
        ({"softmax1": 1.021, "softmax2": 1.2}, "Does not hold"),
        ({}, "Inconclusive"),
    ],
)
def test_exact_minimum_verdict_bounds_the_attack_against_the_exact_minimum(ratios, state):
    assert exact_minimum_verdict(ratios, 1.02).state == state


@pytest.mark.parametrize(
    ("p_values", "state"),
    [
        ([1e-6, 1e-6, 1e-6, 0.5], "Reproduced"),  # 3 of 4 reach 75%
        ([1e-6, 0.5, 0.5, 0.5], "Partly reproduced"),
        ([0.03, 0.03, 0.5, 0.5], "Not reproduced"),  # significant alone, not after Holm
    ],
)
def test_above_noise_verdict_holm_adjusts_the_mcnemar_tests(p_values, state):
    cells = [PairedCell(f"c{i}", 0.3, 0.02, p) for i, p in enumerate(p_values)]
    verdict, adjusted, _ = above_noise_verdict([cells], 0.05, 0.75, "noise σ=0.1")
    assert verdict.state == state
    assert adjusted[0] == pytest.approx(min(1.0, 4 * min(p_values)))


def test_above_noise_verdict_needs_the_adversarial_error_above_the_noise():
    cells = [PairedCell("c", 0.01, 0.3, 1e-9)]  # significant, the wrong way
    assert above_noise_verdict([cells], 0.05, 0.75, "noise")[0].state == "Not reproduced"
    assert above_noise_verdict([], 0.05, 0.75, "noise")[0].state == "Inconclusive"


def test_a_cell_beats_noise_only_when_it_does_in_every_replicate():
    first = [PairedCell("a", 0.3, 0.02, 1e-6), PairedCell("b", 0.3, 0.02, 1e-6)]
    second = [PairedCell("a", 0.3, 0.02, 1e-6), PairedCell("b", 0.05, 0.02, 0.4)]
    verdict, p_values, supporting = above_noise_verdict([first, second], 0.05, 0.75, "noise σ=0.1")
    assert supporting == [True, False]
    assert p_values[1] == pytest.approx(0.4)  # the largest of b's adjusted p-values
    assert verdict.state == "Partly reproduced"
    assert "in each of 2 replicates" in verdict.numbers


@pytest.mark.parametrize(
    ("papers", "state"),
    [
        ([0.5, 0.5], "Reproduced"),
        ([0.5, 0.9], "Partly reproduced"),
        ([0.9, 0.9], "Not reproduced"),
    ],
)
def test_agreement_verdict_counts_only_cells_that_can_disagree(papers, state):
    cells = [AgreementCell(f"c{i}", 0.5, 0.45, 0.55, paper) for i, paper in enumerate(papers)]
    cells.append(AgreementCell("diagonal", 1.0, 0.99, 1.0, 0.7, "diagonal cells"))
    verdict = agreement_verdict(cells)
    assert verdict.state == state
    assert "of 2 rates agree" in verdict.numbers
    assert "Left out, as cells that cannot disagree: 1 diagonal cells." in verdict.numbers
    only_left_out = agreement_verdict(cells[-1:])
    assert only_left_out.state == "Inconclusive"


@pytest.mark.parametrize(
    ("ours", "state"),
    [
        ([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95], "Reproduced"),
        ([0.1, 0.3, 0.2, 0.5, 0.4, 0.35, 0.7, 0.6, 0.95, 0.55], "Partly reproduced"),
        ([0.95, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1], "Not reproduced"),
        ([0.5, 0.1, 0.9, 0.3, 0.7, 0.2, 0.6, 0.4, 0.8, 0.05], "Inconclusive"),  # too wide
        ([0.1, 0.2], "Inconclusive"),
    ],
)
def test_pattern_verdict_reads_the_interval_of_spearmans_rho(ours, state):
    paper = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95][: len(ours)]
    verdict, numbers = pattern_verdict(ours, paper, 0.5, 500, 0)
    assert verdict.state == state, numbers
    assert numbers["cells"] == len(ours)


def test_a_failed_premise_is_inconclusive_with_its_reason():
    verdict = Verdict("Not reproduced", "numbers.")
    assert premise_verdict(True, "why", verdict) == verdict
    assert premise_verdict(False, "no baseline at the paper's level.", verdict) == Verdict(
        "Inconclusive", "no baseline at the paper's level."
    )
