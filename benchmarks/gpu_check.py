"""One prepared check for a GPU machine's short lease: the CUDA path proved, paper scale timed.

    uv run python benchmarks/gpu_check.py                        # a CUDA machine: the whole check
    uv run python benchmarks/gpu_check.py --device cpu --small   # the same code paths, ~1 min
    PYTHONPATH=src:benchmarks python3 benchmarks/gpu_check.py    # where python3 has torch, no uv

Steps, each a child process under the one deadline (`--budget`, 450 s by default, so that the
check ends before 8 minutes, keeping whatever it measured by then):

1. `tests`: the tests marked `cuda` (tests/cuda) on the device: every torch job's model and data
   on it, its files loadable on a CPU-only machine, deterministic repeats identical, the device
   agreeing with the CPU within stated tolerances.
2. `train`: the zoo trained to convergence at paper scale (all 60000 training images; the
   default profile's settings: the tolerance rules stop each model, the budgets are caps).
3. `attack`: the attack on all 60000 training images of N200 (the model step 2 trained), in
   params.yaml's batches for the device (`adversarial.attack.batch_size`: 16384 on CUDA), or
   `--attack-batch`.

It writes `--output` (benchmarks/results/gpu.md; with --small, under benchmarks/results/small/)
with the device's name, every figure and the command. `--small` cuts the data to 2000 training
images, 200 attacked originals and two models; tests/workflow/test_gpu_check.py runs it so that
the script cannot rot. MNIST is read from $MNIST_DIR (default ../shared/mnist).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODELS = ["softmax1", "softmax2", "softmax3", "n100", "n200", "ae400", "m1", "m1p", "m2", "conv"]
SMALL_MODELS = ["softmax1", "n200"]
#: Seconds kept back from the budget for writing the results file.
MARGIN = 10


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    parser.add_argument("--small", action="store_true", help="tiny data: the code paths only")
    parser.add_argument("--budget", type=float, default=450.0, help="seconds for all steps")
    parser.add_argument(
        "--attack-batch", type=int, default=None, help="default: params.yaml's, per device"
    )
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--worker", choices=["train", "attack"], help=argparse.SUPPRESS)
    parser.add_argument("--model", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        result = (train_worker if args.worker == "train" else attack_worker)(args)
        print("RESULT " + json.dumps(result), flush=True)
        return 0
    return run_check(args)


def run_check(args: argparse.Namespace) -> int:
    """The parent: each step a child process with the time left, then the results file."""
    deadline = time.monotonic() + args.budget - MARGIN
    output = args.output or ROOT / "benchmarks" / "results" / (
        "small/gpu.md" if args.small else "gpu.md"
    )
    started = time.monotonic()
    sections = {"tests": run_tests(args, deadline)}
    trained: list[dict] = []
    with tempfile.TemporaryDirectory() as workdir:
        for name in SMALL_MODELS if args.small else MODELS:
            trained.append(child(args, deadline, "train", name, Path(workdir)))
        sections["train"] = trained
        n200 = next((r for r in trained if r.get("model") == "n200" and r.get("ok")), None)
        sections["attack"] = (
            child(args, deadline, "attack", "n200", Path(workdir))
            if n200
            else {"ok": False, "why": "no trained n200 (step 2 did not finish it)"}
        )
    sections["wall_seconds"] = time.monotonic() - started
    write_results(output, args, sections)
    print(f"gpu_check: wrote {output}")
    failed = sections["tests"].get("failed", 0) or not sections["tests"].get("ok")
    return 1 if failed else 0


def remaining(deadline: float) -> float:
    return deadline - time.monotonic()


def child_env(args: argparse.Namespace) -> dict[str, str]:
    """The children's environment: the library importable without an install, the device."""
    paths = [str(ROOT / "src"), str(ROOT / "benchmarks"), os.environ.get("PYTHONPATH", "")]
    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        "INTRIGUING_TEST_DEVICE": args.device,
        "PYTHONUNBUFFERED": "1",
    }


