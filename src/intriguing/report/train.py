"""Report sections on the train stage's results (reports/metrics/train): the error tables of the
paper's Tables 1 and 3 beside ours, and how each model was trained."""

from __future__ import annotations

from pathlib import Path
from statistics import fmean
from typing import Any

from intriguing.common.stats import seed_mean_interval
from intriguing.plan.specs import split_replicate
from intriguing.report.format import (
    OUTSIDE_CI_MARK,
    RateComparison,
    image,
    markdown_table,
)
from intriguing.report.verdicts import AgreementCell, agreement_verdict

CLEAN_ERRORS_CLAIM = "clean errors agree with the paper"
ZERO_TRAINING_REASON = "training errors the paper gives as 0% (a model fitting its own images)"


def on_training_images(metrics: dict[str, Any], key: str) -> bool:
    """Is the error `key` (train_error, p1_error, …) measured on the model's own training
    images?"""
    return key == "train_error" or key == f"{metrics['training']['train_set']}_error"


def replicate_groups(results: dict[str, dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Results keyed by network (`n100`, `n100_rep1`, …) grouped by model, replicate 0 first."""
    groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for name, result in results.items():
        model, replicate = split_replicate(name)
        groups.setdefault(model, []).append((replicate, result))
    return {
        model: [r for _, r in sorted(group, key=lambda g: g[0])] for model, group in groups.items()
    }


def model_means(results: dict[str, dict[str, Any]], key: str) -> dict[str, float | None]:
    """The seed mean of `key` per model, from results keyed by network (a model trained once:
    its one value); None for a model where no network has a value (an attack that never
    succeeded)."""
    means = {}
    for model, group in replicate_groups(results).items():
        values = [result[key] for result in group if result.get(key) is not None]
        means[model] = fmean(values) if values else None
    return means


def networks_by_split(sets: dict[str, dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """Adversarial-set metrics keyed `<network>_<split>` (amplified sets left out) as
    {split: {network: metrics}}."""
    by_split: dict[str, dict[str, dict[str, Any]]] = {}
    for key, metrics in sets.items():
        if key.endswith("_amplified") or key.endswith("_amplified_factor"):
            continue
        network, split = key.rsplit("_", 1)
        by_split.setdefault(split, {})[network] = metrics
    return by_split


def seed_mean_comparison(
    label: str, group: list[dict[str, Any]], key: str, paper: float
) -> tuple[RateComparison, list[float]]:
    """A rate's seed mean over a model's replicates, with its interval (one replicate: its own
    Wilson interval; intriguing.common.stats.seed_mean_interval), beside the paper's value; and
    the per-replicate rates."""
    values = [result[key] for result in group]
    n = group[0][key.replace("_error", "_n")]
    if len(group) == 1:
        return RateComparison(label, values[0], tuple(group[0][f"{key}_ci95"]), n, paper), values
    mean, low, high = seed_mean_interval(values, n)
    return RateComparison(label, mean, (low, high), n, paper), values


def error_table_section(
    title: str,
    intro: str,
    metrics: dict[str, dict[str, Any]],
    reference: dict[str, dict[str, Any]],
    columns: list[tuple[str, str]],
) -> str:
    """A section comparing error rates per model; `columns` maps metric key -> column title.
    `metrics` is keyed by network: a replicated model's cell is the seed mean of its
    replicates, with the per-replicate rates after it. Its verdict leaves out the training
    errors the paper gives as 0%, which cannot disagree."""
    header = ["model", "description", "networks"]
    for _, column in columns:
        header += [f"{column} (ours, 95% CI)", f"{column} (paper)", "Δ"]
    rows, cells = [], []
    groups = replicate_groups(metrics)
    for model, paper_row in reference.items():
        if model not in groups:
            continue
        group = groups[model]
        row = [model, paper_row["description"], str(len(group))]
        for key, column in columns:
            comparison, values = seed_mean_comparison(
                f"{model}, {column}", group, key, paper_row[key]
            )
            cannot_disagree = paper_row[key] == 0 and on_training_images(group[0], key)
            cells.append(
                AgreementCell(
                    comparison.label,
                    comparison.ours,
                    *comparison.ci,
                    comparison.paper,
                    ZERO_TRAINING_REASON if cannot_disagree else None,
                )
            )
            shown = comparison.cells()
            if len(values) > 1:
                shown[0] += f" ⟨{', '.join(f'{v * 100:.2f}' for v in values)}⟩"
            row += shown
        rows.append(row)
    parts = [f"## {title}", intro]
    if cells:
        parts.append(agreement_verdict(cells).line(CLEAN_ERRORS_CLAIM))
    else:
        parts.append("Not run: no results for this claim yet.")
    if rows:
        parts.append(markdown_table(header, rows))
        parts.append(
            f"{OUTSIDE_CI_MARK} the paper's value lies outside our 95% interval. Δ = ours − "
            "paper, in percentage points. *networks*: a model trained from that many seeds "
            "(train.replicated_models) is given as the seed mean, its interval the Student-t "
            "interval over the seeds and the Wilson interval of the mean added in quadrature, "
            "then ⟨each seed's rate in percent⟩; one network: its rate and Wilson interval."
        )
    else:
        parts.append("_None of this table's models is in `train.models`._")
    return "\n\n".join(parts)


def training_details_section(metrics: dict[str, dict[str, Any]]) -> str:
    """How each network (every replicate its own row) was trained: seed, optimiser, iterations,
    stop reason (its wall time and device are in the run record, reports/run_record.md)."""
    header = [
        "model",
        "network",
        "trained on",
        "n",
        "seed",
        "optimizer",
        "Adam steps",
        "L-BFGS iterations",
        "stop reason",
        "final loss",
    ]
    rows = []
    for model, m in metrics.items():
        t = m["training"]
        rows.append(
            [
                model,
                m["architecture"],
                t["train_set"],
                str(m["train_n"]),
                str(t.get("seed", "—")),
                t["optimizer"],
                str(t["adam_steps"]),
                str(t["lbfgs_iterations"]),
                t["stop_reason"],
                f"{t['final_loss']:.4f}",
            ]
        )
    return "\n\n".join(["## Training details", markdown_table(header, rows)])


def filters_section(figures: list[str], base_dir: Path) -> str:
    """The first-layer filters of the autoencoder models (the paper: AE400 trained "until it
    got very high quality first layer filters"); empty when none was trained."""
    if not figures:
        return ""
    parts = [
        "### First-layer filters of the autoencoder models",
        "Each of the encoder's units drawn as its 784 input weights (grey = 0, each scaled by its "
        "own largest weight). The paper trained AE400's sparse autoencoder \"until it got very "
        'high quality first layer filters": stroke and blob detectors, not noise. The number of '
        "autoencoder epochs and why they stopped are in each model's provenance.",
    ]
    parts += [image(f"{Path(path).stem.replace('_', ' ')}", path, base_dir) for path in figures]
    return "\n\n".join(parts)
