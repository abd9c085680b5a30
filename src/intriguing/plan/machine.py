"""The settings of params.yaml that hold on some machines only, checked before any job.

``check_params`` checks what params.yaml says; ``check_machine`` (the Snakefile runs it right
after) checks it against the machine Snakemake runs on: ``device: cuda`` needs a CUDA device,
and every file or directory params.yaml names must exist. Both run at every invocation, dry
runs included, whether or not the outputs exist, so a bad setting stops Snakemake at once
instead of failing a job hours later. ``uses_gpu`` tells the workflow whether its torch jobs
will run on a GPU (their ``gpu`` resource, which the workflow profile caps).

torch is imported only where a GPU may be present (``device: cuda``, or ``auto`` on a machine
with a GPU's device files), so that planning on a CPU machine stays fast.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from intriguing.plan.params import ParamsError

#: The paths params.yaml may name: key, what it must be, and what null means instead.
PATH_KEYS = (
    (
        "data.mnist_dir",
        "directory",
        "null downloads MNIST; the MNIST_DIR environment variable wins over this key",
    ),
    (
        "spectral.alexnet_weights",
        "file",
        "null: torchvision's weights if spectral.download_weights, else seeded random weights",
    ),
    ("spectral.alexnet_original_weights", "file", "null: seeded random weights"),
    ("units.imagefolder.root", "directory", "null turns the ImageFolder variant off"),
    ("units.imagefolder.weights", "file", "null: seeded random weights"),
)

#: Device files of the GPUs torch can use (NVIDIA, NVIDIA Jetson, AMD ROCm, WSL 2): without
#: any of them torch sees no CUDA device, and `uses_gpu` need not import torch to know it.
GPU_DEVICE_FILES = ("/dev/nvidia*", "/dev/nvhost-gpu", "/dev/kfd", "/dev/dxg")


def gpu_device_files_present() -> bool:
    return any(glob.glob(pattern) for pattern in GPU_DEVICE_FILES)


def cuda_available() -> bool:
    """torch.cuda.is_available(), which the jobs' `device: auto` follows (runtime.select_device),
    without importing torch on a machine with no GPU device file."""
    if not gpu_device_files_present():
        return False
    import torch

    return torch.cuda.is_available()


def uses_gpu(device: str) -> bool:
    """Whether the torch jobs of a run with this `device` setting run on a GPU here: `cuda`
    (check_machine has refused it where there is none), or `auto` with CUDA available."""
    if device == "auto":
        return cuda_available()
    return device == "cuda"


def project_path(
    value: str | None, root: str | Path, workdir: str | Path | None = None
) -> str | None:
    """A path params.yaml names, as a job reads it: relative paths are relative to the project
    root `root` (the Snakefile's directory), and jobs run in Snakemake's working directory
    (`workdir`, default the current one; another with `--directory runs/<profile>`), so a
    relative path is returned relative to `workdir`: the same path when Snakemake runs in the
    root. An absolute path, or None, is returned as it is."""
    if value is None or os.path.isabs(value):
        return value
    workdir = os.getcwd() if workdir is None else workdir
    return os.path.relpath(os.path.join(os.path.realpath(root), value), os.path.realpath(workdir))


def anchor_mnist_dir(project_root: str | os.PathLike[str]) -> None:
    """Make a relative `MNIST_DIR` (environment) relative to the project root, like the paths
    of params.yaml, also when `--directory` runs the jobs elsewhere; the jobs inherit it."""
    source = os.environ.get("MNIST_DIR")
    if source:
        os.environ["MNIST_DIR"] = os.path.join(project_root, source)


def _lookup(config: dict[str, Any], key: str) -> Any:
    value: Any = config
    for part in key.split("."):
        value = value[part]
    return value


def check_device(device: str, environ: Mapping[str, str] | None = None) -> None:
    """`device: cuda` on a machine where torch finds no CUDA device stops the run here, as the
    job would (runtime.select_device), but before any job. torch is imported for `cuda` only."""
    if device != "cuda":
        return
    import torch

    if torch.cuda.is_available():
        return
    environ = os.environ if environ is None else environ
    visible = environ.get("CUDA_VISIBLE_DEVICES")
    hidden = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
    raise ParamsError(
        f"device: 'cuda', but torch finds no CUDA device on this machine{hidden} "
        "(torch.cuda.is_available() is False); set `device: auto` (a GPU when there is one, "
        "else the CPU) or `device: cpu` in params.yaml, or pass `--config device=auto`, or run "
        "on a machine with a GPU (a cluster whose login node has none: `device: auto`, the "
        "jobs then use their node's GPU)"
    )


def check_paths(
    config: dict[str, Any], root: str | Path, environ: Mapping[str, str] | None = None
) -> None:
    """Every file or directory params.yaml names exists: a relative path from `root`, the
    project root (the jobs read it there too: project_path). `data.mnist_dir` is not read when
    the MNIST_DIR environment variable is set."""
    environ = os.environ if environ is None else environ
    for key, kind, null in PATH_KEYS:
        value = _lookup(config, key)
        if value is None or (key == "data.mnist_dir" and environ.get("MNIST_DIR")):
            continue
        path = Path(root, value)
        if path.is_dir() if kind == "directory" else path.is_file():
            continue
        found = "is a directory" if path.is_dir() else "is a file" if path.exists() else ""
        raise ParamsError(
            f"{key}: {value!r} {found or 'does not exist'}, a {kind} was expected (looked for "
            f"{path.resolve()}; a relative path is read from the project root, the Snakefile's "
            f"directory); put the {kind} there, correct the path in params.yaml, or set the key "
            f"to null ({null})"
        )


def check_machine(
    config: dict[str, Any], root: str | Path, environ: Mapping[str, str] | None = None
) -> None:
    """The Snakefile's check of params.yaml against this machine, after check_params: the
    device, then the paths."""
    check_device(config["device"], environ)
    check_paths(config, root, environ)
