"""Report sections for the transfer experiments: Tables 2 and 4 and Figure 7.

The verdicts (rules in intriguing.report.verdicts; thresholds in params.yaml, `report`):

* *Transfer beyond noise*, per block of rows (the sets as found, rescaled to the paper's
  distortion, each amplification) and per kind of off-diagonal cell: across training sets (the
  row's and the column's models trained on different data: Table 4's P1 ↔ P2 cells) and across
  models on one training set (Table 2; Table 4's m1 ↔ m1p). Each cell is paired with the noise
  row on the same originals and model (Table 2 and 4: the first noise row; amplified blocks: the
  last) by an exact McNemar test, Holm-adjusted over the cells of the verdict.
* *Agreement*: how many of our rates that can disagree have the paper's value inside their 95%
  interval. Left out, because they cannot disagree: the diagonal of the sets as found (the
  attack's own success, 100% by construction), and a noise cell whose paper value lies within
  `report.noise_clean_margin` of the paper's clean error of its model on the same kind of images
  (noise that changes nothing repeats Table 1/3's error, judged there).
* *Pattern*: Spearman ρ of our and the paper's off-diagonal cells with a bootstrap interval.

A further table, which the paper lacks, shows where the adversarials land: the share of each
set's examples that each model classifies as the attack's own target label.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from intriguing.report.format import (
    OUTSIDE_CI_MARK,
    RateComparison,
    image,
    markdown_table,
    percent,
)
from intriguing.report.verdicts import (
    INCONCLUSIVE,
    AgreementCell,
    PairedCell,
    Verdict,
    VerdictSettings,
    above_noise_verdict,
    agreement_verdict,
    pattern_verdict,
)
from intriguing.transfer.replicates import MATCHED_KEY, amplified_keys, seed_mean_view

ACROSS_TRAINING_SETS = "across training sets"
ACROSS_MODELS = "across models on one training set"
DIAGONAL_REASON = "diagonal cells (a model's own adversarials: the attack's success)"
NOISE_REASON = "noise cells at the paper's clean error of their model"
RESCALED_DIAGONAL_REASON = (
    "diagonal cells of the rescaled sets (the paper's 100% is its attack's success on the set "
    "as found, not a rate of a rescaled set)"
)


@dataclass(frozen=True)
class JudgedClaim:
    """One verdict of a transfer table: the claim in a few words, the verdict and the numbers
    it rests on for the headline metrics."""

    claim: str
    verdict: Verdict
    metrics: dict[str, Any]

    def line(self) -> str:
        return self.verdict.line(self.claim)


def compact_cell(comparison: RateComparison | None, ours: float, ci: list[float]) -> str:
    """'ours [low, high] · paper · Δ' in percent, marked when the paper lies outside the CI."""
    text = f"{ours * 100:.1f} [{ci[0] * 100:.1f}, {ci[1] * 100:.1f}]"
    if comparison is None:
        return text
    mark = "" if comparison.consistent else f" {OUTSIDE_CI_MARK}"
    return f"{text} · {comparison.paper * 100:.1f} · {comparison.difference * 100:+.1f}{mark}"


def block_rows(
    names: list[str],
    errors: list[list[float]],
    intervals: list[list[list[float]]],
    paper_rows: list[list[float] | None],
    columns: list[str],
    n: int,
    label: str,
) -> list[list[str]]:
    """Markdown rows of one block of a transfer table, each cell beside the paper's."""
    rows = []
    for name, row, row_ci, paper_row in zip(names, errors, intervals, paper_rows, strict=True):
        cells = [f"{label} {name}".strip()]
        for position, (column, ours, ci) in enumerate(zip(columns, row, row_ci, strict=True)):
            comparison = None
            if paper_row is not None and paper_row[position] is not None:
                comparison = RateComparison(
                    f"{label} {name} → {column}".strip(), ours, tuple(ci), n, paper_row[position]
                )
            cells.append(compact_cell(comparison, ours, ci))
        rows.append(cells)
    return rows


def paper_row(
    reference: dict[str, Any], values: list[float] | None, columns: list[str]
) -> list[float | None] | None:
    """The paper's row laid out on our columns (None where the paper lacks the model)."""
    if values is None:
        return None
    return [
        values[reference["models"].index(c)] if c in reference["models"] else None for c in columns
    ]


