"""Cluster safety: a job of every model rule run as a separate process (Snakemake's
cluster-generic executor) gives byte-identical metrics and identical tensors to the in-process run
of the session's smoke build; no two jobs write the same file; the SLURM profile gives the torch
rules a GPU. (The rule files read as text, and atomic writes: tests/unit/test_rule_files.py and
test_atomic_writes.py; the determinism flags: tests/unit/common/test_runtime.py.)"""

import re
from collections import Counter

import torch

from conftest import (
    MODEL_JOBS,
    copy_built,
    copy_project,
    job_rules,
    plan_jobs,
    snakemake,
    torch_rules,
)


def test_cluster_generic_jobs_reproduce_the_local_run(smoke_project, mnist_source, tmp_path):
    """In a copy of the session's smoke build (run by the local executor), the outputs of one
    job of every model rule are deleted and the jobs rerun through
    profiles/local-cluster, each job its own background process sharing nothing with
    Snakemake but the file system: from the same inputs, byte-identical outputs (metrics,
    weights, adversarial sets, figures)."""
    assert torch_rules() <= MODEL_JOBS.keys()  # a new torch rule needs a job here
    cluster = copy_built(smoke_project, tmp_path / "cluster")
    outputs = [path for paths in MODEL_JOBS.values() for path in paths]
    for path in outputs:
        (cluster / path).unlink()
    profile = ["--profile", "profiles/local-cluster"]
    # Snakemake looks for finished cluster jobs every 10 s by default: 1 s here.
    result = snakemake(
        cluster, *outputs, *profile, "--seconds-between-status-checks", "1", mnist=mnist_source
    )
    submitted = re.findall(r"Submitted job \d+ with external jobid '(\d+)'", result.stderr)
    job_logs = list((cluster / ".snakemake" / "local-cluster").glob("snakejob.*.log"))
    assert len(job_logs) == len(submitted) == len(set(submitted)) == len(MODEL_JOBS)
    assert sorted(log.name.split(".")[1] for log in job_logs) == sorted(MODEL_JOBS)
    for path in outputs:
        separate, local = cluster / path, smoke_project / path
        assert separate.read_bytes() == local.read_bytes(), f"{path} differs between the runs"
    # The Snakefile's `deterministic` reached the jobs through the submit command.
    assert torch.load(cluster / "models/m2.pt", weights_only=True)["provenance"]["deterministic"]


def planned_writes(dry_run: str) -> list[tuple[str, set[str]]]:
    """(rule, files it writes: outputs, logs, benchmarks) of every job of a dry run."""
    return [
        (job["rule"], job["output"] | job["log"] | job["benchmark"]) for job in plan_jobs(dry_run)
    ]


def test_no_two_jobs_write_the_same_file(default_plan):
    """From Snakemake's plan of the whole default-profile DAG from scratch (conftest's
    `default_plan`): each file, and each directory a job writes into, belongs to one job only,
    so parallel jobs (`--cores N`, a cluster) never write the same path."""
    jobs = planned_writes(default_plan)
    assert len(jobs) > 40 and {rule for rule, _ in jobs} >= {"train", "adversarial", "report"}
    owners = Counter(path for _, written in jobs for path in written)
    assert [path for path, count in owners.items() if count > 1] == []
    paths = set(owners)
    nested = [(a, b) for a in paths for b in paths if b.startswith(a.rstrip("/") + "/")]
    assert nested == []


def test_slurm_profile_gives_each_torch_rule_a_gpu(tmp_path):
    """A dry run through the SLURM workflow profile at paper scale: every job asks for CPUs (its
    threads), memory and a runtime, and exactly the rules that put torch on `device` ask for one
    GPU."""
    gpu_rules = torch_rules()
    assert {"train", "adversarial"} <= gpu_rules
    project = copy_project(tmp_path, profile="full")
    output = snakemake(
        project, "all", "--dry-run", "--forceall", "--workflow-profile", "profiles/slurm"
    ).stdout
    jobs = [
        (rule, line)
        for rule, line in re.findall(
            r"^rule (\w+):\n(?:    .*\n)*?    resources: (.*)$", output, flags=re.MULTILINE
        )
        if rule in job_rules()  # not `all`, which only names the targets and is never submitted
    ]
    assert {rule for rule, _ in jobs} == set(job_rules())
    for rule, line in jobs:
        resources = dict(item.split("=", 1) for item in line.split(", "))
        assert {"cpus_per_task", "mem_mb", "runtime"} <= set(resources), rule
        # the tests' --max-threads 1 caps the threads, and so the CPUs
        assert resources["cpus_per_task"] == "1", rule
        assert resources.get("gpu") == ("1" if rule in gpu_rules else None), rule
