"""Rule `spectral`."""

import os

# Before torch loads OpenMP (see intriguing.spectral.networks): spin-waiting threads made a
# 4096 x 4096 SVD take 133 s instead of 20 s on a shared 2-core machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from intriguing.common.progress import job_log
from intriguing.spectral import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.spectral(
        network=sm.wildcards.network,
        metrics_path=sm.output.metrics,
        figure_path=sm.output.figure,
        options=dict(sm.params.options),
        seed=sm.params.seed,
        device=sm.params.device,
        threads=sm.threads,
        profile=sm.params.profile,
        model_path=sm.input.get("model"),
        spec_params=sm.params.spec,
        weights_file=sm.input.get("weights"),
    )
