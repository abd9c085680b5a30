"""Wall time of training every model of the zoo, per device, at a profile's settings.

    uv run python benchmarks/bench_training.py                      # default profile, CPU (+GPU)
    uv run python benchmarks/bench_training.py --profile smoke --models softmax1 n100

Reads params.yaml and MNIST from $MNIST_DIR (default ../shared/mnist); trains in this process
(no Snakemake), so the times exclude process start-up. Prints a Markdown table and writes it,
with the machine's description, to benchmarks/results/training-<profile>.md.
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

from intriguing.common.files import write_text
from intriguing.common.runtime import configure_threads
from intriguing.core import mnist
from intriguing.core.evaluation import count_errors
from intriguing.core.fit import fit_model
from intriguing.core.models import ModelSpec
from intriguing.data import fetch
from intriguing.plan.params import check_params, model_options, resolve_profile

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="default", choices=["smoke", "default", "full"])
    parser.add_argument("--models", nargs="*", help="registry names (default: train.models)")
    parser.add_argument("--devices", nargs="*", default=None, help="cpu and/or cuda")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["profile"] = args.profile
    check_params(params)
    settings = resolve_profile(params)
    names = args.models or settings["train"]["models"]
    devices = args.devices or ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    configure_threads(args.threads)

    data = mnist.load_mnist(mnist_source(ROOT))
    p1, p2 = fetch.stratified_halves(data.train_labels, settings["data"]["split_seed"])
    split = {"p1": p1, "p2": p2}
    test_x = mnist.to_tensor(data.test_images)
    test_y = torch.from_numpy(data.test_labels.astype("int64"))

    rows = []
    for device_name in devices:
        device = torch.device(device_name)
        for name in names:
            spec = ModelSpec.from_params(name, params["models"][name])
            started = time.perf_counter()
            model, provenance = fit_model(
                spec,
                data,
                split,
                model_options(settings["train"], name),
                settings["data"]["train_limit"],
                0,
                device,
            )
            if device.type == "cuda":
                torch.cuda.synchronize()
            seconds = time.perf_counter() - started
            test_error = count_errors(model, test_x.to(device), test_y.to(device)) / len(test_y)
            rows.append(
                f"| {name} | {provenance['device']} | {provenance['train_n']} | "
                f"{provenance['adam_steps']} | {provenance['lbfgs_iterations']} | "
                f"{provenance['stop_reason']} | {seconds:.1f} | {test_error * 100:.2f}% |"
            )
            print(rows[-1], flush=True)
    header = (
        "| model | device | train images | Adam steps | L-BFGS iterations | stop | seconds "
        "| test error |\n|---|---|---|---|---|---|---|---|"
    )
    table = "\n".join([header, *rows])
    machine = f"{platform.machine()} {platform.processor()}, {args.threads} threads"
    text = f"# Training benchmark, profile `{args.profile}`\n\nMachine: {machine}\n\n{table}\n"
    write_text(ROOT / "benchmarks" / "results" / f"training-{args.profile}.md", text)
    print(text)


if __name__ == "__main__":
    main()
