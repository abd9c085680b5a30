"""Rule `units_summary`."""

from pathlib import Path

from intriguing.units_analysis import summarise_units

sm = snakemake  # noqa: F821
summarise_units({Path(path).stem: path for path in sm.input}, sm.output[0], sm.params.profile)
