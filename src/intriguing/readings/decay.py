"""The weight-decay readings put to the test (ledger entry `decay_normalisation`).

The paper's "λ Σ w_i²/k added to the total loss" fixes neither what the total loss averages
over nor, therefore, the per-weight coefficient (``train.models.decay_coefficient``). For the
softmax models the two readings differ by a factor of 10 in that coefficient, and the paper
prints, per model, three numbers that depend on it: the train/test errors, the mean minimal
distortion (exact for a linear model: ``adversarial.exact``) and the error on Gaussian noise.
This module refits a softmax model under one reading and measures all three, so that the report
can set each reading beside the paper.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from intriguing.adversarial.attack import choose_targets
from intriguing.adversarial.exact import exact_minimal_distortion, linear_map
from intriguing.adversarial.sets import originals
from intriguing.common.stats import wilson_interval
from intriguing.data import mnist
from intriguing.plan.specs import NUM_CLASSES
from intriguing.train.evaluation import count_errors, error_metrics
from intriguing.train.fit import fit_model, train_tensors
from intriguing.train.models import ModelSpec, decay_coefficient
from intriguing.transfer.tables import gaussian_noise


def rate(errors: int, n: int) -> dict[str, Any]:
    """A proportion with its 95% Wilson interval."""
    return {"value": errors / n, "ci95": list(wilson_interval(errors, n)), "n": n}


def exact_distortions(
    model: torch.nn.Module, x: torch.Tensor, labels: torch.Tensor, policy: str, seed: int
) -> torch.Tensor:
    """Each original's exact minimal distortion toward the target `policy` picks (toward the
    nearest wrong label for `closest`); inf where the target is unreachable in the box."""
    affine = linear_map(model)
    if affine is None:
        raise ValueError("the exact minimal distortion needs a linear (softmax) model")
    weight, bias = affine
    if policy != "closest":
        targets = choose_targets(labels, policy, seed)
        result = exact_minimal_distortion(weight, bias, x, targets)
        return torch.where(result.feasible, result.distortion, torch.inf)
    best = torch.full((len(x),), torch.inf, dtype=torch.float64, device=x.device)
    for shift in range(1, NUM_CLASSES):
        targets = (labels + shift) % NUM_CLASSES
        result = exact_minimal_distortion(weight, bias, x, targets)
        reached = torch.where(result.feasible, result.distortion.double(), torch.inf)
        best = torch.minimum(best, reached)
    return best


def measure_reading(
    spec: ModelSpec,
    reading: str,
    data: mnist.Mnist,
    split: dict[str, np.ndarray],
    options: dict[str, Any],
    limits: dict[str, int | None],
    seed: int,
    attack: dict[str, Any],
    noise: dict[str, Any],
    device: torch.device,
) -> dict[str, Any]:
    """Refit `spec` under `reading`; its errors, exact minimal distortion and noise errors.

    limits: `train_limit`, `test_limit`, `samples` (originals attacked, from the training
    images as in Table 2). attack: the adversarial stage's `seed` and `target_policy`, so that
    the originals and targets are Table 2's. noise: `stddevs` (unclipped Gaussian noise on the
    same originals, the paper's rows), `figure7` (σ of Figure 7's accuracy) and `seed`.
    """
    model, provenance = fit_model(
        spec,
        data,
        split,
        {**options, "decay_reading": reading},
        limits["train_limit"],
        seed,
        device,
    )
    model.requires_grad_(False)
    x_train, y_train = train_tensors(data, split, spec.train_set, limits["train_limit"], device)
    x_test = mnist.to_tensor(data.test_images[: limits["test_limit"]]).to(device)
    y_test = torch.from_numpy(data.test_labels[: limits["test_limit"]].astype("int64"))
    test = (x_test, y_test.to(device))
    errors = error_metrics(model, {"train": (x_train, y_train), "test": test})
    _, x, labels = originals(data, "train", limits["samples"], attack["seed"])
    x, labels = x.to(device), labels.to(device)
    distortion = exact_distortions(model, x, labels, attack["target_policy"], attack["seed"])
    reachable = torch.isfinite(distortion)
    noise_error = {}
    for stddev in noise["stddevs"]:
        noisy, _ = gaussian_noise(x, stddev, noise["seed"], clip=False)
        noise_error[str(stddev)] = rate(count_errors(model, noisy, labels), len(labels))
    heavy, _ = gaussian_noise(x, noise["figure7"], noise["seed"], clip=False)
    correct = len(labels) - count_errors(model, heavy, labels)
    return {
        "model": spec.name,
        "reading": reading,
        "lambda": spec.weight_decay[-1],
        "coefficient": decay_coefficient(spec.weight_decay[-1], NUM_CLASSES, reading),
        **errors,
        "exact_distortion": float(distortion[reachable].mean()) if reachable.any() else None,
        "exact_reachable": rate(int(reachable.sum()), len(labels)),
        "noise_error": noise_error,
        "noise_accuracy_figure7": rate(correct, len(labels)),
        "training": {
            key: provenance[key]
            for key in ("seed", "lbfgs_iterations", "stop_reason", "final_loss")
        },
    }


def paper_row(model: str, reference: dict[str, Any], noise_stddevs: list[float]) -> dict:
    """The paper's numbers that a reading's row is compared with."""
    table1, table2 = reference["table1"][model], reference["table2"]
    column = table2["models"].index(model)
    return {
        "train_error": table1["train_error"],
        "test_error": table1["test_error"],
        "distortion": table1["mean_min_distortion"],
        "noise_error": {
            str(s): table2["noise"][str(s)][column]
            for s in noise_stddevs
            if str(s) in table2["noise"]
        },
        "noise_accuracy_figure7": reference["figure7"]["gaussian_noise_stddev_1_accuracy"],
    }


def decay_summary(
    rows: list[dict[str, Any]],
    default: str,
    reference: dict[str, Any],
    noise_stddevs: list[float],
    figure7_noise: float,
) -> dict[str, Any]:
    """All rows with the paper's numbers beside each: what reports/metrics/readings/decay.json
    holds and the report's Readings section renders."""
    return {
        "param": "train.decay_reading",
        "default": default,
        "noise_stddevs": noise_stddevs,
        "figure7_noise": figure7_noise,
        "rows": [
            {**row, "paper": paper_row(row["model"], reference, noise_stddevs)} for row in rows
        ],
    }
