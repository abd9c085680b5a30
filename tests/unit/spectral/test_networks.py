"""The AlexNets' weights (spectral.networks): downloaded, read from a local file, or random
when neither is possible, and recorded as such; the `spectral` job on a local weights file."""

import json
import socket

import pytest
import torch

from conftest import png_pixels
from intriguing.spectral import networks
from intriguing.spectral.labels import weights_label
from intriguing.spectral.networks import build_alexnet, load_alexnet
from intriguing.spectral.step import spectral as spectral_task


def same_parameters(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    first, second = a.state_dict(), b.state_dict()
    return first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)


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
    png_pixels(figure)


def test_a_weights_file_of_another_network_is_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"conv.weight": torch.zeros(1)}, path)
    with pytest.raises(RuntimeError, match="Missing key"):
        load_alexnet("alexnet_original", str(path), download=False, seed=0)
