"""DVC on a throwaway git repository: repro, status, experiments, and the default remote."""

import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from conftest import copy_project, run, snakemake

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def repo(tmp_path_factory, mnist_source) -> Path:
    project = copy_project(tmp_path_factory.mktemp("dvc") / "project")
    params = yaml.safe_load((project / "params.yaml").read_text())
    # DVC's mechanics, not the zoo, are under test: one model, attacked on training images.
    params["train"]["models"] = ["softmax1"]
    params["adversarial"].update(table2_models=["softmax1"], table4_models=[])
    params["spectral"]["mnist_models"] = ["softmax1"]  # must be among the trained models
    params["transfer"]["figure7_models"] = ["softmax1"]  # must be among the attacked models
    params["units"].update(models=["softmax1"], feature_models={})  # φ: softmax1's input
    params["advtrain"].update(models=["n100_adv_input"], pool_levels={"n100_adv_input": [0]})
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    for command in (
        ["git", "init", "-q"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "initial"],
        ["dvc", "repro"],
        ["git", "add", "-A"],
        ["git", "commit", "-qm", "repro"],
    ):
        run(command, project, mnist_source)
    return project


def test_repro_leaves_dvc_and_snakemake_up_to_date(repo, mnist_source):
    assert "up to date" in run(["dvc", "status"], repo, mnist_source).stdout
    dry = snakemake(repo, "--dry-run", mnist=mnist_source)
    assert "Nothing to be done" in dry.stdout + dry.stderr
    assert (repo / "reports/report.html").is_file()


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
    file byte for byte, and DVC finds the workspace up to date."""
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


def test_attack_experiment_is_compared_and_applied(repo, mnist_source, tmp_path):
    """The README's recipe, on one experiment against the committed baseline (c_steps 10): the
    experiment shown with its params and metrics, metrics and plots diffed, then applied."""
    attack_metrics = "reports/metrics/adversarial/softmax1_train.json"
    baseline = json.loads((repo / attack_metrics).read_text())
    run(
        ["dvc", "exp", "run", "-n", "search-2", "-S", "adversarial.attack.c_steps=2"],
        repo,
        mnist_source,
    )
    search_2 = experiment_data(repo, "search-2")
    assert search_2["params"]["params.yaml"]["data"]["adversarial"]["attack"]["c_steps"] == 2
    stored = search_2["metrics"][attack_metrics]["data"]
    assert stored["mean_distortion"] != baseline["mean_distortion"]
    table = run(["dvc", "exp", "show", "--no-pager", "--md"], repo).stdout
    assert "search-2" in table and "c_steps" in table
    diff = json.loads(run(["dvc", "metrics", "diff", "HEAD", "search-2", "--json"], repo).stdout)
    assert attack_metrics in diff and "reports/metrics/transfer/table2.json" in diff
    plots = tmp_path / "plots"
    run(["dvc", "plots", "diff", "HEAD", "search-2", "-o", str(plots)], repo)
    page = (plots / "index.html").read_text()
    assert "table2.csv" in page and "distortions.csv" in page
    run(["git", "checkout", "--", "params.yaml"], repo)  # back to the baseline's c_steps
    run(["dvc", "exp", "apply", "search-2"], repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    assert params["adversarial"]["attack"]["c_steps"] == 2
    applied = json.loads((repo / attack_metrics).read_text())
    assert applied["mean_distortion"] == stored["mean_distortion"]
