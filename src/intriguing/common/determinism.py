"""The environment variables that carry params.yaml's `deterministic` to every job (torch-free:
the Snakefile sets them, `intriguing.common.runtime` reads them inside the job)."""

from __future__ import annotations

#: Set by the Snakefile from params.yaml's `deterministic` and inherited by every job's process
#: (local, cluster-generic or SLURM); unset means deterministic.
DETERMINISTIC_ENV = "INTRIGUING_DETERMINISTIC"
#: cuBLAS needs a fixed workspace to make its matrix products deterministic on CUDA >= 10.2.
CUBLAS_WORKSPACE = ":4096:8"


def determinism_environment(deterministic: bool) -> dict[str, str]:
    """The environment a job needs for the `deterministic` param (set before torch uses cuBLAS)."""
    environment = {DETERMINISTIC_ENV: "1" if deterministic else "0"}
    if deterministic:
        environment["CUBLAS_WORKSPACE_CONFIG"] = CUBLAS_WORKSPACE
    return environment
