"""Rules `units`, `units_summary` and `units_imagefolder` (DVC stage `units`): the first two's
outputs in the session's smoke build, the report's unit-analysis section built from them, and
`units_imagefolder` run in a project of its own."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from conftest import copy_project, plan_jobs, png_pixels, report_outputs, snakemake
from intriguing.core import mnist
from intriguing.core.models import ModelSpec, load_checkpoint
from intriguing.report.step import report as build_report
from intriguing.units.directions import layer_activations

KINDS = ("natural", "random", "coherence")
WIDTHS = {"conv": 128, "n100": 100}  # the last hidden layer of each analysed model


@pytest.fixture(scope="module")
def units_project(smoke_project):
    """The session's smoke build, which holds `all_units`."""
    return smoke_project


@pytest.mark.parametrize("model", WIDTHS)
def test_units_rule_writes_statistics_and_figures(units_project, model):
    result = json.loads((units_project / f"reports/metrics/units/{model}.json").read_text())
    params = yaml.safe_load((units_project / "params.yaml").read_text())
    other = params["units"]["feature_models"][model]
    assert result["images"] == 1000 and result["dimension"] == WIDTHS[model]
    assert result["top_k"] == 10 and result["feature_model"] == other
    assert [m["key"] for m in result["measures"]] == [
        "label_purity",
        "pixel_similarity",
        f"feature_similarity_{other}",
    ]
    for measure in result["measures"]:
        kept = WIDTHS[model] - len(result["units_undetermined"])
        assert measure["units_n"] == len(measure["units_values"]) == kept
        random_n = params["units"]["random_directions"] - len(result["random_undetermined"])
        assert measure["random_n"] == random_n == len(measure["random_values"])
        assert measure["units_ci95"][0] <= measure["units_mean"] <= measure["units_ci95"][1]
        assert 0 <= measure["p_value"] <= measure["p_holm"] <= 1
    purity = result["measures"][0]
    assert 0.1 <= purity["chance"] < purity["random_mean"]  # random sets: ≈ 0.28
    assert result["verdict"]["status"] in {"holds", "partly holds", "does not hold"}
    for kind in KINDS:
        png_pixels(units_project / f"reports/figures/units/{model}_{kind}.png")


def test_shown_rows_are_the_largest_activations_of_the_trained_model(units_project):
    """The figure's rows, recomputed from the checkpoint: each unit's top-k test images."""
    result = json.loads((units_project / "reports/metrics/units/conv.json").read_text())
    params = yaml.safe_load((units_project / "params.yaml").read_text())
    spec = ModelSpec.from_params("conv", params["models"]["conv"])
    model, _ = load_checkpoint(str(units_project / "models/conv.pt"), spec)
    images = mnist.load_mnist(units_project / "data/raw").test_images[:1000]
    phi = layer_activations(model, None, mnist.to_tensor(images)).numpy()
    assert result["shown"]["units"]
    for row in result["shown"]["units"]:
        unit = phi[:, row["direction"]]
        outside = np.setdiff1d(np.arange(len(unit)), row["top"])
        assert unit[row["top"]].min() >= unit[outside].max()
        assert row["direction"] not in result["units_undetermined"]


def test_units_summary_merges_every_model(units_project):
    summary = json.loads((units_project / "reports/metrics/units.json").read_text())
    assert set(summary["networks"]) == set(WIDTHS) and summary["profile"] == "smoke"
    per_network = summary["verdict"]["per_network"]
    assert per_network == {m: summary["networks"][m]["verdict"]["status"] for m in WIDTHS}
    statuses = set(per_network.values())
    assert summary["verdict"]["status"] == (statuses.pop() if len(statuses) == 1 else "mixed")


def test_report_states_the_units_verdict(units_project, tmp_path):
    figures = tmp_path / "figures" / "units"
    shutil.copytree(units_project / "reports/figures/units", figures)
    outputs = report_outputs(tmp_path)
    markdown, html = Path(outputs["markdown"]), Path(outputs["html"])
    build_report(
        {
            "units": str(units_project / "reports/metrics/units.json"),
            "units_figures": [str(path) for path in sorted(figures.iterdir())],
        },
        outputs,
        {"profile": "smoke"},
    )
    text = markdown.read_text()
    summary = json.loads((units_project / "reports/metrics/units.json").read_text())
    assert "## Section 3 — units of φ(x) vs random directions (Figures 1–2)" in text
    for model in WIDTHS:
        assert summary["networks"][model]["verdict"]["sentence"] in text
        assert f"![{model}: top-k images of single units" in text
    assert "](figures/units/conv_coherence.png)" in text
    assert html.read_text().count('src="data:image/png;base64,') == len(WIDTHS) * len(KINDS)


def imagefolder_project(destination: Path) -> Path:
    """A project of its own whose params name an ImageFolder root of 12 random 24×24 images
    (two classes) and a small analysis (top 3, 2 rows shown) of a random ResNet-18."""
    project = copy_project(destination / "project")
    root = destination / "images"
    rng = np.random.default_rng(0)
    for name in ("cat", "dog"):
        (root / name).mkdir(parents=True)
        for index in range(6):
            pixels = rng.integers(0, 256, (24, 24, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(root / name / f"{index}.png")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["units"].update(top_k=3, rows_shown=2)
    params["units"]["imagefolder"].update(root=str(root), model="resnet18", resize=24, crop=24)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return project


def test_imagefolder_rule_joins_the_dag_only_with_a_root(default_plan, tmp_path):
    """Without an ImageFolder root (the committed params: conftest's `default_plan`) no job of
    the rule is planned; with one, `all_units` plans it."""
    planned = {job["rule"] for job in plan_jobs(default_plan)}
    assert "units" in planned and "units_imagefolder" not in planned
    dry = snakemake(imagefolder_project(tmp_path), "all_units", "--dry-run").stdout
    assert "rule units_imagefolder:" in dry and "reports/metrics/units/imagefolder.json" in dry


@pytest.mark.integration  # a ResNet-18 job: a minute on a busy 2-core machine
def test_imagefolder_rule_writes_statistics_and_figures(tmp_path):
    """In a project of its own (no MNIST model needed)."""
    project = imagefolder_project(tmp_path)
    snakemake(project, "reports/metrics/units/imagefolder.json")
    result = json.loads((project / "reports/metrics/units/imagefolder.json").read_text())
    assert result["images"] == 12 and result["dimension"] == 512
    assert result["weights"] == "random"
    for kind in KINDS:
        png_pixels(project / f"reports/figures/units/imagefolder_{kind}.png")
