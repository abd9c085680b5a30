"""A trained model's predictions, batched, and its error rates, each with its sample size and
95% Wilson interval."""

from __future__ import annotations

import torch
from torch import nn

from intriguing.common.stats import wilson_interval

#: Examples per forward pass where only the outputs are kept: it bounds memory, not results.
PREDICTION_BATCH = 4096


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, batch_size: int = PREDICTION_BATCH) -> torch.Tensor:
    """The model's predicted label of every example (evaluation mode)."""
    model.eval()
    return torch.cat([model(part).argmax(dim=1) for part in x.split(batch_size)])


def count_errors(
    model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = PREDICTION_BATCH
) -> int:
    """How many examples the model's argmax prediction gets wrong."""
    return int((predict(model, x, batch_size) != y).sum())


def error_metrics(
    model: nn.Module, datasets: dict[str, tuple[torch.Tensor, torch.Tensor]]
) -> dict[str, float | int | list[float]]:
    """For each named set: `<name>_error`, `<name>_error_ci95` and `<name>_n`."""
    metrics: dict[str, float | int | list[float]] = {}
    for name, (x, y) in datasets.items():
        errors = count_errors(model, x, y)
        metrics[f"{name}_error"] = errors / len(x)
        metrics[f"{name}_error_ci95"] = list(wilson_interval(errors, len(x)))
        metrics[f"{name}_n"] = len(x)
    return metrics
