"""The rule tests' inputs made by the library itself: tiny synthetic MNIST files, and the
upstream outputs a rule reads (checkpoints, adversarial sets, frame bounds, an adversarial
training run), each made by the entry point of the rule that makes it in the workflow.

Every import of the library's internals by tests/rules lives here, so that a moved module is
fixed in one place.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import numpy as np
import torch

from intriguing.adversarial import step as adversarial_step
from intriguing.advtrain import step as advtrain_step
from intriguing.core.distortion import distortion
from intriguing.core.mnist import FILES as MNIST_FILES
from intriguing.core.mnist import (
    IMAGE_MAGIC,
    LABEL_MAGIC,
    TEST_SIZE,
    TRAIN_SIZE,
    load_split,
    read_idx,
    save_split,
    to_tensor,
)
from intriguing.core.models import ModelSpec, load_checkpoint
from intriguing.core.sets import load_set
from intriguing.data.fetch import stratified_halves, verify_file
from intriguing.plan.params import advtrain_run_settings, model_options, resolve_profile
from intriguing.spectral import step as spectral_step
from intriguing.train import step as train_step

__all__ = [
    "MNIST_FILES",
    "distortion",
    "ModelSpec",
    "load_checkpoint",
    "load_set",
    "load_split",
    "read_idx",
    "to_tensor",
    "verify_file",
]

#: Images of the synthetic MNIST drawn with noise (the first ones of each file, which the tiny
#: profile's limits and samples read); the others are their class's template, which gzip
#: compresses to almost nothing, so the files keep MNIST's 60000/10000 shapes at ~1 MB.
NOISY_IMAGES = 3000


def write_idx(path: Path, array: np.ndarray) -> None:
    """A gzipped IDX file of unsigned bytes, as MNIST's."""
    magic = IMAGE_MAGIC if array.ndim == 3 else LABEL_MAGIC
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(gzip.compress(header + array.astype(np.uint8).tobytes(), compresslevel=1))


def write_synthetic_mnist(raw_dir: Path, seed: int = 0) -> list[Path]:
    """The four MNIST files with MNIST's shapes: ten class templates (random strokes), each
    image its label's template, the first NOISY_IMAGES with noise, so that a model learns the
    classes in a few steps and the attack has work to do."""
    rng = np.random.default_rng(seed)
    templates = np.zeros((10, 28, 28), dtype=np.float32)
    for label in range(10):
        rows, cols = rng.integers(4, 24, size=(2, 6))
        for row, col in zip(rows, cols, strict=True):
            templates[label, row : row + 4, col : col + 4] = 1.0
    raw_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for prefix, size in (("train", TRAIN_SIZE), ("t10k", TEST_SIZE)):
        labels = rng.integers(0, 10, size=size).astype(np.uint8)
        images = templates[labels]
        noisy = images[:NOISY_IMAGES] + rng.normal(0, 0.2, size=(NOISY_IMAGES, 28, 28))
        images[:NOISY_IMAGES] = noisy.clip(0, 1)
        for kind, array in (("images-idx3", images * 255), ("labels-idx1", labels)):
            path = raw_dir / f"{prefix}-{kind}-ubyte.gz"
            write_idx(path, np.rint(array))
            paths.append(path)
    return paths


def write_split(raw_dir: Path, output: Path, seed: int) -> None:
    """data/processed/split.npz from the training labels, as the `split` rule makes it."""
    labels = read_idx(raw_dir / "train-labels-idx1-ubyte.gz")
    save_split(output, *stratified_halves(labels, seed), seed)


def raw_files(raw_dir: Path) -> list[str]:
    return [str(raw_dir / name) for name in MNIST_FILES]


def train_model(config: dict[str, Any], project: Path, network: str, output: Path) -> None:
    """models/<network>.pt trained by the `train` rule's entry point on the tiny profile."""
    settings = resolve_profile(config)
    train_step.train(
        name=network,
        replicate=0,
        spec_params=config["models"][network],
        raw_files=raw_files(project / "data" / "raw"),
        split_path=str(project / "data" / "processed" / "split.npz"),
        output=str(output),
        options=model_options(settings["train"], network),
        train_limit=settings["data"]["train_limit"],
        seed=config["seed"],
        device="cpu",
        threads=1,
    )


def attack_model(
    config: dict[str, Any], project: Path, network: str, split: str, output: Path, metrics: Path
) -> None:
    """data/adversarial/<network>_<split>.pt made by the `adversarial` rule's entry point."""
    settings = resolve_profile(config)
    adversarial_step.adversarial(
        name=network,
        spec_params=config["models"][network],
        model_path=str(project / "models" / f"{network}.pt"),
        raw_files=raw_files(project / "data" / "raw"),
        split=split,
        samples=settings["adversarial"][f"{split}_samples"],
        policy=config["adversarial"]["target_policy"],
        seed=config["adversarial"]["seed"],
        options=config["adversarial"]["attack"],
        device="cpu",
        threads=1,
        output_set=str(output),
        output_metrics=str(metrics),
    )


def frame_bounds(
    config: dict[str, Any], project: Path, network: str, metrics: Path, figure: Path
) -> None:
    """reports/metrics/spectral/<network>.json made by the `spectral` rule's entry point."""
    settings = resolve_profile(config)
    spectral_step.spectral(
        network=network,
        metrics_path=str(metrics),
        figure_path=str(figure),
        options={
            key: settings["spectral"][key]
            for key in ("download_weights", "alexnet_input_size", "linear_svd_max_weights")
        },
        seed=config["seed"],
        device="cpu",
        threads=1,
        profile=config["profile"],
        model_path=str(project / "models" / f"{network}.pt"),
        spec_params=config["models"][network],
    )


def adversarial_training(
    config: dict[str, Any], project: Path, model: str, seed: int, output: Path, metrics: Path
) -> None:
    """models_advtrain/<model>_seed<seed>.pt made by the `advtrain` rule's entry point."""
    settings = resolve_profile(config)
    advtrain_step.train(
        name=model,
        spec_params=config["models"][model],
        settings=advtrain_run_settings(settings, model),
        pool_levels=config["advtrain"]["pool_levels"].get(model),
        seed=seed,
        raw_files=raw_files(project / "data" / "raw"),
        split_path=str(project / "data" / "processed" / "split.npz"),
        train_limit=settings["data"]["train_limit"],
        test_limit=settings["data"]["test_limit"],
        device="cpu",
        threads=1,
        model_output=str(output),
        metrics_output=str(metrics),
    )


def checkpoint(config: dict[str, Any], path: Path, network: str) -> tuple[Any, dict[str, Any]]:
    """A checkpoint's model and provenance, loaded against its registry entry."""
    return load_checkpoint(str(path), ModelSpec.from_params(network, config["models"][network]))


def tensor_finite(tensor: torch.Tensor) -> bool:
    return bool(torch.isfinite(tensor).all())
