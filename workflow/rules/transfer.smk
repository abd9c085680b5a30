# DVC stage `transfer`: Tables 2 and 4 (cross-model and cross-training-set generalisation of
# adversarial examples, with Gaussian-noise baselines) and Figure 7. Models, MNIST and the
# adversarial sets come from other DVC stages.
TRANSFER = {
    "table2": {
        "models": TABLE2_MODELS,
        "split": "train",
        "noise": config["transfer"]["table2_noise"],
        "title": "Table 2 — cross-model generalisation (training-set adversarials)",
    },
    "table4": {
        "models": TABLE4_MODELS,
        "split": "test",
        "noise": config["transfer"]["table4_noise"],
        "title": "Table 4 — cross-training-set generalisation (test-set adversarials)",
    },
}


def transfer_inputs(wildcards):
    """A table reads its models, their adversarial sets (Table 4: also the amplified ones)."""
    table = TRANSFER[wildcards.table]
    inputs = {
        "models": expand(MODEL_FILE, model=table["models"]),
        "sets": expand(ADVERSARIAL_SET, model=table["models"], split=table["split"]),
        "raw": RAW_FILES,
    }
    if wildcards.table == "table4":
        inputs["amplified"] = expand(AMPLIFIED_SET, model=table["models"])
    return inputs


rule transfer:
    """Every model's error on every model's adversarial set, and on Gaussian noise."""
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
    params:
        specs=lambda wildcards: model_specs(TRANSFER[wildcards.table]["models"]),
        noise=lambda wildcards: TRANSFER[wildcards.table]["noise"],
        title=lambda wildcards: TRANSFER[wildcards.table]["title"],
        seed=config["transfer"]["noise_seed"],
    threads: workflow.cores
    resources:
        mem_mb=2048,
        runtime=10,
    benchmark:
        f"{BENCHMARKS}/transfer/{{table}}.tsv"
    script:
        "../scripts/transfer.py"


rule figure7:
    """Originals beside their adversarials, and beside heavy Gaussian noise (Figure 7)."""
    input:
        models=expand(MODEL_FILE, model=config["transfer"]["figure7_models"]),
        sets=
            expand(ADVERSARIAL_SET, model=config["transfer"]["figure7_models"], split="train")
        ,
        raw=RAW_FILES,
    output:
        metrics=FIGURE7_METRICS,
        figure=report(
            FIGURE7_FIGURE, caption="../report/figure7.rst", category="Figure 7"
        ),
    params:
        specs=model_specs(config["transfer"]["figure7_models"]),
        noise=config["transfer"]["figure7_noise"],
        pairs=config["transfer"]["figure7_pairs"],
        seed=config["transfer"]["noise_seed"],
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    script:
        "../scripts/figure7.py"


rule all_transfer:
    input:
        expand(TRANSFER_METRICS, table=TRANSFER_TABLES),
        expand(TRANSFER_PLOT_DATA, table=TRANSFER_TABLES),
        expand(TRANSFER_FIGURE, table=TRANSFER_TABLES),
        FIGURE7_METRICS,
        FIGURE7_FIGURE,
