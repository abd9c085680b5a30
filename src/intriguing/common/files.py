"""Atomic file output: an interrupted job never leaves a half-written file under its final name."""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TEMPORARY_SUFFIX = ".tmp"


def temporary_files(path: str | os.PathLike[str]) -> list[Path]:
    """Temporary files of `path` (`.<name>.<random>.tmp` beside it) that an atomic write left,
    e.g. one killed with SIGKILL before it could rename or delete its file."""
    final = Path(path)
    pattern = f".{glob.escape(final.name)}.{'?' * 8}{TEMPORARY_SUFFIX}"  # mkstemp: 8 characters
    return sorted(final.parent.glob(pattern))


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it onto `path` only if the block succeeds.

    Temporary files an earlier, killed write of the same path left behind are deleted first
    (only one job ever writes a given output, so none of them can still be in use).
    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    for leftover in temporary_files(final):
        leftover.unlink(missing_ok=True)
    handle, tmp_name = tempfile.mkstemp(
        prefix=f".{final.name}.", suffix=TEMPORARY_SUFFIX, dir=final.parent
    )
    os.close(handle)
    tmp = Path(tmp_name)
    try:
        yield tmp
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def save_torch(path: str | os.PathLike[str], payload: Any) -> None:
    """`torch.save` atomically, and byte for byte the same for the same payload: saved through
    memory, because torch names the archive's inner folder after the file it writes, which for
    an atomic write is a random temporary name."""
    import torch

    buffer = io.BytesIO()
    torch.save(payload, buffer)
    write_bytes(path, buffer.getvalue())


def write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Write JSON with sorted keys and a trailing newline, so reruns are byte-identical."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def write_csv(path: str | os.PathLike[str], rows: list[dict[str, Any]]) -> None:
    """Write dict rows (keys of the first row as the header) as CSV."""
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def read_json(path: str | os.PathLike[str]) -> Any:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def file_digests(path: str | os.PathLike[str], *algorithms: str) -> tuple[str, ...]:
    """The hex digests of a file under each of `algorithms` (hashlib names), read in one pass."""
    hashes = [hashlib.new(name) for name in algorithms]
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            for digest in hashes:
                digest.update(chunk)
    return tuple(digest.hexdigest() for digest in hashes)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
