"""Rule `train`."""

from intriguing.common.progress import job_log
from intriguing.train import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.train(
        name=sm.params.model,
        replicate=sm.params.replicate,
        spec_params=sm.params.spec,
        raw_files=list(sm.input.raw),
        split_path=sm.input.split,
        output=sm.output.model,
        options=dict(sm.params.options),
        train_limit=sm.params.train_limit,
        seed=sm.params.seed,
        device=sm.params.device,
        threads=sm.threads,
    )