def distortion_cells(
    table: dict[str, Any], reference: dict[str, Any], names: list[str]
) -> list[list[str]]:
    """Per row: our mean distortion and the paper's ('—' where either is missing)."""
    ours = table["mean_distortion"]
    paper = reference.get("mean_distortion", {})
    return [
        [
            f"{ours[name]:.3f}" if ours.get(name) is not None else "—",
            f"{paper[name]:.3f}" if name in paper else "—",
        ]
        for name in names
    ]


def noise_blocks(table: dict[str, Any], reference: dict[str, Any]) -> Iterator[list[list[str]]]:
    """The paper's noise rows (unclipped) beside the paper's, then the clipped rows, labelled
    secondary and compared with nothing."""
    columns = table["evaluated_on"]
    for kind in ("noise", "noise_clipped"):
        keys = list(table[kind])
        reached = table[f"{kind}_distortion"]
        if kind == "noise":
            names = [
                f"σ={key} (unclipped, the paper's; distortion {reached[key]:.3f})" for key in keys
            ]
            papers = [paper_row(reference, reference["noise"].get(key), columns) for key in keys]
        else:
            names = [
                f"σ={key} clipped to [0, 1] (secondary; distortion {reached[key]:.3f})"
                for key in keys
            ]
            papers = [None] * len(keys)
        yield block_rows(
            names,
            list(table[kind].values()),
            list(table[f"{kind}_ci95"].values()),
            papers,
            columns,
            table["n"],
            "noise",
        )


def amplified_suffix(block: dict[str, Any]) -> str:
    """'amplified to 0.1' or 'amplified ×1.67', appended to a row's model."""
    if block["amplification"] == "stddev":
        return f"amplified to {block['requested_stddev']:g}"
    return f"amplified ×{block['requested_factor']:.2f}"


def amplified_rows(
    block: dict[str, Any], reference: dict[str, Any], columns: list[str], n: int
) -> list[list[str]]:
    """One amplification's rows beside the paper's amplified rows, with the distortion each
    reached (and its ratio to the set's own minimal distortion) and the paper's."""
    names = block["generated_for"]
    label = block["label"]
    rows = block_rows(
        [f"{name} {label}" for name in names],
        block["error"],
        block["error_ci95"],
        [
            paper_row(reference, reference.get("amplified_error", {}).get(name), columns)
            for name in names
        ],
        columns,
        n,
        "",
    )
    ratios = block.get("mean_distortion_ratio", {})
    paper_stddev = reference.get("amplified_stddev")
    for row, name in zip(rows, names, strict=True):
        ratio = ratios.get(name)
        row += [
            f"{block['mean_distortion'][name]:.3f}" + (f" (×{ratio:.2f})" if ratio else ""),
            f"{paper_stddev:g}" if paper_stddev is not None else "—",
        ]
    return rows


def landing_section(table: dict[str, Any]) -> list[str]:
    """Where the adversarials land: per cell, the share classified as the attack's target."""
    if "target_share" not in table:
        return []
    columns = table["evaluated_on"]
    blocks = [("", table)] + [(amplified_suffix(table[k]), table[k]) for k in amplified_keys(table)]
    rows = []
    for suffix, block in blocks:
        if "target_share" not in block:
            continue
        for name, row, row_ci in zip(
            block["generated_for"], block["target_share"], block["target_share_ci95"], strict=True
        ):
            rows.append(
                [f"{name} {suffix}".strip()]
                + [compact_cell(None, share, ci) for share, ci in zip(row, row_ci, strict=True)]
            )
    return [
        "Where the adversarials land (beyond the paper): the share of each row's examples that "
        "the column's model classifies as the attack's own target label, in percent with its 95% "
        "interval (on the diagonal of the plain sets, the attack's success; an error "
        "would land on the target by chance about 1 time in 9).",
        markdown_table(["generated for \\ evaluated on", *columns], rows),
    ]


