"""Rule `amplify`."""

from intriguing.adversarial import step
from intriguing.common.progress import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.amplify(
        sm.input.set, list(sm.input.raw), sm.params.stddev, sm.output.set, sm.output.metrics
    )