def run_tests(args: argparse.Namespace, deadline: float) -> dict:
    """Step 1: pytest on tests/cuda, with the device; its summary line and counts."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/cuda"]
    started = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=child_env(args),
            capture_output=True,
            text=True,
            timeout=max(1.0, min(remaining(deadline), 180.0)),
        )
    except subprocess.TimeoutExpired:
        return {
            "ok": False,
            "why": "stopped at the time budget",
            "seconds": time.monotonic() - started,
        }
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    summary = lines[-1] if lines else done.stderr.strip()[-300:]
    counts = {
        word: int(number)
        for number, word in (
            part.split()[:2] for part in summary.strip("= ").split(", ") if part[:1].isdigit()
        )
    }
    return {
        "ok": done.returncode == 0,
        "summary": summary,
        "failed": counts.get("failed", 0),
        "passed": counts.get("passed", 0),
        "skipped": counts.get("skipped", 0),
        "seconds": time.monotonic() - started,
        "output": done.stdout[-4000:] if done.returncode else "",
    }


def child(args: argparse.Namespace, deadline: float, worker: str, model: str, workdir: Path):
    """One worker in its own process, killed at the deadline; its RESULT line, or why not."""
    left = remaining(deadline)
    if left < 5:
        return {"model": model, "ok": False, "why": "not started: the time budget was spent"}
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--worker",
        worker,
        "--model",
        model,
        "--device",
        args.device,
        "--workdir",
        str(workdir),
    ]
    command += ["--small"] if args.small else []
    command += ["--attack-batch", str(args.attack_batch)] if args.attack_batch else []
    started = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=ROOT, env=child_env(args), capture_output=True, text=True, timeout=left
        )
    except subprocess.TimeoutExpired:
        return {
            "model": model,
            "ok": False,
            "why": f"stopped at the time budget after {time.monotonic() - started:.0f} s",
        }
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return {"ok": True, **json.loads(line[len("RESULT ") :])}
    return {"model": model, "ok": False, "why": done.stderr.strip()[-500:] or "no result"}


def settings_and_data(args: argparse.Namespace):
    """params.yaml at the default profile (paper-scale data), MNIST, the P1/P2 split."""
    import yaml
    from machine import mnist_source

    from intriguing.core import mnist
    from intriguing.data import fetch
    from intriguing.plan.params import check_params, resolve_profile

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["profile"] = "default"
    check_params(params)
    settings = resolve_profile(params)
    if args.small:
        settings["data"]["train_limit"] = 2000
    data = mnist.load_mnist(mnist_source(ROOT))
    p1, p2 = fetch.stratified_halves(data.train_labels, settings["data"]["split_seed"])
    return params, settings, data, {"p1": p1, "p2": p2}


def synchronize(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def train_worker(args: argparse.Namespace) -> dict:
    """Step 2, one model: trained to convergence on the device; the model saved for step 3."""
    import torch

    from intriguing.common.runtime import configure_job, device_description, select_device
    from intriguing.core import mnist
    from intriguing.core.evaluation import count_errors
    from intriguing.core.fit import fit_model
    from intriguing.core.models import ModelSpec, save_checkpoint
    from intriguing.plan.params import model_options

    configure_job(os.cpu_count() or 1)
    params, settings, data, split = settings_and_data(args)
    device = select_device(args.device)
    spec = ModelSpec.from_params(args.model, params["models"][args.model])
    options = model_options(settings["train"], args.model)
    started = time.perf_counter()
    model, provenance = fit_model(
        spec, data, split, options, settings["data"]["train_limit"], params["seed"], device
    )
    synchronize(device)
    seconds = time.perf_counter() - started
    save_checkpoint(args.workdir / f"{args.model}.pt", model, spec, provenance)
    test_x = mnist.to_tensor(data.test_images).to(device)
    test_y = torch.from_numpy(data.test_labels.astype("int64")).to(device)
    return {
        "model": args.model,
        "device": device_description(device),
        "train_n": provenance["train_n"],
        "adam_steps": provenance["adam_steps"],
        "lbfgs_iterations": provenance["lbfgs_iterations"],
        "stop_reason": provenance["stop_reason"],
        "seconds": seconds,
        "test_error": count_errors(model, test_x, test_y) / len(test_y),
    }


def attack_worker(args: argparse.Namespace) -> dict:
    """Step 3: the attack on all training images (200 with --small) of the trained N200."""
    from intriguing.common.runtime import configure_job, select_device
    from intriguing.core.attack import batch_size_on
    from intriguing.core.models import ModelSpec, load_checkpoint
    from intriguing.core.sets import attack, originals

    configure_job(os.cpu_count() or 1)
    params, _, data, _ = settings_and_data(args)
    device = select_device(args.device)
    spec = ModelSpec.from_params(args.model, params["models"][args.model])
    model, _ = load_checkpoint(args.workdir / f"{args.model}.pt", spec, device)
    model.requires_grad_(False)
    samples = 200 if args.small else None
    _, x, labels = originals(data, "train", samples, params["adversarial"]["seed"])
    options = dict(params["adversarial"]["attack"])
    options["batch_size"] = args.attack_batch or batch_size_on(options["batch_size"], device)
    started = time.perf_counter()
    result = attack(
        model,
        x.to(device),
        labels.to(device),
        params["adversarial"]["target_policy"],
        params["adversarial"]["seed"],
        options,
    )
    synchronize(device)
    seconds = time.perf_counter() - started
    success = result.success.cpu()
    return {
        "model": args.model,
        "n": len(success),
        "batch_size": options["batch_size"],
        "success_rate": float(success.float().mean()),
        "mean_distortion": float(result.distortion.cpu()[success].mean()),
        "seconds": seconds,
        "examples_per_second": len(success) / seconds,
    }


def write_results(output: Path, args: argparse.Namespace, sections: dict) -> None:
    """The results page: the machine, each step's figures, the command that made them."""
    import torch

    from intriguing.common.files import write_text

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    command = (
        "uv run python benchmarks/gpu_check.py"
        + (f" --device {args.device}" if args.device != "cuda" else "")
        + (" --small" if args.small else "")
    )
    tests = sections["tests"]
    lines = [
        "# GPU check" + (" (--small: code paths only, not paper scale)" if args.small else ""),
        "",
        f"Made by `{command}` (benchmarks/gpu_check.py) on {time.strftime('%Y-%m-%d')}.",
        "",
        f"- device: `{args.device}`; GPU: {gpu}; torch {torch.__version__}; "
        f"{platform.machine()}, {os.cpu_count()} CPUs",
        f"- budget {args.budget:.0f} s; the whole check took {sections['wall_seconds']:.0f} s",
        "",
        "## 1. Tests marked `cuda` (tests/cuda)",
        "",
        f"{'passed' if tests.get('ok') else 'NOT passed'}: "
        f"{tests.get('summary') or tests.get('why')} ({tests.get('seconds', 0):.0f} s)",
    ]
    if tests.get("output"):
        lines += ["", "```", tests["output"], "```"]
    lines += [
        "",
        "## 2. The zoo trained to convergence (default profile's settings, "
        + ("2000 training images)" if args.small else "all 60000 training images)"),
        "",
        "| model | device | n | Adam steps | L-BFGS iterations | stop reason | wall s "
        "| test error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in sections["train"]:
        if row.get("ok"):
            lines.append(
                f"| {row['model']} | {row['device']} | {row['train_n']} | {row['adam_steps']} | "
                f"{row['lbfgs_iterations']} | {row['stop_reason']} | {row['seconds']:.1f} | "
                f"{row['test_error'] * 100:.2f}% |"
            )
        else:
            lines.append(f"| {row['model']} | — | — | — | — | {row['why']} | — | — |")
    attacked = sections["attack"]
    lines += ["", "## 3. The attack on N200's training images", ""]
    if attacked.get("ok"):
        lines.append(
            f"{attacked['n']} originals, batch {attacked['batch_size']}: "
            f"{attacked['seconds']:.1f} s ({attacked['examples_per_second']:.0f} examples/s), "
            f"success {attacked['success_rate'] * 100:.2f}%, "
            f"mean distortion {attacked['mean_distortion']:.4f}."
        )
    else:
        lines.append(f"Not measured: {attacked['why']}")
    output.parent.mkdir(parents=True, exist_ok=True)
    write_text(output, "\n".join(lines) + "\n")


if __name__ == "__main__":
    sys.exit(main())
