"""The SLURM profile against a real Slurm: a one-node cluster on this machine
(profiles/slurm/one-node-cluster.sh: munge, MariaDB, slurmdbd, slurmctld, slurmd) runs the smoke
DAG through snakemake-executor-plugin-slurm, by the command docs/operations.md gives; `sacct`
lists every submitted job, COMPLETED, with the CPUs, memory, runtime and GPU the profile asked
for; the metrics equal the local smoke build's. A job broken on purpose fails the run with its
Slurm log named, and a rerun resumes.

Marked `slurm` (pyproject.toml leaves them out of a plain `uv run pytest`): `.ci/run` runs them
as a step of their own, `uv run pytest -m slurm`. Skipped, with the script's reason, where no
cluster can start (not root, or Slurm neither installed nor installable with apt-get). The
cluster declares placeholder GPUs (SLURM_GPUS: GRES entries without devices), so the profile's
GPU requests are scheduled and checked; the jobs find no CUDA device and run on the CPU."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, copy_built, copy_project, environment

pytestmark = pytest.mark.slurm

SCRIPT = "profiles/slurm/one-node-cluster.sh"
PROFILE = yaml.safe_load((ROOT / "profiles" / "slurm" / "config.yaml").read_text())
#: The script's exit status when it cannot start a cluster here (it says why).
CANNOT_START = 3
#: The smoke DAG through the cluster (17 min on 2 cores: 92 jobs, 1 CPU each) and the cluster's
#: start (~15 s; ~40 s more when it installs Slurm).
TIMEOUT = 2400


def documented_command() -> str:
    """The command docs/operations.md gives for the smoke DAG on the one-node cluster."""
    text = (ROOT / "docs" / "operations.md").read_text()
    commands = [
        line.strip()
        for line in text.splitlines()
        if SCRIPT in line and "--workflow-profile profiles/slurm" in line
    ]
    assert len(commands) == 1, commands
    return commands[0]


def on_cluster(project: Path, command: str, state: Path, mnist: Path):
    """`command` (a shell line) run in `project`, in the project's environment (`uv run` is this
    checkout's, unchanged); skips the test where the cluster script cannot start one."""
    env = environment(mnist) | {
        "SLURM_STATE_DIR": str(state),
        "UV_PROJECT": str(ROOT),
        "UV_NO_SYNC": "1",
    }
    env.pop("SLURM_CONF", None)
    result = subprocess.run(
        ["bash", "-c", command],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    if result.returncode == CANNOT_START and "cannot start" in result.stderr:
        pytest.skip(result.stderr.strip().splitlines()[-1])
    return result


def accounting(state: Path) -> list[dict[str, str]]:
    """The cluster's record of every job (the script's sacct.txt: `sacct -P`), one dict each."""
    lines = (state / "sacct.txt").read_text().splitlines()
    header = lines[0].split("|")
    return [dict(zip(header, line.split("|"), strict=True)) for line in lines[1:] if line]


def rule_of(comment: str, rules: set[str]) -> str:
    """The rule a job ran: the executor comments it `rule_<rule>` or `rule_<rule>_wildcards_…`."""
    names = [
        rule
        for rule in rules
        if comment == f"rule_{rule}" or comment.startswith(f"rule_{rule}_wildcards_")
    ]
    assert names, comment
    return max(names, key=len)


def submitted_rules(output: str) -> list[str]:
    """The rule of every job Snakemake submitted (printed `rule X:`; local jobs `localrule X:`)."""
    return re.findall(r"^rule (\w+):$", output, flags=re.MULTILINE)


def requested(output: str) -> dict[str, tuple[str, dict[str, str]]]:
    """Slurm job id -> the rule and the resources Snakemake planned for the job it submitted."""
    planned = {}
    for rule, fields in re.findall(r"^rule (\w+):\n((?:    .*\n)+)", output, flags=re.MULTILINE):
        jobid = re.search(r"^    jobid: (\d+)$", fields, flags=re.MULTILINE).group(1)
        line = re.search(r"^    resources: (.*)$", fields, flags=re.MULTILINE).group(1)
        planned[jobid] = (rule, dict(item.split("=", 1) for item in line.split(", ")))
    return {
        slurm_id: planned[jobid]
        for jobid, slurm_id in re.findall(
            r"^Job (\d+) has been submitted with SLURM jobid (\d+)", output, flags=re.MULTILINE
        )
    }


def megabytes(memory: str) -> int:
    """sacct's memory (`4G`, `2048M`) in MB."""
    value, unit = float(memory[:-1]), memory[-1]
    return round(value * {"M": 1, "G": 1024, "T": 1024 * 1024}[unit])


def metrics(project: Path) -> dict[str, bytes]:
    folder = project / "reports" / "metrics"
    return {str(path.relative_to(folder)): path.read_bytes() for path in folder.rglob("*.json")}


def test_the_smoke_dag_runs_through_slurm(smoke_project, mnist_source, tmp_path):
    """The documented command, as written, in a fresh project copy: rc 0; one Slurm job per
    submitted job, each COMPLETED with the threads (CPUs), memory, runtime and GPU the profile
    gives its rule; no local rule submitted; every metrics file equal to the local smoke
    build's."""
    command = documented_command()
    project = copy_project(tmp_path / "project")
    state = tmp_path / "slurm"
    result = on_cluster(project, command, state, mnist_source)
    assert result.returncode == 0, result.stderr[-20_000:]

    submitted = submitted_rules(result.stderr)
    jobs = accounting(state)
    rules = set(submitted)
    assert sorted(rule_of(job["Comment"], rules) for job in jobs) == sorted(submitted)
    local = set(re.findall(r"^localrule (\w+):$", result.stderr, flags=re.MULTILINE))
    assert local and not local & rules  # the summaries and the report ran beside Snakemake
    asked = requested(result.stderr)
    threads = int(re.search(r"--max-threads (\d+)", command).group(1))
    for job in jobs:
        rule, resources = asked[job["JobID"]]
        assert rule == rule_of(job["Comment"], rules), job
        # the profile's sizes reached the job
        for key, value in PROFILE["set-resources"].get(rule, {}).items():
            assert resources[key] == str(value), (rule, key)
        assert resources["cpus_per_task"] == str(threads), rule
        # and Slurm gave the job what Snakemake asked for
        tres = dict(item.split("=", 1) for item in job["AllocTRES"].split(","))
        assert job["State"] == "COMPLETED", job
        assert tres["cpu"] == resources["cpus_per_task"], job
        assert megabytes(tres["mem"]) == int(resources["mem_mb"]), job
        minutes = int(resources["runtime"])
        assert job["Timelimit"] == f"{minutes // 60:02d}:{minutes % 60:02d}:00", job
        assert tres.get("gres/gpu") == resources.get("gpu"), job
    assert metrics(project) == metrics(smoke_project)


def test_a_failed_slurm_job_names_its_log_and_a_rerun_resumes(
    smoke_project, mnist_source, tmp_path
):
    """In a copy of the smoke build, one evaluate job's output is removed and the model it reads
    corrupted: the run on the cluster fails, names the job's Slurm log (which holds the job's
    error), and sacct records the job FAILED. With the model restored, the same command reruns
    that one job, and its metrics equal the build's."""
    project = copy_built(smoke_project, tmp_path / "project")
    target = "reports/metrics/train/softmax1.json"
    model = project / "models" / "softmax1.pt"
    saved = tmp_path / "softmax1.pt"
    shutil.copy2(model, saved)
    (project / target).unlink()
    model.write_bytes(b"not a checkpoint")
    os.utime(model, ns=(saved.stat().st_atime_ns, saved.stat().st_mtime_ns))
    command = f"{documented_command()} {target}"

    failed = on_cluster(project, command, tmp_path / "failed", mnist_source)
    assert failed.returncode != 0
    logs = re.findall(r"(\S*logs/slurm/rule_evaluate/\S+\.log)", failed.stderr)
    assert logs, failed.stderr[-10_000:]
    assert "softmax1.pt" in Path(project, logs[0]).read_text()
    states = {job["State"] for job in accounting(tmp_path / "failed")}
    assert states == {"FAILED"}, states

    shutil.copy2(saved, model)
    resumed = on_cluster(project, command, tmp_path / "resumed", mnist_source)
    assert resumed.returncode == 0, resumed.stderr[-10_000:]
    assert submitted_rules(resumed.stderr) == ["evaluate"]
    assert json.loads((project / target).read_text()) == json.loads(
        (smoke_project / target).read_text()
    )
