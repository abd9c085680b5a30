"""Rule `advtrain`."""

from intriguing.advtrain import step
from intriguing.common.progress import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.train(
        name=sm.wildcards.model,
        spec_params=sm.params.spec,
        settings=dict(sm.params.settings),
        pool_levels=sm.params.pool_levels,
        seed=int(sm.wildcards.seed),
        raw_files=list(sm.input.raw),
        split_path=sm.input.split,
        train_limit=sm.params.train_limit,
        test_limit=sm.params.test_limit,
        device=sm.params.device,
        threads=sm.threads,
        model_output=sm.output.model,
        metrics_output=sm.output.metrics,
    )
