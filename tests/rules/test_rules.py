"""One test per rule of the workflow (`snakemake --list-rules`, the all_* rules aside): the rule
run alone by Snakemake on small inputs in a fresh project copy (tests/rules/conftest.py), its
outputs' content checked. `uv run pytest -m rule` runs them."""

from __future__ import annotations

import csv
import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from conftest import ROOT, run
from rules import inputs
from rules.conftest import run_rule

# `slow` too: they run Snakemake, so `pytest -m "not slow"` stays the unit tests alone.
pytestmark = [pytest.mark.rule, pytest.mark.slow]


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def assert_png(path: Path, min_side: int = 100) -> None:
    """A decodable PNG image of plausible size, not of one colour."""
    with Image.open(path) as image:
        assert image.format == "PNG", path
        assert min(image.size) >= min_side and max(image.size) < 20_000, (path, image.size)
        extrema = image.convert("L").getextrema()
        assert extrema[0] < extrema[1], f"{path}: a blank image"


def assert_unit_interval(*values: float) -> None:
    for value in values:
        assert 0 <= value <= 1 and math.isfinite(value), values


def test_mnist_rule(tiny_project, real_mnist):
    targets = [f"data/raw/{name}" for name in inputs.MNIST_FILES]
    run_rule(tiny_project, "mnist", targets, mnist=real_mnist)
    for target in targets:
        inputs.verify_file(tiny_project / target)
    images = inputs.read_idx(tiny_project / "data/raw/t10k-images-idx3-ubyte.gz")
    labels = inputs.read_idx(tiny_project / "data/raw/t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and labels.shape == (10000,)
    assert set(np.unique(labels)) == set(range(10))


def test_split_rule(tiny_project, upstream, tiny_config):
    upstream.place(tiny_project, ["data/raw/train-labels-idx1-ubyte.gz"])
    run_rule(tiny_project, "split", ["data/processed/split.npz"])
    split = inputs.load_split(tiny_project / "data/processed/split.npz")
    with np.load(tiny_project / "data/processed/split.npz") as stored:
        assert int(stored["seed"]) == tiny_config["data"]["split_seed"]
    labels = inputs.read_idx(tiny_project / "data/raw/train-labels-idx1-ubyte.gz")
    assert len(split["p1"]) == len(split["p2"]) == 30000
    assert np.array_equal(np.sort(np.concatenate([split["p1"], split["p2"]])), np.arange(60000))
    counts = [np.bincount(labels[split[half]], minlength=10) for half in ("p1", "p2")]
    assert np.abs(counts[0] - counts[1]).max() <= 1


def test_train_rule(tiny_project, upstream, tiny_config):
    upstream.place(tiny_project, [*upstream.raw(), "data/processed/split.npz"])
    run_rule(tiny_project, "train", ["models/softmax1.pt"])
    model, provenance = inputs.checkpoint(
        tiny_config, tiny_project / "models/softmax1.pt", "softmax1"
    )
    assert provenance["train_set"] == "all" and provenance["optimizer"] == "lbfgs"
    assert 0 < provenance["lbfgs_iterations"] <= 5
    weights = model.weight_layers[0].weight
    assert weights.shape == (10, 784) and inputs.tensor_finite(weights)
    images = inputs.read_idx(tiny_project / "data/raw/train-images-idx3-ubyte.gz")[:300]
    labels = inputs.read_idx(tiny_project / "data/raw/train-labels-idx1-ubyte.gz")[:300]
    with torch.no_grad():
        predicted = model(inputs.to_tensor(images)).argmax(1)
    assert (predicted.numpy() == labels).mean() > 0.5  # trained: well above chance


def test_evaluate_rule(tiny_project, upstream):
    upstream.place(
        tiny_project, [*upstream.raw(), "data/processed/split.npz", upstream.model("m1")]
    )
    run_rule(tiny_project, "evaluate", ["reports/metrics/train/m1.json"])
    metrics = read_json(tiny_project / "reports/metrics/train/m1.json")
    assert metrics["model"] == "m1" and metrics["replicate"] == 0
    assert metrics["training"]["train_set"] == "p1"
    assert metrics["training"]["optimizer"] == "adam_lbfgs"
    # a P1 model: errors on its training set (P1, cut to train_limit), P2 and the test set
    for dataset, size in (("train", 300), ("p1", 300), ("p2", 300), ("test", 200)):
        error, (low, high) = metrics[f"{dataset}_error"], metrics[f"{dataset}_error_ci95"]
        assert metrics[f"{dataset}_n"] == size
        assert_unit_interval(error, low, high)
        assert low <= error <= high
    assert metrics["train_error"] == metrics["p1_error"]


def test_filters_rule(tiny_project, upstream):
    upstream.place(tiny_project, [upstream.model("ae400")])
    run_rule(tiny_project, "filters", ["reports/figures/train/ae400_filters.png"])
    assert_png(tiny_project / "reports/figures/train/ae400_filters.png")


def test_adversarial_rule(tiny_project, upstream):
    upstream.place(tiny_project, [*upstream.raw(), upstream.model("softmax1")])
    run_rule(
        tiny_project,
        "adversarial",
        ["data/adversarial/softmax1_train.pt", "reports/metrics/adversarial/softmax1_train.json"],
    )
    adversarial = inputs.load_set(tiny_project / "data/adversarial/softmax1_train.pt")
    metrics = read_json(tiny_project / "reports/metrics/adversarial/softmax1_train.json")
    x_adv, success = adversarial["x_adv"], adversarial["success"]
    images = inputs.read_idx(tiny_project / "data/raw/train-images-idx3-ubyte.gz")
    originals = inputs.to_tensor(images[adversarial["indices"].numpy()])
    assert x_adv.shape == originals.shape == (6, 1, 28, 28) and metrics["n"] == 6
    assert x_adv.min() >= 0 and x_adv.max() <= 1
    assert (adversarial["target"] != adversarial["labels"]).all()
    distortion = adversarial["distortion"]
    torch.testing.assert_close(inputs.distortion(originals, x_adv), distortion)
    assert success.any() and (distortion[success] > 0).all()
    assert inputs.tensor_finite(distortion)
    assert metrics["success_rate"] == success.float().mean().item()
    assert metrics["mean_distortion"] == pytest.approx(distortion[success].mean().item())
    # a softmax model's attack is certified by the exact minimum: never below it, and near it
    exact = metrics["exact"]
    assert exact["n"] == int(success.sum()) and exact["unreachable"] == 0
    assert 1 - 1e-4 <= exact["median_ratio"] <= exact["max_ratio"] < 1.5


def test_amplify_rule(tiny_project, upstream):
    upstream.place(tiny_project, [*upstream.raw(), upstream.adversarial_set("softmax1", "test")])
    outputs = [
        "data/adversarial/softmax1_test_amplified.pt",
        "reports/metrics/adversarial/softmax1_test_amplified.json",
        "data/adversarial/softmax1_test_amplified_factor.pt",
        "reports/metrics/adversarial/softmax1_test_amplified_factor.json",
    ]
    run_rule(tiny_project, "amplify", outputs)
    original = inputs.load_set(tiny_project / "data/adversarial/softmax1_test.pt")
    to_stddev, by_factor = (inputs.load_set(tiny_project / output) for output in outputs[::2])
    stddev_metrics, factor_metrics = (read_json(tiny_project / output) for output in outputs[1::2])
    for amplified in (to_stddev, by_factor):
        assert amplified["x_adv"].shape == original["x_adv"].shape
        assert amplified["x_adv"].min() >= 0 and amplified["x_adv"].max() <= 1
        assert torch.equal(amplified["indices"], original["indices"])
    assert stddev_metrics["requested_stddev"] == 0.1 and stddev_metrics["n"] == 6
    assert stddev_metrics["min_distortion"] == pytest.approx(0.1, rel=1e-5)
    assert stddev_metrics["mean_distortion"] == pytest.approx(0.1, rel=1e-5)
    # ×0.1/0.06 along x' − x, then clipped to the unit box: at most the factor, barely less
    factor = factor_metrics["requested_factor"]
    assert factor == pytest.approx(0.1 / 0.06)
    assert 0.9 * factor <= factor_metrics["mean_distortion_ratio"] <= factor + 1e-6


def test_adversarial_figures_rule(tiny_project, upstream):
    sets = ["softmax1_train", "m1_test"]
    upstream.place(
        tiny_project,
        [*upstream.raw(), *(upstream.adversarial_set(*name.split("_")) for name in sets)],
    )
    figures = [f"reports/figures/adversarial/{name}_examples.png" for name in sets]
    histogram = "reports/figures/adversarial/distortions.png"
    plot_data = "reports/plots/adversarial/distortions.csv"
    run_rule(tiny_project, "adversarial_figures", [*figures, histogram, plot_data])
    for figure in [*figures, histogram]:
        assert_png(tiny_project / figure)
    with (tiny_project / plot_data).open() as handle:
        rows = list(csv.DictReader(handle))
    for name in sets:
        shares = [float(row["share"]) for row in rows if row["set"] == name]
        assert shares and sum(shares) == pytest.approx(1.0)


def test_transfer_rule(tiny_project, upstream):
    upstream.place(
        tiny_project,
        [
            *upstream.raw(),
            upstream.model("softmax1"),
            upstream.adversarial_set("softmax1", "train"),
        ],
    )
    outputs = [
        "reports/metrics/transfer/table2.json",
        "reports/plots/transfer/table2.csv",
        "reports/figures/transfer/table2.png",
    ]
    run_rule(tiny_project, "transfer", outputs)
    table = read_json(tiny_project / outputs[0])
    assert table["n"] == 6
    assert table["generated_for"] == table["evaluated_on"] == ["softmax1"]
    # the attacked model errs on every adversarial the attack found for it
    assert table["attack_success_rate"]["softmax1"] == 1.0 and table["error"] == [[1.0]]
    for sigma in ("0.1", "0.3"):
        assert_unit_interval(*table["noise"][sigma], *table["noise_clipped"][sigma])
        assert table["noise_distortion"][sigma] == pytest.approx(float(sigma), rel=0.1)
        assert 0 < table["noise_clipped_distortion"][sigma] < float(sigma)
    matched = table["matched"]
    assert matched["mean_distortion"]["softmax1"] == pytest.approx(
        matched["target_distortion"]["softmax1"], rel=1e-3
    )
    assert_unit_interval(*matched["error"][0])
    with (tiny_project / outputs[1]).open() as handle:
        rows = {row["cell"]: row for row in csv.DictReader(handle)}
    assert float(rows["softmax1 → softmax1"]["error"]) == 1.0
    assert {row["kind"] for row in rows.values()} == {
        "adversarial",
        "matched",
        "noise",
        "noise_clipped",
    }
    assert_png(tiny_project / outputs[2])


def test_figure7_rule(tiny_project, upstream):
    upstream.place(
        tiny_project,
        [
            *upstream.raw(),
            upstream.model("softmax1"),
            upstream.adversarial_set("softmax1", "train"),
        ],
    )
    outputs = ["reports/metrics/transfer/figure7.json", "reports/figures/transfer/figure7.png"]
    run_rule(tiny_project, "figure7", outputs)
    metrics = read_json(tiny_project / outputs[0])
    assert metrics["models"] == ["softmax1"] and metrics["split"] == "train"
    assert metrics["mean_distortion"]["softmax1"] > 0
    accuracy = metrics["noise_accuracy"]["softmax1"]
    assert accuracy["n"] == 6
    assert_unit_interval(accuracy["accuracy"], accuracy["accuracy_clipped"])
    assert metrics["noise_stddev"] == 1.0
    assert metrics["noise_distortion"] == pytest.approx(1.0, rel=0.1)
    assert 0 < metrics["noise_clipped_distortion"] < metrics["noise_distortion"]
    assert_png(tiny_project / outputs[1])


def test_spectral_rule(tiny_project, upstream):
    upstream.place(tiny_project, [upstream.model("n100")])
    outputs = ["reports/metrics/spectral/n100.json", "reports/figures/spectral/n100.png"]
    run_rule(tiny_project, "spectral", outputs)
    metrics = read_json(tiny_project / outputs[0])
    assert metrics["network"] == "n100" and metrics["weights"] == "checkpoint"
    rows = metrics["rows"]
    assert [row["weight_shape"] for row in rows] == [[100, 784], [100, 100], [10, 100]]
    for row in rows:
        assert row["kind"] == "linear" and 0 < row["lower"] <= row["upper"] < math.inf
    # the product of the layers' upper bounds (sigmoid is 1/4-Lipschitz: a bound still)
    assert metrics["lipschitz_upper_bound"] == pytest.approx(
        math.prod(row["upper"] for row in rows), rel=1e-5
    )
    assert_png(tiny_project / outputs[1])


def test_units_rule(tiny_project, upstream):
    upstream.place(
        tiny_project, [*upstream.raw(), upstream.model("n100"), upstream.model("softmax1")]
    )
    figures = [
        f"reports/figures/units/n100_{kind}.png" for kind in ("natural", "random", "coherence")
    ]
    run_rule(tiny_project, "units", ["reports/metrics/units/n100.json", *figures])
    metrics = read_json(tiny_project / "reports/metrics/units/n100.json")
    assert metrics["images"] == 200 and metrics["dimension"] == 100
    assert metrics["feature_model"] == "softmax1"
    measures = {measure["key"]: measure for measure in metrics["measures"]}
    assert {"label_purity", "pixel_similarity"} <= measures.keys()
    for measure in measures.values():
        assert measure["units_n"] == len(measure["units_values"]) == 100  # every unit of φ
        assert measure["random_n"] == len(measure["random_values"]) == 20
        assert measure["units_mean"] == pytest.approx(np.mean(measure["units_values"]))
        assert_unit_interval(measure["p_value"], measure["p_holm"])
    # a direction's top 4 images: the most common label holds 1 to 4 of them
    purity = measures["label_purity"]
    assert set(purity["units_values"] + purity["random_values"]) <= {0.25, 0.5, 0.75, 1.0}
    for figure in figures:
        assert_png(tiny_project / figure)


def test_instability_rule(tiny_project, upstream):
    upstream.place(
        tiny_project,
        [
            *upstream.raw(),
            upstream.model("softmax1"),
            upstream.adversarial_set("softmax1", "train"),
            upstream.frame_bounds("softmax1"),
        ],
    )
    outputs = [
        "reports/metrics/instability/softmax1.json",
        "reports/figures/instability/softmax1.png",
    ]
    run_rule(tiny_project, "instability", outputs)
    metrics = read_json(tiny_project / outputs[0])
    assert metrics["model"] == "softmax1" and metrics["n"] == 6
    assert metrics["sets"] == [
        {"n": 6, "set": "data/adversarial/softmax1_train.pt", "split": "train", "used": 6}
    ]
    bounds = read_json(tiny_project / "reports/metrics/spectral/softmax1.json")
    [row] = metrics["rows"]  # one Linear layer
    assert row["upper"] == pytest.approx(bounds["rows"][0]["upper"])
    # an observed gain never exceeds the layer's upper frame bound
    assert 0 < row["gain"]["mean"] <= row["gain"]["max"] <= row["upper"]
    assert row["looseness"] == pytest.approx(row["upper"] / row["gain"]["max"])
    assert metrics["network_gain_max"] <= metrics["lipschitz_upper_bound"]
    assert_png(tiny_project / outputs[1])


def test_advtrain_rule(tiny_project, upstream, tiny_config):
    upstream.place(tiny_project, [*upstream.raw(), "data/processed/split.npz"])
    outputs = [
        "models_advtrain/n100_adv_input_seed0.pt",
        "reports/metrics/advtrain/n100_adv_input_seed0.json",
    ]
    run_rule(tiny_project, "advtrain", outputs)
    metrics = read_json(tiny_project / outputs[1])
    assert metrics["model"] == "n100_adv_input" and metrics["seed"] == 0
    assert metrics["kind"] == "adversarial_pool" and metrics["pool_levels"] == [0]
    assert [point["epoch"] for point in metrics["curve"]] == [1, 2]
    assert all(math.isfinite(point["loss"]) for point in metrics["curve"])
    assert metrics["curve"][1]["lr"] < metrics["curve"][0]["lr"]  # decaying learning rate
    # the pool filled once (warm-up epoch 1, then one refresh), with pool_size adversarials
    assert metrics["pool"]["0"]["refreshes"] == 1 and metrics["pool"]["0"]["attacked"] == 20
    assert metrics["train_n"] == 300 and metrics["test_n"] == 200
    assert_unit_interval(metrics["train_error"], metrics["test_error"])
    model, _ = inputs.checkpoint(tiny_config, tiny_project / outputs[0], "n100_adv_input")
    assert all(inputs.tensor_finite(p) for p in model.parameters())


def test_advtrain_robustness_rule(tiny_project, upstream):
    upstream.place(
        tiny_project,
        [
            *upstream.raw(),
            upstream.advtrain_model("n100_adv_input", 0),
            upstream.adversarial_set("softmax1", "train"),
        ],
    )
    output = "reports/metrics/advtrain/n100_adv_input_seed0_robustness.json"
    run_rule(tiny_project, "advtrain_robustness", [output])
    metrics = read_json(tiny_project / output)
    assert metrics["n"] == 4  # robustness_samples test images attacked
    assert metrics["success_rate"] == pytest.approx(1 - len(metrics["failures"]) / 4)
    if metrics["success_rate"] > 0:
        assert 0 < metrics["mean_min_distortion"] < math.inf
    # its error on each Table 2 model's training-set adversarials
    assert metrics["transfer_error"].keys() == {"softmax1"}
    assert_unit_interval(metrics["transfer_error"]["softmax1"])


def test_decay_reading_rule(tiny_project, upstream):
    upstream.place(tiny_project, [*upstream.raw(), "data/processed/split.npz"])
    output = "reports/metrics/readings/decay/softmax1.json"
    run_rule(tiny_project, "decay_reading", [output])
    metrics = read_json(tiny_project / output)
    assert metrics["model"] == "softmax1"
    rows = {row["reading"]: row for row in metrics["rows"]}
    # λ = 1e-4 on one layer of k = 10 outputs: λ, λ/k and λ·10/(2k) per weight
    coefficients = {"mean_output": 1e-4, "mean_example": 1e-5, "half_mean_output": 5e-5}
    assert {reading: row["coefficient"] for reading, row in rows.items()} == pytest.approx(
        coefficients
    )
    for row in rows.values():
        assert row["train_n"] == 300 and row["test_n"] == 200
        assert row["training"]["lbfgs_iterations"] <= 5
        assert_unit_interval(row["train_error"], row["test_error"])
        assert 0 < row["exact_distortion"] < 1 and row["exact_reachable"]["n"] == 6
        for sigma in ("0.1", "0.3"):
            assert_unit_interval(row["noise_error"][sigma]["value"])


def test_ae400_variant_rule(tiny_project, upstream):
    upstream.place(tiny_project, [*upstream.raw(), "data/processed/split.npz"])
    output = "reports/metrics/readings/ae400/linear_decoder.json"
    run_rule(tiny_project, "ae400_variant", [output])
    metrics = read_json(tiny_project / output)
    assert metrics["model"] == "ae400" and metrics["variant"] == "linear_decoder"
    assert metrics["options"] == {"decoder": "linear"}
    assert metrics["training"]["pretrain_epochs_run"] == 1  # the tiny profile's budget
    assert metrics["train_n"] == 300 and metrics["test_n"] == 200
    assert_unit_interval(metrics["train_error"], metrics["test_error"])


#: The rules that gather metrics -> their output, remade from the committed results' inputs.
SUMMARY_RULES = {
    "units_summary": "reports/metrics/units.json",
    "decay_readings": "reports/metrics/readings/decay.json",
    "ae400_variants": "reports/metrics/readings/ae400.json",
    "advtrain_summary": "reports/metrics/advtrain.json",
}


@pytest.mark.parametrize(("rule", "output"), SUMMARY_RULES.items())
def test_summary_rules(committed_project, rule, output):
    project = committed_project([output])
    run_rule(project, rule, [output])
    assert read_json(project / output) == read_json(ROOT / output)


REPORT_OUTPUTS = [
    "reports/report.md",
    "reports/report.html",
    "reports/metrics/headline.json",
    "reports/run_record.md",
]
#: The report's line that names the checkout it was made in (not a git checkout in a test).
CHECKOUT_LINE = re.compile(r"^\| code commit \|.*$", flags=re.MULTILINE)
NUMBER = re.compile(r"\d+(?:\.\d+)?(?:e-?\d+)?")


def report_numbers(markdown: str) -> list[str]:
    """Every number of a report, in order, and its headings: what the committed results fix.
    Prose that names modules and tests follows the code, not the results."""
    text = CHECKOUT_LINE.sub("", markdown)
    headings = [line for line in text.splitlines() if line.startswith("#")]
    return headings + NUMBER.findall(text)


def test_report_rule(committed_project):
    project = committed_project(REPORT_OUTPUTS)
    run_rule(project, "report", REPORT_OUTPUTS)
    markdown, html, headline, record = (project / output for output in REPORT_OUTPUTS)
    assert read_json(headline) == read_json(ROOT / REPORT_OUTPUTS[2])
    made, committed = (
        report_numbers(path.read_text()) for path in (markdown, ROOT / REPORT_OUTPUTS[0])
    )
    assert made == committed
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    embedded = "data:image/png;base64,"  # every figure, inside the page
    assert page.count(embedded) == (ROOT / REPORT_OUTPUTS[1]).read_text().count(embedded) > 0
    assert "| profile | `default` |" in record.read_text()


def rules_with_a_test() -> set[str]:
    """The rules with a test here: a `test_<rule>_rule` function, or a case of
    `test_summary_rules`."""
    named = {match[1] for name in globals() if (match := re.fullmatch(r"test_(\w+)_rule", name))}
    return named | set(SUMMARY_RULES)


def test_every_rule_has_a_test(tiny_project):
    listed = run(["snakemake", "--list-rules"], tiny_project).stdout.splitlines()
    rules = {line.split()[0] for line in listed if line.strip()}
    assert rules_with_a_test() == {rule for rule in rules if not rule.startswith("all")}
