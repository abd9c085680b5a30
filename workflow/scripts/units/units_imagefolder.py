"""Rule `units_imagefolder`."""

from intriguing.common.progress import job_log
from intriguing.units import step
from intriguing.units.network import UnitsJob, UnitsOptions

sm = snakemake  # noqa: F821
with job_log(sm.log[0]):
    settings = sm.params.imagefolder
    step.imagefolder(
        root=sm.input.root,
        model_name=settings["model"],
        weights_file=sm.input.get("weights"),
        layer=settings["layer"],
        resize=settings["resize"],
        crop=settings["crop"],
        batch_size=settings["batch_size"],
        images=sm.params.images,
        job=UnitsJob(
            UnitsOptions(**sm.params.options),
            dict(sm.output.items()),
            sm.params.device,
            sm.threads,
            sm.params.profile,
        ),  # fmt: skip
    )
