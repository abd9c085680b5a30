"""Rule `amplify`."""

from intriguing.adversarial import step
from intriguing.common.progress import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.amplify(
        set_path=sm.input.set,
        raw_files=list(sm.input.raw),
        stddev=sm.params.stddev,
        factor=sm.params.factor,
        output_set=sm.output.set,
        output_metrics=sm.output.metrics,
        output_factor_set=sm.output.factor_set,
        output_factor_metrics=sm.output.factor_metrics,
    )
