# DVC stage `transfer`: Tables 2 and 4 (cross-model and cross-training-set generalisation of
# adversarial examples, with Gaussian-noise baselines; each once per replicate, with seed
# means) and Figure 7 (replicate 0). Models, MNIST and the adversarial sets come from other DVC
# stages.


rule transfer:
    """Every model's error on every model's sets and on noise, per replicate, with seed means."""
    input:
        unpack(transfer_inputs),
    output:
        metrics=TRANSFER_METRICS,
        plot_data=TRANSFER_PLOT_DATA,
        figure=report(
            TRANSFER_FIGURE,
            caption="../report/transfer.rst",
            category="Tables 2 and 4: transfer",
        ),
    log:
        "logs/transfer/{table}.log",
    benchmark:
        f"{BENCHMARKS}/transfer/{{table}}.tsv"
    threads: JOB_THREADS
    resources:
        mem_mb=2048,
        runtime=10,
    params:
        specs=lambda wildcards: model_specs(TRANSFER[wildcards.table]["models"]),
        noise=lambda wildcards: TRANSFER[wildcards.table]["noise"],
        title=lambda wildcards: TRANSFER[wildcards.table]["title"],
        replicated=REPLICATED_MODELS,
        seed=config["transfer"]["noise_seed"],
        matched_distortion=config["transfer"]["matched_distortion"],
    script:
        "../scripts/transfer/transfer.py"


rule figure7:
    """Originals beside their adversarials, and beside heavy Gaussian noise (Figure 7)."""
    input:
        models=expand(MODEL_FILE, model=config["transfer"]["figure7_models"]),
        sets=expand(ADVERSARIAL_SET, model=config["transfer"]["figure7_models"], split="train"),
        raw=RAW_FILES,
    output:
        metrics=FIGURE7_METRICS,
        figure=report(FIGURE7_FIGURE, caption="../report/figure7.rst", category="Figure 7"),
    log:
        "logs/figure7.log",
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    params:
        specs=model_specs(config["transfer"]["figure7_models"]),
        noise=config["transfer"]["figure7_noise"],
        pairs=config["transfer"]["figure7_pairs"],
        seed=config["transfer"]["noise_seed"],
    script:
        "../scripts/transfer/figure7.py"


rule all_transfer:
    input:
        expand(TRANSFER_METRICS, table=TRANSFER_TABLES),
        expand(TRANSFER_PLOT_DATA, table=TRANSFER_TABLES),
        expand(TRANSFER_FIGURE, table=TRANSFER_TABLES),
        FIGURE7_METRICS,
        FIGURE7_FIGURE,
