"""The headline metrics: the few numbers DVC compares, and every verdict under a stable key."""

import pytest

from intriguing.report.headline import headline, verdict_key, verdict_statuses

SECTIONS = [
    "## Table 4 — cross-training-set generalisation\n\n"
    "- **Reproduced** (transfer across training sets beats noise σ=0.06): 4 of 4 cells.\n\n"
    "- **Not reproduced** (rates agree with the paper): 2 of 9 rates agree.",
    "## Section 3 — units of φ(x)\n\nOn `conv`: **Holds**: none.\n\nOn `n100`: **Holds**: x.",
    "## Adversarial training (Section 4.2)\n\n- **Inconclusive** (adversarial pool below 1.2%): "
    "neither baseline reaches the paper's level.",
    "## Table 1 — models\n\n**Partly reproduced**: 6 of 12 rates agree.",
    "## Table 2 — more\n\n**Reproduced**: one.\n\n**Reproduced**: two.",
    "not a section **Reproduced**",
]


def test_every_verdict_has_a_short_stable_named_key():
    assert verdict_statuses(SECTIONS) == {
        "table4.transfer_across_training_sets_beats_noise_0_06": "Reproduced",
        "table4.rates_agree_with_the_paper": "Not reproduced",
        "section3.conv": "Holds",
        "section3.n100": "Holds",
        "adversarial_training.adversarial_pool_below_1_2": "Inconclusive",
        "table1": "Partly reproduced",
        # a section that names neither claim nor network numbers its verdicts
        "table2.1": "Reproduced",
        "table2.2": "Reproduced",
    }
    assert verdict_key("Table 5 — frame bounds", "alexnet_original", 0, 0) == (
        "table5.alexnet_original"
    )


def test_two_verdicts_of_one_claim_are_refused():
    section = "## Table 4 — x\n\n**Reproduced** (same claim): a.\n\n**Reproduced** (same claim): b."
    with pytest.raises(ValueError, match="share the headline key"):
        verdict_statuses([section])


def test_headline_takes_the_tables_key_numbers():
    reference = {"table1": {"softmax1": {}}, "table3": {"m1": {}}}
    table = {"evaluated_on": ["a", "b"], "generated_for": ["a", "b"], "error": [[1, 0.2], [0.4, 1]]}
    result = headline(
        reference,
        trained={"softmax1": {"test_error": 0.07}, "conv": {"test_error": 0.01}},
        adversarial={
            "softmax1_train": {"mean_distortion": 0.06},
            "m1_test": {"mean_distortion": 0.05},
        },
        transfer={"table2": table, "figure7": {"noise_accuracy": {"n200": {"accuracy": 0.48}}}},
        advtrain={"n100_wd": {"test_error_mean": 0.017}},
        sections=SECTIONS[3:4],
    )
    assert result == {
        "test_error": {"softmax1": 0.07},
        "mean_distortion": {"softmax1": 0.06, "m1": 0.05},
        "transfer_error": {"table2": (0.2 + 0.4) / 2},
        "noise_accuracy": {"n200": 0.48},
        "advtrain_test_error": {"n100_wd": 0.017},
        "verdicts": {"table1": "Partly reproduced"},
    }
