# DVC stage `spectral`: frame bounds (Table 5) of both AlexNet forms and of the MNIST models.
# The MNIST checkpoints are made by the `train` stage (see spectral_inputs).


rule spectral:
    """Lower and upper frame bounds of every conv and linear layer of one network, and a plot."""
    input:
        unpack(spectral_inputs),
    output:
        metrics=SPECTRAL_METRICS,
        figure=report(
            SPECTRAL_FIGURE,
            caption="../report/spectral.rst",
            category="Table 5: frame bounds",
            subcategory="{network}",
        ),
    log:
        "logs/spectral/{network}.log",
    benchmark:
        f"{BENCHMARKS}/spectral/{{network}}.tsv"
    # The AlexNets' SVDs use every core; an MNIST model's bounds take well under a second.
    threads: lambda wildcards: JOB_THREADS if wildcards.network in ALEXNETS else 1
    resources:
        mem_mb=4096,
        runtime=30,
        gpu=int(USES_GPU),
    params:
        spec=lambda wildcards: config["models"].get(wildcards.network),
        options=SPECTRAL_OPTIONS,
        seed=config["seed"],
        device=config["device"],
        profile=config["profile"],
    script:
        "../scripts/spectral/spectral.py"


rule all_spectral:
    input:
        expand(SPECTRAL_METRICS, network=SPECTRAL_NETWORKS),
        expand(SPECTRAL_FIGURE, network=SPECTRAL_NETWORKS),
