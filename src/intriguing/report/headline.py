"""The headline metrics (reports/metrics/headline.json): the few numbers of each table and every
verdict, the one file DVC shows as metrics, so that `dvc exp show` and `dvc metrics diff` compare
runs on what the report concludes (docs/experiments.md). Every per-job result stays in its own
JSON under reports/metrics/, versioned as an output."""

from __future__ import annotations

import re
from typing import Any

from intriguing.report.board import claim_of, section_name, verdicts
from intriguing.report.summary import off_diagonal_mean
from intriguing.report.train import model_means, networks_by_split
from intriguing.transfer.replicates import rescaled_keys, seed_mean_view


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
    """The headline metrics from the report's inputs (each by file stem) and its sections, the
    seed means of models trained from several seeds;
    `transfer_verdicts` (table → claim key → its numbers: state, McNemar p-values raw and
    Holm-adjusted, Spearman ρ) as the transfer sections judged them."""
    paper_models = [*reference["table1"], *reference["table3"]]
    test_errors = model_means(trained, "test_error")
    distortions = {
        model: value
        for networks in networks_by_split(adversarial).values()
        for model, value in model_means(networks, "mean_distortion").items()
    }
    result: dict[str, Any] = {
        "test_error": {model: test_errors[model] for model in paper_models if model in test_errors},
        "mean_distortion": {
            model: distortions[model] for model in paper_models if model in distortions
        },
    }
    tables = {}
    for name in ("table2", "table4"):
        if name in transfer:
            table = seed_mean_view(transfer[name])
            tables[name] = off_diagonal_mean(table)
            for block in rescaled_keys(table):
                tables[f"{name}_{block}"] = off_diagonal_mean(table, table[block])
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
