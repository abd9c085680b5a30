"""The torch code paths on a device (CUDA; see conftest.py): every job's model and data on
the device, its files loadable on a CPU-only machine, deterministic repeats identical, and the
device agreeing with the CPU within stated tolerances."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from intriguing.advtrain.pool import AdvTrainOptions, PoolOptions, train_with_pool
from intriguing.common.runtime import configure_determinism
from intriguing.core.attack import minimal_adversarial
from intriguing.core.distortion import gaussian_noise
from intriguing.core.exact import exact_minimal_distortion, linear_map
from intriguing.core.fit import fit_model
from intriguing.core.mnist import Mnist
from intriguing.core.models import ModelSpec, build_model, load_checkpoint, save_checkpoint
from intriguing.readings.decay import exact_distortions
from intriguing.transfer.tables import error_rate
from intriguing.units.directions import label_purity

NET = {
    "arch": "mlp",
    "hidden": [32, 32],
    "activation": "sigmoid",
    "weight_decay": [1e-5, 1e-5, 1e-6],
    "train_set": "p1",
    "optimizer": "adam_lbfgs",
}
OPTIONS = {"adam_epochs": 2, "lbfgs_iterations": 0, "polish_iterations": 10, "batch_size": 64}
#: CPU and GPU kernels sum in other orders: a short training agrees to this relative loss.
LOSS_TOLERANCE = 1e-3


def _data(size: int = 512) -> tuple[Mnist, dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, size=size, dtype=np.uint8)
    images = (rng.random((size, 28, 28)) * 60).astype(np.uint8)
    images[np.arange(size), 3, labels + 5] = 255  # a learnable mark per label
    split = {"p1": np.arange(0, size, 2), "p2": np.arange(1, size, 2)}
    return Mnist(images, labels, images[:128], labels[:128]), split


def _fit(device: torch.device, spec_params: dict = NET):
    data, split = _data()
    spec = ModelSpec.from_params("m1", spec_params)
    return spec, *fit_model(spec, data, split, OPTIONS, None, 0, device)


def test_training_runs_on_the_device_and_its_file_loads_on_a_cpu(device, tmp_path):
    spec, model, provenance = _fit(device)
    assert {p.device.type for p in model.parameters()} == {device.type}
    save_checkpoint(tmp_path / "m1.pt", model, spec, provenance)
    payload = torch.load(tmp_path / "m1.pt", weights_only=True, map_location=None)
    assert {t.device.type for t in payload["state_dict"].values()} == {"cpu"}
    loaded, _ = load_checkpoint(tmp_path / "m1.pt", spec, "cpu")
    x = torch.rand(8, 1, 28, 28)
    torch.testing.assert_close(loaded(x), model(x.to(device)).cpu(), rtol=1e-4, atol=1e-5)


def test_deterministic_training_repeats_exactly(device):
    configure_determinism(True)
    try:
        _, first, _ = _fit(device)
        _, again, _ = _fit(device)
    finally:
        configure_determinism(False)
    for a, b in zip(first.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_device_and_cpu_training_agree(device):
    _, _, on_device = _fit(device)
    _, _, on_cpu = _fit(torch.device("cpu"))
    assert on_device["final_loss"] == pytest.approx(on_cpu["final_loss"], rel=LOSS_TOLERANCE)


def test_attack_and_exact_minimum_on_the_device_agree_with_the_cpu(device):
    softmax = {**NET, "hidden": [], "weight_decay": [1e-4], "optimizer": "lbfgs"}
    _, model, _ = _fit(device, softmax)
    model.requires_grad_(False)
    x = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    target = (model(x.to(device)).argmax(dim=1).cpu() + 3) % 10
    results = {}
    for where in (device, torch.device("cpu")):
        model.to(where)
        attack = minimal_adversarial(model, x.to(where), target.to(where))
        exact = exact_minimal_distortion(*linear_map(model), x.to(where), target.to(where))
        assert attack.x_adv.device.type == exact.x_adv.device.type == where.type
        results[where.type] = (attack.distortion.cpu(), exact.distortion.cpu())
    torch.testing.assert_close(results[device.type][1], results["cpu"][1], rtol=1e-6, atol=0)
    torch.testing.assert_close(results[device.type][0], results["cpu"][0], rtol=1e-3, atol=1e-5)
    model.to(device)
    labels = model(x.to(device)).argmax(dim=1)
    assert torch.isfinite(exact_distortions(model, x.to(device), labels, "closest", 0)).all()


def test_noise_errors_and_label_purity_on_the_device(device):
    _, model, _ = _fit(device)
    data, _ = _data()
    x = torch.from_numpy(data.test_images).float().div(255).unsqueeze(1).to(device)
    labels = torch.from_numpy(data.test_labels.astype("int64")).to(device)
    noisy, _ = gaussian_noise(x, 0.1, seed=0, clip=False)
    assert noisy.device.type == device.type
    assert 0 <= error_rate(model, noisy, labels).value <= 1
    top = torch.arange(20, device=device).view(4, 5)
    assert label_purity(labels, top).device.type == device.type


def test_adversarial_training_with_a_pool_on_the_device(device):
    spec = ModelSpec.from_params("n100_adv_input", {**NET, "train_set": "all"})
    data, _ = _data()
    x = torch.from_numpy(data.train_images).float().div(255).unsqueeze(1).to(device)
    y = torch.from_numpy(data.train_labels.astype("int64")).to(device)
    torch.manual_seed(0)
    model = build_model(spec).to(device)
    pool = PoolOptions(
        levels=(0, 2),
        size=32,
        attack={"c_steps": 2, "max_iterations": 10},
        replace_fraction=0.5,
        mix_ratio=0.5,
        refreshes_per_epoch=1,
        warmup_epochs=0,
        target_policy="runner_up",
        distortion_scale=0.5,
        max_distortion=None,
    )
    options = AdvTrainOptions(
        epochs=1,
        adam_lr=1e-2,
        final_lr=1e-3,
        batch_size=64,
        decay_reading="mean_output",
        pool=pool,
    )
    result = train_with_pool(model, spec, x, y, options, monitor=lambda m: {"seen": 1.0})
    assert result.steps > 0 and {p.device.type for p in model.parameters()} == {device.type}
