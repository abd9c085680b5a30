"""Rule `decay_reading`."""

from intriguing.common.progress import job_log
from intriguing.readings import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.decay_reading(
        name=sm.wildcards.model,
        spec_params=sm.params.spec,
        readings=list(sm.params.readings),
        raw_files=list(sm.input.raw),
        split_path=sm.input.split,
        output=sm.output.metrics,
        options=dict(sm.params.options),
        limits=dict(sm.params.limits),
        seed=sm.params.seed,
        attack=dict(sm.params.attack),
        noise=dict(sm.params.noise),
        device=sm.params.device,
        threads=sm.threads,
    )
