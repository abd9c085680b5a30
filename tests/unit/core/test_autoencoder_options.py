"""The AE400 variants' model options (ledger entry `ae400_pretraining`): the decoder's output,
a minimum length of the autoencoder phase, and the top softmax's own stopping tolerance."""

import pytest
import torch

from conftest import AUTOENCODER
from intriguing.core.models import ModelSpec, build_model
from intriguing.core.optimize import TrainOptions, train

SOFTMAX = {"arch": "mlp", "weight_decay": [1e-4], "train_set": "all", "optimizer": "lbfgs"}

#: A tolerance so loose that every phase stops at its first check.
LOOSE = TrainOptions(
    adam_epochs=0,
    lbfgs_iterations=40,
    pretrain_epochs=6,
    batch_size=64,
    tolerance_relative=1.0,
    tolerance_window=2,
)


def _toy_data() -> tuple[torch.Tensor, torch.Tensor]:
    """Noise images whose label is marked by one bright pixel in the first row."""
    generator = torch.Generator().manual_seed(0)
    y = torch.randint(0, 10, (256,), generator=generator)
    x = 0.3 * torch.rand(256, 1, 28, 28, generator=generator)
    x[torch.arange(256), 0, 0, y] = 1.0
    return x, y


def _train(**options):
    x, y = _toy_data()
    spec = ModelSpec.from_params("ae", {**AUTOENCODER, **options})
    torch.manual_seed(0)
    return train(build_model(spec), spec, x, y, LOOSE)


def test_the_autoencoder_phase_runs_its_minimum_before_it_may_stop():
    assert _train().pretrain_epochs_run == 2  # the first comparison stops it
    longer = _train(pretrain_min_epochs=4)
    assert longer.pretrain_epochs_run == 4
    assert longer.pretrain_stop_reason == "converged (relative change)"
    capped = _train(pretrain_min_epochs=10)  # the profile's pretrain_epochs caps it
    assert (capped.pretrain_epochs_run, capped.pretrain_stop_reason) == (6, "iteration budget")


def test_the_top_softmax_runs_on_its_own_tolerance():
    assert _train().lbfgs_iterations == 4  # two windows of 2: the first comparison stops it
    strict = _train(top_tolerance_relative=0.0)
    assert strict.lbfgs_iterations > 4
    assert strict.stop_reason in ("iteration budget", "converged (tolerance)")


def test_a_linear_decoder_reconstructs_without_the_sigmoid():
    sigmoid, linear = _train(), _train(decoder="linear")
    assert linear.pretrain_loss != pytest.approx(sigmoid.pretrain_loss)
    with pytest.raises(ValueError, match="unknown decoder 'relu'"):
        _train(decoder="relu")


@pytest.mark.parametrize(
    "option", [{"decoder": "linear"}, {"pretrain_min_epochs": 3}, {"top_tolerance_relative": 0}]
)
def test_autoencoder_options_are_refused_on_other_architectures(option):
    x, y = _toy_data()
    spec = ModelSpec.from_params("toy", {**SOFTMAX, **option})
    with pytest.raises(ValueError, match=f"{next(iter(option))} is an option of the autoencoder"):
        train(build_model(spec), spec, x, y, LOOSE)
