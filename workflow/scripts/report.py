"""Rule `report`."""

from intriguing.report import build_report

sm = snakemake  # noqa: F821
build_report(
    list(sm.input.metrics),
    list(sm.input.adversarial),
    sm.output.markdown,
    sm.output.html,
    sm.params.profile,
    spectral_files=list(sm.input.spectral),
    spectral_figures=list(sm.input.spectral_figures),
    advtrain_file=sm.input.advtrain,
    advtrain_figure=sm.input.advtrain_figure,
)
