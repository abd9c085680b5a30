"""Rule `split`."""

from intriguing.common.progress import job_log
from intriguing.data import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.split(sm.input.train_labels, sm.output[0], sm.params.seed)
