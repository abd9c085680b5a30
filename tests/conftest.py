"""Shared fixtures: the device of the tests under tests/cuda (`device`); a throwaway copy of
the project, and Snakemake/DVC runners on it; the smoke profile's whole DAG, built once per
session (`smoke_project`), which the integration tests read and the cluster, resume and DVC tests
copy (`copy_built`); one dry run of the default profile's DAG (`default_plan`) for the tests of
the workflow's shape; the rule files' definitions (`job_rules`, `torch_rules`).

The tiers (`pytest_collection_modifyitems`): tests/unit is the library's fast tests; tests under
tests/workflow and tests/rules run Snakemake or DVC (`slow`); of these, the ones that need the
smoke build are `integration`, left out of a plain `uv run pytest` (pyproject.toml's addopts)
and run by `uv run pytest -m integration`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW_TESTS = Path(__file__).resolve().parent / "workflow"
RULE_TESTS = Path(__file__).resolve().parent / "rules"
CUDA_TESTS = Path(__file__).resolve().parent / "cuda"
#: The device the tests under tests/cuda run on: CUDA by default (skipped without one); `cpu`
#: runs the same code paths on a machine without a GPU (benchmarks/gpu_check.py --device cpu).
DEVICE_ENV = "INTRIGUING_TEST_DEVICE"
PROJECT_FILES = [
    "Snakefile",
    "params.yaml",
    "dvc.yaml",
    ".gitignore",
    ".dvcignore",
    "workflow",
    "profiles",
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

#: A small sparse autoencoder of the registry's form (unit tests of training and its options).
AUTOENCODER = {
    "arch": "autoencoder",
    "hidden": [20],
    "weight_decay": [1e-6],
    "sparsity_target": 0.05,
    "sparsity_weight": 0.1,
    "autoencoder_decay": 1e-5,
    "train_set": "all",
    "optimizer": "lbfgs",
}


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


def environment(mnist: Path | None = None) -> dict[str, str]:
    """The environment of the commands the tests run: the project's tools first on PATH."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", **GIT_IDENTITY}
    if mnist is not None:
        env["MNIST_DIR"] = str(mnist)
    return env


def run(command: list[str], project: Path, mnist: Path | None = None, check: bool = True):
    """Run a command of the project's environment in `project`; return the completed process."""
    env = environment(mnist)
    result = subprocess.run(command, cwd=project, env=env, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result


#: How the tests run Snakemake: 2 cores, and at most one thread per job. The smoke profile's jobs
#: are tiny, most of each is the import of torch, so two run side by side rather than one job
#: taking both cores; every test's jobs run with the same threads, so reruns match the build.
SNAKEMAKE = ("snakemake", "--cores", "2", "--max-threads", "1")


def snakemake(project: Path, *args: str, mnist: Path | None = None, check: bool = True):
    return run([*SNAKEMAKE, *args], project, mnist, check)


@pytest.fixture(autouse=True)
def torch_determinism_defaults():
    """Tests that run a job's library function in process (e.g. spectral_task) switch torch's
    deterministic mode on, as every job does; put torch's defaults back after each test."""
    yield
    import torch

    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = False


#: What `snakemake all` makes in a project: every rule's outputs (and the timings in
#: reports/benchmarks). `copy_built` copies them; `smoke_project` checks that no test changes them.
BUILT = ("data", "models", "models_advtrain", "reports")


def built_files(project: Path) -> dict[str, tuple[int, int]]:
    """(modification time, size) of every file under the project's BUILT directories."""
    return {
        str(path.relative_to(project)): (path.stat().st_mtime_ns, path.stat().st_size)
        for name in BUILT
        for path in sorted((project / name).rglob("*"))
        if path.is_file()
    }


#: A folder for the smoke build that outlives the session (.ci/run sets it, so that its second
#: pytest step, the `slurm` tests, reuses the first step's build); unset, each session builds its
#: own in its temporary folder.
SMOKE_BUILD_ENV = "INTRIGUING_SMOKE_BUILD"
#: Written beside the built project once `snakemake all` has succeeded there.
BUILT_MARKER = "built"


class SmokeBuild:
    """`snakemake all` on the smoke profile (69 jobs, ~5 min on 2 cores) in a new project copy,
    running in the background; or, where an earlier session finished one in the same folder
    (SMOKE_BUILD_ENV), that build."""

    def __init__(self, project: Path, mnist: Path):
        self.project = project
        self.log = project.parent / "snakemake-all.log"
        self.process = None
        if (project.parent / BUILT_MARKER).is_file():
            return  # built by an earlier session (SMOKE_BUILD_ENV)
        shutil.rmtree(project, ignore_errors=True)
        copy_project(project)
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [*SNAKEMAKE, "all"],
                cwd=project,
                env=environment(mnist),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: `stop` ends its jobs too
            )

    def wait(self) -> Path:
        """The built project, once the build has ended."""
        if self.process is not None:
            if self.process.wait() != 0:
                raise AssertionError(
                    f"snakemake all failed ({self.process.returncode}):\n"
                    + self.log.read_text()[-20_000:]
                )
            (self.project.parent / BUILT_MARKER).touch()
        return self.project

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait()


