"""MNIST: fetching and verifying the four original files, IDX parsing, and the P1/P2 split.

The checksums are those of torchvision's ``MNIST.resources`` (MD5) and the SHA-256 of each
original ``.gz``; both are verified whatever the source (a local directory or a download).
"""

from __future__ import annotations

import gzip
import hashlib
import shutil
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from intriguing.common.files import atomic_path
from intriguing.plan.choices import TRAIN_SETS

IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801

#: file name -> (md5, sha256) of the original gzip files.
CHECKSUMS: dict[str, tuple[str, str]] = {
    "train-images-idx3-ubyte.gz": (
        "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train-labels-idx1-ubyte.gz": (
        "d53e105ee54ea40749a09fcbcd1e9432",
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "t10k-images-idx3-ubyte.gz": (
        "9fb629c4189551a2d022fa330f9573f3",
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "ec29112dd5afa0611ce80d1b7f02629c",
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}
FILES = tuple(CHECKSUMS)
TRAIN_SIZE = 60000
TEST_SIZE = 10000


class MnistError(RuntimeError):
    """A problem with an MNIST file: missing, corrupt, or not what its checksum says."""


def file_digests(path: Path) -> tuple[str, str]:
    """(md5, sha256) of a file, read in chunks."""
    md5, sha256 = hashlib.md5(), hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            md5.update(chunk)
            sha256.update(chunk)
    return md5.hexdigest(), sha256.hexdigest()


def verify_file(path: Path, name: str | None = None) -> None:
    """Raise MnistError naming the file and both checksums if `path` is not the original."""
    name = name or path.name
    if name not in CHECKSUMS:
        raise MnistError(f"{name}: not one of the MNIST files {list(FILES)}")
    expected_md5, expected_sha = CHECKSUMS[name]
    md5, sha = file_digests(path)
    if md5 != expected_md5 or sha != expected_sha:
        raise MnistError(
            f"checksum mismatch for {path}: expected md5 {expected_md5} / sha256 {expected_sha}, "
            f"got md5 {md5} / sha256 {sha}"
        )


def _download(url: str, destination: Path, timeout: float) -> None:
    with urllib.request.urlopen(url, timeout=timeout) as response, destination.open("wb") as out:
        shutil.copyfileobj(response, out)


def fetch_file(
    name: str, destination: Path, source_dir: Path | None, mirrors: list[str], timeout: float = 60
) -> None:
    """Copy `name` from `source_dir` (or download it from the first working mirror), verify it,
    and only then move it to `destination`: a bad file never lands under its final name."""
    with atomic_path(destination) as tmp:
        if source_dir is not None:
            source = Path(source_dir) / name
            if not source.is_file():
                raise MnistError(f"{name}: not found in the MNIST directory {source_dir}")
            shutil.copyfile(source, tmp)
        else:
            errors = []
            for mirror in mirrors:
                try:
                    _download(mirror.rstrip("/") + "/" + name, tmp, timeout)
                    break
                except (urllib.error.URLError, OSError) as error:
                    errors.append(f"{mirror}: {error}")
            else:
                raise MnistError(
                    f"could not download {name} (no network? set MNIST_DIR to a directory holding "
                    f"the four MNIST .gz files): " + "; ".join(errors)
                )
        verify_file(tmp, name)


def default_mirrors() -> list[str]:
    """The mirrors torchvision's MNIST class downloads from."""
    from torchvision.datasets import MNIST

    return list(MNIST.mirrors)


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


def stratified_halves(labels: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into two disjoint, equal halves with the label mix of the whole, seeded.

    scikit-learn's stratified ``train_test_split`` (the standard tool for it); each half is
    returned sorted, so a half's order is the training file's.
    """
    from sklearn.model_selection import train_test_split

    if len(labels) % 2:
        raise ValueError(f"cannot halve {len(labels)} images")
    first, second = train_test_split(
        np.arange(len(labels)), test_size=0.5, stratify=labels, random_state=seed
    )
    return np.sort(first), np.sort(second)


def save_split(path: str | Path, p1: np.ndarray, p2: np.ndarray, seed: int) -> None:
    """Store the P1/P2 training-set indices (int32) with the seed that made them."""
    with atomic_path(path) as tmp:
        with tmp.open("wb") as handle:
            np.savez(handle, p1=p1.astype(np.int32), p2=p2.astype(np.int32), seed=np.int64(seed))


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
