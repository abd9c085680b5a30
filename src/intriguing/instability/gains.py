"""Empirical instability of a network along its adversarial perturbations, against its frame bounds.

Section 4.3 bounds how far a perturbation r can move a network's output by the product of its
layers' upper frame bounds: with phi_k the output of layer k (its Conv2d or Linear map followed
by the parameter-free modules up to the next one: activation, pooling, flatten, dropout) and
phi_0 = x,

    |phi_k(x + r) - phi_k(x)| <= U_k |phi_{k-1}(x + r) - phi_{k-1}(x)|      (per layer)
    |phi_k(x + r) - phi_k(x)| <= U_1 ... U_k |r|                             (cumulative)

because biases cancel in differences and the activations (ReLU, sigmoid, tanh), dropout in eval
mode, flatten and non-overlapping max-pooling are 1-Lipschitz. The adversarial examples give the
*observed* gains on the left, per example, along the very directions that fool the model; how
far the bounds lie above them (looseness = bound / largest observed gain) says how much of the
bound's instability the attack actually finds. Norms are Euclidean over all of a layer's units.

Differences of nearby activations lose digits in float32, so gains are computed in float64 on a
copy of the model.
"""

from __future__ import annotations

import copy
import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from intriguing.common import files
from intriguing.core import mnist
from intriguing.core.sets import load_set

WEIGHT_LAYERS = (nn.Conv2d, nn.Linear)


@dataclass(frozen=True)
class LayerGains:
    """Observed gains per example (rows) and layer (columns), layers named as in the model.

    per_layer[:, k] = |phi_k(x') - phi_k(x)| / |phi_{k-1}(x') - phi_{k-1}(x)| (NaN where the
    denominator is 0); cumulative[:, k] = |phi_k(x') - phi_k(x)| / |x' - x|.
    """

    layers: list[str]
    per_layer: Tensor
    cumulative: Tensor


def layer_blocks(model: nn.Module) -> list[tuple[str, nn.Sequential]]:
    """The model cut into phi_1 ... phi_K: each block ends just before the next weight layer.

    The model must be an nn.Sequential, or hold one as ``model.layers`` (intriguing.core.models'
    Classifier), made of modules applied in order; modules before the first weight layer
    (e.g. Flatten) join the first block. Blocks are named after their weight layer's name in
    ``model.named_modules()`` (the names the spectral metrics use).
    """
    sequence = model if isinstance(model, nn.Sequential) else getattr(model, "layers", None)
    if not isinstance(sequence, nn.Sequential):
        raise TypeError(
            f"{type(model).__name__}: expected an nn.Sequential or a model whose `layers` is one"
        )
    prefix = "" if sequence is model else "layers."
    blocks: list[tuple[str, list[nn.Module]]] = []
    leading: list[nn.Module] = []
    for name, module in sequence.named_children():
        if isinstance(module, WEIGHT_LAYERS):
            blocks.append((prefix + name, [*leading, module]))
            leading = []
        elif blocks:
            blocks[-1][1].append(module)
        else:
            leading.append(module)
    if not blocks:
        raise ValueError(f"{type(model).__name__} has no Conv2d or Linear layer")
    return [(name, nn.Sequential(*modules)) for name, modules in blocks]


def observed_gains(
    model: nn.Module, x: Tensor, x_adv: Tensor, batch_size: int = 1024
) -> LayerGains:
    """Per-layer and cumulative gains of every example's perturbation x_adv - x.

    x and x_adv: tensors shaped as the model's input, one example per row; every pair must
    differ (a zero perturbation has no gain). Computed in float64 on a copy of the model in
    eval mode, on the model's device; results on the CPU.
    """
    if x.shape != x_adv.shape:
        raise ValueError(f"x has shape {tuple(x.shape)} but x_adv has {tuple(x_adv.shape)}")
    perturbation = (x_adv - x).flatten(1).double().norm(dim=1)
    if (perturbation == 0).any():
        unchanged = (perturbation == 0).nonzero().flatten().tolist()
        raise ValueError(f"x_adv equals x for example(s) {unchanged[:10]}: no perturbation")
    device = next((p.device for p in model.parameters()), x.device)
    blocks = layer_blocks(copy.deepcopy(model).to(device=device, dtype=torch.float64).eval())
    per_layer, cumulative = [], []
    with torch.no_grad():
        for rows in torch.arange(len(x)).split(batch_size):
            clean = x[rows].to(device=device, dtype=torch.float64)
            moved = x_adv[rows].to(device=device, dtype=torch.float64)
            previous = perturbation[rows].to(device)
            batch_layer, batch_cumulative = [], []
            for _, block in blocks:
                clean, moved = block(clean), block(moved)
                distance = (moved - clean).flatten(1).norm(dim=1)
                batch_layer.append(distance / previous.where(previous > 0, math.nan))
                batch_cumulative.append(distance / perturbation[rows].to(device))
                previous = distance
            per_layer.append(torch.stack(batch_layer, dim=1).cpu())
            cumulative.append(torch.stack(batch_cumulative, dim=1).cpu())
    return LayerGains(
        layers=[name for name, _ in blocks],
        per_layer=torch.cat(per_layer),
        cumulative=torch.cat(cumulative),
    )


