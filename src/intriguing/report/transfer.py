"""Report sections for the transfer experiments: Tables 2 and 4 and Figure 7.

Two verdicts per table, both derived from the numbers. *Transfer*: the paper's claim is that
adversarial examples made for one model are misclassified by others far more often than noise
is; a cell supports it when its 95% interval lies wholly above the interval of the noise
baseline on the same evaluated model (Table 2: the first noise row; Table 4: the first noise row
for the plain sets, the last for each amplified block). The baselines are the paper's noise rows,
the unclipped ones; the clipped rows are shown as a secondary row and enter no verdict.
Reproduced when at least TRANSFER_SHARE of the off-diagonal cells do, partly when at least one
does. *Agreement*: how many of our rates have the paper's value inside their 95% interval
(intriguing.report.format.verdict): the adversarial and noise rows together, and each
amplification reading against the paper's amplified rows on its own.

A further table, which the paper lacks, shows where the adversarials land: the share of each
set's examples that each model classifies as the attack's own target label.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from intriguing.report.format import (
    OUTSIDE_CI_MARK,
    RateComparison,
    image,
    markdown_table,
    percent,
    verdict,
)
from intriguing.transfer.replicates import seed_mean_view

TRANSFER_SHARE = 0.75


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
) -> tuple[list[list[str]], list[RateComparison]]:
    """Markdown rows of one block of a transfer table, and the comparisons with the paper."""
    rows, comparisons = [], []
    for name, row, row_ci, paper_row in zip(names, errors, intervals, paper_rows, strict=True):
        cells = [f"{label} {name}".strip()]
        for position, (column, ours, ci) in enumerate(zip(columns, row, row_ci, strict=True)):
            comparison = None
            if paper_row is not None and paper_row[position] is not None:
                comparison = RateComparison(
                    f"{label} {name} → {column}".strip(), ours, tuple(ci), n, paper_row[position]
                )
                comparisons.append(comparison)
            cells.append(compact_cell(comparison, ours, ci))
        rows.append(cells)
    return rows, comparisons


def paper_row(
    reference: dict[str, Any], values: list[float] | None, columns: list[str]
) -> list[float | None] | None:
    """The paper's row laid out on our columns (None where the paper lacks the model)."""
    if values is None:
        return None
    return [
        values[reference["models"].index(c)] if c in reference["models"] else None for c in columns
    ]


def above_noise(
    errors: list[list[float]],
    intervals: list[list[list[float]]],
    row_names: list[str],
    columns: list[str],
    noise_intervals: list[list[float]],
) -> tuple[int, int]:
    """(cells whose CI lies wholly above the noise CI of the same column, off-diagonal cells)."""
    above = total = 0
    for name, row_ci in zip(row_names, intervals, strict=True):
        for column, ci, noise_ci in zip(columns, row_ci, noise_intervals, strict=True):
            if column == name:
                continue
            total += 1
            above += ci[0] > noise_ci[1]
    return above, total


def transfer_verdict(above: int, total: int, what: str, baseline: str) -> str:
    """The transfer verdict from how many off-diagonal cells lie above the noise baseline."""
    if total == 0:
        return f"**Not run**: {what} needs at least two models."
    share = above / total
    status = (
        "Reproduced"
        if share >= TRANSFER_SHARE
        else "Partly reproduced"
        if above
        else "Not reproduced"
    )
    return (
        f"**{status}** ({what}): {above} of {total} off-diagonal cells are misclassified "
        f"significantly more often than {baseline} (95% intervals disjoint; reproduced needs "
        f"{TRANSFER_SHARE:.0%})."
    )


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


def noise_blocks(
    table: dict[str, Any], reference: dict[str, Any]
) -> Iterator[tuple[list[list[str]], list[RateComparison]]]:
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


def amplified_keys(table: dict[str, Any]) -> list[str]:
    """The amplified blocks a table holds: `amplified` (to a distortion), `amplified_factor`."""
    return [key for key in ("amplified", "amplified_factor") if key in table]


def amplified_suffix(block: dict[str, Any]) -> str:
    """'amplified to 0.1' or 'amplified ×1.67', appended to a row's model."""
    if block["amplification"] == "stddev":
        return f"amplified to {block['requested_stddev']:g}"
    return f"amplified ×{block['requested_factor']:.2f}"


def amplified_rows(
    block: dict[str, Any], reference: dict[str, Any], columns: list[str], n: int
) -> tuple[list[list[str]], list[RateComparison]]:
    """One amplification's rows beside the paper's amplified rows, with the distortion each
    reached (and its ratio to the set's own minimal distortion) and the paper's."""
    names = block["generated_for"]
    label = block["label"]
    rows, comparisons = block_rows(
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
    return rows, comparisons


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
) -> str:
    """Table 2 or 4 beside the paper's, with CIs, the verdicts, where the adversarials land and
    the heatmaps."""
    if table is None:
        return f"## {title}\n\nNot run: no transfer table yet."
    table = seed_mean_view(table)
    columns = table["evaluated_on"]
    names = table["generated_for"]
    header = ["generated for \\ evaluated on", *columns, "mean distortion", "paper"]
    rows, comparisons = block_rows(
        names,
        table["error"],
        table["error_ci95"],
        [paper_row(reference, reference["error"].get(name), columns) for name in names],
        columns,
        table["n"],
        "",
    )
    distortions = distortion_cells(table, reference, names)
    rows = [row + extra for row, extra in zip(rows, distortions, strict=True)]
    first_noise = next(iter(table["noise_ci95"]))
    above, total = above_noise(
        table["error"], table["error_ci95"], names, columns, table["noise_ci95"][first_noise]
    )
    verdicts = [transfer_verdict(above, total, "adversarials transfer", f"noise σ={first_noise}")]
    agreements = []
    last_noise = list(table["noise_ci95"])[-1]
    for key in amplified_keys(table):
        block = table[key]
        new_rows, block_comparisons = amplified_rows(block, reference, columns, table["n"])
        rows += new_rows
        label = block["label"]
        verdicts.append(
            transfer_verdict(
                *above_noise(
                    block["error"],
                    block["error_ci95"],
                    block["generated_for"],
                    columns,
                    table["noise_ci95"][last_noise],
                ),
                f"adversarials transfer, {label}",
                f"noise σ={last_noise}",
            )
        )
        agreements.append(
            f"Agreement with the paper's amplified rows ({label}): {verdict(block_comparisons)}"
        )
    for noise_rows, noise_comparisons in noise_blocks(table, reference):
        rows += [row + ["", ""] for row in noise_rows]
        comparisons += noise_comparisons
    amplified_text = (
        " The amplified rows follow the paper's x + 0.1·(x'−x)/‖x'−x‖ in both readings: every "
        "example amplified to distortion 0.1 (the paper's row label), and every perturbation "
        "scaled by the paper's relative increase 0.1/0.06 (its text: 'from stddev 0.06 to 0.1'), "
        "each clipped to [0, 1]; their mean distortion is shown with its ratio to the set's own."
        if amplified_keys(table)
        else ""
    )
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
        "nothing. The distortion each reaches is shown." + amplified_text,
        *verdicts,
        f"Agreement of the adversarial and noise rows with the paper's numbers: "
        f"{verdict(comparisons)}",
        *agreements,
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
