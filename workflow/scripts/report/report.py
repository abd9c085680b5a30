"""Rule `report`."""

from intriguing.common.progress import job_log
from intriguing.report import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.report(dict(sm.input), dict(sm.output), dict(sm.params))
