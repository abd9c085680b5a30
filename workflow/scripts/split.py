"""Rule `split`."""

from intriguing.data import step

sm = snakemake  # noqa: F821
step.split(sm.input.train_labels, sm.output[0], sm.params.seed)
