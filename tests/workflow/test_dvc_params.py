"""Each DVC stage's `params:` (dvc.yaml) are exactly the keys of params.yaml its Snakemake jobs
read, so that `dvc exp run -S key=value` reruns the stages a change touches and no others.

Every key of params.yaml is changed, one at a time (each leaf outside `models`, and each registry
model as a whole), and two answers are compared:

* DVC's: the stages whose params dependencies `dvc status` finds changed, against a dvc.lock
  recording the committed (default profile) params.yaml; read in process from one
  `dvc.repo.Repo`, through the `ParamsDependency.status()` that `dvc status` reports.
* Snakemake's, the independent ground truth: the DAG of `all` built in process (the Snakemake
  API, as a dry run plans it) before and after the change; a stage (a job's stage is the
  workflow/rules/<stage>.smk file of its rule) reads the key iff a job of that stage gets other
  `params` or other input files, or the stage's set of jobs changes.

A key that only takes effect under another setting is judged where it does: a key under
`profiles.<p>` with `profile: p` selected, and the ImageFolder variant's keys with its `root`
set (`context`). DVC's lists are static, so it is judged on the committed params.yaml plus the
change alone: a stage lists `profiles.smoke.train` when it reads that block under the smoke
profile. `test_every_key_and_model_is_mutated` fails on a new key that no mutation covers.

Both run in this process, on one project copy whose params.yaml and schema are written in JSON
(which Snakemake parses far faster than YAML), each Snakefile parsed once (`parsing_cached`)
and DVC's reading of params.yaml done once per change (`dvc_reading_once`): about a quarter of
a second of CPU per mutation, one minute for the module on 2 cores.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import yaml

from conftest import ROOT, copy_project, environment
from intriguing.plan.params import flatten

#: The committed params.yaml (default profile): the baseline of every mutation.
BASELINE: dict[str, Any] = yaml.safe_load((ROOT / "params.yaml").read_text())
PARAMS_FILE = "params.yaml"
SCHEMA_FILE = "workflow/schemas/params.schema.yaml"
#: Files and directories the mutations name (weights, the ImageFolder root, MNIST): created in
#: the project, since the Snakefile refuses a path that does not exist (check_machine).
INPUT_FILES = ("weights/alexnet.pth", "weights/alexnet_original.pth", "weights/imagefolder.pth")
IMAGEFOLDER_ROOT = "imagefolder"
MNIST_DIR = "mnist"

#: New values of the leaves a generic rule cannot change (names, enums, lists, nulls), each
#: valid for the schema and `check_params`. Numbers and booleans change generically (`mutated`).
EXPLICIT: dict[str, Any] = {
    "profile": next(name for name in BASELINE["profiles"] if name != BASELINE["profile"]),
    "device": "cpu",
    "data.mnist_dir": MNIST_DIR,
    "train.models": [*BASELINE["train"]["models"], "n100_wd"],
    "train.decay_reading": "mean_example",
    "train.replicated_models": ["n100", "n200", "ae400", "m1", "m1p"],
    # a list of models changes by a model that the other lists also name, so that every stage
    # that reads the list sees the change (n100: also analysed by spectral and instability)
    "adversarial.table2_models": ["softmax1", "softmax2", "softmax3", "n200", "ae400"],
    "adversarial.table4_models": ["m1", "m2"],
    "adversarial.target_policy": "next",
    "adversarial.attack.temperature_scale": "none",
    "report.exact_ratio_bound": 1.05,  # a bound below 1 is refused
    "advtrain.pool.attack.temperature_scale": "logit_std",
    "transfer.table2_noise": [0.1, 0.2],
    "transfer.table4_noise": [0.06, 0.08],
    "transfer.figure7_models": ["softmax1"],
    "spectral.mnist_models": ["conv", "n100", "n200", "m1", "m1p", "m2"],
    "spectral.alexnet_weights": INPUT_FILES[0],
    "spectral.alexnet_original_weights": INPUT_FILES[1],
    "units.models": [*BASELINE["units"]["models"], "n200"],
    "units.feature_models.conv": "n100",
    "units.feature_models.n100": "n200",
    "units.imagefolder.root": IMAGEFOLDER_ROOT,
    "units.imagefolder.model": "resnet18",
    "units.imagefolder.weights": INPUT_FILES[2],
    "units.imagefolder.layer": "features",
    "advtrain.models": ["n100_dropout", "n100_adv_input", "n100_adv_layers", "n100_adv_top"],
    "advtrain.pool_levels.n100_adv_input": [0, 1],
    "advtrain.pool_levels.n100_adv_layers": [1],
    "advtrain.pool_levels.n100_adv_top": [1],
    "advtrain.pool.target_policy": "random",
    "advtrain.pool.max_distortion": 0.5,
    "readings.decay_models": ["softmax1", "softmax2"],
    "readings.ae400_variants.linear_decoder.decoder": "sigmoid",
    "readings.ae400_variants.strict_top.top_tolerance_relative": 0.001,  # halving 0 is no change
    **{
        f"profiles.{profile}.advtrain.seeds": [*block["advtrain"]["seeds"], 7]
        for profile, block in BASELINE["profiles"].items()
    },
}
#: A scale key set to null ("all", "their own size", "exact") is given this count instead.
NULL_SCALE = 100
#: Stages DVC may name beyond those whose jobs change, where a dvc.yaml list cannot be finer.
#: A budget map {default: n, <model>: m} is one key in every profile's block (in another it may
#: be a number): a stage that reads the budget lists the whole map, and reruns when the
#: budget of a model it does not train changes.
COARSER_BY_DESIGN: dict[str, set[str]] = {
    "profiles.default.train.adam_epochs.conv": {"readings"},  # refits the softmax models only
}


@dataclass(frozen=True)
class Mutation:
    """Set `key` (dotted) to `value`; `context`: the settings under which the key takes effect,
    applied before and after the change on Snakemake's side only."""

    key: str
    value: Any
    context: dict[str, Any] = field(default_factory=dict)


