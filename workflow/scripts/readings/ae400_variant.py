"""Rule `ae400_variant`."""

from intriguing.common.progress import job_log
from intriguing.readings import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.ae400_variant(
        variant=sm.wildcards.variant,
        base=dict(sm.params.base),
        overrides=dict(sm.params.overrides),
        raw_files=list(sm.input.raw),
        split_path=sm.input.split,
        output=sm.output.metrics,
        options=dict(sm.params.options),
        limits=dict(sm.params.limits),
        seed=sm.params.seed,
        device=sm.params.device,
        threads=sm.threads,
    )
