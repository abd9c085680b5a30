"""Rule `instability`."""

from pathlib import Path

from intriguing.common.progress import job_log
from intriguing.instability import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.instability(
        name=sm.wildcards.model,
        spec_params=sm.params.spec,
        model_path=sm.input.model,
        set_paths=list(sm.input.sets),
        raw_dir=Path(sm.input.raw[0]).parent,
        spectral_path=sm.input.spectral,
        metrics_path=sm.output.metrics,
        figure_path=sm.output.figure,
        device=sm.params.device,
        threads=sm.threads,
    )