def cell_groups(
    rows: list[str], columns: list[str], train_sets: Mapping[str, str]
) -> dict[str, list[tuple[int, int]]]:
    """The off-diagonal cells (row, column positions) by kind: across training sets (the two
    models trained on different data) and across models on one training set; kinds without a
    cell are left out."""
    groups: dict[str, list[tuple[int, int]]] = {ACROSS_TRAINING_SETS: [], ACROSS_MODELS: []}
    for i, row in enumerate(rows):
        for j, column in enumerate(columns):
            if row == column:
                continue
            if row not in train_sets or column not in train_sets:
                raise ValueError(f"no training set known for {row!r} or {column!r}")
            kind = ACROSS_TRAINING_SETS if train_sets[row] != train_sets[column] else ACROSS_MODELS
            groups[kind].append((i, j))
    return {kind: cells for kind, cells in groups.items() if cells}


def transfer_blocks(table: dict[str, Any]) -> list[tuple[str, str | None, str]]:
    """(claim suffix, the block's key: None for the sets as found, the noise level it is judged
    against) for every block of rows: the sets as found and rescaled to the paper's distortion
    against the first noise row, each amplification against the last."""
    noise_keys = list(table["noise"])
    blocks: list[tuple[str, str | None, str]] = [("", None, noise_keys[0])]
    if MATCHED_KEY in table:
        blocks.append((", at the paper's distortion", MATCHED_KEY, noise_keys[0]))
    blocks += [
        (f", {amplified_suffix(table[k])}", k, noise_keys[-1]) for k in amplified_keys(table)
    ]
    return blocks


def replicate_views(
    table: dict[str, Any], key: str | None
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, noise rows) of every replicate of a table (its `replicates` block; the table
    itself when it has none): the block is the sets as found (`key` None) or the rescaled block
    under `key`."""
    replicates = table.get("replicates", {}).get("per_replicate") or [table]
    return [(r if key is None else r[key], r["noise"]) for r in replicates]


def noise_claims(
    table: dict[str, Any], train_sets: Mapping[str, str], settings: VerdictSettings
) -> list[JudgedClaim]:
    """Transfer beyond noise, per block and kind of cell (module docstring)."""
    columns = table["evaluated_on"]
    claims = []
    for suffix, key, noise_key in transfer_blocks(table):
        block = table if key is None else table[key]
        rows = block["generated_for"]
        for kind, positions in cell_groups(rows, columns, train_sets).items():
            claim = f"transfer {kind}{suffix} beats noise σ={noise_key}"
            labels = [f"{rows[i]} → {columns[j]}" for i, j in positions]
            replicate_blocks = replicate_views(table, key)
            tests = [b.get("mcnemar", {}).get(noise_key) for b, _ in replicate_blocks]
            if any(test is None for test in tests):
                verdict = Verdict(
                    INCONCLUSIVE,
                    "the transfer metrics hold no per-original errors to pair with noise "
                    "(made before they were stored).",
                )
                claims.append(JudgedClaim(claim, verdict, {}))
                continue
            replicate_cells = [
                [
                    PairedCell(label, b["error"][i][j], noise[noise_key][j], test["p_value"][i][j])
                    for label, (i, j) in zip(labels, positions, strict=True)
                ]
                for (b, noise), test in zip(replicate_blocks, tests, strict=True)
            ]
            verdict, combined, supporting = above_noise_verdict(
                replicate_cells, settings.alpha, settings.transfer_share, f"noise σ={noise_key}"
            )
            claims.append(
                JudgedClaim(
                    claim,
                    verdict,
                    {
                        "cells": len(supporting),
                        "supporting": sum(supporting),
                        "largest_mcnemar_p_holm": max(combined),
                    },
                )
            )
    return claims


def agreement_cells(
    rows: list[str],
    columns: list[str],
    errors: list[list[float]],
    intervals: list[list[list[float]]],
    paper_rows: list[list[float | None] | None],
    left_out: Mapping[tuple[int, int], str] | None = None,
) -> list[AgreementCell]:
    """Every cell with a paper value, as an AgreementCell; `left_out` maps a (row, column)
    position to why that cell cannot disagree."""
    cells = []
    for i, (row, values, row_ci, paper) in enumerate(
        zip(rows, errors, intervals, paper_rows, strict=True)
    ):
        for j, (column, ours, ci, theirs) in enumerate(
            zip(columns, values, row_ci, paper or [None] * len(columns), strict=True)
        ):
            if theirs is not None:
                reason = (left_out or {}).get((i, j))
                cells.append(AgreementCell(f"{row} → {column}", ours, ci[0], ci[1], theirs, reason))
    return cells


def diagonal(rows: list[str], columns: list[str], reason: str) -> dict[tuple[int, int], str]:
    """The positions of a block's diagonal cells (a set on its own model), each with `reason`."""
    return {(i, columns.index(row)): reason for i, row in enumerate(rows) if row in columns}


