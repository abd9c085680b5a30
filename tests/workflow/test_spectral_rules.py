"""Rule `spectral` (Table 5) on the smoke profile, its report section, and the AlexNet weights."""

import json
import math
import shutil
import socket
from pathlib import Path

import pytest
import torch

from conftest import report_outputs
from intriguing.reference import paper_reference
from intriguing.report.spectral import table5_verdict
from intriguing.report.step import report as build_report
from intriguing.spectral import networks
from intriguing.spectral.labels import weights_label
from intriguing.spectral.networks import ALEXNETS, build_alexnet, load_alexnet
from intriguing.spectral.step import spectral as spectral_task

NETWORKS = {"alexnet_torchvision": 8, "alexnet_original": 8, "conv": 3}  # name: weight layers


@pytest.fixture(scope="module")
def spectral_project(smoke_project):
    """The session's smoke build, which holds `all_spectral` (both AlexNets and the smoke MNIST
    models)."""
    return smoke_project


def same_parameters(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    first, second = a.state_dict(), b.state_dict()
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


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
    figure = spectral_project / f"reports/figures/spectral/{network}.png"
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
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


def no_network(*args, **kwargs):
    raise OSError("network disabled by the test")


def test_failed_download_falls_back_to_random_weights(monkeypatch, tmp_path):
    """The real torchvision download path, offline: no cached file, no name resolution."""
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    with pytest.warns(RuntimeWarning, match="IMAGENET1K_V1 failed"):
        model, weights = load_alexnet("alexnet_torchvision", None, download=True, seed=0)
    assert weights.source == "random" and "network disabled by the test" in weights.fallback
    assert same_parameters(model, build_alexnet("alexnet_torchvision", seed=0))


def test_downloaded_weights_are_loaded_and_recorded(monkeypatch):
    trained = build_alexnet("alexnet_torchvision", seed=1)
    monkeypatch.setattr(networks, "download_imagenet_weights", trained.state_dict)
    model, weights = load_alexnet("alexnet_torchvision", None, download=True, seed=0)
    assert weights.source == "torchvision_download" and weights.fallback is None
    assert same_parameters(model, trained)


def test_original_alexnet_has_nothing_to_download(monkeypatch):
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    model, weights = load_alexnet("alexnet_original", None, download=True, seed=0)
    assert weights.source == "random" and "no public weights" in weights.fallback


def test_local_weights_file_is_loaded_analysed_and_recorded(tmp_path):
    saved = build_alexnet("alexnet_torchvision", seed=1)
    path = tmp_path / "alexnet.pth"
    torch.save(saved.state_dict(), path)
    model, weights = load_alexnet("alexnet_torchvision", str(path), download=True, seed=0)
    assert weights.source == "file" and str(path) in weights.detail and "sha256" in weights.detail
    assert same_parameters(model, saved)
    options = {"download_weights": False, "alexnet_input_size": 67, "linear_svd_max_weights": 10**6}
    metrics, figure = tmp_path / "bounds.json", tmp_path / "bounds.png"
    spectral_task(
        "alexnet_torchvision",
        str(metrics),
        str(figure),
        options,
        seed=0,
        device="cpu",
        threads=1,
        profile="smoke",
        weights_file=str(path),
    )
    result = json.loads(metrics.read_text())
    assert result["weights"] == "file" and "random weights" not in result["table5_caveats"]
    assert result["table5_caveats"][0] == "input 67×67 (profile smoke), not 224×224"
    assert [row["size"] for row in result["rows"]][:2] == ["3×11×11×64", "64×5×5×192"]
    assert weights_label(result) == ("weights from a local file — not comparable to Table 5")
    assert figure.is_file()


def test_a_weights_file_of_another_network_is_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(RuntimeError, match="Missing key"):
        load_alexnet("alexnet_original", str(path), download=False, seed=0)


def test_table5_verdict_judges_upper_bounds_of_trained_weights_only():
    reference = paper_reference()["table5"]
    rows = [{"layer": row["layer"], "upper": row["upper"] * 1.5} for row in reference]
    rows[0]["upper"] = reference[0]["upper"] * 3
    trained = {"network": "alexnet_original", "table5_caveats": [], "rows": rows}
    assert table5_verdict(trained, reference).startswith(
        "**Partly reproduced**: 7 of 8 upper bounds lie within a factor of 2"
    )
    random = {**trained, "table5_caveats": ["random weights"], "weights": "random"}
    assert table5_verdict(random, reference).startswith("**Not comparable: random weights.**")
