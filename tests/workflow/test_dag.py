"""The workflow's shape: every rule in the DAG, and dvc.yaml agreeing with Snakemake's targets.
The DAG is read from one dry run of the default profile (conftest's `default_plan`: `all` and
every stage's target, from scratch). The built smoke DAG up to date: tests/workflow/test_dvc.py."""

import shlex
from pathlib import Path

import pytest
import yaml

from conftest import copy_project, plan_jobs, snakemake


@pytest.fixture(scope="module")
def default_project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("dag"), profile="default")


def target_jobs(plan: str, target: str) -> list[dict]:
    """The jobs a dry run of `target` alone plans: the target's job (a rule named `target`) and
    every job that makes a file it reads, transitively (each job of a dry run lists its inputs
    and outputs)."""
    jobs = plan_jobs(plan)
    makers = {path: job for job in jobs for path in job["output"]}
    [root] = [job for job in jobs if job["rule"] == target]
    needed, frontier = [root], [root]
    while frontier:
        made = {id(job) for job in needed}
        found = [makers[path] for job in frontier for path in job["input"] if path in makers]
        frontier = list({id(job): job for job in found if id(job) not in made}.values())
        needed += frontier
    return needed


def covered(path: str, declared: list[str]) -> bool:
    return any(path == entry or path.startswith(entry + "/") for entry in declared)


def test_default_dry_run_lists_every_rule(default_project, default_plan):
    listing = snakemake(default_project, "--list-rules").stdout.splitlines()
    rules = {line.split()[0] for line in listing if line.strip()}
    rules = {rule for rule in rules if not rule.startswith("all_")}
    assert {"mnist", "split", "train", "evaluate", "spectral", "report"} <= rules
    assert {job["rule"] for job in target_jobs(default_plan, "all")} >= rules


def test_plan_of_a_target_is_what_its_own_dry_run_plans(default_project, default_plan):
    """`target_jobs` reads one target's plan out of the shared dry run: for one stage it is
    exactly the plan of a dry run of that stage's target alone."""
    alone = snakemake(default_project, "all_spectral", "--dry-run", "--forceall").stdout
    expected = sorted((job["rule"], sorted(job["output"])) for job in plan_jobs(alone))
    found = target_jobs(default_plan, "all_spectral")
    assert sorted((job["rule"], sorted(job["output"])) for job in found) == expected


def declared_outputs(stage: dict) -> list[str]:
    return [
        next(iter(out)) if isinstance(out, dict) else out
        for key in ("outs", "metrics", "plots")
        for out in stage.get(key, [])
    ]


#: Outputs DVC does not track on purpose: what varies from run to run (docs/operations.md,
#: "Byte-stable outputs"); no stage depends on them.
UNTRACKED_OUTPUTS = {"reports/run_record.md"}


def test_dvc_stage_outputs_match_snakemake_targets(default_project, default_plan):
    """Each file a stage's Snakemake target makes is an output of that stage or of a stage it
    depends on in dvc.yaml; each DVC output is made by its stage's target; the upstream files
    a stage's own jobs read are among its deps."""
    stages = yaml.safe_load((default_project / "dvc.yaml").read_text())["stages"]
    outputs = {name: declared_outputs(stage) for name, stage in stages.items()}
    direct = {
        name: {
            other
            for other in stages
            if other != name
            and any(  # an output inside a dep, or a dep (one file) inside an output folder
                covered(out, stage["deps"]) or covered(dep, [out])
                for out in outputs[other]
                for dep in stage["deps"]
            )
        }
        for name, stage in stages.items()
    }
    for name, stage in stages.items():
        command = shlex.split(stage["cmd"])
        assert command[0] == "snakemake" and "--rerun-triggers" in command, name
        assert stage["cmd"].endswith(f"--allowed-rules $(python -m intriguing.plan.stages {name})")
        upstream, frontier = set(), set(direct[name])
        while frontier:
            upstream |= frontier
            frontier = set().union(*(direct[other] for other in frontier)) - upstream
        upstream_outputs = [out for other in upstream for out in outputs[other]]
        jobs = [(job["input"], job["output"]) for job in target_jobs(default_plan, command[1])]
        made = set().union(*(job_outputs for _, job_outputs in jobs))
        for path in made - UNTRACKED_OUTPUTS:
            assert covered(path, outputs[name] + upstream_outputs), (
                f"stage {name}: {path} is an output of neither it nor a stage it depends on"
            )
        for out in outputs[name]:
            assert any(covered(path, [out]) for path in made), (
                f"stage {name}: DVC output {out} is made by no rule of its target"
            )
        for inputs, job_outputs in jobs:
            if any(covered(path, outputs[name]) for path in job_outputs):
                for path in inputs:
                    if covered(path, upstream_outputs):
                        assert covered(path, stage["deps"]), f"stage {name}: {path} not a dep"
