"""benchmarks/gpu_check.py in its CPU mode (`--device cpu --small`): the GPU lease's one
prepared script runs the same code paths here, so it cannot rot between leases."""

import os
import subprocess
import sys

import pytest

from conftest import ROOT

#: Minutes of training and attacks on 2 cores: run with the integration tests.
pytestmark = pytest.mark.integration


def test_gpu_check_runs_its_code_paths_on_the_cpu(mnist_source, tmp_path):
    output = tmp_path / "gpu.md"
    done = subprocess.run(
        [
            sys.executable,
            "benchmarks/gpu_check.py",
            "--device",
            "cpu",
            "--small",
            # its steps stop at the budget and the attack comes last: 300 s ran out under the
            # load of the session's smoke build (92 jobs) beside it on 2 cores
            "--budget",
            "540",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env={**os.environ, "MNIST_DIR": str(mnist_source)},
        capture_output=True,
        text=True,
        timeout=660,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    page = output.read_text()
    assert "## 1. Tests marked `cuda`" in page and "passed:" in page and " failed" not in page
    rows = [line for line in page.splitlines() if line.startswith(("| softmax1 |", "| n200 |"))]
    assert len(rows) == 2 and all("converged" in row or "budget" in row for row in rows)
    assert "200 originals" in page and "success 100.00%" in page
