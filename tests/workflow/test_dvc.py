"""DVC on a throwaway git repository holding the session's smoke build: status, repro,
experiments, and the default remote.

The outputs are Snakemake's (conftest's `smoke_project`), recorded by `dvc commit` as `dvc repro`
would have recorded them; the experiment then runs two stages' commands through DVC.
"""

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import copy_built, run, snakemake

pytestmark = pytest.mark.slow

#: The experiment of docs/experiments.md's recipe as this test runs it: a parameter read by two
#: cheap stages (transfer and readings: their noise rows), downstream of which lies the report.
EXPERIMENT = "noise-seed-1"
CHANGE = "transfer.noise_seed=1"


@pytest.fixture(scope="module")
def repo(tmp_path_factory, smoke_project, mnist_source) -> Path:
    """A git repository of the project whose DVC outputs and dvc.lock are the smoke build's,
    committed."""
    project = copy_built(smoke_project, tmp_path_factory.mktemp("dvc") / "project")
    for command in (
        ["git", "init", "-q"],
        ["dvc", "commit", "--force", "--quiet"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "smoke build"],
    ):
        run(command, project, mnist_source)
    return project


def up_to_date(repo: Path, mnist: Path) -> None:
    """DVC finds every stage up to date, and so does Snakemake (by modification time, and by
    params and code where it recorded them)."""
    assert "up to date" in run(["dvc", "status"], repo, mnist).stdout
    dry = snakemake(repo, "--dry-run", mnist=mnist)
    assert "Nothing to be done" in dry.stdout + dry.stderr


def test_smoke_build_is_up_to_date_for_dvc_and_snakemake(repo, mnist_source):
    """dvc.yaml's stages record what Snakemake's `all` made (`dvc commit` fails on a missing
    output): both tools find them up to date, and `dvc repro` runs no stage."""
    up_to_date(repo, mnist_source)
    repro = run(["dvc", "repro"], repo, mnist_source).stdout
    assert "Running stage" not in repro and "didn't change, skipping" in repro
    assert (repo / "reports/report.html").is_file()


def experiment_data(repo: Path, name: str) -> dict:
    """`dvc exp show --json`'s params and metrics of the experiment called ``name``."""
    shown = json.loads(run(["dvc", "exp", "show", "--json"], repo).stdout)
    found = [
        exp["revs"][0]["data"]
        for row in shown
        for exp in row.get("experiments") or []
        if exp.get("name") == name
    ]
    assert found, shown
    return found[0]


def test_noise_experiment_is_compared_and_applied(repo, mnist_source, tmp_path):
    """docs/experiments.md's recipe, on one experiment against the committed smoke build
    (noise_seed 0): DVC reruns the stage that reads the key and the one downstream, through
    their Snakemake commands, leaving both tools up to date; the experiment is shown with its
    params and metrics, metrics and plots diffed, then applied."""
    table2 = "reports/metrics/transfer/table2.json"
    baseline = json.loads((repo / table2).read_text())
    ran = run(["dvc", "exp", "run", "-n", EXPERIMENT, "-S", CHANGE], repo, mnist_source).stdout
    stages = re.findall(r"Running stage '(\w+)'", ran)
    assert sorted(stages[:-1]) == ["readings", "transfer"] and stages[-1] == "report"
    up_to_date(repo, mnist_source)
    experiment = experiment_data(repo, EXPERIMENT)
    assert experiment["params"]["params.yaml"]["data"]["transfer"]["noise_seed"] == 1
    stored = experiment["metrics"][table2]["data"]
    # DVC's metrics are the JSON's numbers (it leaves the lists of error rates out)
    assert stored["noise_distortion"] != baseline["noise_distortion"]  # other noise draws
    assert stored["mean_distortion"] == baseline["mean_distortion"]  # the same sets
    table = run(["dvc", "exp", "show", "--no-pager", "--md"], repo).stdout
    assert EXPERIMENT in table and "noise_seed" in table
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD", EXPERIMENT, "--json"], repo).stdout)
    assert table2 in diff and "reports/metrics/transfer/table4.json" in diff
    # nothing upstream reran
    assert not [name for name in diff if "/transfer/" not in name and "/readings/" not in name]
    plots = tmp_path / "plots"
    run(["dvc", "plots", "diff", "HEAD", EXPERIMENT, "-o", str(plots)], repo)
    page = (plots / "index.html").read_text()
    assert "table2.csv" in page and "distortions.csv" in page
    run(["git", "checkout", "--", "params.yaml"], repo)  # back to the baseline's noise_seed
    run(["dvc", "exp", "apply", EXPERIMENT], repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert params["transfer"]["noise_seed"] == 1
    applied = json.loads((repo / table2).read_text())
    assert applied["noise_distortion"] == stored["noise_distortion"]


def cached_outputs(repo: Path) -> list[str]:
    """The outputs dvc.yaml stores in the cache (and so pushes): every `outs` entry not marked
    `cache: false`."""
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    return [
        next(iter(out)) if isinstance(out, dict) else out
        for stage in stages.values()
        for out in stage.get("outs", [])
        if not (isinstance(out, dict) and next(iter(out.values())).get("cache") is False)
    ]


def file_hashes(repo: Path, outputs: list[str]) -> dict[str, str]:
    """MD5 of every file under the outputs, by path."""
    return {
        str(path.relative_to(repo)): hashlib.md5(path.read_bytes()).hexdigest()
        for output in outputs
        for path in ([repo / output] if (repo / output).is_file() else (repo / output).rglob("*"))
        if path.is_file()
    }


def test_push_and_pull_round_trip(repo, mnist_source):
    """Push to the default remote, delete every cached output and the cache: pull restores each
    file byte for byte, and DVC finds the workspace up to date. (Last in this file: the pulled
    files' fresh modification times would make Snakemake rerun jobs of the tests above.)"""
    outputs = cached_outputs(repo)
    assert {"data/raw", "models", "data/adversarial"} <= set(outputs)
    before = file_hashes(repo, outputs)
    assert {"models/softmax1.pt", "data/adversarial/softmax1_train.pt"} <= before.keys()
    assert {"data/raw", "data/processed"} <= {str(Path(path).parent) for path in before}
    run(["dvc", "push"], repo)
    assert (repo.parent / "intriguing-dvc-remote").is_dir()
    for output in outputs:
        shutil.rmtree(repo / output)
    shutil.rmtree(repo / ".dvc" / "cache")
    run(["dvc", "pull"], repo)
    assert file_hashes(repo, outputs) == before
    assert "up to date" in run(["dvc", "status"], repo).stdout