def mutated(key: str, value: Any) -> Any:
    """The new value of a leaf: EXPLICIT's, else a flipped boolean, an integer + 1, a float
    halved (every schema bound on a number allows these), a null scale key NULL_SCALE."""
    if key in EXPLICIT:
        return EXPLICIT[key]
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value / 2
    if value is None and key.startswith("profiles."):
        return NULL_SCALE
    raise KeyError(f"{key}: no mutation for {value!r}; add one to EXPLICIT")


def context(key: str) -> dict[str, Any]:
    """Where `key` takes effect: its profile selected; the ImageFolder variant switched on."""
    settings: dict[str, Any] = {}
    parts = key.split(".")
    if parts[0] == "profiles":
        settings["profile"] = parts[1]
        parts = parts[2:]
    if parts[:2] == ["units", "imagefolder"] and parts[2:] != ["root"]:
        settings["units.imagefolder.root"] = IMAGEFOLDER_ROOT
    if parts == ["units", "imagefolder_images"]:
        settings["units.imagefolder.root"] = IMAGEFOLDER_ROOT
    return settings


def mutations() -> Iterator[Mutation]:
    """One mutation per leaf of params.yaml outside `models` (a list is one leaf), and one per
    registry model (its weight decay doubled: a job reads a model's entry whole). The scale
    blocks of the profiles share one schema (`$defs/scale`): the committed profile's block is
    changed leaf by leaf, the others' one leaf per section, which is what decides whether a
    stage lists `profiles.<p>.<section>` (and keeps the test's run time down)."""
    sections_seen: set[str] = set()
    for key, value in flatten(BASELINE).items():
        parts = key.split(".")
        if parts[0] == "models":
            continue
        if parts[0] == "profiles" and parts[1] != BASELINE["profile"]:
            section = ".".join(parts[:3])
            if section in sections_seen:
                continue
            sections_seen.add(section)
        yield Mutation(key, mutated(key, value), context(key))
    for name, entry in BASELINE["models"].items():
        doubled = [2 * decay for decay in entry["weight_decay"]]
        yield Mutation(f"models.{name}.weight_decay", doubled)


MUTATIONS = list(mutations())


