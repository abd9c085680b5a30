"""Rule `advtrain_summary`."""

from intriguing.advtrain import step
from intriguing.common.progress import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.summary(
        models=list(sm.params.models),
        run_files=list(sm.input.runs),
        robustness_files=list(sm.input.robustness),
        output=sm.output.summary,
        figure=sm.output.figure,
    )
