"""The weight-decay readings put to the test (ledger entry `decay_normalisation`).

The paper's "λ Σ w_i²/k added to the total loss" fixes neither what the total loss averages
over nor, therefore, the per-weight coefficient (``train.models.decay_coefficient``). For the
softmax models the readings set it to λ (mean_output), λ/10 (mean_example) or λ/2
(half_mean_output), and the paper prints, per model, three numbers that depend on it: the
train/test errors, the mean minimal distortion (exact for a linear model: ``adversarial.exact``)
and the error on Gaussian noise. This module refits a softmax model under one reading and
measures all three, so that the report can set each reading beside the paper, and applies the
ledger's rule that picks the reading nearest the paper.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from intriguing.common.stats import wilson_interval
from intriguing.core import mnist
from intriguing.core.attack import choose_targets
from intriguing.core.distortion import gaussian_noise
from intriguing.core.evaluation import count_errors
from intriguing.core.exact import exact_minimal_distortion, linear_map
from intriguing.core.models import ModelSpec, decay_coefficient
from intriguing.core.sets import originals
from intriguing.plan.specs import NUM_CLASSES
from intriguing.readings.refit import refit


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
    model, measured = refit(
        spec, data, split, {**options, "decay_reading": reading}, limits, seed, device
    )
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
        **measured,
        "exact_distortion": float(distortion[reachable].mean()) if reachable.any() else None,
        "exact_reachable": rate(int(reachable.sum()), len(labels)),
        "noise_error": noise_error,
        "noise_accuracy_figure7": rate(correct, len(labels)),
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


#: (row key, paper key) of the numbers the ledger's rule compares (`decay_normalisation`).
RULE_MEASURES = (
    ("train_error", "train_error"),
    ("test_error", "test_error"),
    ("exact_distortion", "distortion"),
)


def paper_distance(rows: list[dict[str, Any]]) -> float | None:
    """The ledger's distance of one reading's rows (each with its `paper` numbers) to the
    paper: Σ over the rows and RULE_MEASURES of |measured − paper| / paper; None when a value
    is missing (a reading with an unreachable distortion cannot be judged)."""
    terms = []
    for row in rows:
        for ours, theirs in RULE_MEASURES:
            measured, paper = row.get(ours), row["paper"].get(theirs)
            if measured is None or not paper:
                return None
            terms.append(abs(measured - paper) / paper)
    return sum(terms) if terms else None


def nearest_reading(rows: list[dict[str, Any]], in_use: str) -> dict[str, Any]:
    """The ledger's rule (`decay_normalisation`): each reading's `distances` to the paper over
    every model it was measured on, and the `nearest` reading (an exact tie keeps `in_use`;
    None when no reading can be judged). Every reading must cover the same models."""
    by_reading: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_reading.setdefault(row["reading"], []).append(row)
    covered = {reading: sorted(r["model"] for r in group) for reading, group in by_reading.items()}
    if len({tuple(models) for models in covered.values()}) > 1:
        raise ValueError(f"the decay readings cover different models: {covered}")
    distances = {reading: paper_distance(group) for reading, group in by_reading.items()}
    judged = [reading for reading, distance in distances.items() if distance is not None]
    nearest = min(judged, key=lambda r: (distances[r], r != in_use)) if judged else None
    return {"distances": distances, "nearest": nearest}


def decay_summary(
    rows: list[dict[str, Any]],
    default: str,
    reference: dict[str, Any],
    noise_stddevs: list[float],
    figure7_noise: float,
) -> dict[str, Any]:
    """All rows with the paper's numbers beside each, and the ledger's rule applied to them:
    what reports/metrics/readings/decay.json holds and the report's Readings section renders."""
    rows = [{**row, "paper": paper_row(row["model"], reference, noise_stddevs)} for row in rows]
    return {
        "param": "train.decay_reading",
        "default": default,
        "noise_stddevs": noise_stddevs,
        "figure7_noise": figure7_noise,
        "rows": rows,
        **nearest_reading(rows, default),
    }
