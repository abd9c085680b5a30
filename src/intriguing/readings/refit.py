"""Refitting a registry model as a reading or variant says, and its clean train/test errors:
what every job of the readings stage starts with."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from intriguing.core import mnist
from intriguing.core.evaluation import error_metrics
from intriguing.core.fit import fit_model, train_tensors
from intriguing.core.models import Classifier, ModelSpec

#: The provenance fields a readings row keeps of its refit.
TRAINING_FIELDS = (
    "seed",
    "pretrain_epochs_run",
    "pretrain_stop_reason",
    "lbfgs_iterations",
    "stop_reason",
    "final_loss",
)


def refit(
    spec: ModelSpec,
    data: mnist.Mnist,
    split: dict[str, np.ndarray],
    options: dict[str, Any],
    limits: dict[str, int | None],
    seed: int,
    device: torch.device,
) -> tuple[Classifier, dict[str, Any]]:
    """Train `spec` afresh (frozen afterwards) and measure it: the model and its row, with the
    train and test errors (`<set>_error`, `_ci95`, `_n`) and `training` (TRAINING_FIELDS).
    limits: `train_limit` and `test_limit` (None: all)."""
    model, provenance = fit_model(spec, data, split, options, limits["train_limit"], seed, device)
    model.requires_grad_(False)
    x_train, y_train = train_tensors(data, split, spec.train_set, limits["train_limit"], device)
    x_test = mnist.to_tensor(data.test_images[: limits["test_limit"]]).to(device)
    y_test = torch.from_numpy(data.test_labels[: limits["test_limit"]].astype("int64"))
    errors = error_metrics(
        model, {"train": (x_train, y_train), "test": (x_test, y_test.to(device))}
    )
    return model, {
        **errors,
        "training": {key: provenance[key] for key in TRAINING_FIELDS},
    }
