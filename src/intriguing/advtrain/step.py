"""Stage `advtrain`: one entry point per rule (`train` for rule `advtrain`, `robustness` for
`advtrain_robustness`, `summary` for `advtrain_summary`), called by workflow/scripts/<rule>.py
(docs/layout.md).
"""

from __future__ import annotations

import time
from typing import Any

from intriguing.advtrain.runs import (
    fit,
    kind,
    paired_differences,
    plot_curves,
    pool_summary,
    summarize_model,
    test_tensors,
)
from intriguing.common import files
from intriguing.common.progress import log_bookkeeping
from intriguing.common.runtime import configure_job, device_description, select_device
from intriguing.core import mnist
from intriguing.core.evaluation import count_errors, error_metrics
from intriguing.core.fit import train_tensors
from intriguing.core.models import ModelSpec, load_checkpoint, save_checkpoint
from intriguing.core.sets import attack, load_set, originals
from intriguing.core.sets import summary as attack_summary


def train(
    name: str,
    spec_params: dict[str, Any],
    settings: dict[str, Any],
    pool_levels: list[int] | None,
    seed: int,
    raw_files: list[str],
    split_path: str,
    train_limit: int | None,
    test_limit: int | None,
    device: str,
    threads: int,
    model_output: str,
    metrics_output: str,
) -> None:
    """Rule `advtrain`: train one (model, seed) on all its training images, save the checkpoint
    and its metrics; the test set is read once, by the final model."""
    configure_job(threads)
    target = select_device(device)
    spec = ModelSpec.from_params(name, spec_params)
    data = mnist.load_raw(raw_files)
    x, y = train_tensors(data, mnist.load_split(split_path), spec.train_set, train_limit, target)
    x_test, y_test = test_tensors(data, test_limit, target)
    model, result = fit(spec, settings, pool_levels, seed, (x, y))
    provenance = {
        "seed": seed,
        "train_n": len(x),
        "pool_levels": pool_levels,
        "options": dict(settings),
        **{key: value for key, value in result.to_dict().items() if key != "curve"},
    }
    log_bookkeeping(
        f"{name}, seed {seed}, trained",
        wall_seconds=result.wall_seconds,
        attack_wall_seconds=result.attack_wall_seconds,
        device=device_description(target),
    )
    save_checkpoint(model_output, model, spec, provenance)
    metrics = error_metrics(model, {"train": (x, y), "test": (x_test, y_test)})
    metrics.update(
        model=name,
        seed=seed,
        kind=kind(spec, pool_levels),
        architecture=spec.describe(),
        pool_levels=pool_levels,
        epochs=settings["epochs"],
        steps=result.steps,
        curve=result.curve,
        pool=pool_summary(result.refreshes),
    )
    files.write_json(metrics_output, metrics)


def robustness(
    name: str,
    spec_params: dict[str, Any],
    model_path: str,
    raw_files: list[str],
    transfer_sets: list[str],
    samples: int | None,
    policy: str,
    seed: int,
    attack_options: dict[str, Any],
    device: str,
    threads: int,
    output: str,
) -> None:
    """Rule `advtrain_robustness`: minimal distortion of the model's test adversarials, and its
    error on other models' adversarial sets (successful adversarials only)."""
    configure_job(threads)
    target = select_device(device)
    model, _ = load_checkpoint(model_path, ModelSpec.from_params(name, spec_params), target)
    model.requires_grad_(False)
    data = mnist.load_raw(raw_files)
    _, x, labels = originals(data, "test", samples, seed)
    started = time.perf_counter()
    result = attack(model, x.to(target), labels.to(target), policy, seed, attack_options)
    log_bookkeeping(
        f"{name}: test adversarials",
        wall_seconds=time.perf_counter() - started,
        device=device_description(target),
    )
    metrics = attack_summary(result, policy)
    metrics["mean_min_distortion"] = metrics.pop("mean_distortion")
    metrics["transfer_error"] = {}
    for path in transfer_sets:
        adversarial = load_set(path)
        keep = adversarial["success"]
        x_adv = adversarial["x_adv"][keep].to(target)
        wrong = count_errors(model, x_adv, adversarial["labels"][keep].to(target))
        metrics["transfer_error"][adversarial["model"]] = wrong / max(1, len(x_adv))
    files.write_json(output, metrics)


def summary(
    models: list[str],
    run_files: list[str],
    robustness_files: list[str],
    output: str,
    figure: str,
) -> None:
    """Rule `advtrain_summary`: mean and spread over seeds per model, the paired difference of
    each model to every other (`paired_difference`, by seed), and the curves' figure.

    `run_files` and `robustness_files` pair up in order; each run file names its model.
    """
    runs: dict[str, list[tuple[dict, dict]]] = {model: [] for model in models}
    for run_path, robustness_path in zip(run_files, robustness_files, strict=True):
        run = files.read_json(run_path)
        runs[run["model"]].append((run, files.read_json(robustness_path)))
    summary_by_model = {model: summarize_model(pairs) for model, pairs in runs.items() if pairs}
    for model, differences in paired_differences(summary_by_model).items():
        summary_by_model[model]["paired_difference"] = differences
    files.write_json(output, summary_by_model)
    plot_curves({model: [run for run, _ in pairs] for model, pairs in runs.items()}, figure)
