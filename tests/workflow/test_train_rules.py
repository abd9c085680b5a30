"""Rules `train` and `evaluate` (DVC stage `train`): their outputs in the session's smoke build."""

import json

import torch
import yaml

from conftest import png_pixels
from intriguing.common.runtime import derive_seed


def test_train_rule(smoke_project):
    payload = torch.load(smoke_project / "models/softmax1.pt", weights_only=True)
    assert payload["spec"]["weight_decay"] == [1e-4]
    provenance = payload["provenance"]
    assert provenance["train_n"] == 2000 and provenance["lbfgs_iterations"] > 0
    assert provenance["seed"] == derive_seed(0, "softmax1") and provenance["base_seed"] == 0
    assert not {"device", "wall_seconds"} & provenance.keys()  # in the job's log instead
    assert provenance["options"]["decay_reading"] == "half_mean_output"
    m1, m2 = (torch.load(smoke_project / f"models/{m}.pt", weights_only=True) for m in ("m1", "m2"))
    assert m1["provenance"]["seed"] != m2["provenance"]["seed"]


def test_evaluate_rule(smoke_project):
    metrics = json.loads((smoke_project / "reports/metrics/train/softmax1.json").read_text())
    assert metrics["train_n"] == 2000 and metrics["test_n"] == 1000
    assert 0 <= metrics["train_error"] < 0.2 and 0 < metrics["test_error"] < 0.3
    low, high = metrics["test_error_ci95"]
    assert low < metrics["test_error"] < high
    assert not {"device", "wall_seconds"} & metrics.keys()
    assert "trained: wall seconds" in (smoke_project / "logs/train/softmax1.log").read_text()


def test_filters_rule(smoke_project):
    """The figure shows the autoencoder's filters: a grid of tiles, each differing from its
    neighbours (a blank or truncated image fails `png_pixels`)."""
    pixels = png_pixels(smoke_project / "reports/figures/train/ae400_filters.png")
    assert pixels.std() > 10
    provenance = torch.load(smoke_project / "models/ae400.pt", weights_only=True)["provenance"]
    assert provenance["pretrain_epochs_run"] >= 1 and provenance["pretrain_stop_reason"]


def test_replicates_are_trained_from_their_own_seeds(smoke_project):
    params = yaml.safe_load((smoke_project / "params.yaml").read_text())
    assert params["profiles"]["smoke"]["train"]["replicates"] == 2
    replicate = torch.load(smoke_project / "models/n100_rep1.pt", weights_only=True)["provenance"]
    assert replicate["seed"] == derive_seed(0, "n100_rep1") != derive_seed(0, "n100")
    assert replicate["replicate"] == 1
    metrics = json.loads((smoke_project / "reports/metrics/train/n100_rep1.json").read_text())
    assert metrics["model"] == "n100" and metrics["replicate"] == 1
    assert metrics["training"]["seed"] == replicate["seed"]
    # the softmax models are not replicated: one network each
    assert not (smoke_project / "models/softmax1_rep1.pt").exists()
