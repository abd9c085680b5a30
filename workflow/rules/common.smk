# Paths and helpers shared by the rules. Every output path of the workflow is defined here.
from intriguing.mnist import FILES as MNIST_FILES
from intriguing.params import model_options

RAW_FILES = expand("data/raw/{name}", name=MNIST_FILES)
SPLIT = "data/processed/split.npz"
TRAIN_MODELS = config["train"]["models"]
MODEL_FILE = "models/{model}.pt"
TRAIN_METRICS = "reports/metrics/train/{model}.json"
REPORT_MD = "reports/report.md"
REPORT_HTML = "reports/report.html"
BENCHMARKS = "reports/benchmarks"


wildcard_constraints:
    model="|".join(config["models"]),


def train_options(wildcards):
    """One model's training settings (without the model list, so adding a model does not
    retrain the others)."""
    return model_options(SETTINGS["train"], wildcards.model)
