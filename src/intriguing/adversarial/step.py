"""Stage `adversarial`: one entry point per rule (`adversarial`, `amplify`, `figures` for rule
`adversarial_figures`), called by workflow/scripts/<rule>.py (docs/layout.md).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import torch

from intriguing.adversarial.figures import (
    MAGNIFICATION,
    histogram_rows,
    plot_examples,
    plot_histograms,
    successful_distortions,
)
from intriguing.common import files
from intriguing.common.progress import log_bookkeeping
from intriguing.common.runtime import configure_job, device_description, select_device
from intriguing.core import mnist
from intriguing.core.distortion import amplify as amplify_perturbation
from intriguing.core.exact import exact_minimal_distortion, linear_map
from intriguing.core.models import ModelSpec, load_checkpoint
from intriguing.core.sets import (
    attack,
    load_set,
    load_sets,
    originals,
    originals_tensor,
    save_set,
    shared_originals,
    summary,
)
from intriguing.reference import paper_reference


def adversarial(
    name: str,
    spec_params: dict[str, Any],
    model_path: str,
    raw_files: list[str],
    split: str,
    samples: int | None,
    policy: str,
    seed: int,
    options: dict[str, Any],
    device: str,
    threads: int,
    output_set: str,
    output_metrics: str,
) -> None:
    """Rule `adversarial`: attack one model on a split's sampled originals; save set + metrics."""
    configure_job(threads)
    target = select_device(device)
    model, _ = load_checkpoint(model_path, ModelSpec.from_params(name, spec_params), target)
    model.requires_grad_(False)
    data = mnist.load_raw(raw_files)
    indices, x, labels = originals(data, split, samples, seed)
    started = time.perf_counter()
    try:
        result = attack(model, x.to(target), labels.to(target), policy, seed, options)
    except FloatingPointError as error:  # the attack names the example and the step
        raise FloatingPointError(f"model {name}, {split} set: {error}") from error
    if target.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - started
    payload = {
        "model": name,
        "split": split,
        "indices": torch.from_numpy(indices),
        "labels": labels,
        "target": result.target.cpu(),
        "x_adv": result.x_adv.cpu(),
        "success": result.success.cpu(),
        "distortion": result.distortion.cpu(),
        "c": result.c.cpu(),
        "iterations": result.iterations.cpu(),
        "target_policy": policy,
    }
    save_set(output_set, payload)
    log_bookkeeping(
        f"{name}, {split} set attacked", wall_seconds=seconds, device=device_description(target)
    )
    metrics = summary(result, policy)
    affine = linear_map(model)
    if affine is not None:
        metrics["exact"] = exact_certificate(
            affine, x.to(target), result.target, result.success, result.distortion
        )
    files.write_json(output_metrics, metrics)


def exact_certificate(
    affine: tuple[torch.Tensor, torch.Tensor],
    x: torch.Tensor,
    targets: torch.Tensor,
    success: torch.Tensor,
    distortion: torch.Tensor,
) -> dict[str, Any]:
    """For a linear model: the exact minimal distortion toward the attack's own targets (a
    convex QP, `adversarial.exact`) and our attack's distortion beside it."""
    exact = exact_minimal_distortion(*affine, x, targets.to(x.device))
    both = (success.to(x.device) & exact.feasible).cpu()
    ours, best = distortion.double().cpu()[both], exact.distortion.cpu()[both]
    positive = best > 0
    return {
        "n": int(both.sum()),
        "unreachable": int((~exact.feasible).sum()),
        "mean_distortion": float(best.mean()) if len(best) else None,
        "attack_mean_distortion": float(ours.mean()) if len(ours) else None,
        "ratio_of_means": float(ours.mean() / best.mean()) if len(best) else None,
        "median_ratio": float((ours[positive] / best[positive]).median())
        if positive.any()
        else None,
        "max_ratio": float((ours[positive] / best[positive]).max()) if positive.any() else None,
        "max_relative_gap": float(
            ((exact.distortion - exact.lower_bound) / exact.distortion.clamp_min(1e-12))[
                exact.feasible
            ].max()
        )
        if exact.feasible.any()
        else None,
    }


def amplify(
    set_path: str,
    raw_files: list[str],
    stddev: float,
    factor: float,
    output_set: str,
    output_metrics: str,
    output_factor_set: str,
    output_factor_metrics: str,
) -> None:
    """Rule `amplify`: Table 4's x + s·(x'−x)/‖x'−x‖ in both readings, clipped to [0, 1]: every
    example to distortion `stddev` (`output_set`), and every perturbation ×`factor`
    (`output_factor_set`), each with its metrics."""
    adversarial = load_set(set_path)
    data = mnist.load_raw(raw_files)
    images = data.train_images if adversarial["split"] == "train" else data.test_images
    x = mnist.to_tensor(images[adversarial["indices"].numpy()])
    original = adversarial["distortion"]
    readings = (
        ("stddev", {"stddev": stddev}, output_set, output_metrics),
        ("factor", {"factor": factor}, output_factor_set, output_factor_metrics),
    )
    for mode, setting, set_file, metrics_file in readings:
        amplified, reached = amplify_perturbation(x, adversarial["x_adv"], **setting)
        value = stddev if mode == "stddev" else factor
        save_set(
            set_file,
            {
                **adversarial,
                "x_adv": amplified,
                "distortion": reached,
                "original_distortion": original,
                "amplification": mode,
                f"amplified_{mode}": value,
            },
        )
        files.write_json(
            metrics_file,
            {
                "n": len(reached),
                "amplification": mode,
                f"requested_{mode}": value,
                "mean_distortion": float(reached.mean()),
                "min_distortion": float(reached.min()),
                "original_mean_distortion": float(original.mean()),
                "mean_distortion_ratio": (
                    float(reached.mean() / original.mean()) if original.mean() > 0 else None
                ),
                "clipped_to_unit_box": True,
            },
        )


def figures(
    set_files: dict[str, str],
    raw_files: Sequence[str],
    examples: int,
    output_examples: dict[str, str],
    output_histogram: str,
    output_plot_data: str,
) -> None:
    """Rule `adversarial_figures`: an example grid per set, and the distortion histograms (with
    the paper's mean minimal distortion of each model, Tables 1 and 3)."""
    reference = paper_reference()
    paper_distortion = {
        model: row["mean_min_distortion"]
        for model, row in {**reference["table1"], **reference["table3"]}.items()
    }
    sets = load_sets(set_files)
    for name, adversarial in sets.items():
        indices, _, split = shared_originals({name: adversarial})
        x = originals_tensor(raw_files, split, indices[:examples])
        model, _ = name.rsplit("_", 1)
        plot_examples(
            x,
            adversarial,
            f"{model}: {split} images, their differences ×{MAGNIFICATION:g}, adversarials",
            output_examples[name],
            count=examples,
        )
    distortions = successful_distortions(sets)
    plot_histograms(distortions, paper_distortion, output_histogram)
    files.write_csv(output_plot_data, histogram_rows(distortions))
