"""Transfer of adversarial examples (Tables 2 and 4) and Gaussian-noise baselines (Figure 7).

A model *errs* on a distorted example when its prediction differs from the original's true
label: the paper's "ratio of misclassified instances". Every rate is computed on exactly the
originals the adversarial sets were built from (all sets of a split share them; this is checked)
and carries its sample size and a 95% Wilson interval. Every example of a set counts, including
the rare ones the attack failed on (their number is reported with the set).

Noise baselines add N(0, stddev²) to every pixel of the same originals and clip to [0, 1], as a
valid image must stay in the box; clipping shrinks the noise (and brightens MNIST's black
background on average), so the distortion actually reached (the paper's sqrt(Σ(x'−x)²/784)) is
reported beside the requested stddev. The same noise draw without clipping is reported as well
(`noise_unclipped`): the paper does not say whether it clipped, and its noise rows sit closer to
the unclipped variant on our models.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from intriguing.adversarial.attack import distortion
from intriguing.common.plotting import pyplot, save_figure
from intriguing.common.stats import wilson_interval
from intriguing.train.models import ModelSpec, load_checkpoint

ERROR_DEFINITION = (
    "a model errs on a distorted example when it does not predict the original's true label"
)


@dataclass(frozen=True)
class Rate:
    """A misclassification rate with its sample size and 95% Wilson interval."""

    errors: int
    n: int

    @property
    def value(self) -> float:
        return self.errors / self.n

    @property
    def ci95(self) -> list[float]:
        return list(wilson_interval(self.errors, self.n))


@torch.no_grad()
def misclassified(
    model: nn.Module, x: torch.Tensor, labels: torch.Tensor, batch_size: int = 4096
) -> torch.Tensor:
    """Per example: does the model's prediction differ from the true label?"""
    model.eval()
    predictions = torch.cat(
        [
            model(x[start : start + batch_size]).argmax(dim=1)
            for start in range(0, len(x), batch_size)
        ]
    )
    return predictions != labels


