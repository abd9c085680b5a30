"""Rule `advtrain_robustness`."""

from intriguing.advtrain import step
from intriguing.common.progress import job_log

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.robustness(
        name=sm.wildcards.model,
        spec_params=sm.params.spec,
        model_path=sm.input.model,
        raw_files=list(sm.input.raw),
        transfer_sets=list(sm.input.transfer),
        samples=sm.params.samples,
        policy=sm.params.policy,
        seed=sm.params.seed,
        attack_options=dict(sm.params.attack),
        device=sm.params.device,
        threads=sm.threads,
        output=sm.output[0],
    )
