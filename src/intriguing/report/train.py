"""Report sections on the train stage's results (reports/metrics/train): the error tables of the
paper's Tables 1 and 3 beside ours, and how each model was trained."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def error_table_section(
    title: str,
    intro: str,
    metrics: dict[str, dict[str, Any]],
    reference: dict[str, dict[str, Any]],
    columns: list[tuple[str, str]],
) -> str:
    """A section comparing error rates per model; `columns` maps metric key -> column title.
    Its verdict leaves out the training errors the paper gives as 0%, which cannot disagree."""
    header = ["model", "description"]
    for _, column in columns:
        header += [f"{column} (ours, 95% CI)", f"{column} (paper)", "Δ"]
    rows, cells = [], []
    for model, paper_row in reference.items():
        if model not in metrics:
            continue
        row = [model, paper_row["description"]]
        for key, column in columns:
            ours = metrics[model]
            comparison = RateComparison(
                label=f"{model}, {column}",
                ours=ours[key],
                ci=tuple(ours[f"{key}_ci95"]),
                n=ours[key.replace("_error", "_n")],
                paper=paper_row[key],
            )
            cannot_disagree = paper_row[key] == 0 and on_training_images(ours, key)
            cells.append(
                AgreementCell(
                    comparison.label,
                    comparison.ours,
                    *comparison.ci,
                    comparison.paper,
                    ZERO_TRAINING_REASON if cannot_disagree else None,
                )
            )
            row += comparison.cells()
        rows.append(row)
    parts = [f"## {title}", intro]
    if cells:
        parts.append(agreement_verdict(cells).line(CLEAN_ERRORS_CLAIM))
    else:
        parts.append("Not run: no results for this claim yet.")
    if rows:
        parts.append(markdown_table(header, rows))
        parts.append(
            f"{OUTSIDE_CI_MARK} the paper's value lies outside our 95% Wilson interval. "
            "Δ = ours − paper, in percentage points."
        )
    else:
        parts.append("_None of this table's models is in `train.models`._")
    return "\n\n".join(parts)


def training_details_section(metrics: dict[str, dict[str, Any]]) -> str:
    """How each model was trained: optimiser, iterations, stop reason (its wall time and device
    are in the run record, reports/run_record.md)."""
    header = [
        "model",
        "network",
        "trained on",
        "n",
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
