# Paths and helpers shared by the rules. Every output path of the workflow is defined here.
from intriguing.mnist import FILES as MNIST_FILES

RAW_FILES = expand("data/raw/{name}", name=MNIST_FILES)
SPLIT = "data/processed/split.npz"
TRAIN_MODELS = config["train"]["models"]
# Training settings without the model list, so adding a model does not retrain the others.
TRAIN_OPTIONS = {k: v for k, v in SETTINGS["train"].items() if k != "models"}
MODEL_FILE = "models/{model}.pt"
TRAIN_METRICS = "reports/metrics/train/{model}.json"
REPORT_MD = "reports/report.md"
REPORT_HTML = "reports/report.html"
BENCHMARKS = "reports/benchmarks"


wildcard_constraints:
    model="|".join(config["models"]),
