"""Mean ± std across DVC experiments that differ only in their seed."""

import json

from intriguing.report.experiments import main, seed_groups, seed_report


def revision(seed, lr, error):
    return {
        "params": {"params.yaml": {"data": {"seed": seed, "train": {"adam_lr": lr}}}},
        "metrics": {"reports/metrics/train/n100.json": {"data": {"test_error": error}}},
    }


SHOWN = [
    {
        "rev": "workspace",
        "name": None,
        "data": revision(0, 0.001, 0.020),
        "experiments": [
            {"name": "seed-1", "revs": [{"rev": "a" * 40, "data": revision(1, 0.001, 0.022)}]},
            {"name": "seed-2", "revs": [{"rev": "b" * 40, "data": revision(2, 0.001, 0.024)}]},
            {"name": "other-lr", "revs": [{"rev": "c" * 40, "data": revision(0, 0.01, 0.05)}]},
        ],
    }
]


def test_runs_differing_only_in_seed_are_grouped():
    groups = seed_groups(SHOWN)
    assert len(groups) == 1
    # the workspace row (seed 0, the same params) is no experiment: it is not counted
    assert [name for name, _ in groups[0][1]] == ["seed-1", "seed-2"]


def test_seed_report_gives_mean_and_sample_std(tmp_path, capsys):
    text = seed_report(SHOWN)
    assert "| `reports/metrics/train/n100.json.test_error` | 0.023 | 0.0014 | 2 |" in text
    path = tmp_path / "shown.json"
    path.write_text(json.dumps(SHOWN))
    assert main([str(path)]) == 0
    assert capsys.readouterr().out == text


def test_nothing_to_summarise_is_said_plainly():
    assert seed_report(SHOWN, vary="batch_size").startswith("No two experiments differ only")
    # other-lr's only partner with the same seed is the workspace, which is no experiment
    assert seed_report(SHOWN, vary="adam_lr").startswith("No two experiments differ only")
