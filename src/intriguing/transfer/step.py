"""Stage `transfer`: one entry point per rule (`transfer` for Tables 2 and 4, `figure7`), called by
workflow/scripts/<rule>.py (docs/layout.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from intriguing.common import files
from intriguing.common.runtime import configure_job
from intriguing.core.sets import load_sets, originals_tensor, shared_originals
from intriguing.reference import paper_reference
from intriguing.transfer.replicates import replicate_summary, seed_mean_view
from intriguing.transfer.tables import figure7 as noise_figure
from intriguing.transfer.tables import (
    load_models,
    plot_transfer_heatmaps,
    table_rows,
    transfer_table,
)


def per_replicate(paths: Sequence[str], models: Sequence[str]) -> list[dict[str, str]]:
    """A flat list of paths, replicate after replicate, as one {model: path} per replicate."""
    count, rest = divmod(len(paths), len(models))
    if rest or not count:
        raise ValueError(
            f"{len(paths)} paths for {len(models)} models: not a whole number of replicates"
        )
    return [
        dict(zip(models, paths[r * len(models) : (r + 1) * len(models)], strict=True))
        for r in range(count)
    ]


def transfer(
    name: str,
    specs: dict[str, dict[str, Any]],
    model_files: Sequence[dict[str, str]],
    set_files: Sequence[dict[str, str]],
    amplified_files: Sequence[dict[str, dict[str, str]]] | None,
    replicated: Sequence[str],
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
    heatmaps beside the paper's. `model_files` and `set_files` hold one {model: path} per
    replicate (:func:`intriguing.transfer.tables.replicate_summary`; `replicated`: the models
    with a network per replicate), `amplified_files` (Table 4) per replicate each amplification
    reading's (stddev, factor) sets' files; `matched_distortion` (params.yaml,
    transfer.matched_distortion) adds the sets rescaled to the paper's mean distortion. The
    JSON's own fields are replicate 0's, with the `replicates` block; the CSV and the heatmaps
    show the seed means."""
    configure_job(threads)
    if len(model_files) != len(set_files):
        raise ValueError(f"{len(model_files)} replicates of models, {len(set_files)} of sets")
    replicate_sets = [load_sets(paths) for paths in set_files]
    replicate_amplified = [
        {mode: load_sets(paths) for mode, paths in files_by_mode.items()}
        for files_by_mode in (amplified_files or [{}] * len(set_files))
    ]
    indices, labels, split = shared_originals(
        {
            f"{key} (replicate {r})": s
            for r, (sets, amplified) in enumerate(
                zip(replicate_sets, replicate_amplified, strict=True)
            )
            for key, s in [
                *sets.items(),
                *(
                    (f"{key} amplified ({mode})", s)
                    for mode, mode_sets in amplified.items()
                    for key, s in mode_sets.items()
                ),
            ]
        }
    )
    x = originals_tensor(raw_files, split, indices)
    reference = paper_reference()[name]
    tables = [
        transfer_table(
            sets,
            load_models(specs, models),
            x,
            labels,
            noise_stddevs,
            seed,
            amplified or None,
            reference["mean_distortion"] if matched_distortion else None,
        )
        for sets, models, amplified in zip(
            replicate_sets, model_files, replicate_amplified, strict=True
        )
    ]
    table = {**tables[0], "table": name, "split": split}
    table["replicates"] = replicate_summary(tables, replicated)
    files.write_json(output_metrics, table)
    means = seed_mean_view(table)
    files.write_csv(output_csv, table_rows(means))
    plot_transfer_heatmaps(means, reference, title, output_figure)


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
