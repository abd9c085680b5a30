"""Faults and bad input: missing data, no network, old checkpoints, NaN, interrupted writes.

Malformed params.yaml is covered by tests/unit/plan/test_params.py and
tests/workflow/test_params_checks.py, a corrupt or truncated MNIST file by
tests/unit/data/test_mnist.py and tests/workflow/test_data_rules.py, NaN in an Adam step by
tests/unit/train/test_models.py. The two Snakemake runs here need a project without data (each
its own copy): the session's smoke build cannot serve.
"""

import math

import pytest
import torch

from conftest import copy_project, snakemake
from intriguing.adversarial.step import adversarial as adversarial_task
from intriguing.common import files
from intriguing.core import mnist
from intriguing.core.models import (
    CheckpointMismatch,
    ModelSpec,
    build_model,
    load_checkpoint,
    save_checkpoint,
)
from intriguing.core.optimize import NonFiniteError, TrainOptions, train

SOFTMAX = {"arch": "mlp", "hidden": [], "weight_decay": [1e-4], "train_set": "all"}
UNREACHABLE = "http://127.0.0.1:9"  # the discard port: every connection is refused at once


def assert_nothing_in(directory):
    assert not directory.exists() or list(directory.iterdir()) == []


@pytest.mark.slow
def test_no_mnist_dir_and_no_network_names_the_file(tmp_path, monkeypatch):
    """Without MNIST_DIR the rule downloads; with every connection refused it stops naming the
    file and what to do, and leaves nothing in data/."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, UNREACHABLE)
    project = copy_project(tmp_path / "project")
    result = snakemake(project, "mnist", check=False)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"could not download {mnist.FILES[0]}" in log and "set MNIST_DIR" in log
    assert_nothing_in(project / "data" / "raw")


@pytest.mark.slow
def test_a_file_missing_from_mnist_dir_is_named_and_nothing_is_kept(tmp_path, mnist_source):
    """The first three files are copied and verified, the fourth is missing: the error names
    it, and Snakemake removes the three (outputs of a failed job)."""
    source = tmp_path / "mnist"
    source.mkdir()
    missing = mnist.FILES[-1]
    for name in mnist.FILES[:-1]:
        (source / name).symlink_to(mnist_source / name)
    project = copy_project(tmp_path / "project")
    result = snakemake(project, "mnist", mnist=source, check=False)
    assert result.returncode != 0
    assert f"{missing}: not found in the MNIST directory {source}" in result.stdout + result.stderr
    assert_nothing_in(project / "data" / "raw")


def test_checkpoint_without_a_spec_is_refused(tmp_path):
    """A model file in an older format (a bare state dict, no spec) is not silently used."""
    spec = ModelSpec.from_params("softmax1", {**SOFTMAX, "optimizer": "lbfgs"})
    torch.save(build_model(spec).state_dict(), tmp_path / "softmax1.pt")
    with pytest.raises(CheckpointMismatch, match=r"softmax1\.pt: built from spec None"):
        load_checkpoint(tmp_path / "softmax1.pt", spec)


def test_non_finite_loss_in_lbfgs_names_model_and_step():
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))
    x[5, 0, 3, 3] = math.inf
    spec = ModelSpec.from_params("softmax1", {**SOFTMAX, "optimizer": "lbfgs"})
    with pytest.raises(NonFiniteError, match=r"model softmax1: .* lbfgs evaluation step 1"):
        train(build_model(spec), spec, x, y, TrainOptions(adam_epochs=0, lbfgs_iterations=5))


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
    assert not any(path.exists() for path in outputs.values())


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "metrics.json"
    files.write_json(target, {"n": 1})
    with pytest.raises(RuntimeError), files.atomic_path(target) as tmp:
        tmp.write_text('{"n": ')
        raise RuntimeError("killed halfway")
    assert files.read_json(target) == {"n": 1}
    assert files.temporary_files(target) == []


def test_temporaries_of_a_killed_write_are_removed_by_the_next_write(tmp_path):
    """SIGKILL skips every cleanup: the temporary stays until the path is written again."""
    target = tmp_path / "model.pt"
    leftover = tmp_path / ".model.pt.killedxx.tmp"  # as atomic_path names them
    leftover.write_bytes(b"half a checkpoint")
    other = tmp_path / ".model.pt.bak.killedxx.tmp"  # a temporary of another file
    other.write_bytes(b"")
    assert files.temporary_files(target) == [leftover]
    files.write_text(target, "whole")
    assert files.temporary_files(target) == [] and other.exists()
    assert target.read_text() == "whole"
