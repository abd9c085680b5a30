"""Adversarial-training runs (Section 4.2): options, training, per-run and per-model summaries.

One run is one (model, seed): the model is trained by
:func:`intriguing.advtrain.pool.train_with_pool` (with a pool when ``advtrain.pool_levels``
names the model, else as a baseline), evaluated once on the test set, and then attacked on a
seeded sample of test images with the pipeline's standard attack (its mean minimal distortion:
is it harder to fool?) and fed the Table 2 adversarial sets of the other models (its error on
them). The summary gathers every run into ``reports/metrics/advtrain.json`` (mean and spread
over seeds, and the paired differences between models by seed) and plots the training curves.
"""

from __future__ import annotations

import statistics
from typing import Any

import torch

from intriguing.advtrain.pool import (
    AdvTrainOptions,
    AdvTrainResult,
    PoolOptions,
    train_with_pool,
)
from intriguing.common import files
from intriguing.common.runtime import (
    seed_everything,
)
from intriguing.common.stats import mean_interval
from intriguing.core import mnist
from intriguing.core.evaluation import count_errors
from intriguing.core.models import (
    Classifier,
    ModelSpec,
    build_model,
)


def kind(spec: ModelSpec, pool_levels: list[int] | None) -> str:
    """What a run compares with in the paper (a key of paper.yaml's `adversarial_training`),
    decided by its settings rather than its name: `adversarial_pool` with a pool, else
    `dropout` with dropout, else `weight_decay_only`."""
    if pool_levels:
        return "adversarial_pool"
    return "dropout" if spec.dropout > 0 or spec.input_dropout > 0 else "weight_decay_only"


def advtrain_options(
    settings: dict[str, Any], pool_levels: list[int] | None, seed: int
) -> AdvTrainOptions:
    """The training options of one run from the resolved `advtrain` settings."""
    pool = None
    if pool_levels:
        pool = PoolOptions(
            levels=tuple(pool_levels),
            size=settings["pool_size"],
            attack=dict(settings["pool"]["attack"]),
            **{key: value for key, value in settings["pool"].items() if key != "attack"},
        )
    return AdvTrainOptions(
        epochs=settings["epochs"],
        adam_lr=settings["adam_lr"],
        final_lr=settings["final_lr"],
        batch_size=settings["batch_size"],
        decay_reading=settings["decay_reading"],
        seed=seed,
        pool=pool,
    )


