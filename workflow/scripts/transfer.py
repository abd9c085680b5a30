"""Rule `transfer`."""

from intriguing.common.progress import job_log
from intriguing.transfer import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    specs = dict(sm.params.specs)
    amplified = {
        mode: dict(zip(specs, sm.input[key], strict=True))
        for mode, key in (("stddev", "amplified"), ("factor", "amplified_factor"))
        if key in sm.input.keys()
    }
    step.transfer(
        name=sm.wildcards.table,
        specs=specs,
        model_files=dict(zip(specs, sm.input.models, strict=True)),
        set_files=dict(zip(specs, sm.input.sets, strict=True)),
        amplified_files=amplified or None,
        raw_files=list(sm.input.raw),
        noise_stddevs=list(sm.params.noise),
        seed=sm.params.seed,
        title=sm.params.title,
        threads=sm.threads,
        output_metrics=sm.output.metrics,
        output_csv=sm.output.plot_data,
        output_figure=sm.output.figure,
        matched_distortion=sm.params.matched_distortion,
    )
