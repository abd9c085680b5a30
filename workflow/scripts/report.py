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
    instability_files=list(sm.input.instability),
    instability_figures=list(sm.input.instability_figures),
)
