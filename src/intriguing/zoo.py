"""Training and evaluating the registry's models: the steps behind rules `train` and `evaluate`.

Plain functions on file paths and settings dictionaries (nothing of Snakemake), so each step can
be run and tested from Python alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from intriguing import io, mnist
from intriguing.evaluation import error_metrics
from intriguing.models import ModelSpec, build_model, load_checkpoint, save_checkpoint
from intriguing.runtime import configure_threads, device_description, seed_everything, select_device
from intriguing.training import TrainOptions, train


def _raw_dir(raw_files: list[str]) -> Path:
    return Path(raw_files[0]).parent


def _train_tensors(raw_files, split_path, train_set, limit, device):
    data = mnist.load_mnist(_raw_dir(raw_files))
    indices = mnist.train_set_indices(train_set, mnist.load_split(split_path), limit)
    x = mnist.to_tensor(data.train_images[indices]).to(device)
    y = torch.from_numpy(data.train_labels[indices].astype("int64")).to(device)
    return data, x, y


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
    """Train one registry model and save it with its spec and provenance."""
    configure_threads(threads)
    seed_everything(seed)
    spec = ModelSpec.from_params(name, spec_params)
    target = select_device(device)
    _, x, y = _train_tensors(raw_files, split_path, spec.train_set, train_limit, target)
    model = build_model(spec).to(target)
    result = train(model, spec, x, y, TrainOptions(seed=seed, **options))
    provenance = {
        "train_set": spec.train_set,
        "train_n": len(x),
        "train_limit": train_limit,
        "seed": seed,
        "optimizer": spec.optimizer,
        "options": options,
        "device": device_description(target),
        **result.to_dict(),
    }
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
    """Errors on the model's training set, the test set, and for P1/P2 models on both halves."""
    configure_threads(threads)
    spec = ModelSpec.from_params(name, spec_params)
    target = select_device(device)
    model, provenance = load_checkpoint(model_path, spec, target)
    data, x_train, y_train = _train_tensors(
        raw_files, split_path, spec.train_set, train_limit, target
    )
    datasets = {
        "train": (x_train, y_train),
        "test": (
            mnist.to_tensor(data.test_images[:test_limit]).to(target),
            torch.from_numpy(data.test_labels[:test_limit].astype("int64")).to(target),
        ),
    }
    if spec.train_set in ("p1", "p2"):
        for half in ("p1", "p2"):
            datasets[half] = _train_tensors(raw_files, split_path, half, train_limit, target)[1:]
    metrics = error_metrics(model, datasets)
    metrics["wall_seconds"] = provenance["wall_seconds"]
    metrics["device"] = provenance["device"]
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
