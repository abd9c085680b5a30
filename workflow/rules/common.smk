# Paths, settings and input functions shared by the rules. Every output path of the workflow is
# defined here; the other .smk files hold only rules, as `snakemake --lint` asks.
from intriguing.core.mnist import FILES as MNIST_FILES
from intriguing.plan.machine import project_path, uses_gpu
from intriguing.plan.params import advtrain_run_settings, model_options
from intriguing.plan.choices import DECAY_READINGS
from intriguing.plan.specs import (
    ALEXNETS,
    REPLICATE_SUFFIX,
    UNITS_FIGURE_KINDS,
    replicate_members,
    replicate_names,
    split_replicate,
)

# Threads of the rules whose torch work uses every core it gets (training, the attack, the
# AlexNets' SVDs). A fixed count, so that no command needs --cores to plan (--dag, --unlock):
# Snakemake lowers it to --cores on a smaller machine, and a cluster job asks for this many.
JOB_THREADS = 8
# Whether the torch rules' jobs run on a GPU here (`device: cuda`, or `auto` with CUDA
# available): each then takes one unit of the `gpu` resource, which the workflow profile caps
# (profiles/default: one GPU; `--resources gpu=2` for two), else none, so CPU jobs run side by
# side. The SLURM profile gives those rules `gpu: 1` whatever the login node has.
USES_GPU = uses_gpu(config["device"])
# The files and directories params.yaml names, by key (None where null): a relative path is
# relative to the project root, and given to the jobs relative to where they run (the same
# path, unless `--directory` runs the workflow elsewhere); check_machine has checked them.
PROJECT_PATHS = {
    key: project_path(value, workflow.basedir)
    for key, value in {
        "data.mnist_dir": config["data"]["mnist_dir"],
        "spectral.alexnet_weights": config["spectral"]["alexnet_weights"],
        "spectral.alexnet_original_weights": config["spectral"]["alexnet_original_weights"],
        "units.imagefolder.root": config["units"]["imagefolder"]["root"],
        "units.imagefolder.weights": config["units"]["imagefolder"]["weights"],
    }.items()
}

