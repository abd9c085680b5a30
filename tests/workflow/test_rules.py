"""Each rule, run by Snakemake on the smoke profile in a temporary copy of the project."""

import json
import shutil

import numpy as np
import torch

from conftest import copy_project, snakemake
from intriguing.data import mnist


def test_mnist_rule_copies_and_verifies(smoke_project, mnist_source):
    snakemake(smoke_project, "mnist", mnist=mnist_source)
    for name in mnist.FILES:
        mnist.verify_file(smoke_project / "data" / "raw" / name)


def test_mnist_rule_rejects_a_corrupt_file_and_leaves_nothing(tmp_path, mnist_source):
    source = tmp_path / "mnist"
    shutil.copytree(mnist_source, source)
    bad = source / "t10k-images-idx3-ubyte.gz"
    bad.chmod(0o644)
    bad.write_bytes(bad.read_bytes()[:-100])
    project = copy_project(tmp_path / "project")
    result = snakemake(project, "mnist", mnist=source, check=False)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    assert "checksum mismatch" in log and "t10k-images-idx3-ubyte.gz" in log
    assert mnist.CHECKSUMS["t10k-images-idx3-ubyte.gz"][0] in log
    raw = project / "data" / "raw"
    assert not raw.exists() or list(raw.iterdir()) == []


def test_split_rule(smoke_project, mnist_source):
    snakemake(smoke_project, "split", mnist=mnist_source)
    split = mnist.load_split(smoke_project / "data/processed/split.npz")
    p1, p2 = split["p1"], split["p2"]
    assert len(p1) == len(p2) == 30000
    assert np.intersect1d(p1, p2).size == 0


def test_train_rule(smoke_project, mnist_source):
    snakemake(smoke_project, "models/softmax1.pt", mnist=mnist_source)
    payload = torch.load(smoke_project / "models/softmax1.pt", weights_only=True)
    assert payload["spec"]["weight_decay"] == [1e-4]
    provenance = payload["provenance"]
    assert provenance["train_n"] == 2000 and provenance["lbfgs_iterations"] > 0
    assert provenance["seed"] == 0 and provenance["device"].startswith("cpu")


def test_evaluate_rule(smoke_project, mnist_source):
    snakemake(smoke_project, "reports/metrics/train/softmax1.json", mnist=mnist_source)
    metrics = json.loads((smoke_project / "reports/metrics/train/softmax1.json").read_text())
    assert metrics["train_n"] == 2000 and metrics["test_n"] == 1000
    assert 0 <= metrics["train_error"] < 0.2 and 0 < metrics["test_error"] < 0.3
    low, high = metrics["test_error_ci95"]
    assert low < metrics["test_error"] < high
    assert metrics["wall_seconds"] > 0 and metrics["device"]


def test_report_rule(smoke_project, mnist_source):
    snakemake(smoke_project, "report", mnist=mnist_source)
    text = (smoke_project / "reports/report.md").read_text()
    metrics = json.loads((smoke_project / "reports/metrics/train/softmax1.json").read_text())
    assert "| softmax1 | Softmax with λ = 1e-4 |" in text
    assert f"{metrics['test_error'] * 100:.2f}%" in text and "| 7.40% |" in text
    assert "## Table 5 — frame bounds" in text and "Not comparable: random weights" in text
    assert "## Adversarial training (Section 4.2)" in text and "| n100_adv_input |" in text
    html = (smoke_project / "reports/report.html").read_text()
    assert html.count("<table>") >= 2 and "softmax1" in html
    assert 'src="' not in html.replace('src="data:', "")  # self-contained


def test_rerun_has_nothing_to_do(smoke_project, mnist_source):
    snakemake(smoke_project, mnist=mnist_source)
    result = snakemake(smoke_project, "--dry-run", mnist=mnist_source)
    assert "Nothing to be done" in result.stdout + result.stderr
