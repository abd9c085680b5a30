"""DVC stage `report`: the reproduction report, our numbers beside the paper's.

step assembles the report from one module per section, each named after the stage whose
results it shows (train, adversarial, transfer, spectral, units, instability, advtrain), plus
provenance and html_page; they share format, the package's leaf. summary, experiments and
rulegraph are command-line tools on the same results.
"""
