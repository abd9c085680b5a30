"""Rule `split`."""

from intriguing.mnist import write_split

sm = snakemake  # noqa: F821
write_split(sm.input.train_labels, sm.output[0], sm.params.seed)
