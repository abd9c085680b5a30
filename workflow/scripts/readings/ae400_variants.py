"""Rule `ae400_variants`."""

from intriguing.common.progress import job_log
from intriguing.readings import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.ae400_variants(
        default=sm.input.default,
        variants=list(sm.input.variants),
        output=sm.output.metrics,
    )
