"""Rule `units_summary`."""

from pathlib import Path

from intriguing.common.progress import job_log
from intriguing.units import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.summary({Path(path).stem: path for path in sm.input}, sm.output[0], sm.params.profile)
