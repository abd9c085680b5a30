"""Rule `filters`."""

from intriguing.common.progress import job_log
from intriguing.train import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.filters(
        name=sm.wildcards.model,
        spec_params=sm.params.spec,
        model_path=sm.input.model,
        output=sm.output.figure,
    )
