# DVC stage `train`: every model of `train.models`, trained and evaluated; the models of
# `train.replicated_models` once per replicate (a `{model}` here is a network, common.smk).


rule train:
    """Train one registry model on its training set (full-batch L-BFGS, optional Adam warm start)."""
    input:
        raw=RAW_FILES,
        split=SPLIT,
    output:
        model=MODEL_FILE,
    log:
        "logs/train/{model}.log",
    benchmark:
        f"{BENCHMARKS}/train/{{model}}.tsv"
    threads: JOB_THREADS
    resources:
        mem_mb=4096,
        runtime=60,
        gpu=int(USES_GPU),
    params:
        model=network_model,
        replicate=network_replicate,
        spec=network_spec,
        options=train_options,
        train_limit=SETTINGS["data"]["train_limit"],
        seed=config["seed"],
        device=config["device"],
    script:
        "../scripts/train/train.py"


rule evaluate:
    """Train/test (and P1/P2) error of one model, with 95% Wilson intervals."""
    input:
        model=MODEL_FILE,
        raw=RAW_FILES,
        split=SPLIT,
    output:
        metrics=TRAIN_METRICS,
    log:
        "logs/evaluate/{model}.log",
    benchmark:
        f"{BENCHMARKS}/evaluate/{{model}}.tsv"
    threads: JOB_THREADS
    resources:
        mem_mb=4096,
        runtime=10,
        gpu=int(USES_GPU),
    params:
        model=network_model,
        replicate=network_replicate,
        spec=network_spec,
        train_limit=SETTINGS["data"]["train_limit"],
        test_limit=SETTINGS["data"]["test_limit"],
        device=config["device"],
    script:
        "../scripts/train/evaluate.py"


rule filters:
    """The first-layer filters of an autoencoder model (AE400), drawn as 28×28 images."""
    input:
        model=MODEL_FILE,
    output:
        figure=report(FILTERS_FIGURE, caption="../report/filters.rst", category="Table 1: models"),
    log:
        "logs/filters/{model}.log",
    threads: 1
    resources:
        mem_mb=1024,
        runtime=5,
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
    script:
        "../scripts/train/filters.py"


rule all_train:
    input:
        expand(MODEL_FILE, model=TRAIN_NETWORKS),
        expand(TRAIN_METRICS, model=TRAIN_NETWORKS),
        expand(FILTERS_FIGURE, model=FILTER_MODELS),
