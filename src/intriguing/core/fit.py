"""A registry model built, seeded and trained on its training set, with the record of how
(used by rule `train` and by adversarial training's baselines)."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from intriguing.common.progress import log_bookkeeping
from intriguing.common.runtime import derive_seed, device_description, seed_everything
from intriguing.core import mnist
from intriguing.core.models import (
    Classifier,
    ModelSpec,
    build_model,
)
from intriguing.core.optimize import TrainOptions, train
from intriguing.plan.specs import replicate_name


def train_tensors(
    data: mnist.Mnist,
    split: dict[str, np.ndarray],
    train_set: str,
    limit: int | None,
    device: torch.device,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images (N, 1, 28, 28) in [0, 1] and labels of a training set, on `device`."""
    indices = mnist.train_set_indices(train_set, split, limit)
    x = mnist.to_tensor(data.train_images[indices]).to(device)
    y = torch.from_numpy(data.train_labels[indices].astype("int64")).to(device)
    return x, y


def fit_model(
    spec: ModelSpec,
    data: mnist.Mnist,
    split: dict[str, np.ndarray],
    options: dict[str, Any],
    train_limit: int | None,
    seed: int,
    device: torch.device,
    replicate: int = 0,
) -> tuple[Classifier, dict[str, Any]]:
    """Build and train a registry model; return it with its training provenance.

    The network's own seed is derived from (`seed`, its replicate's name: the model's name for
    replicate 0, `<model>_rep<r>` for replicate r), so that no two networks share initial
    weights or mini-batch order (M1 and M2, N100 and N200, N100's replicates).
    """
    model_seed = derive_seed(seed, replicate_name(spec.name, replicate))
    seed_everything(model_seed)
    x, y = train_tensors(data, split, spec.train_set, train_limit, device)
    model = build_model(spec).to(device)
    started = time.perf_counter()
    result = train(model, spec, x, y, TrainOptions(seed=model_seed, **options))
    log_bookkeeping(
        f"model {spec.name} trained",
        wall_seconds=time.perf_counter() - started,
        device=device_description(device),
    )
    provenance = {
        "train_set": spec.train_set,
        "train_n": len(x),
        "train_limit": train_limit,
        "seed": model_seed,
        "base_seed": seed,
        "replicate": replicate,
        "optimizer": spec.optimizer,
        "options": options,
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        **result.to_dict(),
    }
    return model, provenance
