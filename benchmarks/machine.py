"""What the benchmarks record about the machine they ran on."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from intriguing.core.mnist import FILES


def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo), else what platform knows."""
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    return names[0] if names else platform.processor() or platform.machine()


def load_text(load: tuple[float, ...] | None = None) -> str:
    """The 1, 5 and 15 minute load averages (now, unless given)."""
    return ", ".join(f"{value:.2f}" for value in (load or os.getloadavg()))


def load_line(load_start: tuple[float, ...]) -> str:
    """The load averages at a run's start and now, flagged when other work shared the CPU."""
    load_end = os.getloadavg()
    busy = max(load_start[0], load_end[0]) > (os.cpu_count() or 1)
    return (
        f"- load average (1, 5, 15 min) at the start: {load_text(load_start)}; at the end: "
        f"{load_text(load_end)}"
        + (" — **the CPU was shared with other jobs: timings are inflated**" if busy else "")
    )


def mnist_source(repo: Path, pipeline_copy_first: bool = False) -> Path:
    """Where a benchmark reads MNIST: $MNIST_DIR, else ../shared/mnist beside the repository;
    with pipeline_copy_first, the pipeline's verified data/raw when it holds the files."""
    raw = repo / "data" / "raw"
    if pipeline_copy_first and (raw / FILES[0]).is_file():
        return raw
    return Path(os.environ.get("MNIST_DIR") or repo.parent / "shared" / "mnist")
