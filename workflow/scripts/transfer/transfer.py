"""Rule `transfer`."""

from intriguing.common.progress import job_log
from intriguing.transfer import step

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    specs = dict(sm.params.specs)
    amplified = {
        mode: step.per_replicate(list(sm.input[key]), list(specs))
        for mode, key in (("stddev", "amplified"), ("factor", "amplified_factor"))
        if key in sm.input.keys()
    }
    model_files = step.per_replicate(list(sm.input.models), list(specs))
    step.transfer(
        name=sm.wildcards.table,
        specs=specs,
        model_files=model_files,
        set_files=step.per_replicate(list(sm.input.sets), list(specs)),
        amplified_files=[
            {mode: files[r] for mode, files in amplified.items()} for r in range(len(model_files))
        ]
        if amplified
        else None,
        replicated=list(sm.params.replicated),
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
