"""Rule `evaluate`."""

from intriguing.common.progress import job_log
from intriguing.train import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.evaluate(
        name=sm.params.model,
        replicate=sm.params.replicate,
        spec_params=sm.params.spec,
        model_path=sm.input.model,
        raw_files=list(sm.input.raw),
        split_path=sm.input.split,
        output=sm.output.metrics,
        train_limit=sm.params.train_limit,
        test_limit=sm.params.test_limit,
        device=sm.params.device,
        threads=sm.threads,
    )