def _summary(values: Tensor) -> dict[str, float | int]:
    """max, mean, median of the finite values, and how many there were."""
    finite = values[torch.isfinite(values)].tolist()
    if not finite:
        return {"n": 0, "max": math.nan, "mean": math.nan, "median": math.nan}
    return {
        "n": len(finite),
        "max": max(finite),
        "mean": statistics.fmean(finite),
        "median": statistics.median(finite),
    }


def compare_with_bounds(
    gains: LayerGains, layers: Sequence[str], uppers: Sequence[float]
) -> list[dict[str, Any]]:
    """One row per layer: observed gains' summaries beside the bounds, and their looseness.

    layers/uppers: the spectral analysis' layer names and upper frame bounds, in forward
    order; they must name the same layers as ``gains``. looseness = bound / observed max (>= 1
    whenever the bound holds).
    """
    if list(layers) != gains.layers:
        raise ValueError(
            f"the frame bounds are for layers {list(layers)}, the model has {gains.layers}"
        )
    rows, product = [], 1.0
    for column, (name, upper) in enumerate(zip(layers, uppers, strict=True)):
        product *= upper
        per_layer = _summary(gains.per_layer[:, column])
        cumulative = _summary(gains.cumulative[:, column])
        rows.append(
            {
                "layer": name,
                "upper": upper,
                "gain": per_layer,
                "looseness": upper / per_layer["max"] if per_layer["n"] else math.nan,
                "upper_product": product,
                "cumulative_gain": cumulative,
                "cumulative_looseness": product / cumulative["max"],
            }
        )
    return rows


def adversarial_pairs(
    set_paths: Sequence[str], raw_dir: str | Path
) -> tuple[Tensor, Tensor, list[dict[str, Any]]]:
    """Originals and adversarials of the successful, nonzero perturbations of some sets.

    Originals come from MNIST (raw_dir) by each set's `split` and `indices`. Also returns, per
    set, its path, split, size and how many pairs it contributed.
    """
    data = mnist.load_mnist(raw_dir)
    originals, adversarials, used = [], [], []
    for path in set_paths:
        adversarial = load_set(path)
        images = data.train_images if adversarial["split"] == "train" else data.test_images
        keep = adversarial["success"] & (adversarial["distortion"] > 0)
        originals.append(mnist.to_tensor(images[adversarial["indices"][keep].numpy()]))
        adversarials.append(adversarial["x_adv"][keep])
        used.append(
            {
                "set": str(path),
                "split": adversarial["split"],
                "n": len(keep),
                "used": int(keep.sum()),
            }
        )
    if not originals or sum(item["used"] for item in used) == 0:
        raise ValueError(f"no successful adversarial example with a perturbation in {set_paths}")
    return torch.cat(originals), torch.cat(adversarials), used


def plot_instability(result: dict[str, Any], path: str) -> None:
    """Observed gains (max, median) beside the bounds per layer, log scale, written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = result["rows"]
    positions = range(len(rows))
    figure, panels = plt.subplots(1, 2, figsize=(10.0, 4.0), layout="constrained")
    for axes, (bound, gain, title) in zip(
        panels,
        [
            ("upper", "gain", "per layer: ‖Δφ_k‖ / ‖Δφ_{k−1}‖"),
            ("upper_product", "cumulative_gain", "from the input: ‖Δφ_k‖ / ‖r‖"),
        ],
        strict=True,
    ):
        axes.plot(positions, [row[bound] for row in rows], "s-", color="#dd8452", label="bound")
        axes.plot(positions, [row[gain]["max"] for row in rows], "o-", color="#c44e52", label="max")
        axes.plot(
            positions, [row[gain]["median"] for row in rows], "o--", color="#4c72b0", label="median"
        )
        axes.set_yscale("log")
        axes.set_xticks(list(positions), [row["layer"] for row in rows])
        axes.set_title(title, fontsize=10)
        axes.set_ylabel("gain (observed) / frame bound")
    panels[1].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    figure.suptitle(
        f"{result['model']}: {result['n']} adversarial perturbations; bound / observed max over "
        f"the network {result['network_looseness']:.3g}",
        fontsize=10,
    )
    with files.atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=110, metadata={"Software": None})
    plt.close(figure)
