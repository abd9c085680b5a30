"""Stage `data`: one entry point per rule (`mnist`, `split`), called by workflow/scripts/<rule>.py
(docs/layout.md).
"""

from __future__ import annotations

from pathlib import Path

from intriguing.core.mnist import MnistError, read_idx, save_split
from intriguing.data.fetch import default_mirrors, fetch_file, stratified_halves


def mnist(destinations: list[Path], source_dir: str | Path | None) -> None:
    """Fetch each MNIST file to its destination, from `source_dir` or torchvision's mirrors."""
    if source_dir is not None:
        source_dir = Path(source_dir).resolve()
        if not source_dir.is_dir():
            raise MnistError(
                f"MNIST directory {source_dir} does not exist (set by MNIST_DIR or data.mnist_dir)"
            )
    mirrors = [] if source_dir is not None else default_mirrors()
    for destination in destinations:
        fetch_file(Path(destination).name, Path(destination), source_dir, mirrors)


def split(train_labels_file: str | Path, output: str | Path, seed: int) -> None:
    """Rule `split`: stratified P1/P2 halves of the training set, saved with their seed."""
    p1, p2 = stratified_halves(read_idx(Path(train_labels_file)), seed)
    save_split(output, p1, p2, seed)
