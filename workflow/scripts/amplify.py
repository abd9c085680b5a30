"""Rule `amplify`."""

from intriguing.adversarial import step

sm = snakemake  # noqa: F821
step.amplify(sm.input.set, list(sm.input.raw), sm.params.stddev, sm.output.set, sm.output.metrics)
