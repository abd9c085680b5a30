# DVC stage `instability`: the adversarial perturbations' observed gains, layer by layer, against
# the frame bounds (Section 4.3, beyond the paper). Every input is made by another DVC stage
# (data, train, adversarial, spectral).


rule instability:
    """Per-layer and cumulative gains of one model's adversarial perturbations vs its bounds."""
    input:
        model=MODEL_FILE,
        sets=lambda wildcards: expand(
            ADVERSARIAL_SET, model=wildcards.model, split=INSTABILITY_SPLITS[wildcards.model]
        ),
        spectral=SPECTRAL_METRICS.replace("{network}", "{model}"),
        raw=RAW_FILES,
    output:
        metrics=INSTABILITY_METRICS,
        figure=INSTABILITY_FIGURE,
    log:
        "logs/instability/{model}.log",
    benchmark:
        f"{BENCHMARKS}/instability/{{model}}.tsv"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
        gpu=int(USES_GPU),
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
        device=config["device"],
    script:
        "../scripts/instability/instability.py"


rule all_instability:
    input:
        expand(INSTABILITY_METRICS, model=INSTABILITY_MODELS),
        expand(INSTABILITY_FIGURE, model=INSTABILITY_MODELS),
