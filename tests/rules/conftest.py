"""Fixtures of the rule tests (tests/rules): each test runs one rule alone, as Snakemake's
`--generate-unit-tests` does: its inputs placed in a fresh copy of the project, the rule's
targets asked of `snakemake --allowed-rules <rule>` (no other rule may run), its outputs read.

Inputs come from two places: the tiny profile's (TINY_PARAMS), made once per session by the
library's own entry points on synthetic MNIST files (`upstream`); or, for the rules that only
gather metrics (the summaries and the report), the committed default-profile results under
reports/, whose outputs the rule must then reproduce (`committed_project`).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import ROOT, copy_project, mnist_dir, run
from rules import inputs

#: The tiny profile: the smoke profile cut to the fewest models and the smallest sizes that
#: still exercise each rule's code (one network per kind of input a rule reads).
TINY_PARAMS: dict[str, Any] = {
    "profile": "smoke",
    "device": "cpu",
    "train": {"models": ["softmax1", "n100", "ae400", "m1"], "replicated_models": []},
    "adversarial": {
        "table2_models": ["softmax1"],
        "table4_models": ["m1"],
        "figure_examples": 2,
        "attack": {"c_steps": 4, "max_iterations": 30},
    },
    "transfer": {"figure7_models": ["softmax1"], "figure7_pairs": 2},
    "spectral": {"mnist_models": ["softmax1"]},
    "units": {
        "models": ["n100"],
        "feature_models": {"n100": "softmax1"},
        "top_k": 4,
        "random_directions": 20,
        "rows_shown": 2,
        "bootstrap_resamples": 100,
    },
    "advtrain": {
        "models": ["n100_adv_input"],
        "pool_levels": {"n100_adv_input": [0]},
        "pool_overrides": {},
    },
    "readings": {
        "decay_models": ["softmax1"],
        "ae400_variants": {"linear_decoder": {"decoder": "linear"}},
    },
    "profiles": {
        "smoke": {
            "data": {"train_limit": 300, "test_limit": 200},
            "train": {
                "adam_epochs": 1,
                "lbfgs_iterations": 5,
                "polish_iterations": 2,
                "pretrain_epochs": 1,
                "replicates": 1,
            },
            "adversarial": {"train_samples": 6, "test_samples": 6},
            "units": {"test_images": 200},
            "advtrain": {"seeds": [0], "epochs": 2, "pool_size": 20, "robustness_samples": 4},
        }
    },
}


#: The maps of TINY_PARAMS that replace params.yaml's rather than merge into it (their keys are
#: models, which the tiny profile leaves out).
REPLACED = {"pool_levels", "pool_overrides", "feature_models", "ae400_variants"}


def merged(base: dict[str, Any], updates: dict[str, Any]) -> dict[str, Any]:
    """`base` with `updates` merged in, key by key (a section merged, any other value and the
    REPLACED maps replaced)."""
    result = dict(base)
    for key, value in updates.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict) and key not in REPLACED:
            result[key] = merged(base[key], value)
        else:
            result[key] = value
    return result


@pytest.fixture(scope="session")
def tiny_config() -> dict[str, Any]:
    """params.yaml with TINY_PARAMS merged in: what the tiny projects' Snakemake reads."""
    return merged(yaml.safe_load((ROOT / "params.yaml").read_text()), TINY_PARAMS)


