# DVC stage `adversarial`: minimal-distortion adversarial sets (Section 4.1) and Table 4's
# amplified sets, for every network (a replicated model's replicates too; common.smk). Models
# and MNIST come from other DVC stages.


rule adversarial:
    """Box-constrained L-BFGS with a search over c, per example, on a split's sampled originals."""
    input:
        model=MODEL_FILE,
        raw=RAW_FILES,
    output:
        set=ADVERSARIAL_SET,
        metrics=ADVERSARIAL_METRICS,
    log:
        "logs/adversarial/{model}_{split}.log",
    benchmark:
        f"{BENCHMARKS}/adversarial/{{model}}_{{split}}.tsv"
    threads: JOB_THREADS
    resources:
        mem_mb=4096,
        runtime=120,
        gpu=int(USES_GPU),
    params:
        model=network_model,
        spec=network_spec,
        samples=lambda wildcards: SETTINGS["adversarial"][f"{wildcards.split}_samples"],
        policy=config["adversarial"]["target_policy"],
        seed=config["adversarial"]["seed"],
        attack=config["adversarial"]["attack"],
        device=config["device"],
    script:
        "../scripts/adversarial/adversarial.py"


rule amplify:
    """Table 4's adversarials amplified to distortion 0.1, and by the factor 0.1/0.06."""
    input:
        set=ADVERSARIAL_SET.replace("{split}", "test"),
        raw=RAW_FILES,
    output:
        set=AMPLIFIED_SET,
        metrics=AMPLIFIED_METRICS,
        factor_set=AMPLIFIED_FACTOR_SET,
        factor_metrics=AMPLIFIED_FACTOR_METRICS,
    log:
        "logs/amplify/{model}.log",
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    params:
        stddev=config["adversarial"]["amplify_stddev"],
        factor=config["adversarial"]["amplify_factor"],
    script:
        "../scripts/adversarial/amplify.py"


rule adversarial_figures:
    """Example grids (original, difference ×10, adversarial) and distortion histograms."""
    input:
        sets=[ADVERSARIAL_SET.replace("{model}_{split}", name) for name in ADVERSARIAL_SETS],
        raw=RAW_FILES,
    output:
        examples=report(
            expand(ADVERSARIAL_EXAMPLES, set=ADVERSARIAL_SETS),
            caption="../report/adversarial_examples.rst",
            category="Adversarial examples",
        ),
        histogram=report(
            DISTORTION_HISTOGRAM,
            caption="../report/distortions.rst",
            category="Adversarial examples",
        ),
        plot_data=DISTORTION_PLOT_DATA,
    log:
        "logs/adversarial_figures.log",
    threads: 1
    resources:
        mem_mb=2048,
        runtime=10,
    params:
        sets=ADVERSARIAL_SETS,
        examples=config["adversarial"]["figure_examples"],
    script:
        "../scripts/adversarial/adversarial_figures.py"


rule all_adversarial:
    input:
        rules.adversarial_figures.output,
        expand(ADVERSARIAL_SET, model=ATTACKED_NETWORKS["train"], split="train"),
        expand(ADVERSARIAL_METRICS, model=ATTACKED_NETWORKS["train"], split="train"),
        expand(ADVERSARIAL_SET, model=ATTACKED_NETWORKS["test"], split="test"),
        expand(ADVERSARIAL_METRICS, model=ATTACKED_NETWORKS["test"], split="test"),
        expand(AMPLIFIED_SET, model=ATTACKED_NETWORKS["test"]),
        expand(AMPLIFIED_METRICS, model=ATTACKED_NETWORKS["test"]),
