"""Error rates of a trained model, each with its sample size and 95% Wilson interval."""

from __future__ import annotations

import torch
from torch import nn

from intriguing.common.stats import wilson_interval


@torch.no_grad()
def count_errors(model: nn.Module, x: torch.Tensor, y: torch.Tensor, batch_size: int = 4096) -> int:
    """How many examples the model's argmax prediction gets wrong."""
    model.eval()
    wrong = 0
    for start in range(0, len(x), batch_size):
        predictions = model(x[start : start + batch_size]).argmax(dim=1)
        wrong += int((predictions != y[start : start + batch_size]).sum())
    return wrong


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
