"""Rules of the DVC stage `readings` in the session's smoke build: every softmax model refitted
under every decay reading, measured and set beside the paper, with the ledger's rule applied;
every AE400 variant refitted beside the default AE400 and the paper."""

import json

import pytest

from intriguing.plan.choices import DECAY_READINGS


def test_decay_readings_rules(smoke_project):
    summary = json.loads((smoke_project / "reports/metrics/readings/decay.json").read_text())
    assert summary["default"] == "half_mean_output" and summary["param"] == "train.decay_reading"
    rows = {(row["model"], row["reading"]): row for row in summary["rows"]}
    models = ["softmax1", "softmax2", "softmax3"]
    assert set(rows) == {(m, r) for m in models for r in DECAY_READINGS}
    for row in rows.values():
        assert row["train_n"] == 2000 and row["test_n"] == 1000
        assert 0 < row["exact_distortion"] < 1 and row["exact_reachable"]["n"] == 40
        assert set(row["noise_error"]) == {"0.1", "0.3"}
        assert row["paper"]["test_error"] > 0
    for model in models:
        ratio = (
            rows[model, "mean_output"]["coefficient"] / rows[model, "mean_example"]["coefficient"]
        )
        assert ratio == pytest.approx(10)
        half = rows[model, "half_mean_output"]["coefficient"]
        assert half == pytest.approx(rows[model, "mean_output"]["coefficient"] / 2)
        # a stronger decay gives a smoother, harder-to-fool model
        assert (
            rows[model, "mean_output"]["exact_distortion"]
            > rows[model, "mean_example"]["exact_distortion"]
        )
    assert set(summary["distances"]) == set(DECAY_READINGS)
    assert summary["nearest"] == min(summary["distances"], key=summary["distances"].get)


def test_ae400_variants_rules(smoke_project):
    summary = json.loads((smoke_project / "reports/metrics/readings/ae400.json").read_text())
    default = json.loads((smoke_project / "reports/metrics/train/ae400.json").read_text())
    assert summary["default"]["train_error"] == default["train_error"]
    assert summary["paper"] == {"train_error": 0.0057, "test_error": 0.019}
    variants = {row["variant"]: row for row in summary["variants"]}
    assert set(variants) == {"strict_top", "long_pretrain", "linear_decoder"}
    for row in variants.values():
        assert row["train_n"] == 2000 and row["test_n"] == 1000
        assert 0 <= row["test_error"] <= 1
        assert row["training"]["pretrain_epochs_run"] == 1  # the smoke profile's cap
    assert variants["linear_decoder"]["options"] == {"decoder": "linear"}
