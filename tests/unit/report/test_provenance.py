"""The report's provenance: rule wall times from Snakemake's benchmark files, params changes."""

import subprocess

import yaml

from conftest import GIT_IDENTITY
from intriguing.report.provenance import params_overrides, rule_wall_times

HEADER = "s\th:m:s\tmax_rss\n"


def test_rule_wall_times_sum_each_rules_jobs(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "a.tsv").write_text(HEADER + "10.5\t0:00:10\t1\n")
    (tmp_path / "train" / "b.tsv").write_text(HEADER + "2.0\t0:00:02\t1\n")
    (tmp_path / "spectral").mkdir()
    (tmp_path / "spectral" / "conv.tsv").write_text(HEADER + "1.25\t0:00:01\t1\n")
    assert rule_wall_times(tmp_path) == [
        ["spectral", "1", "1.2 s", "1.2 s"],
        ["train", "2", "12.5 s", "10.5 s"],
    ]
    assert rule_wall_times(tmp_path / "missing") == []


def test_params_overrides_list_changes_against_the_commit(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)
    params = {"seed": 0, "train": {"adam_lr": 0.001, "models": ["a"]}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "add", "params.yaml"], check=True)
    subprocess.run(["git", "commit", "-qm", "params"], check=True)
    assert params_overrides() == []
    params["train"]["adam_lr"] = 0.01
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(params))
    assert params_overrides() == ["train.adam_lr: 0.001 → 0.01"]
