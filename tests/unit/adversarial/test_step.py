"""The `adversarial` rule's entry point (adversarial.step) on a broken model: the error names the
model and the split, and no output is written."""

import math

import pytest
import torch

from intriguing.adversarial.step import adversarial as adversarial_task
from intriguing.core import mnist
from intriguing.core.models import ModelSpec, build_model, save_checkpoint

SOFTMAX = {"arch": "mlp", "hidden": [], "weight_decay": [1e-4], "train_set": "all"}


def test_attack_on_a_nan_model_names_model_and_step(tmp_path, mnist_source):
    spec_params = {**SOFTMAX, "optimizer": "lbfgs"}
    spec = ModelSpec.from_params("softmax1", spec_params)
    model = build_model(spec)
    with torch.no_grad():
        model.weight_layers[0].weight.fill_(math.nan)
    save_checkpoint(tmp_path / "softmax1.pt", model, spec, {"seed": 0})
    outputs = {"output_set": tmp_path / "set.pt", "output_metrics": tmp_path / "set.json"}
    with pytest.raises(
        FloatingPointError,
        match=r"model softmax1, train set: model gave non-finite logits for example \d+ .*clean",
    ):
        adversarial_task(
            name="softmax1",
            spec_params=spec_params,
            model_path=str(tmp_path / "softmax1.pt"),
            raw_files=[str(mnist_source / name) for name in mnist.FILES],
            split="train",
            samples=3,
            policy="random",
            seed=0,
            options={},
            device="cpu",
            threads=1,
            **outputs,
        )
    assert sorted(path.name for path in tmp_path.iterdir()) == ["softmax1.pt"]
