"""A transfer table's replicates: their fields and seed means (torch-free: the report reads it).

A table (intriguing.transfer.tables) is computed once per replicate r, from the r-th network of
every replicated model (params.yaml `train.replicated_models`; the other models' one network
serves every replicate), attacked and evaluating. The table's own fields are replicate 0's; its
`replicates` block (:func:`replicate_summary`) holds every replicate's fields and their seed
means, with intervals that include the seed-to-seed spread (:data:`SEED_MEAN_RULE`).
:func:`seed_mean_view` lays the seed means over the table's own fields, for the report, the CSV
and the heatmaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from statistics import fmean
from typing import Any

from intriguing.common.stats import mean_interval, seed_mean_interval

#: amplification reading -> JSON key of its block in Table 4.
AMPLIFIED_KEYS = {"stddev": "amplified", "factor": "amplified_factor"}


#: JSON key of the block of sets rescaled to the paper's mean distortion.
MATCHED_KEY = "matched"


def amplified_keys(table: dict[str, Any]) -> list[str]:
    """The amplified blocks a table holds, in the order of AMPLIFIED_KEYS."""
    return [key for key in AMPLIFIED_KEYS.values() if key in table]


def rescaled_keys(table: dict[str, Any]) -> list[str]:
    """Every block of rescaled sets a table holds: the amplified ones, then the matched one."""
    return [*amplified_keys(table), *([MATCHED_KEY] if MATCHED_KEY in table else [])]


#: A table's fields that its networks change: each replicate's are kept.
REPLICATE_FIELDS = (
    "error",
    "error_ci95",
    "target_share",
    "target_share_ci95",
    "noise",
    "noise_ci95",
    "noise_clipped",
    "noise_clipped_ci95",
    "mean_distortion",
    "attack_success_rate",
    "attack_failures",
    "mcnemar",
)
#: A rescaled (amplified or matched) block's fields that its networks change (those it has).
RESCALED_REPLICATE_FIELDS = (
    "error",
    "error_ci95",
    "target_share",
    "target_share_ci95",
    "mcnemar",
    "mean_distortion",
    "mean_distortion_ratio",
    "own_distortion",
    "factor",
)
#: The rates whose seed means `replicate_summary` gives (each with `<rate>_ci95`).
SEED_MEAN_RATES = ("error", "target_share", "noise", "noise_clipped")
SEED_MEAN_RULE = (
    "seed mean over the replicates; 95% interval: the Student-t interval over the replicates "
    "(seed-to-seed spread) and the Wilson interval of the mean over the n shared originals, "
    "their half-widths added in quadrature on each side (intriguing.common.stats."
    "seed_mean_interval); one replicate: its Wilson interval. Mean distortion: the Student-t "
    "interval over the replicates alone"
)


def _seed_means(values: Sequence[Any], n: int) -> tuple[Any, Any]:
    """Seed means and intervals of rates given once per replicate, cell by cell (nested lists
    or dicts of rates, of one shape in every replicate)."""
    first = values[0]
    if isinstance(first, dict):
        pairs = {key: _seed_means([v[key] for v in values], n) for key in first}
        return {k: m for k, (m, _) in pairs.items()}, {k: ci for k, (_, ci) in pairs.items()}
    if isinstance(first, list):
        pairs = [_seed_means(list(cell), n) for cell in zip(*values, strict=True)]
        return [m for m, _ in pairs], [ci for _, ci in pairs]
    mean, low, high = seed_mean_interval(list(values), n)
    return mean, [low, high]


def _distortion_means(values: Sequence[dict[str, float | None]]) -> dict[str, Any]:
    """Seed mean and Student-t interval of each set's mean distortion (replicates where the
    attack succeeded at least once; None where it never did)."""
    means, intervals = {}, {}
    for name in values[0]:
        reached = [v[name] for v in values if v[name] is not None]
        means[name] = fmean(reached) if reached else None
        intervals[name] = list(mean_interval(reached)) if reached else None
    return {"mean_distortion": means, "mean_distortion_ci95": intervals}


def _seed_mean_fields(blocks: Sequence[dict[str, Any]], n: int) -> dict[str, Any]:
    """The seed means (with `_ci95`) of the rates and distortions one block holds per replicate."""
    fields: dict[str, Any] = {}
    for rate in SEED_MEAN_RATES:
        if rate in blocks[0]:
            fields[rate], fields[f"{rate}_ci95"] = _seed_means([b[rate] for b in blocks], n)
    return {**fields, **_distortion_means([b["mean_distortion"] for b in blocks])}


def replicate_summary(
    tables: Sequence[dict[str, Any]], replicated: Sequence[str]
) -> dict[str, Any]:
    """A table's `replicates` block from its per-replicate tables (`tables[r]`: replicate r's,
    all on the same originals): `count`; `replicated_models` (the table's models with a network
    per replicate; the others' one network serves every replicate); `interval_rule`;
    `per_replicate` (each replicate's REPLICATE_FIELDS, and each rescaled block's
    RESCALED_REPLICATE_FIELDS under its key); `seed_mean`: the seed means of `error`,
    `target_share`, `noise`, `noise_clipped` (shaped as the table's, each with `<rate>_ci95`
    by SEED_MEAN_RULE) and `mean_distortion` (with `mean_distortion_ci95`), and the same for
    every rescaled (amplified or matched) block under its key."""
    if len({table["n"] for table in tables}) != 1:
        raise ValueError("the replicates' tables were computed on different numbers of originals")
    n = tables[0]["n"]
    keys = rescaled_keys(tables[0])
    per_replicate = [
        {
            **{field: table[field] for field in REPLICATE_FIELDS if field in table},
            **{
                key: {f: table[key][f] for f in RESCALED_REPLICATE_FIELDS if f in table[key]}
                for key in keys
            },
        }
        for table in tables
    ]
    seed_mean = _seed_mean_fields(tables, n)
    for key in keys:
        seed_mean[key] = _seed_mean_fields([table[key] for table in tables], n)
    return {
        "count": len(tables),
        "replicated_models": [name for name in tables[0]["generated_for"] if name in replicated],
        "interval_rule": SEED_MEAN_RULE,
        "per_replicate": per_replicate,
        "seed_mean": seed_mean,
    }


def seed_mean_view(table: dict[str, Any]) -> dict[str, Any]:
    """The table with its replicates' seed means (and their intervals) in place of replicate
    0's rates and distortions; the table itself when it has no `replicates` block."""
    replicates = table.get("replicates")
    if replicates is None:
        return table
    seed_mean = replicates["seed_mean"]
    keys = rescaled_keys(table)
    view = {**table, **{k: v for k, v in seed_mean.items() if k not in keys}}
    for key in keys:
        view[key] = {**table[key], **seed_mean[key]}
    return view
