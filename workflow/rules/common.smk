# Paths and helpers shared by the rules. Every output path of the workflow is defined here.
from intriguing.data.mnist import FILES as MNIST_FILES
from intriguing.plan.params import model_options
from intriguing.plan.specs import ALEXNETS, UNITS_FIGURE_KINDS

RAW_FILES = expand("data/raw/{name}", name=MNIST_FILES)
SPLIT = "data/processed/split.npz"
TRAIN_MODELS = config["train"]["models"]
MODEL_FILE = "models/{model}.pt"
TRAIN_METRICS = "reports/metrics/train/{model}.json"
TABLE2_MODELS = config["adversarial"]["table2_models"]
TABLE4_MODELS = config["adversarial"]["table4_models"]
ADVERSARIAL_SET = "data/adversarial/{model}_{split}.pt"
ADVERSARIAL_METRICS = "reports/metrics/adversarial/{model}_{split}.json"
AMPLIFIED_SET = "data/adversarial/{model}_test_amplified.pt"
AMPLIFIED_METRICS = "reports/metrics/adversarial/{model}_test_amplified.json"
# every attacked set, as "{model}_{split}"
ADVERSARIAL_SETS = [f"{m}_train" for m in TABLE2_MODELS] + [f"{m}_test" for m in TABLE4_MODELS]
ADVERSARIAL_EXAMPLES = "reports/figures/adversarial/{set}_examples.png"
DISTORTION_HISTOGRAM = "reports/figures/adversarial/distortions.png"
DISTORTION_PLOT_DATA = "reports/plots/adversarial/distortions.csv"
# Transfer of adversarial examples (Tables 2 and 4) and Figure 7.
# a table needs attacked models: table2 <- adversarial.table2_models, table4 <- table4_models
TRANSFER_TABLES = [
    table for table, models in (("table2", TABLE2_MODELS), ("table4", TABLE4_MODELS)) if models
]
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
    "alexnet_torchvision": config["spectral"]["alexnet_weights"],
    "alexnet_original": config["spectral"]["alexnet_original_weights"],
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
# Observed gains of the adversarial perturbations against the frame bounds (beyond the paper).
INSTABILITY_METRICS = "reports/metrics/instability/{model}.json"
INSTABILITY_FIGURE = "reports/figures/instability/{model}.png"
REPORT_MD = "reports/report.md"
REPORT_HTML = "reports/report.html"
BENCHMARKS = "reports/benchmarks"


def spectral_inputs(wildcards):
    """An MNIST network reads its checkpoint (made by the train stage); an
    AlexNet its local weights file, when params.yaml names one."""
    if wildcards.network in ALEXNETS:
        weights = ALEXNET_WEIGHTS[wildcards.network]
        return {"weights": weights} if weights else {}
    return {"model": MODEL_FILE.format(model=wildcards.network)}


wildcard_constraints:
    model="|".join(config["models"]),
    split="train|test",
    table="table2|table4",
    network="|".join([*ALEXNETS, *config["models"]]),


def model_specs(models):
    """The registry entries of `models`, which a job needs to load their checkpoints."""
    return {name: config["models"][name] for name in models}


def train_options(wildcards):
    """One model's training settings (without the model list, so adding a model does not
    retrain the others)."""
    return model_options(SETTINGS["train"], wildcards.model)


# Adversarial training (Section 4.2): one checkpoint and metrics file per (model, seed).
# Checkpoints live outside models/ (the train stage's DVC output; DVC outputs must not nest).
ADVTRAIN_MODELS = config["advtrain"]["models"]
ADVTRAIN_SEEDS = SETTINGS["advtrain"]["seeds"]
ADVTRAIN_MODEL = "models_advtrain/{model}_seed{seed}.pt"
ADVTRAIN_RUN = "reports/metrics/advtrain/{model}_seed{seed}.json"
ADVTRAIN_ROBUSTNESS = "reports/metrics/advtrain/{model}_seed{seed}_robustness.json"
ADVTRAIN_SUMMARY = "reports/metrics/advtrain.json"
ADVTRAIN_FIGURE = "reports/figures/advtrain/test_error.png"
