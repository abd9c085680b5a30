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
        for key in ("outs", "metrics")
        for out in stage.get(key, [])
    ]


def test_dvc_stage_outputs_match_snakemake_targets(default_project):
    """Each stage's DVC outs are exactly what its target's own rules make, and the upstream
    files those rules read are among its deps.

    A stage is upstream of another when everything it plans is planned there too, or when the
    other's deps name one of its outputs (DVC's own link: `spectral` reads a few models of the
    `train` stage, whose plan has more models and metrics than the spectral target's)."""
    stages = yaml.safe_load((default_project / "dvc.yaml").read_text())["stages"]
    jobs = {}
    for name, stage in stages.items():
        command = shlex.split(stage["cmd"])
        assert command[0] == "snakemake" and "--rerun-triggers" in command, name
        jobs[name] = planned_io(default_project, command[1])
    made = {name: set().union(*(outputs for _, outputs in io)) for name, io in jobs.items()}
    for name, stage in stages.items():
        upstream = set().union(
            *(
                files
                for other, files in made.items()
                if other != name
                and (
                    files < made[name]
                    or any(covered(out, stage["deps"]) for out in declared_outputs(stages[other]))
                )
            )
        )
        own_jobs = [(inputs, outputs) for inputs, outputs in jobs[name] if not outputs <= upstream]
        own = set().union(*(outputs for _, outputs in own_jobs))
        declared = declared_outputs(stage)
        for path in own:
            assert covered(path, declared), f"stage {name}: {path} is not a DVC output"
        for out in declared:
            assert any(covered(path, [out]) for path in own), (
                f"stage {name}: DVC output {out} is made by no rule of its target"
            )
        for inputs, _ in own_jobs:
            for path in inputs & upstream:
                assert covered(path, stage["deps"]), f"stage {name}: {path} is not a dep"
