"""Rule `figure7`."""

from intriguing.common.progress import job_log
from intriguing.transfer import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    specs = dict(sm.params.specs)
    step.figure7(
        specs=specs,
        model_files=dict(zip(specs, sm.input.models, strict=True)),
        set_files=dict(zip(specs, sm.input.sets, strict=True)),
        raw_files=list(sm.input.raw),
        noise_stddev=sm.params.noise,
        pairs=sm.params.pairs,
        seed=sm.params.seed,
        threads=sm.threads,
        output_metrics=sm.output.metrics,
        output_figure=sm.output.figure,
    )