def with_settings(params: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """A copy of `params` with each dotted key of `settings` set."""
    result = copy.deepcopy(params)
    for key, value in settings.items():
        *parents, leaf = key.split(".")
        node = result
        for parent in parents:
            node = node[parent]
        node[leaf] = value
    return result


def write_params(project: Path, params: dict[str, Any]) -> None:
    """params.yaml in JSON, which is YAML too: Snakemake tries JSON first, and parses it in a
    fraction of the time its YAML parser takes (which was a third of a DAG's planning)."""
    (project / PARAMS_FILE).write_text(json.dumps(params, indent=1))


def stage_of(snakefile: str) -> str | None:
    """The DVC stage of a rule: its workflow/rules/<stage>.smk (None: the Snakefile's `all`,
    or common.smk, which holds no rule)."""
    path = Path(snakefile)
    return path.stem if path.parent.name == "rules" else None


@contextmanager
def environment_kept() -> Iterator[None]:
    """os.environ as it was, after code that changes it (the Snakefile exports the determinism
    variables for its jobs)."""
    kept = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(kept)


@contextmanager
def parsing_cached(cache: dict[tuple[str, int], tuple[str, int, dict[int, int]]]) -> Iterator[None]:
    """Snakemake's translation of each Snakefile into Python (`snakemake.parser.parse`, a
    quarter of a DAG's planning) done once per file for all the DAGs: the workflow's files do
    not change between them, only params.yaml. Keyed by the file and the count of rules before
    it (the rule numbering it continues)."""
    import snakemake.workflow

    parse = snakemake.workflow.parse

    def cached(path, workflow, linemap, rulecount=0, **kwargs):
        key = (path.get_path_or_uri(secret_free=True), rulecount)
        if key not in cache:
            lines: dict[int, int] = {}
            code, count = parse(path, workflow, linemap=lines, rulecount=rulecount, **kwargs)
            cache[key] = (code, count, lines)
        code, count, lines = cache[key]
        linemap.update(lines)
        return code, count

    with mock.patch.object(snakemake.workflow, "parse", cached):
        yield


def planned_jobs(project: Path, parsed: dict) -> dict[str, dict[str, str]]:
    """Stage -> {job: its params and input files, as JSON} of the DAG of `all`, built from
    scratch (`--forceall`) in process from the project's params.yaml, as a dry run plans it;
    `parsed`: the cache of `parsing_cached`."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import DAGSettings, OutputSettings, ResourceSettings

    with (
        environment_kept(),
        parsing_cached(parsed),
        SnakemakeApi(OutputSettings(quiet={"all"})) as api,
    ):
        workflow_api = api.workflow(
            resource_settings=ResourceSettings(cores=1),
            snakefile=project / "Snakefile",
            workdir=project,
        )
        workflow_api.dag(DAGSettings(targets={"all"}, forceall=True))
        # What DAGApi's commands (summary, printdag, ...) do before they print the DAG.
        workflow = workflow_api._workflow
        workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True)
        workflow._build_dag()
        jobs: dict[str, dict[str, str]] = {}
        for job in workflow.dag.jobs:
            stage = stage_of(job.rule.snakefile)
            if stage is None:
                continue
            name = f"{job.rule.name}{sorted(job.wildcards_dict.items())}"
            reads = {"params": dict(job.params.items()), "input": [str(f) for f in job.input]}
            jobs.setdefault(stage, {})[name] = json.dumps(reads, sort_keys=True, default=repr)
        return jobs


@contextmanager
def dvc_reading_once(params_file: Path) -> Iterator[None]:
    """DVC's reading of params.yaml for every stage's status, with the same values at a tenth
    of the cost: the file parsed once (as JSON, which it is: JSON is YAML) rather than by a
    YAML parser once per stage, and a key without wildcards looked up directly rather than by
    dpath's walk of the whole tree (5 ms a key, over a hundred keys a change)."""
    import dpath
    import dvc.dependency.param

    loaded = json.loads(params_file.read_text())
    dpath_get = dpath.get

    def load(*args, **kwargs) -> dict[str, Any]:
        return copy.deepcopy(loaded)

    def get(obj, glob, separator="/", **kwargs):
        node = obj
        for part in glob.split(separator):
            if not isinstance(node, dict) or any(char in part for char in "*?["):
                return dpath_get(obj, glob, separator=separator, **kwargs)
            node = node[part]  # a missing key: KeyError, as dpath.get raises
        return node

    with (
        mock.patch.object(dvc.dependency.param, "load_path", load),
        mock.patch.object(dpath, "get", get),
    ):
        yield


class Probe:
    """A project copy on which a change of params.yaml is judged by Snakemake and by DVC."""

    def __init__(self, project: Path):
        from dvc.repo import Repo

        self.project = project
        for name in INPUT_FILES:
            (project / name).parent.mkdir(parents=True, exist_ok=True)
            (project / name).touch()
        for name in (IMAGEFOLDER_ROOT, MNIST_DIR):
            (project / name).mkdir()
        # The schema, which the Snakefile validates against, in JSON as well (see write_params).
        schema = project / SCHEMA_FILE
        schema.write_text(json.dumps(yaml.safe_load(schema.read_text())))
        subprocess.run(["git", "init", "-q"], cwd=project, env=environment(), check=True)
        write_params(project, BASELINE)
        self._plans: dict[str, dict[str, dict[str, str]]] = {}
        self._parsed: dict[tuple[str, int], tuple[str, int, dict[int, int]]] = {}
        # The baseline lock: each stage's params, as `dvc repro` records them (dvc.lock).
        with Repo(str(project)) as repo:
            lock = {"schema": "2.0", "stages": {}}
            for stage in repo.index.stages:
                values: dict[str, Any] = {}
                for dep in stage.params:
                    dep.save()
                    values[dep.def_path] = dep.hash_info.value
                lock["stages"][stage.name] = {"cmd": stage.cmd, "params": values}
        (project / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))
        self.repo = Repo(str(project))
        self.stages = {stage.name: stage for stage in self.repo.index.stages}

    def plan(self, params: dict[str, Any]) -> dict[str, dict[str, str]]:
        """Snakemake's jobs for `params`, cached by value."""
        cache_key = json.dumps(params, sort_keys=True)
        if cache_key not in self._plans:
            write_params(self.project, params)
            self._plans[cache_key] = planned_jobs(self.project, self._parsed)
        return self._plans[cache_key]

    def snakemake_stages(self, mutation: Mutation) -> set[str]:
        """The stages with a job whose params or inputs the change alters, or whose set of
        jobs it changes (in the mutation's context)."""
        before = with_settings(BASELINE, mutation.context)
        after = with_settings(before, {mutation.key: mutation.value})
        planned, changed = self.plan(before), self.plan(after)
        stages = planned.keys() | changed.keys()
        return {stage for stage in stages if planned.get(stage) != changed.get(stage)}

    def dvc_stages(self, mutation: Mutation, fast: bool = True) -> set[str]:
        """The stages whose params dependencies `dvc status` finds changed against the
        baseline dvc.lock, with the change alone applied to the committed params.yaml
        (`fast`: read by `dvc_reading_once`)."""
        write_params(self.project, with_settings(BASELINE, {mutation.key: mutation.value}))
        with dvc_reading_once(self.project / PARAMS_FILE) if fast else nullcontext():
            return {
                name
                for name, stage in self.stages.items()
                if any(dep.status() for dep in stage.params)
            }

    def close(self) -> None:
        self.repo.close()


