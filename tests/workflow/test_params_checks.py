"""params.yaml's checks as Snakemake runs them: a malformed file, a path that does not exist or
`device: cuda` without CUDA stops Snakemake before any job, naming the key (the checks
themselves: tests/unit/plan/test_params.py and test_machine.py)."""

import pytest
import torch
import yaml

from conftest import copy_project, run, snakemake
from intriguing.core import mnist
from intriguing.data import fetch


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda p: p.update(learning_rate=0.1), "'learning_rate' was unexpected"),
        (lambda p: p["train"].update(models=["nope"]), "train.models[0]: unknown model 'nope'"),
        (
            lambda p: p["spectral"].update(alexnet_weights="weights/alexnet.pth"),
            "spectral.alexnet_weights: 'weights/alexnet.pth' does not exist, a file was expected",
        ),
    ],
    ids=["schema", "cross-key check", "missing weights file"],
)
def test_bad_params_stop_snakemake_before_any_job(tmp_path, mutate, expected):
    project = copy_project(tmp_path)
    params = yaml.safe_load((project / "params.yaml").read_text())
    mutate(params)
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    result = snakemake(project, "--dry-run", check=False)
    assert result.returncode != 0
    assert expected in result.stdout + result.stderr
    assert not (project / "data").exists() and not (project / "models").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is available: device cuda plans")
def test_device_cuda_without_cuda_stops_a_dry_run(tmp_path):
    """`device: cuda` on this CUDA-less machine stops the plan, not a job hours later."""
    project = copy_project(tmp_path)
    result = snakemake(project, "--dry-run", "--config", "device=cuda", check=False)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "device: 'cuda', but torch finds no CUDA device on this machine" in log
    assert "set `device: auto`" in log
    assert not (project / "data").exists() and not (project / "models").exists()


def test_a_relative_weights_path_is_the_project_roots_from_another_directory(tmp_path):
    """A relative path in params.yaml is relative to the project root: found by the check and
    given to the job from the folder `--directory runs/smoke` runs it in."""
    project = copy_project(tmp_path)
    (project / "weights").mkdir()
    (project / "weights" / "alexnet.pth").write_bytes(b"")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["spectral"]["alexnet_weights"] = "weights/alexnet.pth"
    (project / "params.yaml").write_text(yaml.safe_dump(params))
    args = (
        "--dry-run",
        "--directory",
        "runs/smoke",
        "reports/metrics/spectral/alexnet_torchvision.json",
    )
    result = snakemake(project, *args)
    assert "input: ../../weights/alexnet.pth" in result.stdout


def test_smoke_run_over_committed_default_results_stops_before_any_job(tmp_path, mnist_source):
    """A project whose git tracks the default profile's results: a smoke run stops before its
    first job, naming the profile and the fix, and changes nothing; its dry run still plans,
    and the fix it names (`--directory runs/smoke`) runs (its first job, `mnist`)."""
    project = copy_project(tmp_path / "project", profile="default")
    (project / "reports").mkdir()
    (project / "reports/report.md").write_text("# Report\n\nReproducing … Profile: `default`.\n")
    for command in (["git", "init", "-q"], ["git", "add", "-A"], ["git", "commit", "-qm", "r"]):
        run(command, project)
    stopped = snakemake(project, "all_data", "--config", "profile=smoke", check=False)
    assert stopped.returncode != 0
    assert "profile 'smoke' would write over the 'default' profile's results" in stopped.stderr
    assert "--directory runs/smoke" in stopped.stderr
    assert not (project / "data").exists()
    assert run(["git", "status", "--porcelain"], project).stdout == ""
    snakemake(project, "all_data", "--dry-run", "--config", "profile=smoke", mnist=mnist_source)
    # the fix passes the check (run at the start of a real run only): its first job runs
    snakemake(
        project,
        "mnist",
        "--config",
        "profile=smoke",
        "--directory",
        "runs/smoke",
        mnist=mnist_source,
    )
    for name in mnist.FILES:
        fetch.verify_file(project / "runs/smoke/data/raw" / name)
