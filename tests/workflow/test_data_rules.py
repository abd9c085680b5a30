"""Rules `mnist` and `split` (DVC stage `data`): their outputs in the session's smoke build, and
a corrupt MNIST file refused in a project of its own."""

import shutil

import numpy as np

from conftest import copy_project, snakemake
from intriguing.core import mnist
from intriguing.data import fetch


def test_mnist_rule_copies_and_verifies(smoke_project):
    for name in mnist.FILES:
        fetch.verify_file(smoke_project / "data" / "raw" / name)


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
    assert fetch.CHECKSUMS["t10k-images-idx3-ubyte.gz"][0] in log
    raw = project / "data" / "raw"
    assert not raw.exists() or list(raw.iterdir()) == []


def test_split_rule(smoke_project):
    split = mnist.load_split(smoke_project / "data/processed/split.npz")
    p1, p2 = split["p1"], split["p2"]
    assert len(p1) == len(p2) == 30000
    assert np.intersect1d(p1, p2).size == 0
