# Paths and helpers shared by the rules. Every output path of the workflow is defined here.
from intriguing.mnist import FILES as MNIST_FILES
from intriguing.params import model_options
from intriguing.spectral_analysis import ALEXNETS

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
REPORT_MD = "reports/report.md"
REPORT_HTML = "reports/report.html"
BENCHMARKS = "reports/benchmarks"


def spectral_inputs(wildcards):
    """An MNIST network reads its checkpoint (made by the train stage, hence ancient); an
    AlexNet its local weights file, when params.yaml names one."""
    if wildcards.network in ALEXNETS:
        weights = ALEXNET_WEIGHTS[wildcards.network]
        return {"weights": weights} if weights else {}
    return {"model": ancient(MODEL_FILE.format(model=wildcards.network))}


wildcard_constraints:
    model="|".join(config["models"]),
    split="train|test",
    network="|".join([*ALEXNETS, *config["models"]]),


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
