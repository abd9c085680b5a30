"""Report sections for the transfer experiments: Tables 2 and 4 and Figure 7.

Two verdicts per table, both derived from the numbers. *Transfer*: the paper's claim is that
adversarial examples made for one model are misclassified by others far more often than noise
is; a cell supports it when its 95% interval lies wholly above the interval of the noise
baseline on the same evaluated model (Table 2: the first noise row; Table 4: the first noise row
for the plain sets, the last for the amplified ones). Reproduced when at least TRANSFER_SHARE of
the off-diagonal cells do, partly when at least one does. *Agreement*: how many of our rates
have the paper's value inside their 95% interval (intriguing.report.format.verdict).
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
    """The clipped and unclipped noise rows, both beside the paper's noise rows."""
    columns = table["evaluated_on"]
    for kind, suffix in (("noise", "clipped"), ("noise_unclipped", "unclipped")):
        keys = list(table[kind])
        reached = table[f"{kind}_distortion"]
        yield block_rows(
            [f"σ={key} ({suffix}, distortion {reached[key]:.3f})" for key in keys],
            list(table[kind].values()),
            list(table[f"{kind}_ci95"].values()),
            [paper_row(reference, reference["noise"].get(key), columns) for key in keys],
            columns,
            table["n"],
            "noise",
        )


def transfer_section(
    title: str,
    table: dict[str, Any] | None,
    reference: dict[str, Any],
    figure: str | None,
    base_dir: Path,
) -> str:
    """Table 2 or 4 beside the paper's, with CIs, both verdicts and the heatmaps."""
    if table is None:
        return f"## {title}\n\nNot run: no transfer table yet."
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
    if "amplified" in table:
        amplified = table["amplified"]
        amplified_rows, amplified_comparisons = block_rows(
            amplified["generated_for"],
            amplified["error"],
            amplified["error_ci95"],
            [
                paper_row(reference, reference.get("amplified_error", {}).get(name), columns)
                for name in amplified["generated_for"]
            ],
            columns,
            table["n"],
            "amplified",
        )
        for row, name in zip(amplified_rows, amplified["generated_for"], strict=True):
            row += [f"{amplified['mean_distortion'][name]:.3f}", f"{amplified['requested_stddev']}"]
        rows += amplified_rows
        comparisons += amplified_comparisons
        last_noise = list(table["noise_ci95"])[-1]
        verdicts.append(
            transfer_verdict(
                *above_noise(
                    amplified["error"],
                    amplified["error_ci95"],
                    amplified["generated_for"],
                    columns,
                    table["noise_ci95"][last_noise],
                ),
                "amplified adversarials transfer",
                f"noise σ={last_noise}",
            )
        )
    for noise_rows, noise_comparisons in noise_blocks(table, reference):
        rows += [row + ["", ""] for row in noise_rows]
        comparisons += noise_comparisons
    parts = [
        f"## {title}",
        f"Each cell: the error of the column's model on the row's examples, in percent, with its "
        f"95% Wilson interval · the paper's value · the difference (pp); {OUTSIDE_CI_MARK} marks "
        f"a paper value outside our interval. A model errs when it does not predict the "
        f"original's true label. n = {table['n']} originals ({table['split']} images) per row, "
        f"the same for every row; target policy: {', '.join(table['target_policy'])}. Noise rows "
        "add Gaussian noise of the given σ to the same originals, clipped to [0, 1] (the paper's "
        "setting as we read it) and, for comparison, unclipped; the distortion each reaches is "
        "shown.",
        *verdicts,
        f"Agreement with the paper's numbers: {verdict(comparisons)}",
        markdown_table(header, rows),
    ]
    if figure:
        parts.append(image(f"{title}: ours, the paper's and the difference", figure, base_dir))
    return "\n\n".join(parts)


def figure7_section(
    result: dict[str, Any] | None, paper_accuracy: float, figure: str | None, base_dir: Path
) -> str:
    """Figure 7: originals beside their adversarials and heavy noise, with accuracy on the noise."""
    title = "## Figure 7 — adversarial examples and Gaussian noise"
    if result is None:
        return f"{title}\n\nNot run: no Figure 7 yet."
    sigma = f"{result['noise_stddev']:g}"
    rows = []
    for name, accuracy in result["noise_accuracy"].items():
        low, high = accuracy["accuracy_ci95"]
        unclipped_low, unclipped_high = accuracy["accuracy_unclipped_ci95"]
        rows.append(
            [
                name,
                f"{percent(accuracy['accuracy'])} [{percent(low)}, {percent(high)}]",
                f"{percent(accuracy['accuracy_unclipped'])} "
                f"[{percent(unclipped_low)}, {percent(unclipped_high)}]",
                percent(paper_accuracy),
            ]
        )
    parts = [
        title,
        f"Odd columns: training images; even columns: their minimal adversarials for "
        f"{', '.join(result['models'])}, and the same images with Gaussian noise of σ={sigma} "
        f"(clipped to [0, 1]; distortion reached {result['noise_distortion']:.2f}). The paper "
        f"reports 51% accuracy on such noise; our models' accuracy on it (n = "
        f"{next(iter(result['noise_accuracy'].values()))['n']}):",
        markdown_table(["model", f"accuracy, noise σ={sigma} clipped", "unclipped", "paper"], rows),
    ]
    if figure:
        parts.append(image("Figure 7", figure, base_dir))
    return "\n\n".join(parts)
