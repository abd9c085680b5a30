"""Stage `transfer`: one entry point per rule (`transfer` for Tables 2 and 4, `figure7`), called by
workflow/scripts/<rule>.py (docs/layout.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from intriguing.adversarial.sets import load_sets, originals_tensor, shared_originals
from intriguing.common import files
from intriguing.common.runtime import configure_job
from intriguing.reference import paper_reference
from intriguing.transfer.tables import figure7 as noise_figure
from intriguing.transfer.tables import (
    load_models,
    plot_transfer_heatmaps,
    table_rows,
    transfer_table,
)


def transfer(
    name: str,
    specs: dict[str, dict[str, Any]],
    model_files: dict[str, str],
    set_files: dict[str, str],
    amplified_files: dict[str, dict[str, str]] | None,
    raw_files: Sequence[str],
    noise_stddevs: Sequence[float],
    seed: int,
    title: str,
    threads: int,
    output_metrics: str,
    output_csv: str,
    output_figure: str,
    matched_distortion: bool,
) -> None:
    """Rule `transfer`: one transfer table (`name`: table2 or table4) as JSON, long-format CSV and
    heatmaps beside the paper's. `amplified_files` (Table 4) maps each amplification reading
    (stddev, factor) to its sets' files; `matched_distortion` (params.yaml,
    transfer.matched_distortion) adds the sets rescaled to the paper's mean distortion."""
    configure_job(threads)
    sets = load_sets(set_files)
    indices, labels, split = shared_originals(sets)
    amplified = {mode: load_sets(paths) for mode, paths in (amplified_files or {}).items()}
    shared_originals(
        {
            **sets,
            **{
                f"{key} amplified ({mode})": s
                for mode, mode_sets in amplified.items()
                for key, s in mode_sets.items()
            },
        }
    )
    x = originals_tensor(raw_files, split, indices)
    reference = paper_reference()[name]
    table = transfer_table(
        sets,
        load_models(specs, model_files),
        x,
        labels,
        noise_stddevs,
        seed,
        amplified or None,
        reference["mean_distortion"] if matched_distortion else None,
    )
    table.update({"table": name, "split": split})
    files.write_json(output_metrics, table)
    files.write_csv(output_csv, table_rows(table))
    plot_transfer_heatmaps(table, reference, title, output_figure)


def figure7(
    specs: dict[str, dict[str, Any]],
    model_files: dict[str, str],
    set_files: dict[str, str],
    raw_files: Sequence[str],
    noise_stddev: float,
    pairs: int,
    seed: int,
    threads: int,
    output_metrics: str,
    output_figure: str,
) -> None:
    """Rule `figure7`."""
    configure_job(threads)
    sets = load_sets(set_files)
    indices, labels, split = shared_originals(sets)
    x = originals_tensor(raw_files, split, indices)
    result = noise_figure(
        sets, load_models(specs, model_files), x, labels, noise_stddev, pairs, seed, output_figure
    )
    result["split"] = split
    files.write_json(output_metrics, result)
