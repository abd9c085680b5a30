"""Rule `adversarial`."""

from intriguing.adversarial import step
from intriguing.common.progress import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.adversarial(
        name=sm.params.model,
        spec_params=sm.params.spec,
        model_path=sm.input.model,
        raw_files=list(sm.input.raw),
        split=sm.wildcards.split,
        samples=sm.params.samples,
        policy=sm.params.policy,
        seed=sm.params.seed,
        options=dict(sm.params.attack),
        device=sm.params.device,
        threads=sm.threads,
        output_set=sm.output.set,
        output_metrics=sm.output.metrics,
    )
