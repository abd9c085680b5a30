"""Rules `adversarial`, `amplify` and `adversarial_figures` (DVC stage `adversarial`): their
outputs in the session's smoke build (the report's adversarial section:
tests/unit/report/test_adversarial.py)."""

import csv
import json

import pytest
import torch
import yaml

from conftest import png_pixels
from intriguing.core import mnist
from intriguing.core.distortion import distortion
from intriguing.core.sets import load_set


@pytest.mark.parametrize(("model", "split"), [("softmax1", "train"), ("m1", "test")])
def test_adversarial_rule(smoke_project, model, split):
    adversarial = load_set(smoke_project / f"data/adversarial/{model}_{split}.pt")
    metrics = json.loads(
        (smoke_project / f"reports/metrics/adversarial/{model}_{split}.json").read_text()
    )
    data = mnist.load_mnist(smoke_project / "data" / "raw")
    images = data.train_images if split == "train" else data.test_images
    x = mnist.to_tensor(images[adversarial["indices"].numpy()])
    x_adv = adversarial["x_adv"]
    assert len(x) == metrics["n"] == 40
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    torch.testing.assert_close(distortion(x, x_adv), adversarial["distortion"])
    assert (adversarial["target"] != adversarial["labels"]).all()
    assert metrics["success_rate"] == adversarial["success"].float().mean().item()
    assert metrics["success_rate"] >= 0.975
    assert 0 < metrics["mean_distortion"] < 0.3
    assert metrics["target_policy"] == "random"


def test_same_originals_for_every_model_of_a_split(smoke_project):
    targets = [f"data/adversarial/{m}_test.pt" for m in ("m1", "m2")]
    first, second = (load_set(smoke_project / target) for target in targets)
    assert torch.equal(first["indices"], second["indices"])
    assert torch.equal(first["target"], second["target"])


def test_amplify_rule(smoke_project):
    amplified = load_set(smoke_project / "data/adversarial/m1_test_amplified.pt")
    metrics = json.loads(
        (smoke_project / "reports/metrics/adversarial/m1_test_amplified.json").read_text()
    )
    assert metrics["requested_stddev"] == 0.1 and metrics["clipped_to_unit_box"]
    assert amplified["x_adv"].min() >= 0 and amplified["x_adv"].max() <= 1
    assert 0.05 < metrics["mean_distortion"] <= 0.1 + 1e-6


def test_adversarial_figures_rule(smoke_project):
    params = yaml.safe_load((smoke_project / "params.yaml").read_text())
    sets = [f"{m}_train" for m in params["adversarial"]["table2_models"]] + [
        f"{m}_test" for m in params["adversarial"]["table4_models"]
    ]
    figures = smoke_project / "reports/figures/adversarial"
    assert sorted(path.name for path in figures.iterdir()) == sorted(
        [f"{name}_examples.png" for name in sets] + ["distortions.png"]
    )
    for figure in figures.iterdir():
        png_pixels(figure)
    with (smoke_project / "reports/plots/adversarial/distortions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for name in sets:
        shares = [float(row["share"]) for row in rows if row["set"] == name]
        assert sum(shares) == pytest.approx(1.0)
