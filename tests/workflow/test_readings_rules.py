"""Rules `decay_reading` and `decay_readings` (DVC stage `readings`) in the session's smoke
build: every softmax model refitted under both decay readings, measured and set beside the
paper."""

import json

import pytest

from intriguing.plan.specs import DECAY_READINGS


def test_decay_readings_rules(smoke_project):
    summary = json.loads((smoke_project / "reports/metrics/readings/decay.json").read_text())
    assert summary["default"] == "mean_output" and summary["param"] == "train.decay_reading"
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
        # a stronger decay gives a smoother, harder-to-fool model
        assert (
            rows[model, "mean_output"]["exact_distortion"]
            > rows[model, "mean_example"]["exact_distortion"]
        )