def agreement_claims(
    table: dict[str, Any],
    reference: dict[str, Any],
    clean_errors: Mapping[str, float],
    settings: VerdictSettings,
) -> list[JudgedClaim]:
    """Agreement with the paper's rates: the sets as found with the noise rows (the cells that
    cannot disagree left out, module docstring), the sets at the paper's distortion against the
    paper's rows, and each amplification against the paper's amplified rows."""
    columns = table["evaluated_on"]
    names = table["generated_for"]
    paper = [paper_row(reference, reference["error"].get(name), columns) for name in names]
    cells = agreement_cells(
        names,
        columns,
        table["error"],
        table["error_ci95"],
        paper,
        diagonal(names, columns, DIAGONAL_REASON),
    )
    for key in table["noise"]:
        noise_paper = paper_row(reference, reference["noise"].get(key), columns)
        left_out = {
            (0, j): NOISE_REASON
            for j, column in enumerate(columns)
            if noise_paper is not None
            and noise_paper[j] is not None
            and column in clean_errors
            and abs(noise_paper[j] - clean_errors[column]) <= settings.noise_clean_margin
        }
        cells += agreement_cells(
            [f"noise σ={key}"],
            columns,
            [table["noise"][key]],
            [table["noise_ci95"][key]],
            [noise_paper],
            left_out,
        )
    claims = [JudgedClaim("rates agree with the paper", agreement_verdict(cells), {})]
    if MATCHED_KEY in table:
        block = table[MATCHED_KEY]
        matched = agreement_cells(
            [f"{name} {block['label']}" for name in block["generated_for"]],
            columns,
            block["error"],
            block["error_ci95"],
            [
                paper_row(reference, reference["error"].get(n), columns)
                for n in block["generated_for"]
            ],
            diagonal(block["generated_for"], columns, RESCALED_DIAGONAL_REASON),
        )
        claims.append(
            JudgedClaim(
                "rates at the paper's distortion agree with the paper",
                agreement_verdict(matched),
                {},
            )
        )
    for key in amplified_keys(table):
        block = table[key]
        amplified = agreement_cells(
            [f"{name} {amplified_suffix(block)}" for name in block["generated_for"]],
            columns,
            block["error"],
            block["error_ci95"],
            [
                paper_row(reference, reference.get("amplified_error", {}).get(n), columns)
                for n in block["generated_for"]
            ],
        )
        claims.append(
            JudgedClaim(
                f"{amplified_suffix(block)} rates agree with the paper",
                agreement_verdict(amplified),
                {},
            )
        )
    return claims


def off_diagonal_pairs(
    block: dict[str, Any], reference: dict[str, Any], columns: list[str]
) -> tuple[list[float], list[float]]:
    """Our and the paper's off-diagonal cells of a block, where the paper has a value."""
    ours, theirs = [], []
    for name, row in zip(block["generated_for"], block["error"], strict=True):
        paper = paper_row(reference, reference["error"].get(name), columns)
        if paper is None:  # a model the paper does not have
            continue
        for column, value, paper_value in zip(columns, row, paper, strict=True):
            if column != name and paper_value is not None:
                ours.append(value)
                theirs.append(paper_value)
    return ours, theirs


def pattern_claims(
    table: dict[str, Any], reference: dict[str, Any], settings: VerdictSettings
) -> list[JudgedClaim]:
    """The pattern verdict of the sets as found and, when made, at the paper's distortion."""
    blocks = [("transfer pattern follows the paper's", table)]
    if MATCHED_KEY in table:
        blocks.append(("pattern at the paper's distortion follows the paper's", table[MATCHED_KEY]))
    claims = []
    for claim, block in blocks:
        ours, theirs = off_diagonal_pairs(block, reference, table["evaluated_on"])
        verdict, numbers = pattern_verdict(
            ours,
            theirs,
            settings.pattern_rho,
            settings.bootstrap_resamples,
            settings.bootstrap_seed,
        )
        claims.append(JudgedClaim(claim, verdict, numbers))
    return claims


