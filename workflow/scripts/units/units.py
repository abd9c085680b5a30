"""Rule `units`."""

from intriguing.common.progress import job_log
from intriguing.units import step
from intriguing.units.network import UnitsJob, UnitsOptions

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    step.units(
        name=sm.wildcards.model,
        spec_params=sm.params.spec,
        model_path=sm.input.model,
        raw_files=list(sm.input.raw),
        test_images=sm.params.test_images,
        job=UnitsJob(
            UnitsOptions(**sm.params.options),
            dict(sm.output.items()),
            sm.params.device,
            sm.threads,
            sm.params.profile,
        ),  # fmt: skip
        feature_model=sm.params.feature_model,
        feature_spec_params=sm.params.feature_spec,
        feature_model_path=sm.input.get("feature_model"),
    )
