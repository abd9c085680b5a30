"""The one mini-batch loop of training (intriguing.core.optimize.run_minibatch_epochs) and its
non-finite policy."""

import pytest
import torch
from torch import nn

from intriguing.core.optimize import (
    MiniBatch,
    NonFiniteError,
    check_minibatch_step,
    run_minibatch_epochs,
)


def test_policy_checks_the_loss_every_step_and_gradients_every_log_every_steps():
    layer = nn.Linear(2, 1)
    layer.weight.grad = torch.tensor([[0.0, float("nan")]])
    check_minibatch_step("m", "adam", 4, 1.0, layer, log_every=5)  # gradients not checked
    with pytest.raises(
        NonFiniteError, match=r"model m: non-finite gradient in weight at adam step 5"
    ):
        check_minibatch_step("m", "adam", 5, 1.0, layer, log_every=5)
    with pytest.raises(NonFiniteError, match=r"model m: non-finite loss inf at adam step 4"):
        check_minibatch_step("m", "adam", 4, float("inf"), nn.Linear(2, 1), log_every=5)


def run(epochs, end_epoch, weight):
    """Fit one scalar to the values 0..9 in batches of 4 (4, 4, 2); record every batch."""
    values = torch.arange(10.0)
    estimate = nn.Parameter(torch.zeros(()))
    seen: list[MiniBatch] = []
    losses: list[float] = []

    def batch_loss(batch: MiniBatch) -> tuple[torch.Tensor, int]:
        seen.append(batch)
        loss = (values[batch.index] - estimate).pow(2).mean()
        losses.append(loss.item())
        return loss, weight(batch)

    steps = run_minibatch_epochs(
        torch.optim.SGD([estimate], lr=0.1),
        nn.ParameterList([estimate]),
        10,
        4,
        epochs,
        torch.Generator().manual_seed(3),
        batch_loss,
        end_epoch,
        device=torch.device("cpu"),
        model_name="toy",
        phase="sgd",
        log_every=2,
    )
    return steps, seen, losses


def test_each_epoch_is_a_fresh_seeded_permutation_and_its_mean_is_weighted():
    means = []

    def record(epoch: int, mean: float) -> bool:
        means.append(mean)
        return False

    steps, seen, losses = run(2, record, lambda batch: len(batch.index))
    generator = torch.Generator().manual_seed(3)
    for epoch in range(2):
        order = torch.randperm(10, generator=generator)
        batches = seen[3 * epoch : 3 * epoch + 3]
        assert [b.position for b in batches] == [0, 1, 2] and {b.epoch for b in batches} == {epoch}
        assert torch.equal(torch.cat([b.index for b in batches]), order)
        epoch_losses = losses[3 * epoch : 3 * epoch + 3]
        expected = (epoch_losses[0] * 4 + epoch_losses[1] * 4 + epoch_losses[2] * 2) / 10
        assert means[epoch] == expected
    assert steps == 6 and [b.steps_done for b in seen] == [0, 1, 2, 3, 4, 5]


def test_end_epoch_returning_true_stops_the_run():
    ended = []

    def stop_after_second(epoch: int, mean: float) -> bool:
        ended.append(epoch)
        return epoch == 1

    steps, seen, _ = run(5, stop_after_second, lambda batch: 1)
    assert ended == [0, 1] and steps == 6 and len(seen) == 6
