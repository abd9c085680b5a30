"""Stage `train`: one entry point per rule (`train`, `evaluate`), called by
workflow/scripts/<rule>.py (docs/layout.md).
"""

from __future__ import annotations

from typing import Any

import torch

from intriguing.common import files
from intriguing.common.runtime import configure_job, select_device
from intriguing.core import mnist
from intriguing.core.evaluation import error_metrics
from intriguing.core.fit import fit_model, train_tensors
from intriguing.core.models import ModelSpec, load_checkpoint, save_checkpoint
from intriguing.train.filters import plot_filters


def train(
    name: str,
    replicate: int,
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
    """Rule `train`: train one replicate of a registry model (0: the model's own network) and
    save it with its spec and provenance."""
    configure_job(threads)
    spec = ModelSpec.from_params(name, spec_params)
    data, split = mnist.load_raw(raw_files), mnist.load_split(split_path)
    model, provenance = fit_model(
        spec, data, split, options, train_limit, seed, select_device(device), replicate
    )
    save_checkpoint(output, model, spec, provenance)


def evaluate(
    name: str,
    replicate: int,
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
    """Rule `evaluate`: error on the training set, the test set, and P1/P2 for P1/P2 models, of
    one replicate of a registry model (`model` and `replicate` in the metrics)."""
    configure_job(threads)
    spec = ModelSpec.from_params(name, spec_params)
    target = select_device(device)
    model, provenance = load_checkpoint(model_path, spec, target)
    data, split = mnist.load_raw(raw_files), mnist.load_split(split_path)
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
    metrics = {"model": name, "replicate": replicate, **error_metrics(model, datasets)}
    metrics["architecture"] = spec.describe()
    metrics["training"] = {
        key: provenance[key]
        for key in (
            "train_set",
            "seed",
            "optimizer",
            "adam_steps",
            "lbfgs_iterations",
            "stop_reason",
            "final_loss",
        )
    }
    files.write_json(output, metrics)


def filters(name: str, spec_params: dict[str, Any], model_path: str, output: str) -> None:
    """Rule `filters`: the first weight layer's filters of a model (AE400's encoder) as a grid."""
    spec = ModelSpec.from_params(name, spec_params)
    model, provenance = load_checkpoint(model_path, spec)
    first = model.weight_layers[0]
    if not isinstance(first, torch.nn.Linear):
        raise ValueError(f"model {name}: its first weight layer is no fully connected layer")
    title = f"{name}: the {first.out_features} first-layer filters"
    if provenance.get("pretrain_epochs_run"):
        title += f" ({provenance['pretrain_epochs_run']} autoencoder epochs)"
    plot_filters(first.weight, title, output)
