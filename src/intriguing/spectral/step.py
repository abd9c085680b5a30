"""Stage `spectral`: the entry point of rule `spectral` (Table 5 and our models' frame bounds),
called by workflow/scripts/<rule>.py (docs/layout.md).
"""

from __future__ import annotations

import math
import time
from typing import Any

from intriguing.common import files
from intriguing.common.progress import log_bookkeeping
from intriguing.common.runtime import configure_job, device_description, select_device
from intriguing.core.models import INPUT_SHAPE, ModelSpec
from intriguing.plan.specs import ALEXNETS
from intriguing.spectral.layers import trace_layers
from intriguing.spectral.networks import (
    SpectralOptions,
    alexnet_parts,
    bounds_row,
    load_alexnet,
    load_mnist_network,
    plot_frame_bounds,
    table5_caveats,
)


def spectral(
    network: str,
    metrics_path: str,
    figure_path: str,
    options: dict[str, Any],
    seed: int,
    device: str,
    threads: int,
    profile: str,
    model_path: str | None = None,
    spec_params: dict[str, Any] | None = None,
    weights_file: str | None = None,
) -> None:
    """Rule `spectral`: frame bounds of one network's layers as JSON and a bar plot.

    AlexNets take weights_file (optional); MNIST models model_path and their registry entry.
    The time of the bounds alone (not of loading or downloading) goes to the job's log.
    """
    configure_job(threads)
    settings = SpectralOptions(**options)
    target = select_device(device)
    result: dict[str, Any] = {"network": network, "profile": profile}
    if network in ALEXNETS:
        form = ALEXNETS[network]
        model, weights = load_alexnet(network, weights_file, settings.download_weights, seed)
        size = settings.alexnet_input_size or form.input_size
        parts = alexnet_parts(network, model.to(target), size)
        result |= {"description": form.description, "native_input_size": form.input_size}
    else:
        if model_path is None or spec_params is None:
            raise ValueError(f"{network}: an MNIST model needs model_path and spec_params")
        model, weights = load_mnist_network(network, spec_params, model_path)
        parts = [("", model.to(target), INPUT_SHAPE)]
        result["description"] = ModelSpec.from_params(network, spec_params).describe()
    start = time.perf_counter()
    rows = [
        bounds_row(layer, prefix, settings.linear_svd_max_weights)
        for prefix, module, shape in parts
        for layer in trace_layers(module, shape)
    ]
    log_bookkeeping(
        f"{network}: frame bounds",
        wall_seconds=time.perf_counter() - start,
        device=device_description(target),
    )
    result |= {
        "input_shape": list(parts[0][2]),
        "rows": rows,
        "lipschitz_upper_bound": math.prod(row["upper"] for row in rows),
        "weights": weights.source,
        "weights_detail": weights.detail,
        "weights_fallback": weights.fallback,
        "options": options,
    }
    if network in ALEXNETS:
        result["table5_caveats"] = table5_caveats(weights, size, form.input_size, rows, profile)
    files.write_json(metrics_path, result)
    plot_frame_bounds(result, figure_path)
