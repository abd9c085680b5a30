# DVC stage `report`: the reproduction report, our numbers beside the paper's.
# Its inputs are made by the `train`, `adversarial`, `spectral` and `advtrain` stages, hence
# ancient().


rule report:
    """Render reports/report.md and the self-contained reports/report.html."""
    input:
        metrics=ancient(expand(TRAIN_METRICS, model=TRAIN_MODELS)),
        adversarial=ancient(
            expand(ADVERSARIAL_METRICS, model=TABLE2_MODELS, split="train")
            + expand(ADVERSARIAL_METRICS, model=TABLE4_MODELS, split="test")
        ),
        spectral=ancient(expand(SPECTRAL_METRICS, network=SPECTRAL_NETWORKS)),
        spectral_figures=ancient(expand(SPECTRAL_FIGURE, network=SPECTRAL_NETWORKS)),
        advtrain=ancient(ADVTRAIN_SUMMARY),
        advtrain_figure=ancient(ADVTRAIN_FIGURE),
    output:
        markdown=REPORT_MD,
        html=REPORT_HTML,
    params:
        profile=config["profile"],
        models=TRAIN_MODELS,
    threads: 1
    resources:
        mem_mb=1024,
        runtime=10,
    script:
        "../scripts/report.py"


rule all_report:
    input:
        REPORT_MD,
        REPORT_HTML,
