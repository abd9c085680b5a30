"""The report's provenance section (the code's commit, changes to it, params changed from it, the
DVC experiment, versions) and the run record beside the report (machine, GPU, rule wall times),
kept apart so that the report's bytes depend on its inputs alone."""

from __future__ import annotations

import os
import platform
import subprocess
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


#: What the results depend on in git (the pipeline's code, its params, its locked packages): the
#: report names the last commit that changed one of them, so that committing the results
#: afterwards (reports/, dvc.lock, the README summary) does not change the report's bytes.
CODE_PATHS = ("Snakefile", "workflow", "src", "params.yaml", "pyproject.toml", "uv.lock")


def code_commit() -> str | None:
    """The last commit that changed CODE_PATHS (short hash); None outside a checkout."""
    return _git("log", "-1", "--format=%h", "--", *CODE_PATHS) or None


def uncommitted_code() -> list[str]:
    """Files of CODE_PATHS that differ from HEAD or that git does not know (params.yaml aside:
    its changes are listed key by key)."""
    changed = _git("diff", "--name-only", "HEAD", "--", *CODE_PATHS) or ""
    unknown = _git("ls-files", "--others", "--exclude-standard", "--", *CODE_PATHS) or ""
    paths = {*changed.splitlines(), *unknown.splitlines()} - {"params.yaml"}
    return sorted(paths)


def params_overrides(commit: str = "HEAD", params_file: str | Path = "params.yaml") -> list[str]:
    """The keys of params.yaml that differ from its version at `commit` (what `dvc exp run -S`
    or an edit changed), as 'key: committed → now'."""
    committed = _git("show", f"{commit}:{Path(params_file).as_posix()}")
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
    """What made the results: the code's commit, any change to it, the params changed from that
    commit, the DVC experiment, the profile and the locked versions. Only what the same inputs
    reproduce: the machine, the GPU and the wall times are in the run record (`run_record`)."""
    commit = code_commit()
    changed = uncommitted_code()
    overrides = params_overrides(commit) if commit else []
    versions = {name: metadata.version(name) for name in ("torch", "snakemake", "dvc", "numpy")}
    return {
        "code commit": commit or "unknown (not a git checkout)",
        "uncommitted code changes": ", ".join(changed) if changed else "none",
        "params changed from the commit": "; ".join(overrides) if overrides else "none",
        "DVC experiment": os.environ.get("DVC_EXP_NAME", "none (not a DVC experiment)"),
        "profile": profile,
        **{f"{name} version": version for name, version in versions.items()},
    }


def provenance_section(provenance: dict[str, Any], record_name: str) -> str:
    """The provenance as a two-column table, and where the run record is."""
    rows = [[key, f"`{value}`"] for key, value in provenance.items()]
    return "\n\n".join(
        [
            "## Provenance",
            markdown_table(["what", "value"], rows),
            f"The machine, the GPU and each rule's wall time are in [{record_name}]"
            f"({record_name}): they vary from run to run, so they stay out of the results "
            "that DVC versions.",
        ]
    )


def run_record(profile: str, benchmarks_dir: str | Path | None) -> str:
    """The run record (Markdown): where this run ran and how long each rule's jobs took."""
    rows = [
        ["profile", f"`{profile}`"],
        ["python", f"`{platform.python_version()}`"],
        ["machine", f"`{f'{platform.machine()} {platform.processor()}'.strip()}`"],
        ["CPU cores", f"`{os.cpu_count()}`"],
        ["GPU", f"`{gpu_name()}`"],
    ]
    parts = ["# Run record", markdown_table(["what", "value"], rows)]
    wall_times = rule_wall_times(benchmarks_dir)
    if wall_times:
        parts += [
            "Wall time of each rule's jobs in the run that made these results (Snakemake's "
            "benchmark files, `reports/benchmarks/`):",
            markdown_table(["rule", "jobs", "total", "longest job"], wall_times),
        ]
    return "\n\n".join(parts) + "\n"
