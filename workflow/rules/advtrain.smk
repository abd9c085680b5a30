# DVC stage `advtrain`: adversarial training with a pool of adversarial examples (Section 4.2)
# beside baselines trained by the same loop, budget and seeds. MNIST, the split and the Table 2
# adversarial sets come from other DVC stages.


rule advtrain:
    """Train one advtrain model with one seed (a pool if pool_levels names it); its errors."""
    input:
        raw=RAW_FILES,
        split=SPLIT,
    output:
        model=ADVTRAIN_MODEL,
        metrics=ADVTRAIN_RUN,
    log:
        "logs/advtrain/{model}_seed{seed}.log",
    benchmark:
        f"{BENCHMARKS}/advtrain/{{model}}_seed{{seed}}.tsv"
    # Small minibatches and per-example attacks: one thread per run, runs side by side.
    threads: 1
    resources:
        mem_mb=3072,
        runtime=120,
        gpu=int(USES_GPU),
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
        settings=advtrain_settings,
        pool_levels=lambda wildcards: config["advtrain"]["pool_levels"].get(wildcards.model),
        train_limit=SETTINGS["data"]["train_limit"],
        test_limit=SETTINGS["data"]["test_limit"],
        device=config["device"],
    script:
        "../scripts/advtrain/advtrain.py"


rule advtrain_robustness:
    """One run's mean minimal distortion on test images and its error on the Table 2 sets."""
    input:
        model=ADVTRAIN_MODEL,
        raw=RAW_FILES,
        transfer=expand(ADVERSARIAL_SET, model=TABLE2_MODELS, split="train"),
    output:
        ADVTRAIN_ROBUSTNESS,
    log:
        "logs/advtrain_robustness/{model}_seed{seed}.log",
    benchmark:
        f"{BENCHMARKS}/advtrain/{{model}}_seed{{seed}}_robustness.tsv"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=30,
        gpu=int(USES_GPU),
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
        samples=SETTINGS["advtrain"]["robustness_samples"],
        policy=config["adversarial"]["target_policy"],
        seed=config["adversarial"]["seed"],
        attack=config["adversarial"]["attack"],
        device=config["device"],
    script:
        "../scripts/advtrain/advtrain_robustness.py"


rule advtrain_summary:
    """Mean and spread over seeds per model (advtrain.json); the test-error-per-epoch figure."""
    input:
        runs=expand(ADVTRAIN_RUN, model=ADVTRAIN_MODELS, seed=ADVTRAIN_SEEDS),
        robustness=expand(ADVTRAIN_ROBUSTNESS, model=ADVTRAIN_MODELS, seed=ADVTRAIN_SEEDS),
    output:
        summary=ADVTRAIN_SUMMARY,
        figure=ADVTRAIN_FIGURE,
    log:
        "logs/advtrain_summary.log",
    threads: 1
    resources:
        mem_mb=1024,
        runtime=10,
    params:
        models=ADVTRAIN_MODELS,
    script:
        "../scripts/advtrain/advtrain_summary.py"


rule all_advtrain:
    input:
        expand(ADVTRAIN_MODEL, model=ADVTRAIN_MODELS, seed=ADVTRAIN_SEEDS),
        ADVTRAIN_SUMMARY,
        ADVTRAIN_FIGURE,
