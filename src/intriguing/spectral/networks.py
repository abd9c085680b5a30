"""The networks of the spectral analysis (Section 4.3, Table 5), their weights and frame bounds.

Rule `spectral` (intriguing.spectral.step) builds a network (torchvision's AlexNet, the original
two-GPU AlexNet that Table 5 analyses, or a trained MNIST model of the registry), loads its
weights, computes the frame bounds of every Conv2d and Linear layer with
intriguing.spectral.layers, and writes them as JSON with a bar plot.

Weights of the AlexNets, in this order:

1. a local state dict file (`spectral.alexnet_weights` for torchvision's form,
   `spectral.alexnet_original_weights` for the original form);
2. with `spectral.download_weights: true`, torchvision's ImageNet weights
   (AlexNet_Weights.IMAGENET1K_V1, torchvision's form only: the original two-GPU AlexNet has no
   public weights). A failed download (no internet, bad hash) falls back to 3. with a warning,
   and the JSON records why (`weights_fallback`);
3. seeded random initialisation: `"weights": "random"`. Those numbers describe an untrained
   network; they are no reproduction of Table 5 and are labelled so wherever they appear.

Scale (`profiles.<name>.spectral`), so that the smoke profile stays fast:

* `alexnet_input_size`: the AlexNets' convolutional part is traced on an s x s input instead of
  its own 224 (torchvision) / 227 (original). The conv bounds are computed on the layer's padded
  input grid, so they change with it; the fully connected layers are analysed at their own
  shapes whatever the input. null = the real sizes.
* `linear_svd_max_weights`: a linear layer with more weights than this gets its upper bound by
  Lanczos (intriguing.spectral.bounds.linear_operator_norm, certified to 1e-6 relative) and no lower
  bound, instead of a full SVD (10-75 s for AlexNet's 4096 x 4096 and 9216 x 4096 layers on a
  busy 2-core CPU). null = exact SVD of every linear layer.

Either one, when it takes effect, is written into the JSON's `table5_caveats`.

Speed: with OpenMP's default spin-waiting a two-thread SVD of a 4096 x 4096 matrix took 133 s
instead of 20 s on a shared 2-core machine; the rule's script therefore sets
OMP_WAIT_POLICY=PASSIVE before torch loads (it cannot be changed afterwards).
"""

from __future__ import annotations

import socket
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from intriguing.common.files import file_digests
from intriguing.common.plotting import pyplot, save_figure
from intriguing.core.models import ModelSpec, load_checkpoint
from intriguing.plan.specs import ALEXNETS
from intriguing.spectral.alexnet import original_alexnet
from intriguing.spectral.bounds import linear_operator_norm
from intriguing.spectral.labels import Weights, weights_label
from intriguing.spectral.layers import TracedLayer, layer_frame_bounds

DOWNLOAD_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class SpectralOptions:
    """The `spectral` settings a job needs (shared keys and the profile's scale keys)."""

    download_weights: bool = False
    alexnet_input_size: int | None = None
    linear_svd_max_weights: int | None = None


def build_alexnet(network: str, seed: int) -> nn.Module:
    """An AlexNet form with seeded random weights (the global RNG is left untouched)."""
    if network == "alexnet_original":
        return original_alexnet(seed)
    if network == "alexnet_torchvision":
        import torchvision

        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            return torchvision.models.alexnet(weights=None).eval()
    raise ValueError(f"unknown AlexNet {network!r}; allowed: {sorted(ALEXNETS)}")


def download_imagenet_weights(timeout: float = DOWNLOAD_TIMEOUT_SECONDS) -> dict[str, torch.Tensor]:
    """torchvision's AlexNet_Weights.IMAGENET1K_V1 state dict (cached under TORCH_HOME).

    Sockets time out after `timeout` seconds, so a machine whose network silently drops
    packets fails instead of hanging; the file's hash is checked.
    """
    from torchvision.models import AlexNet_Weights

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)
    try:
        return AlexNet_Weights.IMAGENET1K_V1.get_state_dict(progress=False, check_hash=True)
    finally:
        socket.setdefaulttimeout(previous)


def load_alexnet(
    network: str, weights_file: str | None, download: bool, seed: int
) -> tuple[nn.Module, Weights]:
    """An AlexNet form and its weights: local file, else download, else seeded random."""
    model = build_alexnet(network, seed)
    random = Weights("random", f"seeded random initialisation (seed {seed}), untrained")
    if weights_file:
        state = torch.load(weights_file, map_location="cpu", weights_only=True)
        model.load_state_dict(state)
        (digest,) = file_digests(weights_file, "sha256")
        return model.eval(), Weights("file", f"{weights_file} (sha256 {digest})")
    if not download:
        return model, random
    if network != "alexnet_torchvision":
        return model, replace(
            random,
            fallback="download_weights: torchvision has ImageNet weights only for its own form; "
            "the original two-GPU AlexNet has no public weights",
        )
    try:
        state = download_imagenet_weights()
    except Exception as error:  # any failure (offline, timeout, bad hash) falls back
        message = (
            f"download of torchvision AlexNet_Weights.IMAGENET1K_V1 failed "
            f"({type(error).__name__}: {error}); using random weights instead"
        )
        warnings.warn(message, RuntimeWarning, stacklevel=2)
        return model, replace(random, fallback=message)
    model.load_state_dict(state)
    return model.eval(), Weights(
        "torchvision_download", "torchvision AlexNet_Weights.IMAGENET1K_V1 (trained on ImageNet)"
    )


