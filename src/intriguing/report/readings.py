"""Report section "Readings": where the paper is ambiguous, what we chose, and what it changes.

One table row per entry of the ledger (src/intriguing/reference/readings.yaml, validated by
intriguing.reference.ledger.readings_ledger): the topic and the paper's section, the paper's words
(shortened), the reading in use, the alternatives, the evidence, and the param with the
`dvc exp run` command that runs an alternative. When the run's params select a reading other
than the ledger's default (say `-S train.decay_reading=mean_example`), the row names the one in
use. Then, when the `readings` stage has run, the weight-decay readings measured: every model ×
reading beside the paper's Tables 1 and 2 and Figure 7 (reports/metrics/readings/decay.json);
a cell is marked ✱ when the paper's value lies outside our 95% interval, as elsewhere.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from intriguing.reference.ledger import LedgerEntry, param_value
from intriguing.report.format import OUTSIDE_CI_MARK, markdown_table, percent

TITLE = "## Readings — where the paper is ambiguous"
DECAY_TITLE = "### Weight-decay readings, measured"
LEDGER_PATH = "src/intriguing/reference/readings.yaml"
PAPER_WIDTH = 160
MEANING_WIDTH = 110
#: LaTeX of the quoted paper -> plain text for a table cell.
_LATEX = (
    (r"\|", "‖"),
    ("||", "‖"),
    (r"\lambda", "λ"),
    (r"\sum", "Σ"),
    (r"\in", "∈"),
    (r"\mathbb{R}", "ℝ"),
    ("$", ""),
)


def render_readings(
    ledger: Sequence[LedgerEntry], params: Mapping[str, Any], decay: Mapping[str, Any] | None
) -> str:
    """The report's Readings section (Markdown): the ledger's table and, when `decay` (the
    `decay_readings` rule's metrics) is given, the measured weight-decay readings."""
    rows = [ledger_row(entry, params) for entry in ledger]
    parts = [
        TITLE,
        f"Every place where the paper is ambiguous or silent and we had to choose ({len(ledger)} "
        f"in the ledger `{LEDGER_PATH}`; docs/readings.md). A re-run command runs an "
        "alternative as a DVC experiment; `dvc metrics diff` then compares it with this run.",
        markdown_table(
            ["topic (§)", "the paper", "our reading", "alternatives", "evidence", "re-run"], rows
        ),
    ]
    parts.append(decay_section(decay, params))
    return "\n\n".join(parts)


def ledger_row(entry: LedgerEntry, params: Mapping[str, Any]) -> list[str]:
    """One entry's table cells."""
    used = reading_in_use(entry, params)
    ours = f"`{used}`: {entry.reading(used).meaning}"
    if used != entry.default:
        ours += f" (set by this run's params; the ledger's default is `{entry.default}`)"
    alternatives = "; ".join(
        f"`{r.name}`: {shorten(r.meaning, MEANING_WIDTH).rstrip('.')}"
        for r in entry.readings
        if r.name != used
    )
    evidence = entry.evidence + (f" Measured: `{entry.measured}`." if entry.measured else "")
    if entry.params:
        keys = ", ".join(f"`{key}`" for key in entry.params)
        rerun = f"{keys}: `{entry.rerun}`"
    else:
        rerun = "— (not a parameter)"
    paper = f"*{entry.paper}*" if entry.silent else f"“{shorten(plain(entry.paper), PAPER_WIDTH)}”"
    return [
        cell(f"**{entry.topic}** (§{entry.section})"),
        cell(paper),
        cell(ours),
        cell(alternatives),
        cell(evidence),
        cell(rerun),
    ]


def reading_in_use(entry: LedgerEntry, params: Mapping[str, Any]) -> str:
    """The reading the run's params select: the main param's value when it names a reading
    (e.g. `train.decay_reading`), else the ledger's default."""
    if entry.param is None:
        return entry.default
    try:
        value = param_value(params, entry.param)
    except KeyError:
        return entry.default
    names = {r.name for r in entry.readings}
    return value if isinstance(value, str) and value in names else entry.default


def decay_section(decay: Mapping[str, Any] | None, params: Mapping[str, Any]) -> str:
    """The measured weight-decay readings, or a line saying they were not run."""
    if not decay or not decay.get("rows"):
        return (
            f"{DECAY_TITLE}\n\nNot run: no weight-decay readings measured yet (stage `readings`)."
        )
    stddevs = list(decay.get("noise_stddevs", []))
    heavy = decay.get("figure7_noise", 1.0)
    try:
        in_use = param_value(params, decay.get("param", "train.decay_reading"))
    except KeyError:
        in_use = decay.get("default")
    header = [
        "model",
        "reading",
        "λ",
        "per-weight coefficient",
        "train error · paper",
        "test error [95% CI] · paper",
        "exact min. distortion · paper",
        *[f"noise σ={sigma:g} error [95% CI] · paper" for sigma in stddevs],
        f"accuracy, noise σ={heavy:g} [95% CI] · paper",
    ]
    rows = []
    for row in decay["rows"]:
        paper = row.get("paper", {})
        reading = f"`{row['reading']}`" + (" **(in use)**" if row["reading"] == in_use else "")
        accuracy = row.get("noise_accuracy_figure7")
        rows.append(
            [
                row["model"],
                reading,
                _number(row.get("lambda")),
                _number(row.get("coefficient")),
                rate_cell(
                    row.get("train_error"), row.get("train_error_ci95"), paper.get("train_error")
                ),
                rate_cell(
                    row.get("test_error"), row.get("test_error_ci95"), paper.get("test_error")
                ),
                distortion_cell(row.get("exact_distortion"), paper.get("distortion")),
                *[
                    rate_cell(
                        *_rate(_by_sigma(row.get("noise_error"), s)),
                        _by_sigma(paper.get("noise_error"), s),
                    )
                    for s in stddevs
                ],
                rate_cell(
                    *_rate(accuracy),
                    paper.get("noise_accuracy_figure7"),
                ),
            ]
        )
    return "\n\n".join(
        [
            DECAY_TITLE,
            f"The softmax models refitted under each reading of `{decay.get('param')}` "
            f"(reading in use: `{in_use}`): train and test error (Table 1), the exact minimal "
            "distortion of the linear model on Table 2's originals and targets, the error on "
            f"unclipped Gaussian noise (Table 2's rows) and the accuracy on σ = {heavy:g} noise "
            f"(Figure 7). {OUTSIDE_CI_MARK}: the paper's value lies outside our 95% interval.",
            markdown_table(header, rows),
            nearest_sentence(decay["rows"]),
        ]
    )


def nearest_sentence(rows: Sequence[Mapping[str, Any]]) -> str:
    """Per model, the reading whose train and test errors lie nearest the paper's."""
    best: dict[str, tuple[float, str]] = {}
    for row in rows:
        paper = row.get("paper", {})
        pairs = [(row.get(k), paper.get(k)) for k in ("train_error", "test_error")]
        if any(ours is None or theirs is None for ours, theirs in pairs):
            continue
        gap = sum(abs(ours - theirs) for ours, theirs in pairs)
        if row["model"] not in best or gap < best[row["model"]][0]:
            best[row["model"]] = (gap, row["reading"])
    if not best:
        return "No reading has both errors and the paper's values to compare."
    nearest = ", ".join(
        f"{model}: `{reading}` ({gap * 100:.2f} pp)" for model, (gap, reading) in best.items()
    )
    return f"Nearest the paper's train and test errors (sum of both differences): {nearest}."


def rate_cell(value: float | None, ci: Sequence[float] | None, paper: float | None) -> str:
    """'ours [low, high] · paper' in percent, marked when the paper lies outside the CI."""
    if value is None:
        return "—"
    text = percent(value)
    if ci is not None:
        outside = paper is not None and not ci[0] <= paper <= ci[1]
        text += f" [{percent(ci[0])}, {percent(ci[1])}]" + (
            f" {OUTSIDE_CI_MARK}" if outside else ""
        )
    return f"{text} · {'—' if paper is None else percent(paper)}"


def distortion_cell(value: float | None, paper: float | None) -> str:
    """Our distortion (4 decimals, as the adversarial section) beside the paper's as printed."""
    ours = "—" if value is None else f"{value:.4f}"
    return f"{ours} · {'—' if paper is None else f'{paper:g}'}"


def plain(text: str) -> str:
    """The paper's LaTeX as plain text for a table cell."""
    text = re.sub(r"\\frac\{([^{}]*)\}\{([^{}]*)\}", r"(\1)/(\2)", text)
    text = re.sub(r"\\sqrt\{([^{}]*)\}", r"√(\1)", text)
    for latex, character in _LATEX:
        text = text.replace(latex, character)
    return re.sub(r"[{}]", "", text)


def shorten(text: str, width: int) -> str:
    """`text` on one line, cut at a word boundary to at most `width` characters with '…'."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    return text[:width].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def cell(text: str) -> str:
    """A Markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", r"\|")


def _number(value: float | None) -> str:
    return "—" if value is None else f"{value:.3g}"


def _rate(entry: Any) -> tuple[float | None, Sequence[float] | None]:
    """(value, ci95) of a {value, ci95} rate, or a bare number; (None, None) when absent."""
    if entry is None:
        return None, None
    if isinstance(entry, Mapping):
        return entry.get("value"), entry.get("ci95")
    return float(entry), None


def _by_sigma(values: Mapping[str, Any] | None, sigma: float) -> Any:
    """The entry of a σ-keyed mapping ("0.1": …) for `sigma`, whatever the key's spelling."""
    for key, value in (values or {}).items():
        if float(key) == float(sigma):
            return value
    return None
