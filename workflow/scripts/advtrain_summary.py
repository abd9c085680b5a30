"""Rule `advtrain_summary`."""

from intriguing.advtrain import step

sm = snakemake  # noqa: F821
step.summary(
    models=list(sm.params.models),
    run_files=list(sm.input.runs),
    robustness_files=list(sm.input.robustness),
    output=sm.output.summary,
    figure=sm.output.figure,
)