@pytest.fixture(scope="module")
def probe(tmp_path_factory) -> Iterator[Probe]:
    project = copy_project(tmp_path_factory.mktemp("dvc_params") / "project", profile="default")
    probe = Probe(project)
    yield probe
    probe.close()
    shutil.rmtree(project, ignore_errors=True)


def test_every_key_and_model_is_mutated():
    """A new key or model of params.yaml gets a mutation (`mutated` raises for a leaf it cannot
    change): every top-level section, every registry model, every leaf outside `models` and
    `profiles`, every leaf of the committed profile's block and every section of the other
    blocks. No EXPLICIT or COARSER_BY_DESIGN entry names a key that is gone."""
    keys = {mutation.key for mutation in MUTATIONS}
    assert {key.split(".")[0] for key in keys} == set(BASELINE)
    models = {key.split(".")[1] for key in keys if key.startswith("models.")}
    assert models == set(BASELINE["models"])
    leaves = flatten(BASELINE)
    committed = f"profiles.{BASELINE['profile']}."
    every_leaf = {
        key
        for key in leaves
        if not key.startswith(("models.", "profiles.")) or key.startswith(committed)
    }
    assert every_leaf - keys == set()
    for profile, block in BASELINE["profiles"].items():
        sections = {key.split(".")[2] for key in keys if key.startswith(f"profiles.{profile}.")}
        assert sections == set(block), profile
    assert set(EXPLICIT) - leaves.keys() == set()
    assert set(COARSER_BY_DESIGN) - keys == set()


def test_plans_are_reproducible(probe):
    """Two DAGs of the same params.yaml give every job the same params and inputs (nothing
    that varies from run to run, which would make every change seem to touch its stage), and
    DVC finds the baseline's params unchanged. The plans with the parse cache are those
    without."""
    write_params(probe.project, BASELINE)
    first = planned_jobs(probe.project, {})
    assert planned_jobs(probe.project, {}) == first
    assert probe.plan(BASELINE) == first
    assert set(first) == set(yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"])
    assert probe.dvc_stages(Mutation("seed", BASELINE["seed"])) == set()


def test_fast_reading_is_dvcs(probe):
    """`dvc_reading_once` changes how fast DVC reads params.yaml, not what it finds."""
    keys = ("profile", "models.softmax3.weight_decay", "adversarial.attack.c_steps")
    for mutation in (mutation for mutation in MUTATIONS if mutation.key in keys):
        assert probe.dvc_stages(mutation) == probe.dvc_stages(mutation, fast=False), mutation.key


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda mutation: mutation.key)
def test_dvc_names_exactly_the_stages_that_read_the_key(probe, mutation):
    """`dvc status` names the stages whose Snakemake jobs change with the key, and no other
    (but COARSER_BY_DESIGN's)."""
    expected = probe.snakemake_stages(mutation) | COARSER_BY_DESIGN.get(mutation.key, set())
    found = probe.dvc_stages(mutation)
    assert found == expected, (
        f"{mutation.key} -> {mutation.value!r}: DVC names {sorted(found)}, Snakemake's jobs "
        f"change in {sorted(expected)}; missing from dvc.yaml params: "
        f"{sorted(expected - found)}, needlessly listed: {sorted(found - expected)}"
    )
