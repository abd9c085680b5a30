"""The unit analysis of one network (Section 3, Figures 1–2): its φ, units vs random directions.

`analyse_directions` is the experiment on arrays: every unit of φ and seeded random unit
directions (as many as units, or `random_directions` of them), the top-k images of each,
their coherence by label purity and by the mean pairwise cosine similarity of the images in
feature spaces other than φ (mean-centred pixels; another model's last hidden layer), the two
distributions compared (intriguing.units.directions.compare_distributions, Holm-adjusted over the
measures) and the verdict on the paper's claim.

The rules (intriguing.units.step) run it on a registry model and the MNIST test set, or on
any torchvision classifier and an ImageFolder of the user's images (e.g. ImageNet's validation
set, as the paper's AlexNet experiment), and merge the statistics. Each network gets three
figures: the top-k images of several units (Figure 1), of several random
directions (Figure 2), and both coherence distributions.

A direction whose top-k the data do not determine
(`intriguing.units.directions.undetermined`: a dead ReLU unit, or one active on fewer than k
images) is left out of the comparison and counted.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from intriguing.common import files
from intriguing.common.progress import log_bookkeeping
from intriguing.common.runtime import configure_job, device_description, select_device
from intriguing.plan.params import check_torchvision_classifier
from intriguing.units.directions import (
    centred,
    claim_verdict,
    compare_distributions,
    holm_adjusted,
    label_purity,
    mean_pairwise_cosine,
    natural_basis,
    random_directions,
    random_subsets,
    top_k,
    undetermined,
)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
# Image sets drawn at random to give each measure its chance level.
CHANCE_SETS = 1000
# Side of the thumbnails on which an ImageFolder's pixel similarity is measured.
THUMBNAIL_SIZE = 32


@dataclass(frozen=True)
class UnitsOptions:
    """The `units` settings an analysis uses."""

    top_k: int = 10
    rows_shown: int = 8
    seed: int = 0
    alpha: float = 0.05
    bootstrap_resamples: int = 2000
    random_directions: int | None = None  # how many; None: as many as φ has units


@dataclass(frozen=True)
class SimilaritySpace:
    """A feature space other than φ in which a top-k set's images are compared."""

    key: str
    title: str
    description: str
    features: torch.Tensor  # (N, ...), one row per image


def analyse_directions(
    activations: torch.Tensor,
    labels: torch.Tensor,
    spaces: list[SimilaritySpace],
    options: UnitsOptions,
    name: str,
) -> dict[str, Any]:
    """The units of φ against `options.random_directions` random directions (default: as many
    as units): coherence, statistics, verdict, and the rows the figures show. JSON-ready."""
    count, dim = len(activations), activations.shape[1]
    k = options.top_k
    directions = {
        "units": natural_basis(dim),
        "random": random_directions(dim, options.random_directions or dim, options.seed),
    }
    tops = {group: top_k(activations, d, k) for group, d in directions.items()}
    kept = {group: ~undetermined(activations, d, k) for group, d in directions.items()}
    chance_sets = random_subsets(count, k, CHANCE_SETS, options.seed)
    measures: list[tuple[str, str, str, Callable[[torch.Tensor], torch.Tensor]]] = [
        (
            "label_purity",
            "label purity",
            f"share of the most common label among the top {k}",
            lambda top: label_purity(labels, top),
        )
    ]
    for space in spaces:
        features = centred(space.features)
        measures.append(
            (
                space.key,
                space.title,
                space.description,
                lambda top, features=features: mean_pairwise_cosine(features, top),
            )
        )
    results, comparisons = [], {}
    for position, (key, title, description, measure) in enumerate(measures):
        values = {group: measure(top)[kept[group]].numpy() for group, top in tops.items()}
        comparisons[title] = compare_distributions(
            values["units"],
            values["random"],
            options.alpha,
            options.bootstrap_resamples,
            options.seed + 10 * position,
        )
        results.append(
            {
                "key": key,
                "title": title,
                "description": description,
                "chance": float(measure(chance_sets).mean()),
                "units_values": values["units"].tolist(),
                "random_values": values["random"].tolist(),
            }
        )
    comparisons = holm_adjusted(comparisons)
    for entry in results:
        entry |= comparisons[entry["title"]].to_dict()
    return {
        "network": name,
        "images": count,
        "dimension": dim,
        "random_directions": len(directions["random"]),
        "top_k": k,
        "options": vars(options),
        "units_undetermined": torch.nonzero(~kept["units"]).flatten().tolist(),
        "random_undetermined": torch.nonzero(~kept["random"]).flatten().tolist(),
        "measures": results,
        "verdict": claim_verdict(name, comparisons),
        "shown": shown_rows(tops, kept, labels, options),
    }


