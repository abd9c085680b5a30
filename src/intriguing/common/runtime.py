"""Device, thread, determinism and seed handling shared by every job."""

from __future__ import annotations

import hashlib
import os
import platform
import random
import sys

import numpy as np
import torch

from intriguing.common.determinism import CUBLAS_WORKSPACE, DETERMINISTIC_ENV


def select_device(requested: str) -> torch.device:
    """`auto` picks CUDA when available; `cuda` without a GPU is an error, not a silent fallback."""
    if requested == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if requested == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device: cuda requested but torch.cuda.is_available() is False")
    return torch.device(requested)


def configure_threads(threads: int) -> None:
    """Match torch's intra-op threads to the cores the scheduler granted this job."""
    threads = max(1, int(threads))
    torch.set_num_threads(threads)
    os.environ["OMP_NUM_THREADS"] = str(threads)


def deterministic_requested() -> bool:
    return os.environ.get(DETERMINISTIC_ENV, "1") != "0"


def configure_determinism(deterministic: bool) -> None:
    """Make torch deterministic on the GPU as far as it can, or let it pick the fastest kernels.

    On: deterministic algorithms only (an operation that has none raises a RuntimeError naming
    it), cuDNN without benchmarking and in deterministic mode, cuBLAS with a fixed workspace.
    On the CPU the pipeline's results do not depend on this setting.
    """
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    _use_deterministic_algorithms(deterministic)
    torch.backends.cudnn.benchmark = not deterministic
    torch.backends.cudnn.deterministic = deterministic


def _use_deterministic_algorithms(mode: bool) -> None:
    """torch.use_deterministic_algorithms, without its import of the torch.compile stack.

    The public call imports torch._inductor (and with it torch._dynamo) only to set the same
    flag for compiled code: 4 s of every job's start-up on a 2-core CPU, in a pipeline that
    never compiles. Where that stack is already loaded, or torch lacks the flag's setter, the
    public call runs; the flag itself is the same (torch.are_deterministic_algorithms_enabled).
    """
    setter = getattr(torch._C, "_set_deterministic_algorithms", None)
    if setter is None or "torch._inductor.config" in sys.modules:
        torch.use_deterministic_algorithms(mode)
    else:
        setter(mode)


def configure_job(threads: int) -> None:
    """Per-job torch setup: the granted cores, and the determinism params.yaml asks for."""
    configure_threads(threads)
    configure_determinism(deterministic_requested())


def derive_seed(seed: int, name: str) -> int:
    """A job's own seed from the run's `seed` and the job's name (e.g. a model's).

    Stable across runs, machines and Python versions (SHA-256, not ``hash``), so that models of
    one architecture start from independent weights and batch orders, yet each is reproducible.
    """
    digest = hashlib.sha256(f"{seed}:{name}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 2**31


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def device_description(device: torch.device) -> str:
    """Human-readable hardware name for provenance."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"