# Data: the four MNIST files and the P1/P2 split.
RAW_FILES = expand("data/raw/{name}", name=MNIST_FILES)
SPLIT = "data/processed/split.npz"
# Training (Table 1).
TRAIN_MODELS = config["train"]["models"]
# Replicates: the models of train.replicated_models trained from REPLICATES seeds. A `{model}`
# wildcard of the train, adversarial and amplify rules is a network: a model's name (replicate
# 0) or `<model>_rep<r>` (intriguing.plan.specs.replicate_name).
REPLICATED_MODELS = config["train"]["replicated_models"]
REPLICATES = SETTINGS["train"]["replicates"]
TRAIN_NETWORKS = replicate_names(TRAIN_MODELS, REPLICATED_MODELS, REPLICATES)
MODEL_FILE = "models/{model}.pt"
TRAIN_METRICS = "reports/metrics/train/{model}.json"
# the first-layer filters of the autoencoder models (the paper's "high quality" AE400 filters)
FILTER_MODELS = [m for m in TRAIN_MODELS if config["models"][m]["arch"] == "autoencoder"]
FILTERS_FIGURE = "reports/figures/train/{model}_filters.png"
# Adversarial sets (Section 4.1) and Table 4's amplified ones.
TABLE2_MODELS = config["adversarial"]["table2_models"]
TABLE4_MODELS = config["adversarial"]["table4_models"]
ADVERSARIAL_SET = "data/adversarial/{model}_{split}.pt"
ADVERSARIAL_METRICS = "reports/metrics/adversarial/{model}_{split}.json"
# Table 4's two amplifications (one `amplify` job per model makes both): every example to
# distortion adversarial.amplify_stddev, and every perturbation ×adversarial.amplify_factor.
AMPLIFIED_SET = "data/adversarial/{model}_test_amplified.pt"
AMPLIFIED_METRICS = "reports/metrics/adversarial/{model}_test_amplified.json"
AMPLIFIED_FACTOR_SET = "data/adversarial/{model}_test_amplified_factor.pt"
AMPLIFIED_FACTOR_METRICS = "reports/metrics/adversarial/{model}_test_amplified_factor.json"
# every attacked set, as "{model}_{split}"; ATTACKED_NETWORKS also the replicates'
ADVERSARIAL_SETS = [f"{m}_train" for m in TABLE2_MODELS] + [f"{m}_test" for m in TABLE4_MODELS]
ATTACKED_NETWORKS = {
    split: replicate_names(models, REPLICATED_MODELS, REPLICATES)
    for split, models in (("train", TABLE2_MODELS), ("test", TABLE4_MODELS))
}
ADVERSARIAL_EXAMPLES = "reports/figures/adversarial/{set}_examples.png"
DISTORTION_HISTOGRAM = "reports/figures/adversarial/distortions.png"
DISTORTION_PLOT_DATA = "reports/plots/adversarial/distortions.csv"
# Transfer of adversarial examples (Tables 2 and 4) and Figure 7.
# a table needs attacked models: table2 <- adversarial.table2_models, table4 <- table4_models
TRANSFER_TABLES = [
    table for table, models in (("table2", TABLE2_MODELS), ("table4", TABLE4_MODELS)) if models
]
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
TRANSFER_METRICS = "reports/metrics/transfer/{table}.json"
TRANSFER_PLOT_DATA = "reports/plots/transfer/{table}.csv"
TRANSFER_FIGURE = "reports/figures/transfer/{table}.png"
FIGURE7_METRICS = "reports/metrics/transfer/figure7.json"
FIGURE7_FIGURE = "reports/figures/transfer/figure7.png"
# Spectral analysis (Table 5): the two AlexNet forms, then the MNIST models of spectral.mnist_models.
SPECTRAL_NETWORKS = [*ALEXNETS, *config["spectral"]["mnist_models"]]
SPECTRAL_METRICS = "reports/metrics/spectral/{network}.json"
SPECTRAL_FIGURE = "reports/figures/spectral/{network}.png"
# What a spectral job reads from the `spectral` settings (shared and scale keys) besides its
# inputs: the model list picks the jobs, the weights files are inputs (spectral_inputs).
SPECTRAL_OPTIONS = {
    key: value
    for key, value in SETTINGS["spectral"].items()
    if key in ("download_weights", "alexnet_input_size", "linear_svd_max_weights")
}
ALEXNET_WEIGHTS = {
    "alexnet_torchvision": PROJECT_PATHS["spectral.alexnet_weights"],
    "alexnet_original": PROJECT_PATHS["spectral.alexnet_original_weights"],
}
# Unit analysis (Section 3): per network its statistics and three figures (FIGURE_KINDS), and
# the merged statistics; "imagefolder" is the torchvision/ImageFolder variant, on when a root
# is set.
UNITS_MODELS = config["units"]["models"]
UNITS_IMAGEFOLDER = config["units"]["imagefolder"]["root"] is not None
UNITS_NETWORKS = [*UNITS_MODELS, *(["imagefolder"] if UNITS_IMAGEFOLDER else [])]
UNITS_METRICS = "reports/metrics/units/{model}.json"
UNITS_FIGURE = "reports/figures/units/{model}_{kind}.png"
UNITS_SUMMARY = "reports/metrics/units.json"
UNITS_OPTIONS = {
    key: config["units"][key]
    for key in ("top_k", "random_directions", "rows_shown", "seed", "alpha", "bootstrap_resamples")
}
# Observed gains of the adversarial perturbations against the frame bounds (beyond the paper),
# for the models with frame bounds and an adversarial set: Table 2's on training images, Table
# 4's on test images.
INSTABILITY_SPLITS = {
    model: [
        split
        for split, attacked in (("train", TABLE2_MODELS), ("test", TABLE4_MODELS))
        if model in attacked
    ]
    for model in config["spectral"]["mnist_models"]
}
INSTABILITY_MODELS = [model for model, splits in INSTABILITY_SPLITS.items() if splits]
INSTABILITY_METRICS = "reports/metrics/instability/{model}.json"
INSTABILITY_FIGURE = "reports/figures/instability/{model}.png"
# Adversarial training (Section 4.2): one checkpoint and metrics file per (model, seed).
# Checkpoints live outside models/ (the train stage's DVC output; DVC outputs must not nest).
ADVTRAIN_MODELS = config["advtrain"]["models"]
ADVTRAIN_SEEDS = SETTINGS["advtrain"]["seeds"]
ADVTRAIN_MODEL = "models_advtrain/{model}_seed{seed}.pt"
ADVTRAIN_RUN = "reports/metrics/advtrain/{model}_seed{seed}.json"
ADVTRAIN_ROBUSTNESS = "reports/metrics/advtrain/{model}_seed{seed}_robustness.json"
ADVTRAIN_SUMMARY = "reports/metrics/advtrain.json"
ADVTRAIN_FIGURE = "reports/figures/advtrain/training_loss.png"
# The ledger's cheap alternatives: the softmax models refitted under each weight-decay reading.
DECAY_MODELS = config["readings"]["decay_models"]
DECAY_READING_METRICS = "reports/metrics/readings/decay/{model}.json"
DECAY_READINGS_SUMMARY = "reports/metrics/readings/decay.json"
AE400_VARIANTS = config["readings"]["ae400_variants"]
AE400_VARIANT_METRICS = "reports/metrics/readings/ae400/{variant}.json"
AE400_VARIANTS_SUMMARY = "reports/metrics/readings/ae400.json"
# The reproduction report; its headline metrics (the one DVC metrics file); the run record
# (machine, GPU, each rule's wall time from the jobs' `benchmark` files), which DVC does not
# track: it differs from run to run.
REPORT_MD = "reports/report.md"
REPORT_HTML = "reports/report.html"
HEADLINE = "reports/metrics/headline.json"
RUN_RECORD = "reports/run_record.md"
BENCHMARKS = "reports/benchmarks"