def shown_rows(
    tops: dict[str, torch.Tensor],
    kept: dict[str, torch.Tensor],
    labels: torch.Tensor,
    options: UnitsOptions,
) -> dict[str, list[dict[str, Any]]]:
    """The directions the figures show: a seeded sample of the determined units (in index
    order) and the first determined random directions, each with its top-k and purity."""
    generator = torch.Generator().manual_seed(options.seed)
    units = torch.nonzero(kept["units"]).flatten()
    units = units[torch.randperm(len(units), generator=generator)[: options.rows_shown]].sort()
    chosen = {
        "units": units.values,
        "random": torch.nonzero(kept["random"]).flatten()[: options.rows_shown],
    }
    return {
        group: [
            {
                "direction": int(index),
                "top": tops[group][index].tolist(),
                "purity": float(label_purity(labels, tops[group][index : index + 1])[0]),
            }
            for index in indices
        ]
        for group, indices in chosen.items()
    }


def plot_top_images(
    rows: list[dict[str, Any]],
    image: Callable[[int], np.ndarray],
    row_label: Callable[[dict[str, Any]], str],
    title: str,
    path: str,
) -> None:
    """One row per direction: its top-k images, largest projection first, labelled at the
    left; written atomically. `image(i)` is image i as (H, W) or (H, W, 3) in [0, 1]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gap = 2
    grid = [[np.asarray(image(i), dtype=float) for i in row["top"]] for row in rows]
    height, width = grid[0][0].shape[:2]
    colour = grid[0][0].ndim == 3
    shape = (len(rows) * (height + gap) - gap, len(grid[0]) * (width + gap) - gap)
    mosaic = np.ones(shape + ((3,) if colour else ()))
    for r, images in enumerate(grid):
        for c, picture in enumerate(images):
            top, left = r * (height + gap), c * (width + gap)
            mosaic[top : top + height, left : left + width] = picture
    figure, axes = plt.subplots(
        figsize=(0.55 * len(grid[0]) + 2.2, 0.55 * len(rows) + 0.8), layout="constrained"
    )
    axes.imshow(mosaic, cmap=None if colour else "gray_r", vmin=0, vmax=1)
    axes.set_yticks(
        [r * (height + gap) + height / 2 for r in range(len(rows))],
        [row_label(row) for row in rows],
        fontsize=8,
    )
    axes.set_xticks([])
    for side in axes.spines.values():
        side.set_visible(False)
    axes.tick_params(left=False)
    axes.set_title(title, fontsize=9)
    with files.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


def plot_coherence(result: dict[str, Any], path: str) -> None:
    """Per measure, the units' and the random directions' coherence (box and jittered points),
    their means with 95% CIs, and the chance level of random image sets; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = result["measures"]
    groups = {"units": "#4c72b0", "random": "#dd8452"}
    jitter = np.random.default_rng(result["options"]["seed"])
    figure, axes = plt.subplots(
        1, len(measures), figsize=(3.3 * len(measures), 3.8), layout="constrained", squeeze=False
    )
    for axis, measure in zip(axes[0], measures, strict=True):
        samples = [measure[f"{group}_values"] for group in groups]
        axis.boxplot(samples, positions=[0, 1], widths=0.5, showfliers=False, zorder=4)
        for position, (group, colour) in enumerate(groups.items()):
            values = measure[f"{group}_values"]
            spread = position + jitter.uniform(-0.18, 0.18, len(values))
            opacity = min(0.6, 60 / max(1, len(values)))  # many points: lighter
            axis.scatter(spread, values, s=6, alpha=opacity, color=colour, zorder=3)
            mean, (low, high) = measure[f"{group}_mean"], measure[f"{group}_ci95"]
            axis.errorbar(
                position + 0.33, mean, yerr=[[mean - low], [high - mean]], fmt="D",
                color="black", markersize=4, capsize=3,
            )  # fmt: skip
        axis.axhline(measure["chance"], color="grey", linestyle="--", linewidth=1)
        axis.text(1.45, measure["chance"], "chance", fontsize=7, va="bottom", ha="right")
        axis.set_xticks([0, 1], list(groups))
        axis.set_title(
            f"{measure['title']}\n"
            f"p = {measure['p_value']:.2g} (Holm {measure['p_holm']:.2g}), "
            f"r = {measure['rank_biserial']:+.2f}",
            fontsize=9,
        )
        axis.set_ylabel(measure["title"])
    figure.suptitle(
        f"{result['network']}: coherence of the top {result['top_k']} images "
        f"({result['dimension']} units vs {result['random_directions']} random directions; "
        "◆ mean, 95% bootstrap CI)",
        fontsize=9,
    )
    with files.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(figure)


