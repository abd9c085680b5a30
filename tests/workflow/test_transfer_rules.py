"""Rules `transfer` and `figure7` (DVC stage `transfer`): their outputs in the session's smoke
build."""

import csv
import json

import pytest
import yaml

from conftest import png_pixels
from intriguing.core.sets import load_sets, originals_tensor, shared_originals
from intriguing.reference import paper_reference
from intriguing.transfer.tables import load_models, misclassified, unpack_errors


@pytest.mark.parametrize(("table", "split"), [("table2", "train"), ("table4", "test")])
def test_transfer_rule(smoke_project, table, split):
    params = yaml.safe_load((smoke_project / "params.yaml").read_text())
    models = params["adversarial"][f"{table}_models"]
    result = json.loads((smoke_project / f"reports/metrics/transfer/{table}.json").read_text())
    assert result["generated_for"] == result["evaluated_on"] == models
    assert result["split"] == split and result["n"] == 40
    noise = params["transfer"][f"{table}_noise"]
    assert list(result["noise"]) == [f"{s:g}" for s in noise]
    for position, name in enumerate(models):
        # a targeted success is a misclassification: the diagonal is at least the success rate
        assert result["error"][position][position] >= result["attack_success_rate"][name]
    if table == "table4":
        assert result["amplified"]["generated_for"] == models
        assert len(result["amplified"]["error"]) == len(models)
    # one cell recomputed from the stored set and model
    sets = load_sets({models[0]: smoke_project / f"data/adversarial/{models[0]}_{split}.pt"})
    _, labels, _ = shared_originals(sets)
    evaluated = models[-1]
    model = load_models(
        {evaluated: params["models"][evaluated]},
        {evaluated: smoke_project / f"models/{evaluated}.pt"},
    )[evaluated]
    recomputed = misclassified(model, sets[models[0]]["x_adv"], labels).float().mean().item()
    assert result["error"][0][-1] == pytest.approx(recomputed)
    with (smoke_project / f"reports/plots/transfer/{table}.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    # the sets, the sets at the paper's distortion (+ Table 4's 2 amplified), both noise kinds
    blocks = len(models) * ((3 if table == "table4" else 1) + 1) + 2 * len(noise)
    assert len(rows) == blocks * len(models)
    assert result["matched"]["generated_for"] == models
    assert result["matched"]["target_distortion"] == {
        name: paper_reference()[table]["mean_distortion"][name] for name in models
    }
    # every cell keeps its per-original errors, and is tested against each paper noise row
    errors = unpack_errors(result["error_bits"][0][-1], result["n"])
    assert errors.mean() == pytest.approx(result["error"][0][-1])
    assert set(result["mcnemar"]) == set(result["noise"])
    png_pixels(smoke_project / f"reports/figures/transfer/{table}.png")


@pytest.mark.parametrize(("table", "split"), [("table2", "train"), ("table4", "test")])
def test_transfer_rule_computes_every_replicate(smoke_project, table, split):
    params = yaml.safe_load((smoke_project / "params.yaml").read_text())
    models = params["adversarial"][f"{table}_models"]
    result = json.loads((smoke_project / f"reports/metrics/transfer/{table}.json").read_text())
    replicates = result["replicates"]
    replicated = [m for m in models if m in params["train"]["replicated_models"]]
    assert replicates["count"] == 2 and replicates["replicated_models"] == replicated
    first, second = replicates["per_replicate"]
    assert first["error"] == result["error"]
    # replicate 1's last cell from the replicated models' second networks
    row, column = replicated[0], models[-1]
    network = column if column not in replicated else f"{column}_rep1"
    sets = load_sets({row: smoke_project / f"data/adversarial/{row}_rep1_{split}.pt"})
    _, labels, _ = shared_originals(sets)
    model = load_models(
        {column: params["models"][column]}, {column: smoke_project / f"models/{network}.pt"}
    )[column]
    recomputed = misclassified(model, sets[row]["x_adv"], labels).float().mean().item()
    assert second["error"][models.index(row)][-1] == pytest.approx(recomputed)
    means = replicates["seed_mean"]
    cell = [first["error"][0][-1], second["error"][0][-1]]
    assert means["error"][0][-1] == pytest.approx(sum(cell) / 2)
    low, high = means["error_ci95"][0][-1]
    assert low <= means["error"][0][-1] <= high


def test_figure7_rule(smoke_project):
    result = json.loads((smoke_project / "reports/metrics/transfer/figure7.json").read_text())
    assert result["models"] == ["softmax1", "n200"]
    for accuracy in result["noise_accuracy"].values():
        low, high = accuracy["accuracy_ci95"]
        assert low <= accuracy["accuracy"] <= high and accuracy["n"] == 40
    sets = load_sets({"n200": smoke_project / "data/adversarial/n200_train.pt"})
    indices, _, split = shared_originals(sets)
    raw = sorted(str(path) for path in (smoke_project / "data/raw").iterdir())
    assert originals_tensor(raw, split, indices).shape == (40, 1, 28, 28)
    png_pixels(smoke_project / "reports/figures/transfer/figure7.png")
