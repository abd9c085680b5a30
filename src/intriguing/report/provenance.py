"""The report's provenance section: where and with what the report was made (git commit, DVC
experiment, params changed from the commit, versions, machine) and each rule's wall time."""

from __future__ import annotations

import os
import platform
import subprocess
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml

from intriguing.plan.params import flatten
from intriguing.report.format import markdown_table


def _git(*args: str) -> str | None:
    """A git command's output in the working directory; None outside a checkout or without git."""
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def params_overrides(params_file: str | Path = "params.yaml") -> list[str]:
    """The keys of params.yaml that differ from the committed version (what `dvc exp run -S`
    or an edit changed), as 'key: committed → now'."""
    committed = _git("show", f"HEAD:{Path(params_file).as_posix()}")
    if committed is None or not Path(params_file).is_file():
        return []
    before = flatten(yaml.safe_load(committed))
    now = flatten(yaml.safe_load(Path(params_file).read_text(encoding="utf-8")))
    return [
        f"{key}: {before.get(key, '(absent)')} → {now.get(key, '(absent)')}"
        for key in sorted(set(before) | set(now))
        if before.get(key) != now.get(key)
    ]


def rule_wall_times(benchmarks_dir: str | Path | None) -> list[list[str]]:
    """Per rule, from Snakemake's benchmark files (one TSV per job, under a folder per rule):
    jobs, total and longest wall time."""
    if benchmarks_dir is None or not Path(benchmarks_dir).is_dir():
        return []
    rows = []
    for folder in sorted(path for path in Path(benchmarks_dir).iterdir() if path.is_dir()):
        seconds = [
            float(tsv.read_text(encoding="utf-8").splitlines()[1].split("\t")[0])
            for tsv in sorted(folder.rglob("*.tsv"))
        ]
        if seconds:
            rows.append(
                [folder.name, str(len(seconds)), f"{sum(seconds):.1f} s", f"{max(seconds):.1f} s"]
            )
    return rows


def gpu_name() -> str:
    """The name of the GPU this job sees (torch's device 0), or 'none'.

    torch is imported here, not at module level: it is the only part of the report that needs
    it, and importing the report stays light (versions come from importlib.metadata).
    """
    import torch

    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"


def provenance(profile: str) -> dict[str, str]:
    """Where and with what the report was made."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    versions = {name: metadata.version(name) for name in ("torch", "snakemake", "dvc", "numpy")}
    overrides = params_overrides()
    return {
        "git commit": commit,
        "DVC experiment": os.environ.get("DVC_EXP_NAME", "none (not a DVC experiment)"),
        "profile": profile,
        "params changed from the commit": "; ".join(overrides) if overrides else "none",
        **{f"{name} version": version for name, version in versions.items()},
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor()}".strip(),
        "GPU": gpu_name(),
    }


def provenance_section(provenance: dict[str, Any], wall_times: Sequence[list[str]] = ()) -> str:
    """The provenance as a two-column table, then the rules' wall times when there are any."""
    rows = [[key, f"`{value}`"] for key, value in provenance.items()]
    parts = ["## Provenance", markdown_table(["what", "value"], rows)]
    if wall_times:
        parts += [
            "Wall time of each rule's jobs in the run that made these results (Snakemake's "
            "benchmark files, `reports/benchmarks/`):",
            markdown_table(["rule", "jobs", "total", "longest job"], list(wall_times)),
        ]
    return "\n\n".join(parts)
