"""Rule `report`."""

from intriguing.report import step

sm = snakemake  # noqa: F821
step.report(
    list(sm.input.metrics),
    list(sm.input.adversarial),
    sm.output.markdown,
    sm.output.html,
    sm.params.profile,
    spectral_files=list(sm.input.spectral),
    spectral_figures=list(sm.input.spectral_figures),
    transfer_files=list(sm.input.transfer),
    transfer_figures=list(sm.input.transfer_figures),
    adversarial_figures=list(sm.input.adversarial_figures),
    benchmarks_dir=sm.params.benchmarks,
    units_file=sm.input.units,
    units_figures=list(sm.input.units_figures),
    instability_files=list(sm.input.instability),
    instability_figures=list(sm.input.instability_figures),
    advtrain_file=sm.input.advtrain,
    advtrain_figure=sm.input.advtrain_figure,
    attack_temperature=sm.params.attack_temperature,
)
