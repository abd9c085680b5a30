# DVC stage `units`: units of φ vs random directions (Section 3, Figures 1-2), made quantitative.
# The models come from the `train` stage and MNIST from the `data` stage.


rule units:
    """Figures 1-2 and the test: top-k images of each unit of φ and of random directions."""
    input:
        unpack(units_inputs),
    output:
        **units_figures("{model}"),
        metrics=UNITS_METRICS,
    log:
        "logs/units/{model}.log",
    benchmark:
        f"{BENCHMARKS}/units/{{model}}.tsv"
    threads: 1
    resources:
        mem_mb=2048,
        runtime=20,
        gpu=int(USES_GPU),
    params:
        spec=lambda wildcards: config["models"][wildcards.model],
        feature_model=lambda wildcards: config["units"]["feature_models"].get(wildcards.model),
        feature_spec=lambda wildcards: config["models"].get(
            config["units"]["feature_models"].get(wildcards.model)
        ),
        test_images=SETTINGS["units"]["test_images"],
        options=UNITS_OPTIONS,
        device=config["device"],
        profile=config["profile"],
    script:
        "../scripts/units/units.py"


if UNITS_IMAGEFOLDER:

    rule units_imagefolder:
        """The same analysis on a torchvision classifier over the user's ImageFolder."""
        input:
            **(
                {"weights": PROJECT_PATHS["units.imagefolder.weights"]}
                if PROJECT_PATHS["units.imagefolder.weights"]
                else {}
            ),
            root=PROJECT_PATHS["units.imagefolder.root"],
        output:
            **units_figures("imagefolder"),
            metrics=UNITS_METRICS.format(model="imagefolder"),
        log:
            "logs/units_imagefolder.log",
        benchmark:
            f"{BENCHMARKS}/units/imagefolder.tsv"
        threads: JOB_THREADS
        resources:
            mem_mb=8192,
            runtime=120,
            gpu=int(USES_GPU),
        params:
            imagefolder=config["units"]["imagefolder"],
            images=SETTINGS["units"]["imagefolder_images"],
            options=UNITS_OPTIONS,
            device=config["device"],
            profile=config["profile"],
        script:
            "../scripts/units/units_imagefolder.py"


rule units_summary:
    """Every network's statistics and verdict in one JSON (the DVC metrics file)."""
    input:
        expand(UNITS_METRICS, model=UNITS_NETWORKS),
    output:
        UNITS_SUMMARY,
    log:
        "logs/units_summary.log",
    threads: 1
    resources:
        mem_mb=512,
        runtime=5,
    params:
        profile=config["profile"],
    script:
        "../scripts/units/units_summary.py"


rule all_units:
    input:
        UNITS_SUMMARY,
        [path for network in UNITS_NETWORKS for path in units_figures(network).values()],
