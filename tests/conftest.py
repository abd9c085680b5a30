"""Shared fixtures: a throwaway copy of the project, and Snakemake/DVC runners on it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_TESTS = Path(__file__).resolve().parent / "workflow"
PROJECT_FILES = [
    "Snakefile",
    "params.yaml",
    "dvc.yaml",
    ".gitignore",
    ".dvcignore",
    "workflow",
    "src",
]
BIN = Path(sys.executable).parent
# DVC experiments commit to git; CI machines may have no git identity configured.
GIT_IDENTITY = {
    key: value
    for role in ("AUTHOR", "COMMITTER")
    for key, value in (
        (f"GIT_{role}_NAME", "intriguing tests"),
        (f"GIT_{role}_EMAIL", "tests@localhost"),
    )
}


#: A small convolutional network of the registry's form (unit tests of train and instability).
CONV = {
    "arch": "conv",
    "conv_channels": 4,
    "conv_kernel": 5,
    "pool": 2,
    "hidden": [16],
    "activation": "relu",
    "dropout": 0.5,
    "weight_decay": [1e-5, 1e-5, 1e-6],
    "train_set": "all",
    "optimizer": "adam",
}


#: A metrics JSON's wall-clock times (every key naming one contains `wall_seconds`), the only
#: lines that differ between two runs of a job.
TIMING_LINE = re.compile(r'^\s*"\w*wall_seconds\w*": [^\n]*\n', flags=re.MULTILINE)


def without_timing(metrics_text: str) -> str:
    """A metrics JSON file's text without its wall-clock lines (README, "Reliability")."""
    return TIMING_LINE.sub("", metrics_text)


def mnist_dir() -> Path:
    """MNIST_DIR, or ../shared/mnist beside the repository (as in CI)."""
    return Path(os.environ.get("MNIST_DIR") or ROOT.parent / "shared" / "mnist").resolve()


@pytest.fixture(scope="session")
def mnist_source() -> Path:
    source = mnist_dir()
    if not (source / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"MNIST files not found in {source}: set MNIST_DIR to run the pipeline tests")
    return source


def copy_project(destination: Path, profile: str = "smoke") -> Path:
    """Copy the workflow, library and DVC setup into `destination`, selecting `profile`."""
    destination.mkdir(parents=True, exist_ok=True)
    for name in PROJECT_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, destination / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(source, destination / name)
    (destination / ".dvc").mkdir()
    for name in ("config", ".gitignore"):
        shutil.copy2(ROOT / ".dvc" / name, destination / ".dvc" / name)
    set_params(destination, profile=profile)
    return destination


def set_params(project: Path, **updates) -> None:
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    params.update(updates)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def run(command: list[str], project: Path, mnist: Path | None = None, check: bool = True):
    """Run a command of the project's environment in `project`; return the completed process."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **GIT_IDENTITY}
    if mnist is not None:
        env["MNIST_DIR"] = str(mnist)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


def snakemake(project: Path, *args: str, mnist: Path | None = None, check: bool = True):
    return run(["snakemake", "--cores", "2", *args], project, mnist, check)


@pytest.fixture(autouse=True)
def torch_determinism_defaults():
    """Tests that run a job's library function in process (e.g. spectral_task) switch torch's
    deterministic mode on, as every job does; put torch's defaults back after each test."""
    yield
    import torch

    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = False


@pytest.fixture(scope="session")
def smoke_project(tmp_path_factory, mnist_source) -> Path:
    """A project copy on the smoke profile, shared by the rule tests (each asks Snakemake for
    its own target, so a test run alone still builds what it needs)."""
    return copy_project(tmp_path_factory.mktemp("project"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/workflow run Snakemake or DVC: mark them `slow`, so that
    `pytest -m "not slow"` is the library's unit tests alone."""
    for item in items:
        if WORKFLOW_TESTS in item.path.parents:
            item.add_marker(pytest.mark.slow)