def error_rate(model: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> Rate:
    return Rate(int(misclassified(model, x, labels).sum()), len(labels))


def gaussian_noise(
    x: torch.Tensor, stddev: float, seed: int, clip: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """x + N(0, stddev²) per pixel, clipped to [0, 1] unless `clip` is false; also the
    distortion actually reached. The draw depends on the seed only, not on `clip`."""
    generator = torch.Generator().manual_seed(seed)
    noise = torch.randn(x.shape, generator=generator, dtype=x.dtype) * stddev
    noisy = x + noise.to(x.device)
    if clip:
        noisy = noisy.clamp(0, 1)
    return noisy, distortion(x, noisy)


def noise_key(stddev: float) -> str:
    """The JSON key of a noise level: 0.1 -> "0.1"."""
    return f"{stddev:g}"


def matrix(
    sets: dict[str, dict[str, Any]], models: dict[str, nn.Module], labels: torch.Tensor
) -> list[list[Rate]]:
    """Error of every model (columns) on every set (rows)."""
    return [
        [error_rate(model, adversarial["x_adv"], labels) for model in models.values()]
        for adversarial in sets.values()
    ]


def rate_fields(rows: Sequence[Sequence[Rate]]) -> dict[str, list]:
    return {
        "error": [[rate.value for rate in row] for row in rows],
        "error_ci95": [[rate.ci95 for rate in row] for row in rows],
    }


def mean_successful_distortion(adversarial: dict[str, Any]) -> float | None:
    """Mean distortion over the examples that reached their target (Table 1's measure)."""
    success = adversarial["success"]
    return float(adversarial["distortion"][success].mean()) if success.any() else None


def transfer_table(
    sets: dict[str, dict[str, Any]],
    models: dict[str, nn.Module],
    x: torch.Tensor,
    labels: torch.Tensor,
    noise_stddevs: Sequence[float],
    seed: int,
    amplified: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Table 2 or 4: each model's error on each model's adversarial set, plus noise rows (and,
    for Table 4, on the amplified sets)."""
    table: dict[str, Any] = {
        "generated_for": list(sets),
        "evaluated_on": list(models),
        "n": len(labels),
        **rate_fields(matrix(sets, models, labels)),
        "mean_distortion": {name: mean_successful_distortion(s) for name, s in sets.items()},
        "attack_success_rate": {
            name: float(s["success"].float().mean()) for name, s in sets.items()
        },
        "attack_failures": {name: int((~s["success"]).sum()) for name, s in sets.items()},
        "target_policy": sorted({s["target_policy"] for s in sets.values()}),
        "error_definition": ERROR_DEFINITION,
        "noise_clipped_to_unit_box": True,
    }
    for clip, prefix in ((True, "noise"), (False, "noise_unclipped")):
        for field in ("", "_ci95", "_distortion"):
            table[prefix + field] = {}
        for stddev in noise_stddevs:
            noisy, reached = gaussian_noise(x, stddev, seed, clip)
            rates = [error_rate(model, noisy, labels) for model in models.values()]
            key = noise_key(stddev)
            table[prefix][key] = [rate.value for rate in rates]
            table[f"{prefix}_ci95"][key] = [rate.ci95 for rate in rates]
            table[f"{prefix}_distortion"][key] = float(reached.mean())
    if amplified is not None:
        stddevs = {float(s["amplified_stddev"]) for s in amplified.values()}
        table["amplified"] = {
            "generated_for": list(amplified),
            "requested_stddev": stddevs.pop() if len(stddevs) == 1 else sorted(stddevs),
            "mean_distortion": {
                name: float(s["distortion"].mean()) for name, s in amplified.items()
            },
            **rate_fields(matrix(amplified, models, labels)),
        }
    return table


def table_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    """The table as long-format rows (one per cell), for CSV and `dvc plots`."""
    blocks = [("adversarial", table["generated_for"], table["error"], table["error_ci95"])]
    if "amplified" in table:
        amplified = table["amplified"]
        blocks.append(
            ("amplified", amplified["generated_for"], amplified["error"], amplified["error_ci95"])
        )
    for kind, suffix in (("noise", ""), ("noise_unclipped", " unclipped")):
        blocks.append(
            (
                kind,
                [f"noise {key}{suffix}" for key in table[kind]],
                list(table[kind].values()),
                list(table[f"{kind}_ci95"].values()),
            )
        )
    rows = []
    for kind, row_names, errors, intervals in blocks:
        for row_name, row, row_intervals in zip(row_names, errors, intervals, strict=True):
            for column, error, (low, high) in zip(
                table["evaluated_on"], row, row_intervals, strict=True
            ):
                source = row_name if kind != "amplified" else f"{row_name} amplified"
                rows.append(
                    {
                        "cell": f"{source} → {column}",
                        "kind": kind,
                        "generated_for": source,
                        "evaluated_on": column,
                        "error": round(error, 6),
                        "ci_low": round(low, 6),
                        "ci_high": round(high, 6),
                        "n": table["n"],
                    }
                )
    return rows


def paper_grid(table: dict[str, Any], reference: dict[str, Any]) -> dict[str, list]:
    """The paper's numbers laid out like our table (NaN where the paper has no such cell)."""
    columns = [
        reference["models"].index(name) if name in reference["models"] else None
        for name in table["evaluated_on"]
    ]

    def pick(row: list[float] | None) -> list[float]:
        if row is None:
            return [float("nan")] * len(columns)
        return [float("nan") if index is None else row[index] for index in columns]

    grid = {"adversarial": [pick(reference["error"].get(name)) for name in table["generated_for"]]}
    if "amplified" in table:
        grid["amplified"] = [
            pick(reference.get("amplified_error", {}).get(name))
            for name in table["amplified"]["generated_for"]
        ]
    grid["noise"] = [pick(reference["noise"].get(key)) for key in table["noise"]]
    grid["noise_unclipped"] = grid["noise"]
    return grid


def heatmap_rows(
    table: dict[str, Any], reference: dict[str, Any]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Row labels, our matrix and the paper's, stacked as the table is printed."""
    paper = paper_grid(table, reference)
    labels = [f"adv. {name}" for name in table["generated_for"]]
    ours = list(table["error"])
    theirs = list(paper["adversarial"])
    if "amplified" in table:
        labels += [f"amplified {name}" for name in table["amplified"]["generated_for"]]
        ours += table["amplified"]["error"]
        theirs += paper["amplified"]
    for kind, suffix in (("noise", ", clipped"), ("noise_unclipped", ", unclipped")):
        labels += [f"noise σ={key}{suffix}" for key in table[kind]]
        ours += list(table[kind].values())
        theirs += paper[kind]
    return labels, np.array(ours, dtype=float), np.array(theirs, dtype=float)


def plot_transfer_heatmaps(
    table: dict[str, Any], reference: dict[str, Any], title: str, path: str | Path
) -> None:
    """Ours, the paper's, and ours − paper's, as three annotated heatmaps (percent)."""
    import seaborn as sns

    plt = pyplot()
    labels, ours, theirs = heatmap_rows(table, reference)
    columns = table["evaluated_on"]
    width = 1.9 + 0.75 * len(columns)
    figure, axes = plt.subplots(
        1, 3, figsize=(3 * width, 0.45 * len(labels) + 1.6), layout="constrained"
    )
    panels = [
        ("ours", ours * 100, "rocket_r", 0, 100),
        ("paper", theirs * 100, "rocket_r", 0, 100),
        ("ours − paper", (ours - theirs) * 100, "vlag", -100, 100),
    ]
    for index, (axis, (name, values, cmap, low, high)) in enumerate(zip(axes, panels, strict=True)):
        sns.heatmap(
            values,
            ax=axis,
            annot=True,
            fmt=".0f",
            cmap=cmap,
            vmin=low,
            vmax=high,
            center=0 if low < 0 else None,
            cbar=True,
            xticklabels=columns,
            yticklabels=labels if index == 0 else False,
            mask=np.isnan(values),
            annot_kws={"fontsize": 8},
        )
        axis.set_title(f"{name} (error %)", fontsize=10)
        axis.set_xlabel("evaluated on")
    figure.suptitle(f"{title} (n = {table['n']} originals per row)", fontsize=11)
    save_figure(figure, path)


def plot_pairs(axes_row: Sequence[Any], x: torch.Tensor, x_adv: torch.Tensor, title: str) -> None:
    """Originals in odd columns, their adversarials in even columns (the paper's Figure 7)."""
    for index, axis in enumerate(axes_row):
        pair, is_adversarial = divmod(index, 2)
        image = (x_adv if is_adversarial else x)[pair, 0].cpu().numpy()
        axis.imshow(image, cmap="gray", vmin=0, vmax=1)
        axis.set_xticks([])
        axis.set_yticks([])
        if index == 0:
            axis.set_ylabel(title, fontsize=8)


def figure7(
    sets: dict[str, dict[str, Any]],
    models: dict[str, nn.Module],
    x: torch.Tensor,
    labels: torch.Tensor,
    noise_stddev: float,
    pairs: int,
    seed: int,
    path: str | Path,
) -> dict[str, Any]:
    """Figure 7: originals beside their adversarials for each model, and the originals with
    Gaussian noise of `noise_stddev` (clipped) with each model's accuracy on them."""
    noisy, reached = gaussian_noise(x, noise_stddev, seed)
    unclipped, _ = gaussian_noise(x, noise_stddev, seed, clip=False)
    accuracy = {}
    for name, model in models.items():
        rate, rate_unclipped = (error_rate(model, z, labels) for z in (noisy, unclipped))
        accuracy[name] = {
            "accuracy": 1 - rate.value,
            "accuracy_ci95": [1 - rate.ci95[1], 1 - rate.ci95[0]],
            "accuracy_unclipped": 1 - rate_unclipped.value,
            "accuracy_unclipped_ci95": [1 - rate_unclipped.ci95[1], 1 - rate_unclipped.ci95[0]],
            "n": rate.n,
        }
    pairs = min(pairs, len(labels))
    plt = pyplot()
    rows = len(sets) + 1
    figure, axes = plt.subplots(
        rows, 2 * pairs, figsize=(0.9 * 2 * pairs, 1.05 * rows + 0.5), squeeze=False
    )
    for axes_row, (name, adversarial) in zip(axes, sets.items(), strict=False):
        mean = float(adversarial["distortion"][:pairs].mean())
        plot_pairs(axes_row, x, adversarial["x_adv"], f"{name}\n(distortion {mean:.3f})")
    accuracies = ", ".join(f"{name} {value['accuracy']:.0%}" for name, value in accuracy.items())
    plot_pairs(
        axes[-1], x, noisy, f"noise σ={noise_stddev:g}\n(distortion {float(reached.mean()):.2f})"
    )
    figure.suptitle(
        "Originals (odd columns) and distorted versions (even columns). "
        f"Accuracy on noise σ={noise_stddev:g}: {accuracies}",
        fontsize=9,
    )
    figure.subplots_adjust(wspace=0.05, hspace=0.15, left=0.08, right=0.99, top=0.88, bottom=0.02)
    save_figure(figure, path)
    return {
        "noise_stddev": noise_stddev,
        "noise_distortion": float(reached.mean()),
        "noise_clipped_to_unit_box": True,
        "noise_accuracy": accuracy,
        "models": list(sets),
        "mean_distortion": {name: mean_successful_distortion(s) for name, s in sets.items()},
    }


def load_models(
    specs: dict[str, dict[str, Any]], model_files: dict[str, str]
) -> dict[str, nn.Module]:
    """The named models (in the order of `specs`) on the CPU, in eval mode."""
    models = {}
    for name, entry in specs.items():
        model, _ = load_checkpoint(model_files[name], ModelSpec.from_params(name, entry))
        models[name] = model.requires_grad_(False)
    return models