def transfer_claims(
    table: dict[str, Any],
    reference: dict[str, Any],
    train_sets: Mapping[str, str],
    clean_errors: Mapping[str, float],
    settings: VerdictSettings,
) -> list[JudgedClaim]:
    """Every verdict of a transfer table, in the order the section states them."""
    claims = [
        *noise_claims(table, train_sets, settings),
        *pattern_claims(table, reference, settings),
        *agreement_claims(table, reference, clean_errors, settings),
    ]
    for claim in claims:
        claim.metrics["state"] = claim.verdict.state
    return claims


def matched_rows(
    block: dict[str, Any], reference: dict[str, Any], columns: list[str], n: int
) -> list[list[str]]:
    """The sets rescaled to the paper's distortion beside the paper's rows as found, with the
    distortion reached (and the factor applied) and the paper's."""
    names = block["generated_for"]
    rows = block_rows(
        [f"{name} {block['label']}" for name in names],
        block["error"],
        block["error_ci95"],
        [paper_row(reference, reference["error"].get(name), columns) for name in names],
        columns,
        n,
        "",
    )
    return [
        row
        + [
            f"{block['mean_distortion'][name]:.3f} (×{block['factor'][name]:.2f})",
            f"{block['target_distortion'][name]:.3f}",
        ]
        for row, name in zip(rows, names, strict=True)
    ]


def replicates_text(replicates: dict[str, Any] | None) -> str:
    """What a table's cells are when its models were trained from several seeds ('' if not)."""
    if not replicates or replicates["count"] < 2:
        return ""
    return (
        f"Every rate, interval and mean distortion below is the seed mean of {replicates['count']} "
        f"replicates: the table computed once per replicate r from the r-th network of "
        f"{', '.join(replicates['replicated_models'])} (each trained from its own seed), the "
        f"other models' one network serving every replicate; interval: "
        f"{replicates['interval_rule']}. Agreement with the paper is judged against these "
        f"intervals. "
    )


def transfer_section(
    title: str,
    table: dict[str, Any] | None,
    reference: dict[str, Any],
    figure: str | None,
    base_dir: Path,
    train_sets: Mapping[str, str],
    clean_errors: Mapping[str, float],
    settings: VerdictSettings,
) -> str:
    """Table 2 or 4 beside the paper's, with CIs, the verdicts (module docstring), where the
    adversarials land and the heatmaps. `train_sets`: each model's training set (params.yaml,
    models.<m>.train_set); `clean_errors`: the paper's clean error of each model on the kind of
    images the table's originals are."""
    if table is None:
        return f"## {title}\n\nNot run: no transfer table yet."
    table = seed_mean_view(table)
    columns = table["evaluated_on"]
    names = table["generated_for"]
    header = ["generated for \\ evaluated on", *columns, "mean distortion", "paper"]
    rows = block_rows(
        names,
        table["error"],
        table["error_ci95"],
        [paper_row(reference, reference["error"].get(name), columns) for name in names],
        columns,
        table["n"],
        "",
    )
    rows = [
        row + extra
        for row, extra in zip(rows, distortion_cells(table, reference, names), strict=True)
    ]
    if MATCHED_KEY in table:
        rows += matched_rows(table[MATCHED_KEY], reference, columns, table["n"])
    for key in amplified_keys(table):
        rows += amplified_rows(table[key], reference, columns, table["n"])
    for noise_rows in noise_blocks(table, reference):
        rows += [row + ["", ""] for row in noise_rows]
    amplified_text = (
        " The amplified rows follow the paper's x + 0.1·(x'−x)/‖x'−x‖ in both readings: every "
        "example amplified to distortion 0.1 (the paper's row label), and every perturbation "
        "scaled by the paper's relative increase 0.1/0.06 (its text: 'from stddev 0.06 to 0.1'), "
        "each clipped to [0, 1]; their mean distortion is shown with its ratio to the set's own."
        if amplified_keys(table)
        else ""
    )
    matched_text = (
        " The rows *at the paper's distortion* rescale every set along x'−x by one factor (shown)"
        " so that its mean distortion, clipped to [0, 1], is the paper's for its model; they are "
        "compared with the paper's rows as found, so that a difference due to distortion is told "
        "apart from one due to the models."
        if MATCHED_KEY in table
        else ""
    )
    rules = (
        "Verdicts: a cell transfers beyond noise when its error exceeds the noise row's on the "
        "same originals and model by an exact McNemar test, Holm-adjusted over the cells of the "
        f"verdict (α = {settings.alpha:g}); cells across training sets (the two models trained "
        "on different data) and across models on one training set are judged apart. Agreement "
        "counts the rates whose 95% interval holds the paper's value, leaving out the cells that "
        "cannot disagree: the diagonal of the sets as found (the attack's own success, 100% by "
        "construction) and of the rescaled sets (the paper's 100% is not a rate of them), and "
        "noise cells whose paper value lies within "
        f"{settings.noise_clean_margin * 100:g} pp of the paper's clean error of that model on "
        "these images (noise that changes nothing repeats Table 1/3, judged there). Pattern: "
        "Spearman ρ of our and the paper's off-diagonal cells, with a bootstrap 95% interval over "
        f"the cells: reproduced when it lies above {settings.pattern_rho:g}, partly above 0, not "
        f"reproduced below {settings.pattern_rho:g}, inconclusive when it spans both."
    )
    claims = transfer_claims(table, reference, train_sets, clean_errors, settings)
    parts = [
        f"## {title}",
        replicates_text(table.get("replicates"))
        + f"Each cell: the error of the column's model on the row's examples, in percent, with its "
        f"95% interval · the paper's value · the difference (pp); {OUTSIDE_CI_MARK} marks "
        f"a paper value outside our interval. A model errs when it does not predict the "
        f"original's true label. n = {table['n']} originals ({table['split']} images) per row, "
        f"the same for every row; target policy: {', '.join(table['target_policy'])}. Noise rows "
        "add Gaussian noise of the given σ to the same originals. The paper's rows are the "
        "unclipped ones: the paper prints their distortion as σ, which only unclipped noise "
        "reaches; the same draw clipped to [0, 1] follows as a secondary row, compared with "
        "nothing. The distortion each reaches is shown." + matched_text + amplified_text,
        rules,
        *(f"- {claim.line()}" for claim in claims),
        markdown_table(header, rows),
        *landing_section(table),
    ]
    if figure:
        parts.append(image(f"{title}: ours, the paper's and the difference", figure, base_dir))
    return "\n\n".join(parts)


