"""Tune adversarial training (Section 4.2) on a validation split, never on the test set.

    uv run python benchmarks/advtrain_validation.py n100_wd --set epochs=60
    uv run python benchmarks/advtrain_validation.py n100_dropout \\
        --spec dropout=0.1 --spec input_dropout=0.1 --spec max_norm=3
    uv run python benchmarks/advtrain_validation.py n100_adv_input \\
        --set pool.mix_ratio=0.5 --set pool.distortion_scale=0.5 --weight-decay 1e-4

Trains one advtrain model (params.yaml's registry entry and `advtrain` settings at the default
profile's scale, overridden by --set key=value for the settings, --spec key=value for the
registry entry, both in YAML syntax, and --weight-decay for λ of every layer) on a seeded 50000
of the 60000 training images, with the other 10000 held out, exactly as the `advtrain` rule
trains (intriguing.advtrain.runs.fit), and prints one Markdown row: train and validation error,
attack and total seconds. Every setting of the stage was chosen by the validation error of such
runs (docs/advtrain.md); the test set is not read. MNIST comes from data/raw, else $MNIST_DIR
(default ../shared/mnist).
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

from intriguing.advtrain.runs import fit
from intriguing.common.runtime import configure_threads
from intriguing.core import mnist
from intriguing.core.evaluation import count_errors
from intriguing.core.models import ModelSpec
from intriguing.plan.params import advtrain_run_settings, resolve_profile

ROOT = Path(__file__).resolve().parents[1]
VALIDATION_IMAGES = 10000
SPLIT_SEED = 12345


def parse_value(text: str) -> Any:
    """A YAML value, with numbers like 3e-3 (a string to YAML 1.1) read as floats."""
    value = yaml.safe_load(text)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def override(settings: dict[str, Any], assignment: str) -> None:
    """Apply one dotted `key=value` (the value parsed as YAML) to the settings in place."""
    key, _, text = assignment.partition("=")
    *parents, leaf = key.split(".")
    node = settings
    for parent in parents:
        node = node[parent]
    if leaf not in node:
        raise SystemExit(f"--set {assignment}: no setting {key!r}; known: {sorted(node)}")
    node[leaf] = parse_value(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model of advtrain.models")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--spec", action="append", default=[], metavar="KEY=VALUE")
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
    settings = copy.deepcopy(advtrain_run_settings(params, args.model))
    for assignment in args.set:
        override(settings, assignment)
    spec_params = dict(params["models"][args.model])
    for assignment in args.spec:
        key, _, text = assignment.partition("=")
        spec_params[key] = parse_value(text)
    if args.weight_decay is not None:
        spec_params["weight_decay"] = [args.weight_decay] * len(spec_params["weight_decay"])
    spec = ModelSpec.from_params(args.model, spec_params)

    data = mnist.load_mnist(mnist_source(ROOT, pipeline_copy_first=True))
    x = mnist.to_tensor(data.train_images)
    y = torch.from_numpy(data.train_labels.astype("int64"))
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(SPLIT_SEED))
    train, validation = order[VALIDATION_IMAGES:], order[:VALIDATION_IMAGES]
    pool_levels = params["advtrain"]["pool_levels"].get(args.model)
    started = time.perf_counter()
    model, result = fit(
        spec, settings, pool_levels, args.seed, (x[train], y[train]), (x[validation], y[validation])
    )
    seconds = time.perf_counter() - started
    errors = {
        "train": count_errors(model, x[train], y[train]) / len(train),
        "validation": count_errors(model, x[validation], y[validation]) / len(validation),
    }
    changes = ", ".join(
        args.set + args.spec + ([f"λ={args.weight_decay:g}"] if args.weight_decay else [])
    )
    cells = [args.model, changes or "params.yaml", str(args.seed)]
    cells += [f"{value:.2%}" for value in errors.values()]
    cells += [f"{result.attack_wall_seconds:.0f}", f"{seconds:.0f}"]
    print("| model | changes | seed | train | validation | attack s | total s |")
    print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
