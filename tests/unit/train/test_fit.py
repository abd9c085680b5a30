"""Independent models: each registry model's seed is its own, and a retrain reproduces it."""

import hashlib

import numpy as np
import torch

from intriguing.common.runtime import derive_seed
from intriguing.data.mnist import Mnist
from intriguing.train.fit import fit_model
from intriguing.train.models import ModelSpec

NET = {
    "arch": "mlp",
    "hidden": [16],
    "activation": "sigmoid",
    "weight_decay": [1e-5, 1e-6],
    "optimizer": "adam_lbfgs",
}
OPTIONS = {"adam_epochs": 1, "lbfgs_iterations": 0, "polish_iterations": 3, "batch_size": 16}


def _data(size: int = 64) -> tuple[Mnist, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(size, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, size=size, dtype=np.uint8)
    split = {"p1": np.arange(0, size, 2), "p2": np.arange(1, size, 2)}
    return Mnist(images, labels, images[:8], labels[:8]), split


def _fit(name: str, train_set: str, seed: int = 0):
    data, split = _data()
    spec = ModelSpec.from_params(name, {**NET, "train_set": train_set})
    return fit_model(spec, data, split, OPTIONS, None, seed, torch.device("cpu"))


def _initial_weights(name: str, seed: int = 0) -> torch.Tensor:
    options = {**OPTIONS, "adam_epochs": 0, "polish_iterations": 0}
    data, split = _data()
    spec = ModelSpec.from_params(name, {**NET, "train_set": "p1"})
    model, _ = fit_model(spec, data, split, options, None, seed, torch.device("cpu"))
    return model.weight_layers[0].weight.detach().clone()


def test_derived_seeds_are_stable_and_distinct():
    assert derive_seed(0, "m1") == derive_seed(0, "m1")
    assert len({derive_seed(0, "m1"), derive_seed(0, "m2"), derive_seed(1, "m1")}) == 3
    assert 0 <= derive_seed(0, "m1") < 2**31
    # pinned: the derivation must not change silently between versions or machines
    digest = hashlib.sha256(b"0:m1").digest()
    assert derive_seed(0, "m1") == int.from_bytes(digest[:4], "big") % 2**31


def test_models_of_one_architecture_start_from_different_weights():
    assert not torch.equal(_initial_weights("m1"), _initial_weights("m2"))
    assert torch.equal(_initial_weights("m1"), _initial_weights("m1"))
    assert not torch.equal(_initial_weights("m1", seed=0), _initial_weights("m1", seed=1))


def test_retraining_a_model_reproduces_it_exactly_and_records_its_seed():
    first, provenance = _fit("m1", "p1")
    again, _ = _fit("m1", "p1")
    for a, b in zip(first.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert provenance["seed"] == derive_seed(0, "m1") and provenance["base_seed"] == 0
