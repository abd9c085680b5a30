"""Rules `advtrain`, `advtrain_robustness` and `advtrain_summary` (DVC stage `advtrain`): their
outputs in the session's smoke build."""

import json
import statistics

import pytest
import yaml

from intriguing.core.models import ModelSpec, load_checkpoint


def test_advtrain_summary(smoke_project):
    params = yaml.safe_load((smoke_project / "params.yaml").read_text())
    advtrain = params["advtrain"]
    seeds = params["profiles"]["smoke"]["advtrain"]["seeds"]
    summary = json.loads((smoke_project / "reports/metrics/advtrain.json").read_text())
    assert sorted(summary) == sorted(advtrain["models"])
    for model, entry in summary.items():
        runs = [
            json.loads(
                (smoke_project / f"reports/metrics/advtrain/{model}_seed{seed}.json").read_text()
            )
            for seed in seeds
        ]
        assert entry["seeds"] == seeds
        assert entry["test_errors"] == [run["test_error"] for run in runs]
        assert entry["test_error_mean"] == pytest.approx(statistics.fmean(entry["test_errors"]))
        assert entry["test_error_std"] >= 0
        assert 0 < entry["mean_min_distortion"] < 0.5
        assert set(entry["transfer_error"]) == set(params["adversarial"]["table2_models"])
        for run in runs:
            assert run["test_n"] == 1000 and run["train_n"] == 2000
            assert [row["epoch"] for row in run["curve"]] == [1, 2]
            assert all(row["loss"] > 0 and "test_error" not in row for row in run["curve"])
        others = set(summary) - {model}
        assert set(entry["paired_difference"]) == others
        for other, difference in entry["paired_difference"].items():
            assert difference["seeds"] == seeds
            assert difference["differences"] == pytest.approx(
                [
                    a - b
                    for a, b in zip(
                        entry["test_errors"], summary[other]["test_errors"], strict=True
                    )
                ]
            )
        levels = advtrain["pool_levels"].get(model)
        if levels:
            assert sorted(runs[0]["pool"]) == sorted(map(str, levels))
            assert all(stats["attacked"] > 0 for stats in runs[0]["pool"].values())
            assert entry["kind"] == "adversarial_pool"
        else:
            assert runs[0]["pool"] == {}
        assert not {"device", "wall_seconds", "attack_wall_seconds"} & runs[0].keys()
        spec = ModelSpec.from_params(model, params["models"][model])
        _, provenance = load_checkpoint(
            smoke_project / f"models_advtrain/{model}_seed{seeds[0]}.pt", spec
        )
        assert provenance["seed"] == seeds[0] and provenance["pool_levels"] == levels
    figure = smoke_project / "reports/figures/advtrain/training_loss.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