def smoke_folder(tmp_path_factory) -> Path:
    """Where the smoke build goes: SMOKE_BUILD_ENV's folder, else a new temporary one."""
    if os.environ.get(SMOKE_BUILD_ENV):
        folder = Path(os.environ[SMOKE_BUILD_ENV]).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("smoke")


def needs_smoke_build(item: pytest.Item) -> bool:
    return "smoke_project" in getattr(item, "fixturenames", ())


@pytest.fixture(scope="session", autouse=True)
def smoke_build(request, tmp_path_factory):
    """Starts the smoke build before the first test when a selected test needs it, so that the
    tests that do not (they run first: `pytest_collection_modifyitems`) run meanwhile on the CPU
    time its jobs leave idle; `smoke_project` waits for it. None when no test needs it."""
    mnist = mnist_dir()
    if (
        not any(map(needs_smoke_build, request.session.items))
        or not (mnist / "train-images-idx3-ubyte.gz").is_file()
    ):
        yield None
        return
    build = SmokeBuild(smoke_folder(tmp_path_factory) / "project", mnist)
    yield build
    build.stop()  # a session that ends early (-x, Ctrl-C) leaves no build running


@pytest.fixture(scope="session")
def smoke_project(smoke_build, tmp_path_factory, mnist_source) -> Path:
    """A project copy on the smoke profile with its whole DAG built once per session
    (`snakemake all`; a test run alone builds it too). Every rule test reads its outputs; no test
    may change them (a test that reruns a job does so in its own copy, `copy_built`): the
    session fails at teardown if one did."""
    build = smoke_build or SmokeBuild(smoke_folder(tmp_path_factory) / "project", mnist_source)
    project = build.wait()
    before = built_files(project)
    yield project
    after = built_files(project)
    changed = sorted(
        name for name in before.keys() | after.keys() if before.get(name) != after.get(name)
    )
    assert not changed, f"tests changed the shared smoke build (use copy_built): {changed}"


def report_outputs(folder: Path) -> dict[str, str]:
    """The report step's four outputs in `folder`, named as the report rule names them."""
    names = {
        "markdown": "report.md",
        "html": "report.html",
        "headline": "headline.json",
        "record": "run_record.md",
    }
    return {key: str(folder / name) for key, name in names.items()}


#: One job of every rule that trains, attacks or analyses a model (every torch rule, and amplify)
#: -> its outputs. No job here reads, even through other jobs, what another one writes (the
#: Table 2 sets that advtrain_robustness reads come from every Table 2 model, so the trained
#: model is a Table 4 one), so each reruns alone, from the smoke build's files; the other rules
#: (data, transfer, figures, summaries, report) only read or aggregate what these write.
#: test_cluster reruns these on the cluster-generic executor and compares their bytes with the
#: smoke build's; test_dvc reruns one job of every other rule.
MODEL_JOBS = {
    "train": ["models/m2.pt"],
    "evaluate": ["reports/metrics/train/softmax1.json"],
    "adversarial": ["data/adversarial/m1p_test.pt", "reports/metrics/adversarial/m1p_test.json"],
    "amplify": [
        "data/adversarial/m1_test_amplified.pt",
        "reports/metrics/adversarial/m1_test_amplified.json",
    ],
    "spectral": ["reports/metrics/spectral/softmax1.json", "reports/figures/spectral/softmax1.png"],
    "instability": ["reports/metrics/instability/m1.json", "reports/figures/instability/m1.png"],
    "units": [
        "reports/metrics/units/n100.json",
        *(f"reports/figures/units/n100_{kind}.png" for kind in ("natural", "random", "coherence")),
    ],
    "advtrain": [
        "models_advtrain/n100_adv_input_seed0.pt",
        "reports/metrics/advtrain/n100_adv_input_seed0.json",
    ],
    "advtrain_robustness": ["reports/metrics/advtrain/n100_wd_seed0_robustness.json"],
    "decay_reading": ["reports/metrics/readings/decay/softmax2.json"],
    "ae400_variant": ["reports/metrics/readings/ae400/linear_decoder.json"],
}


def copy_built(project: Path, destination: Path) -> Path:
    """A new project copy holding `project`'s built outputs, with their modification times and
    Snakemake's record of the jobs that made them (.snakemake/metadata: the params, code and
    input checksums its rerun triggers compare), so Snakemake judges them as in `project`."""
    copy_project(destination)
    shutil.copy2(project / "params.yaml", destination / "params.yaml")
    for name in (*BUILT, ".snakemake/metadata"):
        if (project / name).is_dir():
            shutil.copytree(project / name, destination / name, dirs_exist_ok=True)
    return destination


