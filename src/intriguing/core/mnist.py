"""MNIST as every stage reads it: the four original files (IDX), the P1/P2 split file, a
training set's indices, and images as tensors in [0, 1]. Fetching and verifying the files, and
drawing the split, are the `data` stage's (`intriguing.data.fetch`)."""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from intriguing.common.files import atomic_path
from intriguing.plan.choices import TRAIN_SETS

IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801

#: The four original files, in the order of `Mnist`'s fields.
FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
TRAIN_SIZE = 60000
TEST_SIZE = 10000


class MnistError(RuntimeError):
    """A problem with an MNIST file: missing, corrupt, or not what its checksum says."""


def read_idx(path: Path) -> np.ndarray:
    """Parse a (gzipped) IDX file of unsigned bytes: labels (idx1) or images (idx3)."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 8:
        raise MnistError(f"{path}: truncated IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[0:4], "big")
    if magic not in (IMAGE_MAGIC, LABEL_MAGIC):
        raise MnistError(f"{path}: bad IDX magic number {magic:#010x}")
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected = header + int(np.prod(shape))
    if len(data) != expected:
        raise MnistError(f"{path}: expected {expected} bytes for shape {shape}, got {len(data)}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


@dataclass(frozen=True)
class Mnist:
    """The raw arrays: images uint8 (N, 28, 28), labels uint8 (N,)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_mnist(raw_dir: str | Path) -> Mnist:
    """The four files of `raw_dir`, checked for MNIST's shapes."""
    raw = Path(raw_dir)
    arrays = [read_idx(raw / name) for name in FILES]
    mnist = Mnist(*arrays)
    for images, labels, size in (
        (mnist.train_images, mnist.train_labels, TRAIN_SIZE),
        (mnist.test_images, mnist.test_labels, TEST_SIZE),
    ):
        if images.shape != (size, 28, 28) or labels.shape != (size,):
            raise MnistError(f"{raw}: unexpected shapes {images.shape} / {labels.shape}")
    return mnist


def save_split(path: str | Path, p1: np.ndarray, p2: np.ndarray, seed: int) -> None:
    """Store the P1/P2 training-set indices (int32) with the seed that made them."""
    with atomic_path(path) as tmp:
        with tmp.open("wb") as handle:
            np.savez(handle, p1=p1.astype(np.int32), p2=p2.astype(np.int32), seed=np.int64(seed))


def load_raw(raw_files: Sequence[str | Path]) -> Mnist:
    """MNIST from a rule's raw files (the four files, in one directory)."""
    return load_mnist(Path(raw_files[0]).parent)


def load_split(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {"p1": data["p1"], "p2": data["p2"]}


def train_set_indices(
    train_set: str, split: dict[str, np.ndarray], limit: int | None = None
) -> np.ndarray:
    """Indices into the 60000 training images of `all`, `p1` or `p2`, cut to the first `limit`."""
    if train_set == "all":
        indices = np.arange(TRAIN_SIZE)
    elif train_set in split:
        indices = split[train_set]
    else:
        raise ValueError(f"unknown training set {train_set!r}; allowed: {list(TRAIN_SETS)}")
    return indices if limit is None else indices[:limit]


def to_tensor(images: np.ndarray):
    """uint8 (N, 28, 28) -> float32 torch tensor (N, 1, 28, 28) with pixels in [0, 1]."""
    import torch

    return torch.from_numpy(images.astype(np.float32) / 255.0).unsqueeze(1)
