"""Adversarial sets of the pipeline: rules `adversarial` (minimal distortion) and `amplify`.

A set is made for one model on a seeded sample of the training images (Tables 1-2) or of the
test images (Table 4); every model attacked on the same split gets the same originals, so the
transfer tables compare like with like. The file stores everything needed to re-check it:
original indices and labels, targets, x_adv, success, distortion, c and iterations.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from intriguing import io, mnist
from intriguing.attacks import (
    AttackResult,
    amplify,
    choose_targets,
    minimal_adversarial,
    minimal_adversarial_closest,
)
from intriguing.models import ModelSpec, load_checkpoint
from intriguing.runtime import configure_job, device_description, select_device
from intriguing.stats import wilson_interval

SPLITS = ("train", "test")
TARGET_POLICIES = ("random", "next", "closest")


def sample_indices(population: int, samples: int | None, seed: int) -> np.ndarray:
    """A seeded sample (sorted) of `samples` indices out of `population`; all when None."""
    if samples is None or samples >= population:
        return np.arange(population)
    return np.sort(np.random.default_rng(seed).choice(population, size=samples, replace=False))


def originals(
    data: mnist.Mnist, split: str, samples: int | None, seed: int
) -> tuple[np.ndarray, torch.Tensor, torch.Tensor]:
    """The sampled originals of a split: (indices, images in [0, 1], labels)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; allowed: {list(SPLITS)}")
    images, labels = (
        (data.train_images, data.train_labels)
        if split == "train"
        else (data.test_images, data.test_labels)
    )
    indices = sample_indices(len(labels), samples, seed)
    x = mnist.to_tensor(images[indices])
    y = torch.from_numpy(labels[indices].astype("int64"))
    return indices, x, y


def attack(
    model: torch.nn.Module,
    x: torch.Tensor,
    labels: torch.Tensor,
    policy: str,
    seed: int,
    options: dict[str, Any],
) -> AttackResult:
    """Minimal-distortion adversarials toward the targets the policy picks."""
    if policy == "closest":
        return minimal_adversarial_closest(model, x, labels, **options)
    return minimal_adversarial(model, x, choose_targets(labels, policy, seed), **options)


def summary(result: AttackResult, policy: str, seconds: float) -> dict[str, Any]:
    """The metrics of one adversarial set (what `reports/metrics/adversarial/*.json` holds)."""
    success = result.success.cpu()
    distortion = result.distortion.cpu()
    n = len(success)
    succeeded = int(success.sum())
    return {
        "n": n,
        "success_rate": succeeded / n,
        "success_rate_ci95": list(wilson_interval(succeeded, n)),
        "failures": torch.nonzero(~success).flatten().tolist(),
        "mean_distortion": float(distortion[success].mean()) if succeeded else float("nan"),
        "median_distortion": float(distortion[success].median()) if succeeded else float("nan"),
        "mean_distortion_all": float(distortion.mean()),
        "mean_iterations": float(result.iterations.float().mean()),
        "target_policy": policy,
        "wall_seconds": seconds,
    }


def adversarial_task(
    name: str,
    spec_params: dict[str, Any],
    model_path: str,
    raw_files: list[str],
    split: str,
    samples: int | None,
    policy: str,
    seed: int,
    options: dict[str, Any],
    device: str,
    threads: int,
    output_set: str,
    output_metrics: str,
) -> None:
    """Rule `adversarial`: attack one model on a split's sampled originals; save set + metrics."""
    configure_job(threads)
    target = select_device(device)
    model, _ = load_checkpoint(model_path, ModelSpec.from_params(name, spec_params), target)
    model.requires_grad_(False)
    data = mnist.load_mnist(Path(raw_files[0]).parent)
    indices, x, labels = originals(data, split, samples, seed)
    started = time.perf_counter()
    try:
        result = attack(model, x.to(target), labels.to(target), policy, seed, options)
    except FloatingPointError as error:  # the attack names the example and the step
        raise FloatingPointError(f"model {name}, {split} set: {error}") from error
    if target.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    payload = {
        "model": name,
        "split": split,
        "indices": torch.from_numpy(indices),
        "labels": labels,
        "target": result.target.cpu(),
        "x_adv": result.x_adv.cpu(),
        "success": result.success.cpu(),
        "distortion": result.distortion.cpu(),
        "c": result.c.cpu(),
        "iterations": result.iterations.cpu(),
        "target_policy": policy,
    }
    with io.atomic_path(output_set) as tmp:
        torch.save(payload, tmp)
    metrics = summary(result, policy, seconds)
    metrics["device"] = device_description(target)
    io.write_json(output_metrics, metrics)


def load_set(path: str | Path) -> dict[str, Any]:
    return torch.load(path, weights_only=True)


def amplify_task(
    set_path: str, raw_files: list[str], stddev: float, output_set: str, output_metrics: str
) -> None:
    """Rule `amplify`: Table 4's x + s·(x'−x)/‖x'−x‖ at distortion `stddev`, clipped to [0, 1]."""
    adversarial = load_set(set_path)
    data = mnist.load_mnist(Path(raw_files[0]).parent)
    images = data.train_images if adversarial["split"] == "train" else data.test_images
    x = mnist.to_tensor(images[adversarial["indices"].numpy()])
    amplified, reached = amplify(x, adversarial["x_adv"], stddev)
    with io.atomic_path(output_set) as tmp:
        torch.save(
            {**adversarial, "x_adv": amplified, "distortion": reached, "amplified_stddev": stddev},
            tmp,
        )
    io.write_json(
        output_metrics,
        {
            "n": len(reached),
            "requested_stddev": stddev,
            "mean_distortion": float(reached.mean()),
            "min_distortion": float(reached.min()),
            "clipped_to_unit_box": True,
        },
    )
