"""The metrics files the report reads (reports/metrics/), each checked against its layout on load.

A layout is the top-level keys the rule that writes the file always writes (and, for a file of
one entry per network, each entry's keys). The files carry no version field, so that adding the
check changed none of them: a file from older code is recognised by a missing key, and the error
names the file, the keys and the rule to rerun.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class MetricsFileError(ValueError):
    """A metrics file is not what the report reads; the message names the file."""


@dataclass(frozen=True)
class MetricsLayout:
    """The keys a metrics file always has; `entry_keys`: those of each of its values (a file
    with one entry per network)."""

    rule: str
    keys: frozenset[str]
    entry_keys: frozenset[str] = frozenset()


def _layout(rule: str, keys: str, entry_keys: str = "") -> MetricsLayout:
    return MetricsLayout(rule, frozenset(keys.split()), frozenset(entry_keys.split()))


_TRANSFER_SHARED = "split mean_distortion noise_distortion noise_clipped_distortion noise_rows"

#: The layout of each metrics input of rule `report` (report.step.INPUT_NAMES), by input name;
#: `<name>/<stem>` where one file of an input differs from the others.
METRICS_LAYOUTS = {
    "metrics": _layout(
        "evaluate",
        "model architecture replicate training train_error train_error_ci95 train_n test_error "
        "test_error_ci95 test_n",
    ),
    "adversarial": _layout(
        "adversarial",
        "n success_rate success_rate_ci95 failures mean_distortion median_distortion "
        "mean_distortion_all mean_iterations target_policy",
    ),
    "transfer": _layout(
        "transfer",
        f"{_TRANSFER_SHARED} table generated_for evaluated_on n error error_ci95 error_bits "
        "error_definition noise noise_ci95 noise_error_bits noise_clipped noise_clipped_ci95 "
        "noise_clipped_error_bits attack_failures attack_success_rate target_policy target_share "
        "target_share_ci95 target_share_definition mcnemar replicates",
    ),
    "transfer/figure7": _layout(
        "figure7", f"{_TRANSFER_SHARED} models noise_accuracy noise_stddev"
    ),
    "spectral": _layout(
        "spectral",
        "network description rows lipschitz_upper_bound input_shape options profile weights "
        "weights_detail weights_fallback",
    ),
    "units": _layout("units_summary", "networks profile verdict"),
    "instability": _layout(
        "instability",
        "model description rows sets n mean_distortion lipschitz_upper_bound network_gain_max "
        "network_looseness",
    ),
    "advtrain": _layout(
        "advtrain_summary",
        "",
        "architecture kind epochs seeds pool_levels test_n test_errors test_error_mean "
        "test_error_mean_ci95 test_error_std train_error_mean attack_success_rate "
        "mean_min_distortion mean_min_distortions paired_difference transfer_error",
    ),
    "readings": _layout(
        "decay_readings", "default param distances nearest figure7_noise noise_stddevs rows"
    ),
    "readings_ae400": _layout("ae400_variants", "default model paper variants"),
}


def metrics_layout(name: str, path: str | Path) -> MetricsLayout:
    """The layout of the file at `path` given as the report's input `name`."""
    return METRICS_LAYOUTS.get(f"{name}/{Path(path).stem}") or METRICS_LAYOUTS[name]


def load_metrics(path: str | Path, name: str) -> dict[str, Any]:
    """The metrics file at `path`, the report's input `name`, checked against its layout."""
    layout = metrics_layout(name, path)
    rerun = f"rerun rule `{layout.rule}` (snakemake --forcerun {layout.rule})"
    try:
        metrics = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise MetricsFileError(f"metrics file {path}: not JSON ({error}); {rerun}") from error
    if not isinstance(metrics, dict):
        raise MetricsFileError(
            f"metrics file {path}: holds a {type(metrics).__name__}, not a JSON object; {rerun}"
        )
    entries = {"": metrics} | {
        f"{key}: ": value for key, value in metrics.items() if layout.entry_keys
    }
    for where, entry in entries.items():
        keys = layout.entry_keys if where else layout.keys
        if not isinstance(entry, dict):
            raise MetricsFileError(f"metrics file {path}: {where}not a JSON object; {rerun}")
        missing = sorted(keys - set(entry))
        if missing:
            raise MetricsFileError(
                f"metrics file {path}: {where}missing keys {missing} that rule `{layout.rule}` "
                f"writes (a file of older code?); {rerun}"
            )
    return metrics
