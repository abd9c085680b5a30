"""A profile never writes over the results another profile committed."""

import subprocess

import pytest

from conftest import GIT_IDENTITY
from intriguing.plan.workspace import profile_refusal


@pytest.fixture
def checkout(tmp_path, monkeypatch):
    """A git checkout whose reports/ holds the default profile's committed report."""
    for key, value in GIT_IDENTITY.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    (tmp_path / "reports").mkdir()
    (tmp_path / "reports" / "report.md").write_text(
        "# Report\n\nReproducing … Profile: `default`.\n"
    )
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    subprocess.run(["git", "add", "-A"], cwd=tmp_path, check=True)
    subprocess.run(["git", "commit", "-qm", "results"], cwd=tmp_path, check=True)
    return tmp_path


def test_smoke_over_committed_results_is_refused_with_the_fix(checkout):
    refusal = profile_refusal("smoke", checkout)
    assert "profile 'smoke' would write over the 'default' profile's results" in refusal
    assert "--directory runs/smoke" in refusal and "dvc exp run --temp -S profile=smoke" in refusal


def test_default_profile_a_dvc_experiment_and_a_folder_without_results_may_run(
    checkout, tmp_path_factory, monkeypatch
):
    assert profile_refusal("default", checkout) is None
    assert (
        profile_refusal("smoke", checkout / "reports") is None
    )  # a folder git tracks no report in
    assert profile_refusal("smoke", tmp_path_factory.mktemp("scratch")) is None  # no checkout
    (checkout / "runs" / "smoke").mkdir(parents=True)
    assert profile_refusal("smoke", checkout / "runs" / "smoke") is None  # nothing tracked there
    monkeypatch.setenv("DVC_EXP_NAME", "smoke-run")
    assert profile_refusal("smoke", checkout) is None
