"""The rules a DVC stage's command allows are those of its rule file (intriguing.plan.stages)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from intriguing.plan.stages import main, stage_rules

ROOT = Path(__file__).resolve().parents[3]
WORKFLOW = ROOT / "workflow"


def test_every_rule_belongs_to_exactly_one_dvc_stage():
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    allowed = [rule for stage in stages for rule in stage_rules(stage, WORKFLOW)]
    defined = [
        rule
        for path in sorted((WORKFLOW / "rules").glob("*.smk"))
        for rule in re.findall(r"^rule (\w+):", path.read_text(), re.M)
    ]
    assert sorted(allowed) == sorted(rule for rule in defined if rule != "all")
    for stage in stages:
        assert f"all_{stage}" in stage_rules(stage, WORKFLOW)


def test_the_command_prints_a_stages_rules_and_refuses_an_unknown_stage(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert main(["data"]) == 0
    assert capsys.readouterr().out.split() == ["mnist", "split", "all_data"]
    assert main(["no_such_stage"]) == 1
    assert "no_such_stage" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match="no rule file"):
        stage_rules("no_such_stage", WORKFLOW)