def figure7_section(
    result: dict[str, Any] | None, paper_accuracy: float, figure: str | None, base_dir: Path
) -> str:
    """Figure 7: originals beside their adversarials and heavy noise, with accuracy on the noise
    (unclipped, the paper's, and clipped beside it)."""
    title = "## Figure 7 — adversarial examples and Gaussian noise"
    if result is None:
        return f"{title}\n\nNot run: no Figure 7 yet."
    sigma = f"{result['noise_stddev']:g}"
    rows = []
    for name, accuracy in result["noise_accuracy"].items():
        low, high = accuracy["accuracy_ci95"]
        clipped_low, clipped_high = accuracy["accuracy_clipped_ci95"]
        rows.append(
            [
                name,
                f"{percent(accuracy['accuracy'])} [{percent(low)}, {percent(high)}]",
                percent(paper_accuracy),
                f"{percent(accuracy['accuracy_clipped'])} "
                f"[{percent(clipped_low)}, {percent(clipped_high)}]",
            ]
        )
    clipped_distortion = result.get("noise_clipped_distortion")
    reached = (
        f"distortion reached {result['noise_distortion']:.2f} unclipped, "
        f"{clipped_distortion:.2f} clipped"
        if clipped_distortion is not None
        else f"distortion reached {result['noise_distortion']:.2f} clipped"
    )
    parts = [
        title,
        f"Odd columns: training images; even columns: their minimal adversarials for "
        f"{', '.join(result['models'])}, and the same images with Gaussian noise of σ={sigma} "
        f"({reached}). The paper reports 51% accuracy on such noise, whose distortion it gives "
        f"as σ, so unclipped; our models' accuracy on it, and on the same draw clipped to "
        f"[0, 1] (n = {next(iter(result['noise_accuracy'].values()))['n']}):",
        markdown_table(
            [
                "model",
                f"accuracy, noise σ={sigma} unclipped (the paper's)",
                "paper",
                "clipped to [0, 1] (secondary)",
            ],
            rows,
        ),
    ]
    if figure:
        parts.append(image("Figure 7", figure, base_dir))
    return "\n\n".join(parts)
