"""Stage `instability`: the entry point of rule `instability`, called by workflow/scripts/<rule>.py
(docs/layout.md).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from intriguing.common import files
from intriguing.common.progress import log_bookkeeping
from intriguing.common.runtime import configure_job, device_description, select_device
from intriguing.core.distortion import distortion
from intriguing.core.models import ModelSpec, load_checkpoint
from intriguing.instability.gains import (
    adversarial_pairs,
    compare_with_bounds,
    observed_gains,
    plot_instability,
)


def instability(
    name: str,
    spec_params: dict[str, Any],
    model_path: str,
    set_paths: Sequence[str],
    raw_dir: str | Path,
    spectral_path: str,
    metrics_path: str,
    figure_path: str,
    device: str,
    threads: int,
) -> None:
    """Rule `instability`: observed gains of one model's adversarial sets against its bounds."""
    configure_job(threads)
    target = select_device(device)
    model, _ = load_checkpoint(model_path, ModelSpec.from_params(name, spec_params), target)
    spectral = files.read_json(spectral_path)
    if spectral["network"] != name:
        raise ValueError(f"{spectral_path} holds the bounds of {spectral['network']}, not {name}")
    x, x_adv, sets = adversarial_pairs(set_paths, raw_dir)
    started = time.perf_counter()
    gains = observed_gains(model, x.to(target), x_adv.to(target))
    bounds = spectral["rows"]
    rows = compare_with_bounds(gains, [r["layer"] for r in bounds], [r["upper"] for r in bounds])
    result = {
        "model": name,
        "description": ModelSpec.from_params(name, spec_params).describe(),
        "sets": sets,
        "n": len(x),
        "mean_distortion": float(distortion(x, x_adv).mean()),
        "rows": rows,
        "lipschitz_upper_bound": spectral["lipschitz_upper_bound"],
        "network_gain_max": rows[-1]["cumulative_gain"]["max"],
        "network_looseness": rows[-1]["cumulative_looseness"],
    }
    log_bookkeeping(
        f"{name}: gains measured",
        wall_seconds=time.perf_counter() - started,
        device=device_description(target),
    )
    files.write_json(metrics_path, result)
    plot_instability(result, figure_path)