def write_outputs(
    result: dict[str, Any], image: Callable[[int], np.ndarray], outputs: dict[str, str]
) -> None:
    """The JSON (`outputs["metrics"]`) and the three figures (`outputs[kind]`, one per
    plan.UNITS_FIGURE_KINDS); `image(i)` is image i of the analysed set as (H, W) or (H, W, 3)
    in [0, 1]."""
    files.write_json(outputs["metrics"], result)
    name, k = result["network"], result["top_k"]
    for group, title in (
        ("units", f"{name}: top {k} images of single units ⟨φ(x), e_i⟩ (natural basis)"),
        ("random", f"{name}: top {k} images of random directions ⟨φ(x), v⟩"),
    ):
        plot_top_images(
            result["shown"][group],
            image,
            lambda row, group=group: (
                f"{'unit' if group == 'units' else 'random'} {row['direction']}"
                f" · purity {row['purity']:.1f}"
            ),
            title,
            outputs["natural" if group == "units" else "random"],
        )
    plot_coherence(result, outputs["coherence"])


@dataclass(frozen=True)
class UnitsJob:
    """What every unit-analysis job shares: the analysis options, the output paths (`metrics`
    and one per plan.UNITS_FIGURE_KINDS), the device, threads, and the profile it records."""

    options: UnitsOptions
    outputs: dict[str, str]
    device: str = "cpu"
    threads: int = 1
    profile: str = ""

    def run(
        self,
        analyse: Callable[[torch.device], tuple[dict[str, Any], Callable[[int], np.ndarray]]],
    ) -> None:
        """Run `analyse(device) -> (result, image)` on the job's hardware, log where and how
        long, and write the JSON and the figures."""
        start = time.perf_counter()
        configure_job(self.threads)
        target = select_device(self.device)
        result, image = analyse(target)
        log_bookkeeping(
            "units analysed",
            wall_seconds=time.perf_counter() - start,
            device=device_description(target),
        )
        result["profile"] = self.profile
        write_outputs(result, image, self.outputs)


def load_torchvision_classifier(
    model_name: str, weights_file: str | None, seed: int
) -> tuple[nn.Module, str, str]:
    """A torchvision classification model with weights from a local state dict, else seeded
    random weights (the global RNG is left untouched); returns it with the weights' source
    (`file` or `random`) and a description."""
    import torchvision

    check_torchvision_classifier(model_name)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = torchvision.models.get_model(model_name, weights=None)
    if weights_file is None:
        return model.eval(), "random", f"seeded random initialisation (seed {seed}), untrained"
    model.load_state_dict(torch.load(weights_file, map_location="cpu", weights_only=True))
    (digest,) = files.file_digests(weights_file, "sha256")
    return model.eval(), "file", f"{weights_file} (sha256 {digest})"


def imagefolder_dataset(root: str, resize: int, crop: int):
    """torchvision ImageFolder of `root`: resized, centre-cropped, tensors in [0, 1]."""
    from torchvision import datasets, transforms

    if not Path(root).is_dir():
        raise FileNotFoundError(f"units.imagefolder.root: {root} is not a directory")
    transform = transforms.Compose(
        [transforms.Resize(resize), transforms.CenterCrop(crop), transforms.ToTensor()]
    )
    return datasets.ImageFolder(root, transform=transform)
