# DVC stage `readings`: the cheap alternatives of the ledger of readings
# (src/intriguing/reference/readings.yaml), run so that the report can set them beside the
# paper. MNIST and the split come from the data stage.


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
        "../scripts/decay_reading.py"


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
        "../scripts/decay_readings.py"


rule all_readings:
    input:
        DECAY_READINGS_SUMMARY,
