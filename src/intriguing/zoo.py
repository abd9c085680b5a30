"""Training and evaluating the registry's models: the steps behind rules `train` and `evaluate`.

Plain functions on file paths and settings dictionaries (nothing of Snakemake), so each step can
be run and tested from Python alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from intriguing import io, mnist
from intriguing.evaluation import error_metrics
from intriguing.models import (
    Classifier,
    ModelSpec,
    build_model,
    load_checkpoint,
    save_checkpoint,
)
from intriguing.runtime import configure_job, device_description, seed_everything, select_device
from intriguing.training import TrainOptions, train


def _raw_dir(raw_files: list[str]) -> Path:
    return Path(raw_files[0]).parent


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
) -> tuple[Classifier, dict[str, Any]]:
    """Build and train a registry model from a seed; return it with its training provenance."""
    seed_everything(seed)
    x, y = train_tensors(data, split, spec.train_set, train_limit, device)
    model = build_model(spec).to(device)
    result = train(model, spec, x, y, TrainOptions(seed=seed, **options))
    provenance = {
        "train_set": spec.train_set,
        "train_n": len(x),
        "train_limit": train_limit,
        "seed": seed,
        "optimizer": spec.optimizer,
        "options": options,
        "device": device_description(device),
        "deterministic": torch.are_deterministic_algorithms_enabled(),
        **result.to_dict(),
    }
    return model, provenance


def train_task(
    name: str,
    spec_params: dict[str, Any],
    raw_files: list[str],
    split_path: str,
    output: str,
    options: dict[str, Any],
    train_limit: int | None,
    seed: int,
    device: str,
    threads: int,
) -> None:
    """Rule `train`: train one registry model and save it with its spec and provenance."""
    configure_job(threads)
    spec = ModelSpec.from_params(name, spec_params)
    data, split = mnist.load_mnist(_raw_dir(raw_files)), mnist.load_split(split_path)
    model, provenance = fit_model(
        spec, data, split, options, train_limit, seed, select_device(device)
    )
    save_checkpoint(output, model, spec, provenance)


def evaluate_task(
    name: str,
    spec_params: dict[str, Any],
    model_path: str,
    raw_files: list[str],
    split_path: str,
    output: str,
    train_limit: int | None,
    test_limit: int | None,
    device: str,
    threads: int,
) -> None:
    """Rule `evaluate`: error on the training set, the test set, and P1/P2 for P1/P2 models."""
    configure_job(threads)
    spec = ModelSpec.from_params(name, spec_params)
    target = select_device(device)
    model, provenance = load_checkpoint(model_path, spec, target)
    data, split = mnist.load_mnist(_raw_dir(raw_files)), mnist.load_split(split_path)
    x_train, y_train = train_tensors(data, split, spec.train_set, train_limit, target)
    datasets = {
        "train": (x_train, y_train),
        "test": (
            mnist.to_tensor(data.test_images[:test_limit]).to(target),
            torch.from_numpy(data.test_labels[:test_limit].astype("int64")).to(target),
        ),
    }
    if spec.train_set in ("p1", "p2"):
        for half in ("p1", "p2"):
            datasets[half] = train_tensors(data, split, half, train_limit, target)
    metrics = error_metrics(model, datasets)
    metrics["wall_seconds"] = provenance["wall_seconds"]
    metrics["device"] = provenance["device"]
    metrics["architecture"] = spec.describe()
    metrics["training"] = {
        key: provenance[key]
        for key in (
            "train_set",
            "optimizer",
            "adam_steps",
            "lbfgs_iterations",
            "stop_reason",
            "final_loss",
        )
    }
    io.write_json(output, metrics)
