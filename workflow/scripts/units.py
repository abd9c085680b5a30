"""Rule `units`."""

from intriguing.units_analysis import FIGURE_KINDS, mnist_units_task

sm = snakemake  # noqa: F821
mnist_units_task(
    name=sm.wildcards.model,
    spec_params=sm.params.spec,
    model_path=sm.input.model,
    raw_files=list(sm.input.raw),
    test_images=sm.params.test_images,
    options=dict(sm.params.options),
    metrics_path=sm.output.metrics,
    figures={kind: sm.output[kind] for kind in FIGURE_KINDS},
    device=sm.params.device,
    threads=sm.threads,
    profile=sm.params.profile,
    feature_model=sm.params.feature_model,
    feature_spec_params=sm.params.feature_spec,
    feature_model_path=sm.input.get("feature_model"),
)
