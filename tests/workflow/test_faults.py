"""Faults of the data as Snakemake meets them: no MNIST_DIR and no network, a file missing from
MNIST_DIR or truncated there. Each needs a project without data (its own copy): the session's
smoke build cannot serve.

Malformed params.yaml is covered by tests/unit/plan/test_params.py and
tests/workflow/test_params_checks.py, a corrupt MNIST file by
tests/unit/data/test_mnist.py; old checkpoints and NaN in
training by tests/unit/train/test_models.py, NaN in an attack job by
tests/unit/adversarial/test_step.py, interrupted writes by tests/unit/common/test_files.py.
"""

import pytest

from conftest import copy_project, snakemake
from intriguing.core import mnist
from intriguing.data import fetch

UNREACHABLE = "http://127.0.0.1:9"  # the discard port: every connection is refused at once


def assert_nothing_in(directory):
    assert not directory.exists() or list(directory.iterdir()) == []


def test_no_mnist_dir_and_no_network_names_the_file(tmp_path, monkeypatch):
    """Without MNIST_DIR the rule downloads; with every connection refused it stops naming the
    file and what to do, and leaves nothing in data/."""
    monkeypatch.delenv("MNIST_DIR", raising=False)
    for variable in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    for variable in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.setenv(variable, UNREACHABLE)
    project = copy_project(tmp_path / "project")
    result = snakemake(project, "mnist", check=False)
    log = result.stdout + result.stderr
    assert result.returncode != 0
    assert f"could not download {mnist.FILES[0]}" in log and "set MNIST_DIR" in log
    assert_nothing_in(project / "data" / "raw")


@pytest.mark.parametrize("fault", ["missing", "truncated"])
def test_a_bad_file_in_mnist_dir_is_named_and_nothing_is_kept(tmp_path, mnist_source, fault):
    """The first three files are copied and verified, the fourth is missing or truncated: the
    error names it (and, truncated, the checksum it should have), and Snakemake removes the
    three (outputs of a failed job)."""
    source = tmp_path / "mnist"
    source.mkdir()
    bad = mnist.FILES[-1]
    for name in mnist.FILES[:-1]:
        (source / name).symlink_to(mnist_source / name)
    if fault == "truncated":
        (source / bad).write_bytes((mnist_source / bad).read_bytes()[:-100])
    project = copy_project(tmp_path / "project")
    result = snakemake(project, "mnist", mnist=source, check=False)
    assert result.returncode != 0
    log = result.stdout + result.stderr
    if fault == "missing":
        assert f"{bad}: not found in the MNIST directory {source}" in log
    else:
        assert "checksum mismatch" in log and bad in log and fetch.CHECKSUMS[bad][0] in log
    assert_nothing_in(project / "data" / "raw")
