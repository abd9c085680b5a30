"""Stage `units`: one entry point per rule (`units`, `imagefolder` for rule `units_imagefolder`,
`summary` for rule `units_summary`), called by workflow/scripts/<rule>.py (docs/layout.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from intriguing.common import files
from intriguing.core import mnist
from intriguing.core.models import ModelSpec, load_checkpoint
from intriguing.units.directions import layer_activations, resolve_layer
from intriguing.units.network import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    THUMBNAIL_SIZE,
    SimilaritySpace,
    UnitsJob,
    analyse_directions,
    imagefolder_dataset,
    load_torchvision_classifier,
)


def units(
    name: str,
    spec_params: dict[str, Any],
    model_path: str,
    raw_files: list[str],
    test_images: int | None,
    job: UnitsJob,
    feature_model: str | None = None,
    feature_spec_params: dict[str, Any] | None = None,
    feature_model_path: str | None = None,
) -> None:
    """Rule `units`: units vs random directions of a registry model's last hidden layer over
    the first `test_images` MNIST test images (None: all 10000); coherence in pixel space and,
    when `feature_model` is given, in that model's last hidden layer."""
    if feature_model is not None and (feature_spec_params is None or feature_model_path is None):
        raise ValueError(f"feature model {feature_model}: needs its spec and its model file")
    data = mnist.load_raw(raw_files)
    images = data.test_images[:test_images]
    x = mnist.to_tensor(images)
    labels = torch.from_numpy(data.test_labels[:test_images].astype("int64"))
    spec = ModelSpec.from_params(name, spec_params)

    def analyse(target: torch.device):
        model, _ = load_checkpoint(model_path, spec, target)
        spaces = [
            SimilaritySpace(
                "pixel_similarity",
                "pixel similarity",
                "mean pairwise cosine similarity of the top-k images' mean-centred pixels",
                x,
            )
        ]
        if feature_model is not None:
            other_spec = ModelSpec.from_params(feature_model, feature_spec_params)
            other, _ = load_checkpoint(feature_model_path, other_spec, target)
            spaces.append(
                SimilaritySpace(
                    f"feature_similarity_{feature_model}",
                    f"{feature_model} feature similarity",
                    f"mean pairwise cosine similarity of the top-k images' mean-centred "
                    f"{feature_model} last-hidden-layer activations",
                    layer_activations(other, None, x, device=target),
                )
            )
        activations = layer_activations(model, None, x, device=target)
        result = analyse_directions(activations, labels, spaces, job.options, name)
        result |= {
            "description": spec.describe(),
            "layer": resolve_layer(model, None)[2],
            "image_set": f"MNIST test set, first {len(x)} images",
            "feature_model": feature_model,
            "weights": "checkpoint",
            "weights_detail": f"{model_path} (trained)",
        }
        return result, lambda i: images[i] / 255.0

    job.run(analyse)


def imagefolder(
    root: str,
    model_name: str,
    weights_file: str | None,
    layer: str | None,
    resize: int,
    crop: int,
    batch_size: int,
    images: int | None,
    job: UnitsJob,
) -> None:
    """Rule `units_imagefolder`: the same analysis on a torchvision classifier (inputs
    normalised with ImageNet's mean and std) over a seeded sample of `images` images of an
    ImageFolder (None: all). Coherence: label purity (the class folders) and the pixel
    similarity of 32×32 thumbnails."""
    from torch.utils.data import DataLoader, Subset
    from torchvision import transforms

    dataset = imagefolder_dataset(root, resize, crop)
    chosen = np.arange(len(dataset))
    if images is not None and images < len(dataset):
        rng = np.random.default_rng(job.options.seed)
        chosen = np.sort(rng.choice(len(dataset), images, replace=False))
    model, weights, weights_detail = load_torchvision_classifier(
        model_name, weights_file, job.options.seed
    )
    layer_description = resolve_layer(model, layer)[2]
    loader = DataLoader(Subset(dataset, chosen.tolist()), batch_size=batch_size, shuffle=False)
    normalise = transforms.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    thumbnails: list[torch.Tensor] = []

    def normalised_keeping_thumbnails() -> Iterator[torch.Tensor]:
        for x, _ in loader:
            thumbnails.append(nn.functional.adaptive_avg_pool2d(x, THUMBNAIL_SIZE))
            yield normalise(x)

    def analyse(target: torch.device):
        activations = layer_activations(
            model.to(target), layer, normalised_keeping_thumbnails(), device=target
        )
        labels = torch.tensor([dataset.targets[i] for i in chosen], dtype=torch.long)
        pixels = SimilaritySpace(
            "pixel_similarity",
            "pixel similarity",
            f"mean pairwise cosine similarity of the top-k images' mean-centred "
            f"{THUMBNAIL_SIZE}×{THUMBNAIL_SIZE} thumbnails",
            torch.cat(thumbnails),
        )
        name = f"{model_name} on {Path(root).name}"
        result = analyse_directions(activations, labels, [pixels], job.options, name)
        result |= {
            "description": f"torchvision.models.{model_name}",
            "layer": layer_description,
            "image_set": f"ImageFolder {root}: {len(chosen)} of {len(dataset)} images, "
            f"{len(dataset.classes)} classes",
            "feature_model": None,
            "weights": weights,
            "weights_detail": weights_detail,
        }
        return result, lambda i: dataset[int(chosen[i])][0].permute(1, 2, 0).numpy()

    job.run(analyse)


def summary(metrics: dict[str, str], output: str, profile: str) -> None:
    """Rule `units_summary`: every network's statistics and verdict (without the per-direction
    values) in one JSON, with the verdict over all networks."""
    networks = {}
    for name, path in metrics.items():
        result = files.read_json(path)
        result["measures"] = [
            {k: v for k, v in m.items() if not k.endswith("_values")} for m in result["measures"]
        ]
        result.pop("shown")
        networks[name] = result
    statuses = {name: result["verdict"]["status"] for name, result in networks.items()}
    if not statuses:
        raise ValueError("no unit-analysis results to summarise")
    distinct = set(statuses.values())
    overall = distinct.pop() if len(distinct) == 1 else "mixed"
    files.write_json(
        output,
        {
            "profile": profile,
            "networks": networks,
            "verdict": {
                "status": overall,
                "per_network": statuses,
            },
        },
    )
