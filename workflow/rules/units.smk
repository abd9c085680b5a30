# DVC stage `units`: units of φ vs random directions (Section 3, Figures 1-2), made quantitative.
# The models come from the `train` stage and MNIST from the `data` stage.


def units_inputs(wildcards):
    """The analysed model, MNIST, and the model whose features judge coherence (if any)."""
    inputs = {"model": MODEL_FILE.format(model=wildcards.model), "raw": RAW_FILES}
    other = config["units"]["feature_models"].get(wildcards.model)
    if other is not None:
        inputs["feature_model"] = MODEL_FILE.format(model=other)
    return inputs


def units_figures(model):
    """The three figures of one network, by kind (natural, random, coherence)."""
    return {kind: UNITS_FIGURE.format(model=model, kind=kind) for kind in UNITS_FIGURE_KINDS}


UNITS_OPTIONS = {
    key: config["units"][key]
    for key in (
        "top_k",
        "random_directions",
        "rows_shown",
        "seed",
        "alpha",
        "bootstrap_resamples",
    )
}


rule units:
    """Figures 1-2 and the test: top-k images of each unit of φ and of random directions."""
    input:
        unpack(units_inputs),
    output:
        metrics=UNITS_METRICS,
        **units_figures("{model}"),
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
    threads: 1
    resources:
        mem_mb=2048,
        runtime=20,
    benchmark:
        f"{BENCHMARKS}/units/{{model}}.tsv"
    script:
        "../scripts/units.py"


if UNITS_IMAGEFOLDER:

    rule units_imagefolder:
        """The same analysis on a torchvision classifier over the user's ImageFolder."""
        input:
            root=config["units"]["imagefolder"]["root"],
            **(
                {"weights": config["units"]["imagefolder"]["weights"]}
                if config["units"]["imagefolder"]["weights"]
                else {}
            ),
        output:
            metrics=UNITS_METRICS.format(model="imagefolder"),
            **units_figures("imagefolder"),
        params:
            imagefolder=config["units"]["imagefolder"],
            images=SETTINGS["units"]["imagefolder_images"],
            options=UNITS_OPTIONS,
            device=config["device"],
            profile=config["profile"],
        threads: workflow.cores
        resources:
            mem_mb=8192,
            runtime=120,
        benchmark:
            f"{BENCHMARKS}/units/imagefolder.tsv"
        script:
            "../scripts/units_imagefolder.py"


rule units_summary:
    """Every network's statistics and verdict in one JSON (the DVC metrics file)."""
    input:
        expand(UNITS_METRICS, model=UNITS_NETWORKS),
    output:
        UNITS_SUMMARY,
    params:
        profile=config["profile"],
    threads: 1
    resources:
        mem_mb=512,
        runtime=5,
    script:
        "../scripts/units_summary.py"


rule all_units:
    input:
        UNITS_SUMMARY,
        [path for network in UNITS_NETWORKS for path in units_figures(network).values()],
