"""A job's torch setup (common.runtime): the Snakefile's `deterministic` param reaches torch,
changes no CPU result, and costs no import of torch.compile's stack."""

import subprocess
import sys

import torch

from intriguing.common.determinism import DETERMINISTIC_ENV, determinism_environment
from intriguing.common.runtime import configure_determinism, configure_job
from intriguing.core.attack import minimal_adversarial
from intriguing.core.models import ModelSpec, build_model
from intriguing.core.optimize import TrainOptions, train


def test_determinism_param_reaches_torch(monkeypatch):
    assert determinism_environment(True)["CUBLAS_WORKSPACE_CONFIG"] == ":4096:8"
    assert "CUBLAS_WORKSPACE_CONFIG" not in determinism_environment(False)
    for value, enabled in (("1", True), ("0", False)):
        monkeypatch.setenv(DETERMINISTIC_ENV, value)
        configure_job(threads=1)
        assert torch.are_deterministic_algorithms_enabled() is enabled
        assert torch.backends.cudnn.deterministic is enabled
        assert torch.backends.cudnn.benchmark is not enabled


def test_cpu_results_do_not_depend_on_the_determinism_param():
    """What README says: on the CPU the flags change no result, of training or of the attack."""
    spec = ModelSpec.from_params(
        "toy",
        {
            "arch": "mlp",
            "hidden": [16],
            "weight_decay": [1e-4, 1e-4],
            "train_set": "all",
            "optimizer": "adam_lbfgs",
        },
    )
    generator = torch.Generator().manual_seed(0)
    x, y = torch.rand(256, 1, 28, 28, generator=generator), torch.arange(256) % 10
    options = TrainOptions(adam_epochs=2, lbfgs_iterations=0, polish_iterations=5, batch_size=32)
    results = []
    for deterministic in (True, False):
        configure_determinism(deterministic)
        torch.manual_seed(0)
        model = build_model(spec)
        train(model, spec, x, y, options)
        model.requires_grad_(False)
        attack = minimal_adversarial(model, x[:8], (y[:8] + 1) % 10, c_steps=3, max_iterations=20)
        results.append([*(p.detach().clone() for p in model.parameters()), attack.x_adv, attack.c])
    assert all(torch.equal(a, b) for a, b in zip(*results, strict=True))


def test_job_setup_does_not_load_the_compiler():
    """configure_job sets torch's deterministic flag without importing torch.compile's stack
    (4 s of every job's start-up on a 2-core CPU; the pipeline never compiles)."""
    code = (
        "import sys, torch; from intriguing.common.runtime import configure_job; configure_job(1); "
        "assert torch.are_deterministic_algorithms_enabled(); "
        "assert 'torch._dynamo' not in sys.modules, 'torch._dynamo imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
