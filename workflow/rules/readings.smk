# DVC stage `readings`: the cheap alternatives of the ledger of readings
# (src/intriguing/reference/readings.yaml), run so that the report can set them beside the
# paper. MNIST and the split come from the data stage; the default AE400's errors from the train
# stage.


rule decay_reading:
    """Refit one softmax model under each weight-decay reading; errors, exact distortion, noise."""
    input:
        raw=RAW_FILES,
        split=SPLIT,
    output:
        metrics=DECAY_READING_METRICS,
    log:
        "logs/decay_reading/{model}.log",
    benchmark:
        f"{BENCHMARKS}/readings/{{model}}.tsv"
    threads: JOB_THREADS
    resources:
        mem_mb=4096,
        runtime=30,
        gpu=int(USES_GPU),
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
        readings=DECAY_READINGS,
        options=train_options,
        limits={
            "train_limit": SETTINGS["data"]["train_limit"],
            "test_limit": SETTINGS["data"]["test_limit"],
            "samples": SETTINGS["adversarial"]["train_samples"],
        },
        seed=config["seed"],
        attack={
            "seed": config["adversarial"]["seed"],
            "target_policy": config["adversarial"]["target_policy"],
        },
        noise={
            "stddevs": config["transfer"]["table2_noise"],
            "figure7": config["transfer"]["figure7_noise"],
            "seed": config["transfer"]["noise_seed"],
        },
        device=config["device"],
    script:
        "../scripts/readings/decay_reading.py"


rule decay_readings:
    """Every model × decay reading, beside the paper's numbers."""
    input:
        models=expand(DECAY_READING_METRICS, model=DECAY_MODELS),
    output:
        metrics=DECAY_READINGS_SUMMARY,
    log:
        "logs/decay_readings.log",
    threads: 1
    resources:
        mem_mb=512,
        runtime=5,
    params:
        default=config["train"]["decay_reading"],
        noise_stddevs=config["transfer"]["table2_noise"],
        figure7_noise=config["transfer"]["figure7_noise"],
    script:
        "../scripts/readings/decay_readings.py"


rule ae400_variant:
    """Refit AE400 with one variant's options (readings.ae400_variants); its errors."""
    input:
        raw=RAW_FILES,
        split=SPLIT,
    output:
        metrics=AE400_VARIANT_METRICS,
    log:
        "logs/ae400_variant/{variant}.log",
    benchmark:
        f"{BENCHMARKS}/readings/ae400_{{variant}}.tsv"
    threads: JOB_THREADS
    resources:
        mem_mb=4096,
        runtime=30,
        gpu=int(USES_GPU),
    params:
        base=config["models"]["ae400"],
        overrides=lambda wildcards: AE400_VARIANTS[wildcards.variant],
        options=model_options(SETTINGS["train"], "ae400"),
        limits={
            "train_limit": SETTINGS["data"]["train_limit"],
            "test_limit": SETTINGS["data"]["test_limit"],
        },
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/readings/ae400_variant.py"


rule ae400_variants:
    """The default AE400 (train stage), every variant, and the paper's Table 1 row."""
    input:
        default=TRAIN_METRICS.format(model="ae400"),
        variants=expand(AE400_VARIANT_METRICS, variant=AE400_VARIANTS),
    output:
        metrics=AE400_VARIANTS_SUMMARY,
    log:
        "logs/ae400_variants.log",
    threads: 1
    resources:
        mem_mb=512,
        runtime=5,
    script:
        "../scripts/readings/ae400_variants.py"


rule all_readings:
    input:
        DECAY_READINGS_SUMMARY,
        AE400_VARIANTS_SUMMARY,
