"""The `data` stage's work on MNIST: fetching the four original files and verifying them, and
the stratified P1/P2 split (read back by `intriguing.core.mnist`).

The checksums are those of torchvision's ``MNIST.resources`` (MD5) and the SHA-256 of each
original ``.gz``; both are verified whatever the source (a local directory or a download).
"""

from __future__ import annotations

import shutil
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from intriguing.common.files import atomic_path, file_digests
from intriguing.core.mnist import FILES, MnistError

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

assert tuple(CHECKSUMS) == FILES, "one checksum pair per MNIST file, in FILES' order"


def verify_file(path: Path, name: str | None = None) -> None:
    """Raise MnistError naming the file and both checksums if `path` is not the original."""
    name = name or path.name
    if name not in CHECKSUMS:
        raise MnistError(f"{name}: not one of the MNIST files {list(FILES)}")
    expected_md5, expected_sha = CHECKSUMS[name]
    md5, sha = file_digests(path, "md5", "sha256")
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
