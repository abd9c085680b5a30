# Paths and helpers shared by the rules. Every output path of the workflow is defined here.
from intriguing.mnist import FILES as MNIST_FILES
from intriguing.params import model_options

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
REPORT_MD = "reports/report.md"
REPORT_HTML = "reports/report.html"
BENCHMARKS = "reports/benchmarks"


wildcard_constraints:
    model="|".join(config["models"]),
    split="train|test",


def train_options(wildcards):
    """One model's training settings (without the model list, so adding a model does not
    retrain the others)."""
    return model_options(SETTINGS["train"], wildcards.model)
