"""A training or attack job killed with SIGKILL midway: nothing is left under its final name, and
rerunning gives exactly what an uninterrupted run gives (the session's smoke build)."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BIN, SNAKEMAKE, copy_built, snakemake
from intriguing.common import files

START_TIMEOUT = 600  # seconds a loaded CI machine may take to start the job
MODEL = "models/softmax1.pt"
ATTACK = ["data/adversarial/softmax1_train.pt", "reports/metrics/adversarial/softmax1_train.json"]


@pytest.fixture(scope="module")
def kill_project(tmp_path_factory, smoke_project) -> Path:
    """A copy of the session's smoke build without the attack job's outputs (the training test
    deletes the model itself: the attack test, run alone, finds the model there)."""
    project = copy_built(smoke_project, tmp_path_factory.mktemp("kill") / "project")
    for output in ATTACK:
        (project / output).unlink()
    return project


def start(project: Path, target: str, mnist: Path) -> subprocess.Popen:
    """Snakemake in its own process group (its jobs inherit it), as a user's shell starts it."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "MNIST_DIR": str(mnist)}
    return subprocess.Popen(
        [*SNAKEMAKE, target],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def wait_for_job_script(project: Path, process: subprocess.Popen, rule: str) -> None:
    """Wait until the rule's job runs: Snakemake has written its script and not yet removed it."""
    deadline = time.monotonic() + START_TIMEOUT
    while not list((project / ".snakemake" / "scripts").glob(f"*.{rule}.py")):
        assert process.poll() is None, f"Snakemake ended ({process.returncode}) before {rule} ran"
        assert time.monotonic() < deadline, f"job {rule} did not start"
        time.sleep(0.05)


def kill_and_resume(project: Path, rule: str, outputs: list[str], mnist: Path) -> None:
    """Start the job, SIGKILL Snakemake's whole process group while the job runs, check that no
    output exists, then unlock (the killed Snakemake could not) and rerun."""
    process = start(project, outputs[0], mnist)
    wait_for_job_script(project, process, rule)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    for output in outputs:
        assert not (project / output).exists(), f"{output} exists after the kill"
    # A kill during the final write would leave the write's temporary file beside the output.
    leftover = project / outputs[0]
    leftover = leftover.with_name(f".{leftover.name}.killedxx{files.TEMPORARY_SUFFIX}")
    leftover.write_bytes(b"half a file")
    snakemake(project, "--unlock", mnist=mnist)
    snakemake(project, outputs[0], mnist=mnist)  # the workflow profile reruns incomplete jobs
    assert not leftover.exists()
    assert not list((project / ".snakemake" / "incomplete").glob("*"))


def test_killed_training_job_resumes_to_the_same_model(kill_project, smoke_project, mnist_source):
    (kill_project / MODEL).unlink()
    kill_and_resume(kill_project, "train", [MODEL], mnist_source)
    assert (kill_project / MODEL).read_bytes() == (smoke_project / MODEL).read_bytes()


def test_killed_attack_job_resumes_to_the_same_set(kill_project, smoke_project, mnist_source):
    outputs = ATTACK
    kill_and_resume(kill_project, "adversarial", outputs, mnist_source)
    for output in outputs:
        assert (kill_project / output).read_bytes() == (smoke_project / output).read_bytes()