wildcard_constraints:
    model=f"(?:{'|'.join(config['models'])})(?:{REPLICATE_SUFFIX}[1-9][0-9]*)?",
    split="train|test",
    table="table2|table4",
    network="|".join([*ALEXNETS, *config["models"]]),
    seed=r"\d+",


def model_specs(models):
    """The registry entries of `models`, which a job needs to load their checkpoints."""
    return {name: config["models"][name] for name in models}


def network_model(wildcards):
    """The registry model a `{model}` wildcard's network is a replicate of."""
    return split_replicate(wildcards.model)[0]


def network_replicate(wildcards):
    """Which replicate of its model a `{model}` wildcard's network is (0: the model's own)."""
    return split_replicate(wildcards.model)[1]


def network_spec(wildcards):
    """The registry entry of a `{model}` wildcard's network."""
    return config["models"][network_model(wildcards)]


def train_options(wildcards):
    """One model's training settings (without the model list, so adding a model does not
    retrain the others)."""
    return model_options(SETTINGS["train"], network_model(wildcards))


def transfer_members(table):
    """Per replicate, each of a transfer table's models' network (plan.specs.replicate_members)."""
    return replicate_members(TRANSFER[table]["models"], REPLICATED_MODELS, REPLICATES)


def transfer_inputs(wildcards):
    """A table reads, replicate after replicate, its models' networks and their adversarial sets
    (Table 4: also both amplified ones)."""
    table = TRANSFER[wildcards.table]
    networks = [n for members in transfer_members(wildcards.table) for n in members.values()]
    inputs = {
        "models": expand(MODEL_FILE, model=networks),
        "sets": expand(ADVERSARIAL_SET, model=networks, split=table["split"]),
        "raw": RAW_FILES,
    }
    if wildcards.table == "table4":
        inputs["amplified"] = expand(AMPLIFIED_SET, model=networks)
        inputs["amplified_factor"] = expand(AMPLIFIED_FACTOR_SET, model=networks)
    return inputs


def spectral_inputs(wildcards):
    """An MNIST network reads its checkpoint (made by the train stage); an
    AlexNet its local weights file, when params.yaml names one."""
    if wildcards.network in ALEXNETS:
        weights = ALEXNET_WEIGHTS[wildcards.network]
        return {"weights": weights} if weights else {}
    return {"model": MODEL_FILE.format(model=wildcards.network)}


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


def advtrain_settings(wildcards):
    """The run's training settings (intriguing.plan.params.advtrain_run_settings)."""
    return advtrain_run_settings(SETTINGS, wildcards.model)
