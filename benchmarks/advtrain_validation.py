"""Tune adversarial training (Section 4.2) on a validation split, never on the test set.

    uv run python benchmarks/advtrain_validation.py n100_wd --set epochs=60
    uv run python benchmarks/advtrain_validation.py n100_adv_input \\
        --set pool.mix_ratio=0.5 --set pool.distortion_scale=0.5 --weight-decay 1e-3

Trains one advtrain model (params.yaml's registry entry and `advtrain` settings at the default
profile's scale, overridden by --set key=value in YAML syntax and --weight-decay) on a seeded
50000 of the 60000 training images, with the other 10000 held out, exactly as the `advtrain`
rule trains (intriguing.advtrain.runs.fit), and prints one Markdown row: train, validation and test
error, attack and total seconds. The settings in params.yaml were chosen by the validation
error of such runs (docs/advtrain.md); the test error is printed for the record.
MNIST comes from data/raw, else $MNIST_DIR (default ../shared/mnist).
"""

from __future__ import annotations

import argparse
import copy
import time
from pathlib import Path
from typing import Any

import torch
import yaml
from machine import mnist_source

from intriguing.advtrain.runs import fit, test_tensors
from intriguing.common.runtime import configure_threads
from intriguing.data import mnist
from intriguing.plan.params import resolve_profile
from intriguing.train.evaluation import count_errors
from intriguing.train.models import ModelSpec

ROOT = Path(__file__).resolve().parents[1]
VALIDATION_IMAGES = 10000
SPLIT_SEED = 12345


def override(settings: dict[str, Any], assignment: str) -> None:
    """Apply one dotted `key=value` (the value parsed as YAML) to the settings in place."""
    key, _, text = assignment.partition("=")
    *parents, leaf = key.split(".")
    node = settings
    for parent in parents:
        node = node[parent]
    if leaf not in node:
        raise SystemExit(f"--set {assignment}: no setting {key!r}; known: {sorted(node)}")
    node[leaf] = yaml.safe_load(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model of advtrain.models")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--weight-decay", type=float, help="λ of every layer")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    configure_threads(args.threads)
    params = resolve_profile(
        {**yaml.safe_load((ROOT / "params.yaml").read_text()), "profile": "default"}
    )
    if args.model not in params["advtrain"]["models"]:
        raise SystemExit(f"{args.model!r} is not in advtrain.models {params['advtrain']['models']}")
    settings = copy.deepcopy(
        {key: value for key, value in params["advtrain"].items() if key != "models"}
    )
    settings["decay_reading"] = params["train"]["decay_reading"]
    for assignment in args.set:
        override(settings, assignment)
    spec_params = dict(params["models"][args.model])
    if args.weight_decay is not None:
        spec_params["weight_decay"] = [args.weight_decay] * len(spec_params["weight_decay"])
    spec = ModelSpec.from_params(args.model, spec_params)

    data = mnist.load_mnist(mnist_source(ROOT, pipeline_copy_first=True))
    x = mnist.to_tensor(data.train_images)
    y = torch.from_numpy(data.train_labels.astype("int64"))
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(SPLIT_SEED))
    train, validation = order[VALIDATION_IMAGES:], order[:VALIDATION_IMAGES]
    pool_levels = settings["pool_levels"].get(args.model)
    started = time.perf_counter()
    model, result = fit(
        spec, settings, pool_levels, args.seed, (x[train], y[train]), (x[validation], y[validation])
    )
    seconds = time.perf_counter() - started
    x_test, y_test = test_tensors(data, None, torch.device("cpu"))
    errors = {
        "train": count_errors(model, x[train], y[train]) / len(train),
        "validation": count_errors(model, x[validation], y[validation]) / len(validation),
        "test": count_errors(model, x_test, y_test) / len(y_test),
    }
    changes = ", ".join(args.set + ([f"λ={args.weight_decay:g}"] if args.weight_decay else []))
    cells = [args.model, changes or "params.yaml", str(args.seed)]
    cells += [f"{value:.2%}" for value in errors.values()]
    cells += [f"{result.attack_wall_seconds:.0f}", f"{seconds:.0f}"]
    print("| model | changes | seed | train | validation | test | attack s | total s |")
    print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