def load_mnist_network(
    name: str, spec_params: dict[str, Any], model_path: str
) -> tuple[nn.Module, Weights]:
    """A trained registry model from its checkpoint (refused if params.yaml changed its spec)."""
    model, provenance = load_checkpoint(model_path, ModelSpec.from_params(name, spec_params))
    detail = (
        f"{model_path}: trained on {provenance['train_set']} ({provenance['train_n']} images) "
        f"by {provenance['optimizer']}"
    )
    return model, Weights("checkpoint", detail)


def alexnet_parts(
    network: str, model: nn.Module, input_size: int
) -> list[tuple[str, nn.Module, tuple[int, ...]]]:
    """(name prefix, module, input shape) of an AlexNet's convolutional and classifier parts.

    Traced apart, so the convolutions can run on a smaller input than the classifier expects.
    At the real input size the layers see exactly the shapes of a whole-network pass.
    """
    if network == "alexnet_torchvision":
        classifier = model.classifier
        return [
            ("features.", model.features, (3, input_size, input_size)),
            ("classifier.", classifier, (classifier[1].in_features,)),
        ]
    names = [name for name, _ in model.named_children()]
    flatten = names.index("flatten")
    head = model[flatten + 1 :]
    first_linear = next(m for m in head if isinstance(m, nn.Linear))
    return [
        ("", model[:flatten], (3, input_size, input_size)),
        ("", head, (first_linear.in_features,)),
    ]


def paper_size(layer: TracedLayer) -> str:
    """A layer's size as Table 5 writes it: C_in×k×k×C_out for convolutions, in×out for FC."""
    weight = layer.module.weight
    if isinstance(layer.module, nn.Conv2d):
        return "×".join(map(str, (layer.input_shape[0], *weight.shape[2:], weight.shape[0])))
    return f"{weight.shape[1]}×{weight.shape[0]}"


def bounds_row(layer: TracedLayer, prefix: str, linear_svd_max_weights: int | None) -> dict:
    """One JSON row: a layer's shapes and (lower, upper) frame bounds, with the method used."""
    module = layer.module
    if (
        isinstance(module, nn.Linear)
        and linear_svd_max_weights is not None
        and module.weight.numel() > linear_svd_max_weights
    ):
        kind, circular_size, method = "linear", None, "lanczos (upper only)"
        lower, upper = None, linear_operator_norm(module.weight)
    else:
        bounds = layer_frame_bounds(layer)
        kind, circular_size = bounds.kind, bounds.circular_size
        lower, upper = bounds.lower, bounds.upper
        method = "circular, padded grid" if kind == "conv" else "svd"
    return {
        "layer": prefix + layer.name,
        "kind": kind,
        "size": paper_size(layer),
        "weight_shape": list(module.weight.shape),
        "input_shape": list(layer.input_shape),
        "output_shape": list(layer.output_shape),
        "circular_size": list(circular_size) if circular_size else None,
        "lower": lower,
        "upper": upper,
        "method": method,
    }


def table5_caveats(
    weights: Weights, input_size: int, native_size: int, rows: list[dict], profile: str
) -> list[str]:
    """Why an AlexNet's numbers cannot be set against Table 5 (empty when they can)."""
    caveats = []
    if weights.source == "random":
        caveats.append("random weights")
    if input_size != native_size:
        caveats.append(
            f"input {input_size}×{input_size} (profile {profile}), not {native_size}×{native_size}"
        )
    skipped = [row["layer"] for row in rows if row["lower"] is None]
    if skipped:
        caveats.append(
            f"no lower bound for {', '.join(skipped)} (profile {profile}: upper bound only)"
        )
    return caveats


def plot_frame_bounds(result: dict[str, Any], path: str) -> None:
    """Bar plot of each layer's lower and upper frame bound (log scale), written atomically."""
    plt = pyplot()
    rows = result["rows"]
    positions = np.arange(len(rows))
    width = 0.4
    lowers = [np.nan if row["lower"] is None else row["lower"] for row in rows]
    figure, axes = plt.subplots(
        figsize=(max(5.0, 0.8 * len(rows) + 2.5), 4.0), layout="constrained"
    )
    axes.bar(positions - width / 2, lowers, width, label="lower", color="#4c72b0")
    uppers = [row["upper"] for row in rows]
    axes.bar(positions + width / 2, uppers, width, label="upper", color="#dd8452")
    axes.set_yscale("log")
    bottom = axes.get_ylim()[0]
    for position, lower in zip(positions, lowers, strict=True):
        if np.isnan(lower):
            axes.text(
                position - width / 2,
                bottom,
                "not computed",
                rotation=90,
                fontsize=7,
                ha="center",
                va="bottom",
            )
    axes.set_xticks(positions, [row["layer"] for row in rows], rotation=30, ha="right")
    axes.set_ylabel("frame bound (singular value)")
    axes.set_title(
        f"{result['network']}: {weights_label(result)}\n"
        f"input {'×'.join(map(str, result['input_shape']))} (profile {result['profile']}), "
        f"product of upper bounds {result['lipschitz_upper_bound']:.3g}",
        fontsize=10,
    )
    axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    save_figure(figure, path)
