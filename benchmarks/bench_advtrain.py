"""Wall time of adversarial training (Section 4.2) per model, per device, at a profile's settings.

    uv run python benchmarks/bench_advtrain.py                      # default profile, CPU (+GPU)
    uv run python benchmarks/bench_advtrain.py --profile smoke --models n100_adv_layers

Reads params.yaml and MNIST from $MNIST_DIR (default ../shared/mnist); trains each model of
`advtrain.models` with the first seed of the profile in this process (no Snakemake, no
robustness attack), so the times are those of training alone. Prints a Markdown table with the
machine's load (os.getloadavg: on a shared CPU the times stretch with it) and writes it to
benchmarks/results/advtrain-<profile>.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from pathlib import Path

import torch
import yaml
from machine import mnist_source

from intriguing.advtrain.runs import fit, test_tensors
from intriguing.common.files import write_text
from intriguing.common.runtime import configure_threads, device_description
from intriguing.core import mnist
from intriguing.core.evaluation import count_errors
from intriguing.core.fit import train_tensors
from intriguing.core.models import ModelSpec
from intriguing.data import fetch
from intriguing.plan.params import advtrain_run_settings, check_params, resolve_profile

ROOT = Path(__file__).resolve().parents[1]


def load() -> str:
    return "/".join(f"{value:.1f}" for value in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default", choices=["smoke", "default", "full"])
    parser.add_argument("--models", nargs="*", help="registry names (default: advtrain.models)")
    parser.add_argument("--devices", nargs="*", default=None, help="cpu and/or cuda")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the rule uses 1)")
    args = parser.parse_args()

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["profile"] = args.profile
    check_params(params)
    settings = resolve_profile(params)
    advtrain = settings["advtrain"]
    names = args.models or advtrain["models"]
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    configure_threads(args.threads)
    data = mnist.load_mnist(mnist_source(ROOT))
    seed = advtrain["seeds"][0]
    p1, p2 = fetch.stratified_halves(data.train_labels, settings["data"]["split_seed"])
    split = {"p1": p1, "p2": p2}

    rows = []
    for device_name in devices:
        device = torch.device(device_name)
        test = test_tensors(data, settings["data"]["test_limit"], device)
        for name in names:
            spec = ModelSpec.from_params(name, params["models"][name])
            limit = settings["data"]["train_limit"]
            train = train_tensors(data, split, spec.train_set, limit, device)
            levels = advtrain["pool_levels"].get(name)
            load_before = load()
            started = time.perf_counter()
            run_settings = advtrain_run_settings(settings, name)  # as rule `advtrain` gets them
            model, result = fit(spec, run_settings, levels, seed, train)
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - started
            test_error = count_errors(model, *test) / len(test[1])
            rows.append(
                f"| {name} | {levels or '—'} | {device_description(device)} | "
                f"{run_settings['epochs']} | {result.steps} | {seconds:.1f} | "
                f"{result.attack_wall_seconds:.1f} | {test_error * 100:.2f}% | "
                f"{load_before} → {load()} |"
            )
            print(rows[-1], flush=True)
    header = (
        "| model | pool levels | device | epochs | steps | seconds | of which attacks "
        "| test error | load avg 1/5/15 min (before → after) |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    table = "\n".join([header, *rows])
    machine = f"{platform.machine()} {platform.processor()}, {os.cpu_count()} cores"
    text = (
        f"# Adversarial-training benchmark, profile `{args.profile}`\n\n"
        f"Machine: {machine}; torch threads per run: {args.threads}; seed {seed}; "
        f"pool size {advtrain['pool_size']} per level.\n\n{table}\n"
    )
    write_text(ROOT / "benchmarks" / "results" / f"advtrain-{args.profile}.md", text)
    print(text)


if __name__ == "__main__":
    main()
