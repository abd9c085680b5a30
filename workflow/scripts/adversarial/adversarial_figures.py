"""Rule `adversarial_figures`."""

from intriguing.adversarial import step
from intriguing.common.progress import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.figures(
        set_files=dict(zip(sm.params.sets, sm.input.sets, strict=True)),
        raw_files=list(sm.input.raw),
        examples=sm.params.examples,
        output_examples=dict(zip(sm.params.sets, sm.output.examples, strict=True)),
        output_histogram=sm.output.histogram,
        output_plot_data=sm.output.plot_data,
    )
