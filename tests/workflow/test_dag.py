"""The workflow's shape: every rule in the DAG, and dvc.yaml agreeing with Snakemake's targets."""

import re
import shlex
from pathlib import Path

import pytest
import yaml

from conftest import copy_project, snakemake


@pytest.fixture(scope="module")
def default_project(tmp_path_factory) -> Path:
    return copy_project(tmp_path_factory.mktemp("dag"), profile="default")


def planned_jobs(project: Path, *targets: str) -> set[str]:
    """Rule names of the jobs a dry run plans (from Snakemake's job stats table)."""
    output = snakemake(project, "--dry-run", *targets).stdout
    table = output.split("Job stats:")[1].split("total")[0]
    return {line.split()[0] for line in table.splitlines()[3:] if line.strip()}


def planned_io(project: Path, target: str) -> list[tuple[set[str], set[str]]]:
    """(inputs, outputs) of every job a dry run of `target` plans from scratch."""
    output = snakemake(project, target, "--dry-run", "--forceall").stdout
    jobs = []
    for block in re.split(r"^(?:local)?rule \w+:$", output, flags=re.MULTILINE)[1:]:
        fields = dict(re.findall(r"^    (input|output): (.*)$", block, flags=re.MULTILINE))
        jobs.append(
            tuple(set(fields.get(key, "").split(", ")) - {""} for key in ("input", "output"))
        )
    return jobs


def covered(path: str, declared: list[str]) -> bool:
    return any(path == entry or path.startswith(entry + "/") for entry in declared)


def test_default_dry_run_lists_every_rule(default_project):
    listing = snakemake(default_project, "--list-rules").stdout.splitlines()
    rules = {line.split()[0] for line in listing if line.strip()}
    rules = {rule for rule in rules if not rule.startswith("all_")}
    assert {"mnist", "split", "train", "evaluate", "spectral", "report"} <= rules
    assert planned_jobs(default_project) >= rules


def declared_outputs(stage: dict) -> list[str]:
    return [
        next(iter(out)) if isinstance(out, dict) else out
        for key in ("outs", "metrics", "plots")
        for out in stage.get(key, [])
    ]


def test_dvc_stage_outputs_match_snakemake_targets(default_project):
    """Each file a stage's Snakemake target makes is an output of that stage or of a stage it
    depends on in dvc.yaml; each DVC output is made by its stage's target; the upstream files
    a stage's own jobs read are among its deps."""
    stages = yaml.safe_load((default_project / "dvc.yaml").read_text())["stages"]
    outputs = {name: declared_outputs(stage) for name, stage in stages.items()}
    direct = {
        name: {
            other
            for other in stages
            if other != name and any(covered(out, stage["deps"]) for out in outputs[other])
        }
        for name, stage in stages.items()
    }
    for name, stage in stages.items():
        command = shlex.split(stage["cmd"])
        assert command[0] == "snakemake" and "--rerun-triggers" in command, name
        allowed = command[command.index("--allowed-rules") + 1 :]
        rules_file = default_project / "workflow" / "rules" / f"{name}.smk"
        assert allowed == re.findall(r"^\s*rule (\w+):", rules_file.read_text(), re.M), (
            f"stage {name}: --allowed-rules must list the rules of {rules_file.name}"
        )
        upstream, frontier = set(), set(direct[name])
        while frontier:
            upstream |= frontier
            frontier = set().union(*(direct[other] for other in frontier)) - upstream
        upstream_outputs = [out for other in upstream for out in outputs[other]]
        jobs = planned_io(default_project, command[1])
        made = set().union(*(job_outputs for _, job_outputs in jobs))
        for path in made:
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
