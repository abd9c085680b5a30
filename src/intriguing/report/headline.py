"""The headline metrics (reports/metrics/headline.json): the few numbers of each table and every
verdict, the one file DVC shows as metrics, so that `dvc exp show` and `dvc metrics diff` compare
runs on what the report concludes (docs/experiments.md). Every per-job result stays in its own
JSON under reports/metrics/, versioned as an output."""

from __future__ import annotations

import re
from typing import Any

from intriguing.report.board import claim_of, section_name, verdicts
from intriguing.report.summary import off_diagonal_mean


def slug(text: str) -> str:
    """Lower-case ASCII words and numbers joined by underscores ("σ=0.06" → "0_06")."""
    return "_".join(re.findall(r"[a-z0-9]+", text.lower()))


def verdict_key(title: str, name: str | None, index: int, count: int) -> str:
    """A short, stable key for one verdict: its section's name ("Table 4 — …" → `table4`), then
    the claim or network it is about, or its number in the section when it names neither and
    the section states several."""
    key = re.sub(r"_(?=\d)", "", slug(section_name(title)))
    if name:
        return f"{key}.{slug(name)}"
    return f"{key}.{index}" if count > 1 else key


def verdict_statuses(sections: list[str]) -> dict[str, str]:
    """Every verdict of the report's sections by `verdict_key`: its bold word."""
    found = [
        (title, claim_of(match["sentence"]) or subject, match)
        for title, subject, match in verdicts(sections)
    ]
    counts: dict[str, int] = {}
    for title, name, _ in found:
        if name is None:
            counts[title] = counts.get(title, 0) + 1
    statuses, seen = {}, dict.fromkeys(counts, 0)
    for title, name, match in found:
        if name is None:
            seen[title] += 1
        key = verdict_key(title, name, seen.get(title, 0), counts.get(title, 0))
        if key in statuses:
            raise ValueError(f"two verdicts share the headline key {key!r}")
        statuses[key] = match["word"]
    return statuses


def headline(
    reference: dict[str, Any],
    trained: dict[str, Any],
    adversarial: dict[str, Any],
    transfer: dict[str, Any],
    advtrain: dict[str, Any] | None,
    sections: list[str],
    transfer_verdicts: dict[str, dict[str, dict[str, Any]]] | None = None,
) -> dict[str, Any]:
    """The headline metrics from the report's inputs (each by file stem) and its sections;
    `transfer_verdicts` (table → claim key → its numbers: state, McNemar p-values raw and
    Holm-adjusted, Spearman ρ) as the transfer sections judged them."""
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
    if transfer_verdicts:
        result["transfer_verdicts"] = transfer_verdicts
    result["verdicts"] = verdict_statuses(sections)
    return result
