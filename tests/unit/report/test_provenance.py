"""The report's provenance (the code's commit, changes to it, params changes) and the run
record's rule wall times from Snakemake's benchmark files."""

import subprocess

import yaml

from conftest import GIT_IDENTITY
from intriguing.report.provenance import (
    code_commit,
    params_overrides,
    provenance,
    rule_wall_times,
    run_record,
    uncommitted_code,
)

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


def git(*args: str) -> str:
    return subprocess.run(["git", *args], check=True, capture_output=True, text=True).stdout


def test_code_commit_ignores_later_result_commits_and_names_code_changes(tmp_path, monkeypatch):
    """Committing results after the run (reports/, dvc.lock) leaves the provenance as it was:
    it names the last commit of the code, so a re-render from a fresh clone has the same bytes;
    uncommitted code is named, params changes are listed key by key instead."""
    monkeypatch.chdir(tmp_path)
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "code.py").write_text("x = 1\n")
    (tmp_path / "params.yaml").write_text("seed: 0\n")
    git("init", "-q")
    git("add", "-A")
    git("commit", "-qm", "code")
    code = git("rev-parse", "--short", "HEAD").strip()
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "report.md").write_text("results\n")
    (tmp_path / "dvc.lock").write_text("lock\n")
    git("add", "-A")
    git("commit", "-qm", "results")
    assert code_commit() == code and uncommitted_code() == []
    before = provenance("default")
    assert before["code commit"] == code
    assert before["uncommitted code changes"] == before["params changed from the commit"] == "none"
    (tmp_path / "src" / "code.py").write_text("x = 2\n")
    (tmp_path / "params.yaml").write_text("seed: 1\n")
    after = provenance("default")
    assert after["uncommitted code changes"] == "src/code.py"
    assert after["params changed from the commit"] == "seed: 0 → 1"
    assert not any(key in after for key in ("machine", "GPU", "python"))


def test_run_record_holds_the_machine_and_the_wall_times(tmp_path):
    (tmp_path / "train").mkdir()
    (tmp_path / "train" / "a.tsv").write_text(HEADER + "10.5\t0:00:10\t1\n")
    record = run_record("smoke", tmp_path)
    assert record.startswith("# Run record") and "| train | 1 | 10.5 s | 10.5 s |" in record
    assert "GPU" in record and "`smoke`" in record
