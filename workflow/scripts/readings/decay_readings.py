"""Rule `decay_readings`."""

from intriguing.common.progress import job_log
from intriguing.readings import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.decay_readings(
        models=list(sm.input.models),
        default=sm.params.default,
        noise_stddevs=list(sm.params.noise_stddevs),
        figure7_noise=sm.params.figure7_noise,
        output=sm.output.metrics,
    )