def test_tensors(
    data: mnist.Mnist, limit: int | None, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first `limit` test images (all when None) and their labels, on `device`."""
    x = mnist.to_tensor(data.test_images[:limit]).to(device)
    y = torch.from_numpy(data.test_labels[:limit].astype("int64")).to(device)
    return x, y


def fit(
    spec: ModelSpec,
    settings: dict[str, Any],
    pool_levels: list[int] | None,
    seed: int,
    train: tuple[torch.Tensor, torch.Tensor],
    validation: tuple[torch.Tensor, torch.Tensor] | None = None,
) -> tuple[Classifier, AdvTrainResult]:
    """Build a model from `seed` and train it on the device of `train`; with a `validation`
    set (held out of the training images, never the test set), record its error after every
    epoch."""
    seed_everything(seed)
    model = build_model(spec).to(train[0].device)
    monitor = None
    if validation is not None:
        x_validation, y_validation = validation

        def monitor(current: torch.nn.Module) -> dict[str, float]:
            wrong = count_errors(current, x_validation, y_validation)
            return {"validation_error": wrong / len(y_validation)}

    options = advtrain_options(settings, pool_levels, seed)
    return model, train_with_pool(model, spec, *train, options, monitor=monitor)


def pool_summary(refreshes: list[dict[str, Any]]) -> dict[str, Any]:
    """Per level: refreshes, adversarials made, mean success rate and mean distortion."""
    levels: dict[str, dict[str, Any]] = {}
    for refresh in refreshes:
        for level, stats in refresh["levels"].items():
            entry = levels.setdefault(level, {"refreshes": 0, "attacked": 0})
            entry["refreshes"] += 1
            entry["attacked"] += stats["attacked"]
            entry.setdefault("success_rates", []).append(stats["success_rate"])
            entry.setdefault("distortions", []).append(stats["mean_distortion"])
    return {
        level: {
            "refreshes": entry["refreshes"],
            "attacked": entry["attacked"],
            "mean_success_rate": statistics.fmean(entry["success_rates"]),
            "mean_distortion": statistics.fmean(entry["distortions"]),
            "last_distortion": entry["distortions"][-1],
        }
        for level, entry in levels.items()
    }


def summarize_model(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    """One model's entry of advtrain.json from its (run, robustness) metrics, one per seed."""
    runs = [run for run, _ in pairs]
    robustness = [entry for _, entry in pairs]
    errors = [run["test_error"] for run in runs]
    distortions = [entry["mean_min_distortion"] for entry in robustness]
    transfer_models = robustness[0]["transfer_error"]
    return {
        "kind": runs[0]["kind"],
        "architecture": runs[0]["architecture"],
        "pool_levels": runs[0]["pool_levels"],
        "seeds": [run["seed"] for run in runs],
        "epochs": runs[0]["epochs"],
        "test_n": runs[0]["test_n"],
        "test_errors": errors,
        "test_error_mean": statistics.fmean(errors),
        "test_error_std": statistics.stdev(errors) if len(errors) > 1 else 0.0,
        "test_error_mean_ci95": list(mean_interval(errors)),
        "train_error_mean": statistics.fmean(run["train_error"] for run in runs),
        "mean_min_distortions": distortions,
        "mean_min_distortion": statistics.fmean(distortions),
        "attack_success_rate": statistics.fmean(entry["success_rate"] for entry in robustness),
        "transfer_error": {
            model: statistics.fmean(entry["transfer_error"][model] for entry in robustness)
            for model in transfer_models
        },
    }


def paired_differences(summary: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per model, its paired test-error difference to every other model: (this − other) over
    the seeds both ran, each pair sharing its seed (initial weights, minibatch order), with the
    mean, the standard deviation and a 95% t-interval of the mean difference. An interval that
    excludes zero separates the two models beyond the seed-to-seed spread."""
    by_seed = {
        model: dict(zip(entry["seeds"], entry["test_errors"], strict=True))
        for model, entry in summary.items()
    }
    differences: dict[str, dict[str, Any]] = {}
    for model, errors in by_seed.items():
        differences[model] = {}
        for other, other_errors in by_seed.items():
            seeds = sorted(set(errors) & set(other_errors))
            if other == model or not seeds:
                continue
            values = [errors[seed] - other_errors[seed] for seed in seeds]
            differences[model][other] = {
                "seeds": seeds,
                "differences": values,
                "mean": statistics.fmean(values),
                "std": statistics.stdev(values) if len(values) > 1 else 0.0,
                "ci95": list(mean_interval(values)),
            }
    return differences


def plot_curves(runs: dict[str, list[dict[str, Any]]], path: str) -> None:
    """Training loss per epoch (clean and pool entries, decay included), mean over seeds
    (band: min to max), one line per model: where each run levelled off."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(6.5, 4.0), layout="constrained")
    for model, model_runs in runs.items():
        if not model_runs:
            continue
        epochs = [row["epoch"] for row in model_runs[0]["curve"]]
        losses = [[row["loss"] for row in run["curve"]] for run in model_runs]
        by_epoch = list(zip(*losses, strict=True))
        mean = [statistics.fmean(values) for values in by_epoch]
        (line,) = axes.plot(epochs, mean, marker="o", markersize=2, label=model)
        axes.fill_between(
            epochs,
            [min(values) for values in by_epoch],
            [max(values) for values in by_epoch],
            color=line.get_color(),
            alpha=0.15,
        )
    axes.set_xlabel("epoch")
    axes.set_ylabel("training loss")
    axes.set_yscale("log")
    axes.xaxis.get_major_locator().set_params(integer=True)
    axes.set_title("Training loss per epoch: mean over seeds, band from min to max", fontsize=10)
    axes.grid(True, alpha=0.3)
    axes.legend()
    with files.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
    plt.close(figure)
