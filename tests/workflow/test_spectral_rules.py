"""Rule `spectral` (Table 5) on the smoke profile and its report section (the AlexNet weights:
tests/unit/spectral/test_networks.py)."""

import json
import math
import shutil
from pathlib import Path

import pytest

from conftest import png_pixels, report_outputs
from intriguing.report.step import report as build_report
from intriguing.spectral.networks import ALEXNETS

NETWORKS = {"alexnet_torchvision": 8, "alexnet_original": 8, "conv": 3}  # name: weight layers


@pytest.fixture(scope="module")
def spectral_project(smoke_project):
    """The session's smoke build, which holds `all_spectral` (both AlexNets and the smoke MNIST
    models)."""
    return smoke_project


@pytest.mark.parametrize("network", NETWORKS)
def test_spectral_rule_writes_bounds_and_figure(spectral_project, network):
    result = json.loads((spectral_project / f"reports/metrics/spectral/{network}.json").read_text())
    rows = result["rows"]
    assert len(rows) == NETWORKS[network]
    assert {"layer", "kind", "input_shape", "output_shape", "lower", "upper"} <= set(rows[0])
    for row in rows:
        assert row["upper"] > 0
        assert row["lower"] is None or 0 <= row["lower"] <= row["upper"] * (1 + 1e-9)
    assert result["lipschitz_upper_bound"] == pytest.approx(math.prod(r["upper"] for r in rows))
    assert not {"device", "wall_seconds"} & result.keys()
    png_pixels(spectral_project / f"reports/figures/spectral/{network}.png")
    if network in ALEXNETS:
        assert result["weights"] == "random" and result["weights_fallback"] is None
        assert result["table5_caveats"][0] == "random weights"
        # the smoke profile: 67×67 input, FC layers over 1e6 weights get an upper bound only
        assert result["input_shape"] == [3, 67, 67]
        assert [row["kind"] for row in rows] == ["conv"] * 5 + ["linear"] * 3
        assert all(row["lower"] is None for row in rows[5:])
        assert all(row["lower"] is not None for row in rows[:5])
    else:
        assert result["weights"] == "checkpoint" and result["input_shape"] == [1, 28, 28]
        assert all(row["lower"] is not None for row in rows)


def test_report_sets_table5_beside_ours_and_says_not_comparable(spectral_project, tmp_path):
    metrics = spectral_project / "reports/metrics/spectral"
    figures = tmp_path / "figures" / "spectral"
    shutil.copytree(spectral_project / "reports/figures/spectral", figures)
    outputs = report_outputs(tmp_path)
    markdown, html = Path(outputs["markdown"]), Path(outputs["html"])
    build_report(
        {
            "spectral": [str(metrics / f"{network}.json") for network in NETWORKS],
            "spectral_figures": [str(figures / f"{network}.png") for network in NETWORKS],
        },
        outputs,
        {"profile": "smoke"},
    )
    text = markdown.read_text()
    assert "## Table 5 — frame bounds" in text
    assert text.count("**Not comparable: random weights;") == 2
    assert "| Conv. 1 | paper | 3×11×11×96 | 0.1 | 20 |  |" in text
    assert "| conv1 | `alexnet_original` (random weights — not comparable to Table 5) |" in text
    assert "## Frame bounds of our MNIST models" in text and "| conv | layers.0 | conv |" in text
    link = "![alexnet_original: frame bounds per layer](figures/spectral/alexnet_original.png)"
    assert link in text and "## Table 1" in text  # the existing sections stay
    assert html.read_text().count('src="data:image/png;base64,') == len(NETWORKS)
