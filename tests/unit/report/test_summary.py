"""The README's results summary is generated from the metrics and kept in sync."""

import json
import shutil

import pytest

from conftest import ROOT
from intriguing.reference import paper_reference
from intriguing.report.summary import END, START, claim_rows, main, updated_readme


def test_readme_summary_matches_the_committed_metrics():
    assert (
        main(
            [
                "--check",
                "--readme",
                str(ROOT / "README.md"),
                "--metrics",
                str(ROOT / "reports" / "metrics"),
            ]
        )
        == 0
    )


def test_a_changed_metric_makes_the_summary_stale(tmp_path):
    metrics = tmp_path / "metrics"
    shutil.copytree(ROOT / "reports" / "metrics", metrics)
    readme = tmp_path / "README.md"
    shutil.copy2(ROOT / "README.md", readme)
    train = metrics / "train" / "softmax1.json"
    train.write_text(train.read_text().replace('"test_error": 0.', '"test_error": 0.5'))
    arguments = ["--readme", str(readme), "--metrics", str(metrics)]
    assert main(["--check", *arguments]) == 1
    assert main(arguments) == 0
    assert main(["--check", *arguments]) == 0


def test_readme_without_markers_is_refused():
    with pytest.raises(ValueError, match="lacks the summary markers"):
        updated_readme("# no markers", f"{START}\n{END}")


def test_adversarial_training_rows_compare_each_model_with_its_kind(tmp_path):
    result = {"seeds": [0, 1, 2], "test_error_mean": 0.018, "test_error_std": 0.001}
    advtrain = {
        "n100_wd": {**result, "kind": "weight_decay_only"},
        "n100_adv_input": {**result, "kind": "adversarial_pool"},
    }
    (tmp_path / "advtrain.json").write_text(json.dumps(advtrain))
    rows = claim_rows(tmp_path, paper_reference())
    assert "n100_wd test error (mean ± std over 3 seeds) | 1.80 ± 0.10% | 1.6%" in rows[0]
    assert "n100_adv_input test error" in rows[1] and "| below 1.2% (adversarial pool) |" in rows[1]
