"""Each DVC stage depends on every file its jobs run: the code deps cannot drift from the code."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from imports import ROOT, closure

from conftest import copy_project, run

STAGES = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
SCRIPT = re.compile(r'script:\s*"([^"]+)"')


def stage_code(stage: str) -> list[Path]:
    """What a stage's Snakemake run parses and executes: the Snakefile, the shared rule file,
    the stage's rule file (workflow/rules/<stage>.smk) and the scripts of its rules."""
    rules = ROOT / "workflow" / "rules" / f"{stage}.smk"
    scripts = [(rules.parent / script).resolve() for script in SCRIPT.findall(rules.read_text())]
    assert scripts, f"{rules.name}: no rule runs a script"
    return [ROOT / "Snakefile", rules.parent / "common.smk", rules, *scripts]


def covered(path: Path, deps: list[Path]) -> bool:
    return any(path == dep or dep in path.parents for dep in deps)


@pytest.mark.parametrize("stage", sorted(STAGES))
def test_stage_deps_cover_every_file_its_jobs_import(stage):
    deps = [ROOT / dep for dep in STAGES[stage]["deps"]]
    missing = sorted(
        str(path.relative_to(ROOT))
        for path in closure(stage_code(stage))
        if "__pycache__" not in path.parts and not covered(path, deps)
    )
    assert not missing, f"dvc.yaml stage {stage!r} lacks deps on files its jobs import: {missing}"


def test_closure_follows_imports_inside_functions_and_package_data():
    """The closure is what the check relies on: it must see a module imported inside a
    function, and the data file a package reads (the paper's numbers)."""
    files = closure([ROOT / "workflow" / "scripts" / "transfer" / "transfer.py"])
    assert ROOT / "src/intriguing/reference/paper.yaml" in files
    assert ROOT / "src/intriguing/reference/readings.yaml" not in files  # only the report's
    report = closure([ROOT / "workflow" / "scripts" / "report" / "report.py"])
    assert ROOT / "src/intriguing/reference/readings.yaml" in report
    assert ROOT / "src/intriguing/core/sets.py" in files
    assert ROOT / "src/intriguing/__init__.py" in files


def test_a_missing_dep_is_reported():
    code = closure(stage_code("train"))
    deps = [ROOT / dep for dep in STAGES["train"]["deps"] if dep != "src/intriguing/train"]
    assert any(not covered(path, deps) for path in code)


#: Stage packages: every DVC stage but `report` has one of its name (docs/layout.md).
STAGE_PACKAGES = sorted(stage for stage in STAGES if stage != "report")


def is_code(dep: str) -> bool:
    return dep == "Snakefile" or dep.startswith(("src/", "workflow/"))


def changed_deps(project: Path) -> dict[str, set[str]]:
    """Per stage, the deps `dvc status` finds changed against dvc.lock."""
    result = run(["dvc", "status", "--json"], project)
    status = json.loads(result.stdout)
    return {
        stage.split(":")[-1]: {
            path
            for entry in entries
            if isinstance(entry, dict)
            for path in entry.get("changed deps", {})
        }
        for stage, entries in status.items()
    }


def test_editing_one_stages_module_reruns_that_stage_and_the_report_only(tmp_path):
    """Every module of every stage package edited at once; DVC's own status then says which
    stage each changed dep belongs to: a stage reruns for its own package's edits, the report
    for the few stage modules it reads (spectral/labels.py, transfer/replicates.py), and no
    stage for another stage's package."""
    project = copy_project(tmp_path / "project")
    # The stages' code deps alone, locked as they are now (nothing to build or restore).
    stages = {
        name: {"cmd": stage["cmd"], "deps": [dep for dep in stage["deps"] if is_code(dep)]}
        for name, stage in STAGES.items()
    }
    (project / "dvc.yaml").write_text(yaml.safe_dump({"stages": stages}))
    run(["git", "init", "-q"], project)
    run(["dvc", "commit", "--force", "--quiet"], project)
    assert changed_deps(project) == {}
    for stage in STAGE_PACKAGES:
        for module in (project / "src" / "intriguing" / stage).glob("*.py"):
            module.write_text(module.read_text() + "\n# edited by the test\n")
    after = changed_deps(project)
    newly_changed = {stage: after.get(stage, set()) for stage in STAGES}
    for stage in STAGE_PACKAGES:
        assert newly_changed[stage] == {f"src/intriguing/{stage}"}, stage
    report_reads = {
        dep
        for dep in STAGES["report"]["deps"]
        if dep.startswith(tuple(f"src/intriguing/{stage}/" for stage in STAGE_PACKAGES))
    }
    assert newly_changed["report"] and newly_changed["report"] <= report_reads