class Upstream:
    """The tiny profile's upstream outputs, laid out as in a project, each made on first use
    by the entry point of the rule that makes it (tests/rules/inputs.py), in dependency order,
    so that their modification times are those of a build."""

    def __init__(self, root: Path, config: dict[str, Any]):
        self.root, self.config = root, config
        inputs.write_synthetic_mnist(root / "data" / "raw")
        (root / "data" / "processed").mkdir(parents=True)
        inputs.write_split(
            root / "data" / "raw",
            root / "data" / "processed" / "split.npz",
            config["data"]["split_seed"],
        )

    def _made(self, relative: str, make: Callable[[Path], None]) -> str:
        path = self.root / relative
        if not path.is_file():
            path.parent.mkdir(parents=True, exist_ok=True)
            make(path)
        return relative

    def model(self, network: str) -> str:
        return self._made(
            f"models/{network}.pt",
            lambda path: inputs.train_model(self.config, self.root, network, path),
        )

    def adversarial_set(self, network: str, split: str) -> str:
        self.model(network)
        metrics = self.root / f"reports/metrics/adversarial/{network}_{split}.json"
        metrics.parent.mkdir(parents=True, exist_ok=True)
        return self._made(
            f"data/adversarial/{network}_{split}.pt",
            lambda path: inputs.attack_model(self.config, self.root, network, split, path, metrics),
        )

    def frame_bounds(self, network: str) -> str:
        self.model(network)
        figure = self.root / f"reports/figures/spectral/{network}.png"
        figure.parent.mkdir(parents=True, exist_ok=True)
        return self._made(
            f"reports/metrics/spectral/{network}.json",
            lambda path: inputs.frame_bounds(self.config, self.root, network, path, figure),
        )

    def advtrain_model(self, model: str, seed: int) -> str:
        metrics = self.root / f"reports/metrics/advtrain/{model}_seed{seed}.json"
        metrics.parent.mkdir(parents=True, exist_ok=True)
        return self._made(
            f"models_advtrain/{model}_seed{seed}.pt",
            lambda path: inputs.adversarial_training(
                self.config, self.root, model, seed, path, metrics
            ),
        )

    def raw(self) -> list[str]:
        return [f"data/raw/{name}" for name in inputs.MNIST_FILES]

    def place(self, project: Path, relatives: list[str]) -> None:
        """Copy upstream files into `project` at the same paths, times kept."""
        for relative in relatives:
            (project / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(self.root / relative, project / relative)


@pytest.fixture(scope="session")
def upstream(tmp_path_factory, tiny_config) -> Upstream:
    return Upstream(tmp_path_factory.mktemp("upstream"), tiny_config)


@pytest.fixture
def tiny_project(tmp_path, tiny_config) -> Path:
    """A copy of the project on the tiny profile, with no inputs yet."""
    project = copy_project(tmp_path / "project")
    (project / "params.yaml").write_text(yaml.safe_dump(tiny_config, sort_keys=False))
    return project


#: The committed results of the default profile (reports/): the rules that gather metrics
#: read them in `committed_project`, and must remake the committed outputs from them.
COMMITTED_RESULTS = ROOT / "reports"


@pytest.fixture
def committed_project(tmp_path) -> Callable[[list[str]], Path]:
    """A copy of the project on the default profile holding the committed results under
    reports/ minus the given outputs (paths relative to the project), which the rule remakes."""

    def make(outputs: list[str]) -> Path:
        project = copy_project(tmp_path / "project", profile="default")
        shutil.copytree(COMMITTED_RESULTS, project / "reports")
        for output in outputs:
            (project / output).unlink(missing_ok=True)
        return project

    return make


def run_rule(project: Path, rule: str, targets: list[str], mnist: Path | None = None):
    """Snakemake asked for `targets` with only `rule` allowed; fails the test with its output
    when Snakemake fails, or when any job but `rule`'s ran."""
    result = run(["snakemake", "--cores", "1", *targets, "--allowed-rules", rule], project, mnist)
    ran = [
        line.split("Rule: ")[1].rstrip(")")
        for line in result.stderr.splitlines()
        if "Finished jobid" in line and "Rule: " in line
    ]
    assert ran and set(ran) == {rule}, f"jobs run: {ran}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def real_mnist() -> Path:
    """The original MNIST files (MNIST_DIR, ../shared/mnist in CI) for the `mnist` rule, which
    verifies their checksums."""
    source = mnist_dir()
    if not all((source / name).is_file() for name in inputs.MNIST_FILES):
        pytest.skip(
            f"the mnist rule verifies the original files' checksums: none in {source} "
            "(set MNIST_DIR to the folder holding the four MNIST .gz files)"
        )
    return source
