"""Rule `instability` (DVC stage `instability`): its outputs in the session's smoke build, and
its report section."""

import json
import shutil
from pathlib import Path

import pytest
import torch
import yaml

from conftest import png_pixels, report_outputs
from intriguing.core import mnist
from intriguing.core.models import ModelSpec, load_checkpoint
from intriguing.core.sets import load_set
from intriguing.instability.gains import observed_gains
from intriguing.report.step import report as build_report

MODEL = "m1"  # a Table 4 model: attacked on test images, three weight layers


def test_instability_rule(smoke_project, tmp_path):
    metrics_path = smoke_project / f"reports/metrics/instability/{MODEL}.json"
    figure_path = smoke_project / f"reports/figures/instability/{MODEL}.png"
    result = json.loads(metrics_path.read_text())
    spectral = json.loads((smoke_project / f"reports/metrics/spectral/{MODEL}.json").read_text())
    adversarial = load_set(smoke_project / f"data/adversarial/{MODEL}_test.pt")
    kept = adversarial["success"] & (adversarial["distortion"] > 0)
    assert result["sets"] == [
        {
            "set": f"data/adversarial/{MODEL}_test.pt",
            "split": "test",
            "n": len(kept),
            "used": int(kept.sum()),
        }
    ]
    assert result["n"] == int(kept.sum()) > 0
    assert [row["layer"] for row in result["rows"]] == [row["layer"] for row in spectral["rows"]]
    assert [row["upper"] for row in result["rows"]] == [row["upper"] for row in spectral["rows"]]
    assert result["lipschitz_upper_bound"] == spectral["lipschitz_upper_bound"]
    for row in result["rows"]:
        assert row["gain"]["n"] == result["n"]
        assert row["gain"]["median"] <= row["gain"]["max"] <= row["upper"]
        assert row["looseness"] >= 1 and row["cumulative_looseness"] >= 1
    assert result["network_looseness"] == result["rows"][-1]["cumulative_looseness"]

    # The JSON's largest gains are those of the set's perturbations, recomputed here.
    params = yaml.safe_load((smoke_project / "params.yaml").read_text())
    model, _ = load_checkpoint(
        str(smoke_project / f"models/{MODEL}.pt"),
        ModelSpec.from_params(MODEL, params["models"][MODEL]),
    )
    data = mnist.load_mnist(smoke_project / "data" / "raw")
    x = mnist.to_tensor(data.test_images[adversarial["indices"][kept].numpy()])
    gains = observed_gains(model, x, adversarial["x_adv"][kept])
    maxima = gains.cumulative.max(dim=0).values.tolist()
    assert [row["cumulative_gain"]["max"] for row in result["rows"]] == pytest.approx(maxima)
    png_pixels(figure_path)

    figures = tmp_path / "figures" / "instability"
    figures.mkdir(parents=True)
    shutil.copy(figure_path, figures)
    outputs = report_outputs(tmp_path)
    markdown, html = Path(outputs["markdown"]), Path(outputs["html"])
    build_report(
        {
            "instability": [str(metrics_path)],
            "instability_figures": [str(figures / f"{MODEL}.png")],
        },
        outputs,
        {"profile": "smoke"},
    )
    text = markdown.read_text()
    assert "## Beyond the paper — frame bounds against the adversarial perturbations" in text
    assert f"| {MODEL} | layers.1 | " in text and "every observed gain lies below its bound" in text
    assert html.read_text().count('src="data:image/png;base64,') == 1
    assert torch.isfinite(gains.per_layer).all()
