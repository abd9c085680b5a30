"""Adversarial sets of the pipeline: originals, attacks, summaries, and the files that hold them.

A set is made for one model on a seeded sample of the training images (Tables 1-2) or of the
test images (Table 4); every model attacked on the same split gets the same originals, so the
transfer tables compare like with like. The file stores everything needed to re-check it:
original indices and labels, targets, x_adv, success, distortion, c and iterations; its layout
(:class:`AdversarialSet`, version FORMAT_VERSION) is checked by :func:`check_set` when it is
saved (:func:`save_set`) and loaded (:func:`load_set`).
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NotRequired, TypedDict

import numpy as np
import torch
from torch import Tensor

from intriguing.common import files
from intriguing.common.stats import wilson_interval
from intriguing.core import mnist
from intriguing.core.attack import (
    AttackResult,
    choose_targets,
    minimal_adversarial,
    minimal_adversarial_closest,
)
from intriguing.plan.choices import TARGET_POLICIES
from intriguing.plan.specs import INPUT_SHAPE

SPLITS = ("train", "test")
#: The readings of Table 4's amplified sets (rule `amplify`): every example to one distortion
#: (`stddev`), or every perturbation times one factor (`factor`).
AMPLIFICATIONS = ("stddev", "factor")

#: The layout of the set files written now. Files without `format_version` were written before
#: the version was stored (version 0): their layout is version 1's, so they are read as they are.
FORMAT_VERSION = 1
READABLE_VERSIONS = (0, FORMAT_VERSION)


class AdversarialSet(TypedDict):
    """One adversarial set file: n attacked originals of one model (tensors indexed alike)."""

    format_version: int
    model: str
    split: str  # one of SPLITS
    target_policy: str  # one of plan.choices.TARGET_POLICIES
    indices: Tensor  # int64 (n,): the originals' indices in the split's images
    labels: Tensor  # int64 (n,)
    target: Tensor  # int64 (n,): the attacked labels
    x_adv: Tensor  # float32 (n, 1, 28, 28) in [0, 1]
    success: Tensor  # bool (n,)
    distortion: Tensor  # float32 (n,)
    c: Tensor  # float32 (n,): the penalty weight of the solve that gave x_adv
    iterations: Tensor  # int64 (n,)
    # Only in an amplified set (rule `amplify`), with `amplified_<amplification>`: the number.
    amplification: NotRequired[str]  # one of AMPLIFICATIONS
    original_distortion: NotRequired[Tensor]  # float32 (n,): the set's before amplification
    amplified_stddev: NotRequired[float]
    amplified_factor: NotRequired[float]


#: The tensors of a set: dtype and shape after the leading n.
SET_TENSORS = {
    "indices": (torch.int64, ()),
    "labels": (torch.int64, ()),
    "target": (torch.int64, ()),
    "x_adv": (torch.float32, INPUT_SHAPE),
    "success": (torch.bool, ()),
    "distortion": (torch.float32, ()),
    "c": (torch.float32, ()),
    "iterations": (torch.int64, ()),
}
AMPLIFIED_TENSORS = {"original_distortion": (torch.float32, ())}
#: The other keys, with the values each allows.
SET_LABELS = {"model": None, "split": SPLITS, "target_policy": TARGET_POLICIES}


class AdversarialSetError(ValueError):
    """A file is no adversarial set of the layout this code reads; the message names the file."""


def set_problem(payload: Any) -> str | None:
    """What is wrong with an adversarial set's contents (None: nothing)."""
    if not isinstance(payload, dict):
        return f"holds a {type(payload).__name__}, not the dict of an adversarial set"
    version = payload.get("format_version", 0)
    if version not in READABLE_VERSIONS:
        return (
            f"format_version {version!r}; this code reads versions {list(READABLE_VERSIONS)}: "
            "rebuild the set with this code"
        )
    amplified = "amplification" in payload
    tensors = {**SET_TENSORS, **(AMPLIFIED_TENSORS if amplified else {})}
    expected = {"format_version", *SET_LABELS, *tensors}
    if amplified:
        expected |= {"amplification", f"amplified_{payload['amplification']}"}
        if payload["amplification"] not in AMPLIFICATIONS:
            return f"amplification {payload['amplification']!r}; allowed: {list(AMPLIFICATIONS)}"
    missing = sorted(expected - {"format_version"} - set(payload))
    if missing:
        return f"missing keys {missing}"
    unknown = sorted(set(payload) - expected)
    if unknown:
        return f"unknown keys {unknown}"
    for key, allowed in SET_LABELS.items():
        if not isinstance(payload[key], str) or (allowed and payload[key] not in allowed):
            return f"{key} {payload[key]!r}; allowed: {list(allowed) if allowed else 'a name'}"
    count = len(payload["indices"]) if isinstance(payload["indices"], Tensor) else None
    for key, (dtype, shape) in tensors.items():
        value = payload[key]
        if not isinstance(value, Tensor):
            return f"{key} is a {type(value).__name__}, not a tensor"
        if value.dtype != dtype or tuple(value.shape) != (count, *shape):
            return (
                f"{key} is {value.dtype} of shape {tuple(value.shape)}; expected {dtype} of "
                f"shape {(count, *shape)} (n = {count} originals)"
            )
    return None


def check_set(payload: Any, path: str | Path) -> None:
    """Refuse contents that are no adversarial set of a layout this code reads, naming the file."""
    problem = set_problem(payload)
    if problem:
        raise AdversarialSetError(f"adversarial set {path}: {problem}")


def save_set(path: str | Path, adversarial_set: dict[str, Any]) -> None:
    """Write an adversarial set (its keys but `format_version`) with this code's FORMAT_VERSION,
    after checking its layout."""
    payload = {key: value for key, value in adversarial_set.items() if key != "format_version"}
    payload["format_version"] = FORMAT_VERSION
    check_set(payload, path)
    files.save_torch(path, payload)


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


def load_set(path: str | Path) -> AdversarialSet:
    """An adversarial set file, its layout checked (AdversarialSetError names the file)."""
    try:
        payload = torch.load(path, weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError) as error:
        raise AdversarialSetError(f"adversarial set {path}: not a torch file ({error})") from error
    check_set(payload, path)
    return payload


def load_sets(set_files: dict[str, str]) -> dict[str, AdversarialSet]:
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
