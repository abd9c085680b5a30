"""Rule `amplify`."""

from intriguing.adversarial_sets import amplify_task

sm = snakemake  # noqa: F821
amplify_task(sm.input.set, list(sm.input.raw), sm.params.stddev, sm.output.set, sm.output.metrics)
