"""Adversarial sets of the pipeline: originals, attacks, summaries, and the files that hold them.

A set is made for one model on a seeded sample of the training images (Tables 1-2) or of the
test images (Table 4); every model attacked on the same split gets the same originals, so the
transfer tables compare like with like. The file stores everything needed to re-check it:
original indices and labels, targets, x_adv, success, distortion, c and iterations.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from intriguing.common.stats import wilson_interval
from intriguing.core import mnist
from intriguing.core.attack import (
    AttackResult,
    choose_targets,
    minimal_adversarial,
    minimal_adversarial_closest,
)

SPLITS = ("train", "test")


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


def summary(result: AttackResult, policy: str) -> dict[str, Any]:
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
    }


def load_set(path: str | Path) -> dict[str, Any]:
    return torch.load(path, weights_only=True)


def load_sets(set_files: dict[str, str]) -> dict[str, dict[str, Any]]:
    return {name: load_set(path) for name, path in set_files.items()}


def originals_tensor(raw_files: Sequence[str], split: str, indices: np.ndarray) -> torch.Tensor:
    data = mnist.load_raw(raw_files)
    images = data.train_images if split == "train" else data.test_images
    return mnist.to_tensor(images[indices])


def shared_originals(sets: dict[str, dict[str, Any]]) -> tuple[np.ndarray, torch.Tensor, str]:
    """The originals' indices, labels and split common to all sets; refuses sets built from
    different originals, which would make the table compare unlike things."""
    names = list(sets)
    first = sets[names[0]]
    for name in names[1:]:
        other = sets[name]
        if other["split"] != first["split"] or not torch.equal(other["indices"], first["indices"]):
            raise ValueError(
                f"adversarial sets {names[0]!r} and {name!r} were built from different originals "
                "(split or sampled indices differ): rebuild them with the same "
                "adversarial.seed and sample size"
            )
    return first["indices"].numpy(), first["labels"], first["split"]
