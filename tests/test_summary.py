"""The README's results summary is generated from the metrics and kept in sync."""

import shutil

import pytest

from conftest import ROOT
from intriguing.summary import END, START, main, updated_readme


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
