"""Rule `adversarial_figures`."""

from intriguing.adversarial import step
from intriguing.reference import paper_reference

sm = snakemake  # noqa: F821
reference = paper_reference()
step.figures(
    set_files=dict(zip(sm.params.sets, sm.input.sets, strict=True)),
    raw_files=list(sm.input.raw),
    paper_distortion={
        model: row["mean_min_distortion"]
        for model, row in {**reference["table1"], **reference["table3"]}.items()
    },
    examples=sm.params.examples,
    output_examples=dict(zip(sm.params.sets, sm.output.examples, strict=True)),
    output_histogram=sm.output.histogram,
    output_plot_data=sm.output.plot_data,
)
