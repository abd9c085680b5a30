"""Rule `report`."""

from intriguing.report import build_report

sm = snakemake  # noqa: F821
build_report(list(sm.input.metrics), sm.output.markdown, sm.output.html, sm.params.profile)
