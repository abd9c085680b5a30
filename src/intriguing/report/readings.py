"""Report section "Readings": where the paper is ambiguous, what we chose, and what it changes.

One table row per entry of the ledger (src/intriguing/reference/readings.yaml, validated by
intriguing.reference.ledger.readings_ledger): the topic and the paper's section, the paper's words
(shortened), the reading in use, the alternatives, the evidence, and the param with the
`dvc exp run` command that runs an alternative. When the run's params select a reading other
than the ledger's default (say `-S train.decay_reading=mean_example`), the row names the one in
use. Then, when the `readings` stage has run, the weight-decay readings measured: every model ×
reading beside the paper's Tables 1 and 2 and Figure 7 (reports/metrics/readings/decay.json),
with the reading the ledger's rule picks; and the AE400 variants beside the default AE400 and
the paper (reports/metrics/readings/ae400.json). A cell is marked ✱ when the paper's value lies
outside our 95% interval, as elsewhere. Last, the paper's own inconsistencies, as the ledger
records them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from intriguing.reference.ledger import Inconsistency, LedgerEntry, param_value
from intriguing.report.format import OUTSIDE_CI_MARK, markdown_table, percent

TITLE = "## Readings — where the paper is ambiguous"
DECAY_TITLE = "### Weight-decay readings, measured"
AE400_TITLE = "### AE400 variants, measured"
INCONSISTENCIES_TITLE = "### The paper's own inconsistencies"
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
    ledger: Sequence[LedgerEntry],
    params: Mapping[str, Any],
    decay: Mapping[str, Any] | None,
    ae400: Mapping[str, Any] | None = None,
    inconsistencies: Sequence[Inconsistency] = (),
) -> str:
    """The report's Readings section (Markdown): the ledger's table, the measured weight-decay
    readings (`decay`, the `decay_readings` rule's metrics) and AE400 variants (`ae400`, the
    `ae400_variants` rule's), each or a line saying it was not run, and the paper's own
    `inconsistencies` the ledger records."""
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
    parts += [decay_section(decay, params), ae400_section(ae400)]
    if inconsistencies:
        parts.append(inconsistencies_section(inconsistencies))
    return "\n\n".join(parts)


def inconsistencies_section(inconsistencies: Sequence[Inconsistency]) -> str:
    """One row per place where the paper (or its talk) disagrees with itself."""
    rows = [
        [
            cell(f"**{item.topic}** (§{item.section})"),
            cell(f"“{shorten(plain(item.paper), PAPER_WIDTH)}”"),
            cell(f"“{shorten(item.slides, PAPER_WIDTH)}”" if item.slides else "—"),
            cell(item.finding),
            cell(
                item.bearing
                + (
                    f" Entries: {', '.join(f'`{e}`' for e in item.entries)}."
                    if item.entries
                    else ""
                )
            ),
        ]
        for item in inconsistencies
    ]
    return "\n\n".join(
        [
            INCONSISTENCIES_TITLE,
            "Where the paper's numbers, or the talk's slides, disagree with each other whatever "
            f"we read (`inconsistencies` in `{LEDGER_PATH}`), quoted exactly.",
            markdown_table(["topic (§)", "the paper", "the slides", "finding", "bearing"], rows),
        ]
    )


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
    stddevs = list(decay["noise_stddevs"])
    heavy = decay["figure7_noise"]
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
            nearest_sentence(decay),
        ]
    )


def nearest_sentence(decay: Mapping[str, Any]) -> str:
    """The ledger's rule (`decay_normalisation`) as the readings stage applied it: each
    reading's distance to the paper and the reading it picks."""
    distances = decay.get("distances") or {}
    judged = {reading: d for reading, d in distances.items() if d is not None}
    if not judged or decay.get("nearest") is None:
        return "The ledger's rule could judge no reading: a distortion or a paper value is missing."
    listed = ", ".join(f"`{reading}` {d:.3f}" for reading, d in sorted(judged.items()))
    return (
        "The ledger's rule (entry `decay_normalisation`): the sum over the models of the "
        "relative differences from the paper of the train error, test error and distortion "
        f"— {listed}; nearest: `{decay['nearest']}`."
    )


def ae400_section(ae400: Mapping[str, Any] | None) -> str:
    """The AE400 variants beside the default AE400 and the paper, or a line saying they were
    not run."""
    if not ae400 or not ae400.get("variants"):
        return f"{AE400_TITLE}\n\nNot run: no AE400 variant measured yet (stage `readings`)."
    paper = ae400.get("paper", {})
    default = ae400.get("default", {})

    def errors(row: Mapping[str, Any]) -> list[str]:
        return [
            rate_cell(
                row.get(f"{part}_error"), row.get(f"{part}_error_ci95"), paper.get(f"{part}_error")
            )
            for part in ("train", "test")
        ]

    rows = [["default (`models.ae400`)", "—", *errors(default), "—"]]
    for variant in ae400["variants"]:
        options = ", ".join(
            f"`{key}: {value}`" for key, value in variant.get("options", {}).items()
        )
        rows.append([f"`{variant['variant']}`", options, *errors(variant), _stopped(variant)])
    return "\n\n".join(
        [
            AE400_TITLE,
            "AE400 refitted with one option of `models.ae400` changed at a time "
            "(`readings.ae400_variants`; ledger entry `ae400_pretraining`), with the default's "
            f"seed. {OUTSIDE_CI_MARK}: the paper's value lies outside our 95% interval.",
            markdown_table(
                [
                    "AE400",
                    "options",
                    "train error [95% CI] · paper",
                    "test error [95% CI] · paper",
                    "training",
                ],
                rows,
            ),
        ]
    )


def _stopped(row: Mapping[str, Any]) -> str:
    """How a refit's two phases ended: autoencoder epochs and L-BFGS iterations, with why."""
    training = row.get("training", {})
    return (
        f"autoencoder {training.get('pretrain_epochs_run', '—')} epochs "
        f"({training.get('pretrain_stop_reason', '—')}); softmax "
        f"{training.get('lbfgs_iterations', '—')} L-BFGS iterations "
        f"({training.get('stop_reason', '—')})"
    )


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
