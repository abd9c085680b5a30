"""Each DVC stage depends on every file its jobs run: the code deps cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from imports import ROOT, closure

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
    files = closure([ROOT / "workflow" / "scripts" / "transfer.py"])
    assert ROOT / "src/intriguing/reference/paper.yaml" in files
    assert ROOT / "src/intriguing/reference/readings.yaml" not in files  # only the report's
    report = closure([ROOT / "workflow" / "scripts" / "report.py"])
    assert ROOT / "src/intriguing/reference/readings.yaml" in report
    assert ROOT / "src/intriguing/adversarial/sets.py" in files
    assert ROOT / "src/intriguing/__init__.py" in files


def test_a_missing_dep_is_reported():
    code = closure(stage_code("train"))
    deps = [ROOT / dep for dep in STAGES["train"]["deps"] if dep != "src/intriguing/train"]
    assert any(not covered(path, deps) for path in code)
