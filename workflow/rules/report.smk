# DVC stage `report`: the reproduction report, our numbers beside the paper's.
# Its inputs are made by the other stages.


rule report:
    """Render reports/report.md and the self-contained reports/report.html."""
    input:
        metrics=expand(TRAIN_METRICS, model=TRAIN_NETWORKS),
        adversarial=expand(ADVERSARIAL_METRICS, model=ATTACKED_NETWORKS["train"], split="train")
        + expand(ADVERSARIAL_METRICS, model=ATTACKED_NETWORKS["test"], split="test"),
        spectral=expand(SPECTRAL_METRICS, network=SPECTRAL_NETWORKS),
        spectral_figures=expand(SPECTRAL_FIGURE, network=SPECTRAL_NETWORKS),
        transfer=[*expand(TRANSFER_METRICS, table=TRANSFER_TABLES), FIGURE7_METRICS],
        adversarial_figures=[
            DISTORTION_HISTOGRAM,
            *expand(ADVERSARIAL_EXAMPLES, set=ADVERSARIAL_SETS),
        ],
        transfer_figures=[*expand(TRANSFER_FIGURE, table=TRANSFER_TABLES), FIGURE7_FIGURE],
        units=UNITS_SUMMARY,
        units_figures=expand(UNITS_FIGURE, model=UNITS_NETWORKS, kind=UNITS_FIGURE_KINDS),
        instability=expand(INSTABILITY_METRICS, model=INSTABILITY_MODELS),
        instability_figures=expand(INSTABILITY_FIGURE, model=INSTABILITY_MODELS),
        advtrain=ADVTRAIN_SUMMARY,
        advtrain_figure=ADVTRAIN_FIGURE,
        filters=expand(FILTERS_FIGURE, model=FILTER_MODELS),
        readings=DECAY_READINGS_SUMMARY,
        readings_ae400=AE400_VARIANTS_SUMMARY,
    output:
        markdown=REPORT_MD,
        html=report(
            REPORT_HTML, caption="../report/reproduction.rst", category="Reproduction report"
        ),
        headline=HEADLINE,
        record=RUN_RECORD,
    log:
        "logs/report.log",
    threads: 1
    resources:
        mem_mb=1024,
        runtime=10,
    params:
        profile=config["profile"],
        benchmarks=BENCHMARKS,
        run_params=config,
    script:
        "../scripts/report/report.py"


rule all_report:
    input:
        REPORT_MD,
        REPORT_HTML,
        HEADLINE,