def plan_jobs(dry_run: str) -> list[dict[str, object]]:
    """The jobs of a `snakemake --dry-run` output, in order: each a dict of `rule` and the
    paths it lists as `input`, `output`, `log` and `benchmark` (sets)."""
    jobs = []
    for rule, block in re.findall(
        r"^(?:local)?rule (\w+):\n(.*?)(?=^\S|\Z)", dry_run, flags=re.MULTILINE | re.DOTALL
    ):
        fields = dict(re.findall(r"^    (\w+): (.*)$", block, flags=re.MULTILINE))
        jobs.append(
            {"rule": rule}
            | {
                key: set(fields.get(key, "").split(", ")) - {""}
                for key in ("input", "output", "log", "benchmark")
            }
        )
    return jobs


def stage_targets() -> dict[str, str]:
    """DVC stage -> the Snakemake target its command runs (dvc.yaml)."""
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    return {name: stage["cmd"].split()[1] for name, stage in stages.items()}


@pytest.fixture(scope="session")
def default_plan(tmp_path_factory) -> str:
    """Snakemake's plan from scratch (`--dry-run --forceall`) of the default profile's whole DAG
    and every DVC stage's target (`all`, `all_data`, ...), in one dry run: test_dag and
    test_cluster read the jobs (`plan_jobs`) and what each reads and writes."""
    project = copy_project(tmp_path_factory.mktemp("plan"), profile="default")
    targets = ["all", *stage_targets().values()]
    return snakemake(project, *targets, "--dry-run", "--forceall").stdout


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests under tests/workflow and tests/rules run Snakemake or DVC: mark them `slow`, so
    that `pytest -m "not slow"` is the library's unit tests alone. A test that reads the smoke
    build (`smoke_project`) is `integration` (but a `slurm` one, which has its own step), so that
    a plain `uv run pytest` never waits for the build. The tests that read the smoke build run
    last, each in its place otherwise, so that the others run while it is built."""
    for item in items:
        if WORKFLOW_TESTS in item.path.parents or RULE_TESTS in item.path.parents:
            item.add_marker(pytest.mark.slow)
        if needs_smoke_build(item) and item.get_closest_marker("slurm") is None:
            item.add_marker(pytest.mark.integration)
        if CUDA_TESTS in item.path.parents:
            item.add_marker(pytest.mark.cuda)
    items.sort(key=needs_smoke_build)


RULE_FILES = sorted((ROOT / "workflow" / "rules").glob("*.smk"))


def rule_blocks() -> dict[str, str]:
    """Rule name -> the text of its definition, from every workflow/rules/*.smk file."""
    blocks = {}
    for path in RULE_FILES:
        for name, body in re.findall(
            r"^rule (\w+):\n(.*?)(?=^\S|\Z)", path.read_text(), flags=re.MULTILINE | re.DOTALL
        ):
            blocks[name] = body
    return blocks


def job_rules() -> dict[str, str]:
    """The rules that run code (script, shell or run), not the aggregate targets."""
    return {
        name: body
        for name, body in rule_blocks().items()
        if re.search(r"^    (script|shell|run|wrapper):", body, flags=re.MULTILINE)
    }


def torch_rules() -> set[str]:
    """The rules that put torch on `device` (their params pass config["device"])."""
    return {name for name, body in job_rules().items() if 'device=config["device"]' in body}


def png_pixels(path: Path) -> np.ndarray:
    """The pixels of a figure, decoded (a truncated or empty file fails here); a figure of one
    flat colour fails too, since every figure the workflow draws shows data."""
    from PIL import Image

    with Image.open(path) as image:
        assert image.format == "PNG", f"{path}: {image.format}, not PNG"
        pixels = np.asarray(image.convert("RGB"))
    assert pixels.ndim == 3 and min(pixels.shape[:2]) >= 50, f"{path}: {pixels.shape}"
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 2, f"{path}: a blank image"
    return pixels


@pytest.fixture(scope="module")
def single_thread():
    """torch on one thread for a module's tests (tiny problems, where thread hand-offs on a busy
    2-core machine would cost more than they save); the count is put back after."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def device():
    """The torch device of the `cuda` tests (DEVICE_ENV); skips when CUDA is asked for but
    absent."""
    import torch

    requested = os.environ.get(DEVICE_ENV, "cuda")
    if requested == "cuda" and not torch.cuda.is_available():
        pytest.skip(f"no CUDA device (set {DEVICE_ENV}=cpu to run these tests on the CPU)")
    return torch.device(requested)


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (pyproject.toml's addopts) spreads the unit, rule and light workflow tests over
    the machine's cores. The integration and slurm tiers share one smoke build per session, so
    a run that selects them runs in one process."""
    expression = (config.option.markexpr or "").strip()
    if not expression.startswith("not") and re.search(r"\b(integration|slurm)\b", expression):
        return 0
    return None
