"""The headline metrics (reports/metrics/headline.json): the few numbers of each table and every
verdict, the one file DVC shows as metrics, so that `dvc exp show` and `dvc metrics diff` compare
runs on what the report concludes (docs/experiments.md). Every per-job result stays in its own
JSON under reports/metrics/, versioned as an output."""

from __future__ import annotations

import re
from typing import Any

from intriguing.report.board import verdicts
from intriguing.report.summary import off_diagonal_mean


def verdict_key(title: str, subject: str | None, index: int, count: int) -> str:
    """A short, stable key for one verdict: its section's name before the dash ("Table 4 — …"
    → `table4`), then the network or variant it is about, or its number in the section when
    the section states several."""
    name = re.split(r" — | \(", title)[0]
    key = re.sub(r"_(?=\d)", "", "_".join(re.findall(r"[a-z0-9]+", name.lower())))
    if subject:
        return f"{key}.{'_'.join(re.findall(r'[a-z0-9]+', subject.lower()))}"
    return f"{key}.{index}" if count > 1 else key


def verdict_statuses(sections: list[str]) -> dict[str, str]:
    """Every verdict of the report's sections by `verdict_key`: its bold word."""
    found = verdicts(sections)
    counts: dict[str, int] = {}
    for title, subject, _ in found:
        if subject is None:
            counts[title] = counts.get(title, 0) + 1
    statuses, seen = {}, dict.fromkeys(counts, 0)
    for title, subject, match in found:
        if subject is None:
            seen[title] += 1
        key = verdict_key(title, subject, seen.get(title, 0), counts.get(title, 0))
        statuses[key] = match["word"]
    return statuses


def headline(
    reference: dict[str, Any],
    trained: dict[str, Any],
    adversarial: dict[str, Any],
    transfer: dict[str, Any],
    advtrain: dict[str, Any] | None,
    sections: list[str],
) -> dict[str, Any]:
    """The headline metrics from the report's inputs (each by file stem) and its sections."""
    paper_models = [*reference["table1"], *reference["table3"]]
    result: dict[str, Any] = {
        "test_error": {
            model: trained[model]["test_error"] for model in paper_models if model in trained
        },
        "mean_distortion": {
            model: attacked["mean_distortion"]
            for model in paper_models
            for split in ("train", "test")
            if (attacked := adversarial.get(f"{model}_{split}"))
        },
    }
    tables = {}
    if "table2" in transfer:
        tables["table2"] = off_diagonal_mean(transfer["table2"])
    if "table4" in transfer:
        table4 = transfer["table4"]
        tables["table4"] = off_diagonal_mean(table4)
        for block in ("amplified", "amplified_factor"):
            if block in table4:
                tables[f"table4_{block}"] = off_diagonal_mean(table4, table4[block])
    if tables:
        result["transfer_error"] = tables
    if "figure7" in transfer:
        result["noise_accuracy"] = {
            model: value["accuracy"]
            for model, value in transfer["figure7"]["noise_accuracy"].items()
        }
    if advtrain:
        result["advtrain_test_error"] = {
            model: entry["test_error_mean"] for model, entry in advtrain.items()
        }
    result["verdicts"] = verdict_statuses(sections)
    return result
