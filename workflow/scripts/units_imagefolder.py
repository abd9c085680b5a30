"""Rule `units_imagefolder`."""

from intriguing.units_analysis import FIGURE_KINDS, imagefolder_units_task

sm = snakemake  # noqa: F821
settings = sm.params.imagefolder
imagefolder_units_task(
    root=sm.input.root,
    model_name=settings["model"],
    weights_file=sm.input.get("weights"),
    layer=settings["layer"],
    resize=settings["resize"],
    crop=settings["crop"],
    batch_size=settings["batch_size"],
    images=sm.params.images,
    options=dict(sm.params.options),
    metrics_path=sm.output.metrics,
    figures={kind: sm.output[kind] for kind in FIGURE_KINDS},
    device=sm.params.device,
    threads=sm.threads,
    profile=sm.params.profile,
)
