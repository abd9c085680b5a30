"""The numbers that README.md and docs/*.md repeat from the committed results agree with
reports/metrics/.

One entry per number (or per sentence or table row holding several): the doc, a short phrase
that occurs once in it, a regex whose match spans that phrase and whose groups are the doc's
numbers, and a function that computes the same numbers from the metrics, formatted as the doc
rounds them. The README's generated summary block is checked by
tests/unit/report/test_summary.py; paper numbers and wall times are not checked here.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from statistics import mean
from typing import Any

import pytest
import yaml

from intriguing.reference import paper_reference

ROOT = Path(__file__).resolve().parents[2]
MINUS = "\N{MINUS SIGN}"
#: A number as the docs write it: optional sign (ASCII or U+2212), digits, optional decimals.
NUM = rf"([+{MINUS}-]?\d+(?:\.\d+)?)"
B = r"\**"  # optional Markdown bold around a number


class Metrics:
    """The committed metrics (JSON files under reports/metrics/) and the paper's numbers."""

    def __init__(self, root: Path = ROOT / "reports" / "metrics") -> None:
        self.root = root
        self.files: dict[str, Any] = {}
        self.paper = paper_reference()

    def __call__(self, relative: str) -> Any:
        if relative not in self.files:
            self.files[relative] = json.loads((self.root / relative).read_text("utf-8"))
        return self.files[relative]

    def advtrain(self, model: str) -> dict[str, Any]:
        return self("advtrain.json")[model]

    def decay(self, model: str, reading: str) -> dict[str, Any]:
        rows = self("readings/decay.json")["rows"]
        return next(r for r in rows if r["model"] == model and r["reading"] == reading)

    def attacked(self, model: str) -> dict[str, Any]:
        """A Table 1 model's training-set adversarials, a Table 3 model's test-set ones."""
        split = "train" if model in self.paper["table1"] else "test"
        return self(f"adversarial/{model}_{split}.json")

    def instability(self) -> dict[str, dict[str, Any]]:
        names = sorted(p.stem for p in (self.root / "instability").glob("*.json"))
        return {name: self(f"instability/{name}.json") for name in names}

    def sigmoid_instability(self) -> list[dict[str, Any]]:
        """The sigmoid networks' results, in the order of the paper's Tables 1 and 3."""
        order = [*self.paper["table1"], *self.paper["table3"]]
        results = [r for r in self.instability().values() if "sigmoid" in r["description"]]
        return sorted(results, key=lambda r: order.index(r["model"]))


# ---- formatting, as the docs round ----------------------------------------------------------


def fixed(value: float, digits: int) -> str:
    return f"{value:.{digits}f}"


def pct(value: float, digits: int = 1) -> str:
    return fixed(value * 100, digits)


def signed(value: float, digits: int = 2) -> str:
    """'+0.08' / '−0.16' (U+2212), as the docs' tables write a signed difference."""
    return f"{value:+.{digits}f}".replace("-", MINUS)


def points(difference: float) -> str:
    """A difference of rates in percentage points, unsigned as the docs' prose writes it after
    "above", "below" or "behind": a difference of the other sign keeps its minus, and fails."""
    return pct(difference, 2)


def span(values: list[float], digits: int) -> tuple[str, str]:
    return fixed(min(values), digits), fixed(max(values), digits)


# ---- the values, computed from the metrics ---------------------------------------------------


def off_diagonal(table: dict[str, Any], block: dict[str, Any] | None = None) -> list[float]:
    block = block or table
    return [
        value
        for row, values in zip(block["generated_for"], block["error"], strict=True)
        for column, value in zip(table["evaluated_on"], values, strict=True)
        if column != row
    ]


#: A noise cell this near the paper's clean error of its model cannot disagree, and the report's
#: verdict leaves it out (params.yaml's report.noise_clean_margin).
NOISE_CLEAN_MARGIN = yaml.safe_load((ROOT / "params.yaml").read_text())["report"][
    "noise_clean_margin"
]


def table2_agreement(m: Metrics) -> tuple[int, int, int, int, int]:
    """Of Table 2 (a rate agrees when the paper's value lies in our 95% interval): the
    off-diagonal cells agreeing on replicate 0's intervals (the top-level `error_ci95`), the
    off-diagonal cells, those agreeing on the seed means' intervals, and the rates agreeing and
    rates judged by the report's verdict: the seed means' off-diagonal cells and unclipped noise
    cells, leaving out the diagonal and the noise cells within NOISE_CLEAN_MARGIN of the paper's
    clean training error of their model."""
    table, paper = m("transfer/table2.json"), m.paper["table2"]
    seed_mean = table["replicates"]["seed_mean"]
    clean = {name: row["train_error"] for name, row in m.paper["table1"].items()}
    column = {name: paper["models"].index(name) for name in table["evaluated_on"]}

    def off_diagonal_agreeing(intervals_by_row: list[list[list[float]]]) -> tuple[int, int]:
        off = agree = 0
        for row, intervals in zip(table["generated_for"], intervals_by_row, strict=True):
            for name, (low, high) in zip(table["evaluated_on"], intervals, strict=True):
                if name != row:
                    off, agree = off + 1, agree + (low <= paper["error"][row][column[name]] <= high)
        return agree, off

    off_agree, off = off_diagonal_agreeing(table["error_ci95"])
    rates_agree, rates = off_diagonal_agreeing(seed_mean["error_ci95"])
    seed_mean_agree = rates_agree
    for sigma, intervals in seed_mean["noise_ci95"].items():
        for name, (low, high) in zip(table["evaluated_on"], intervals, strict=True):
            theirs = paper["noise"][sigma][column[name]]
            if abs(theirs - clean[name]) > NOISE_CLEAN_MARGIN:
                rates, rates_agree = rates + 1, rates_agree + (low <= theirs <= high)
    return off_agree, off, seed_mean_agree, rates_agree, rates


def distortion_ratios(m: Metrics) -> list[float]:
    """Our mean minimal distortion over the paper's, for every model of Tables 1 and 3."""
    reference = {**m.paper["table1"], **m.paper["table3"]}
    return [
        m.attacked(model)["mean_distortion"] / paper["mean_min_distortion"]
        for model, paper in reference.items()
    ]


def success_and_distortion_ratios(m: Metrics) -> tuple[str, str, str]:
    """The lowest attack success rate over Tables 1 and 3, and the range of the ratios."""
    models = [*m.paper["table1"], *m.paper["table3"]]
    success = min(m.attacked(model)["success_rate"] for model in models)
    return (f"{success * 100:g}", *span(distortion_ratios(m), 2))


def table4_transfer(m: Metrics, block: str | None) -> float:
    """Table 4's mean off-diagonal error, on the plain or an amplified set."""
    table = m("transfer/table4.json")
    return mean(off_diagonal(table, table[block] if block else None))


def pool_models(m: Metrics) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in m("advtrain.json").items() if v["kind"] == "adversarial_pool"}


def best_pool(m: Metrics) -> tuple[str]:
    """The best pool model's mean test error; the docs name it: the input pool."""
    pools = pool_models(m)
    best = min(pools, key=lambda k: pools[k]["test_error_mean"])
    if best != "n100_adv_input":
        return (f"not the best pool model ({best} is)",)
    return (pct(pools[best]["test_error_mean"], 2),)


def per_layer_and_worst_pool_is_top(m: Metrics) -> tuple[str, str]:
    """The per-layer pool's mean test error and the worst pool model's, as the docs round them;
    the docs name the worst: the top-layer pool, alone."""
    pools = pool_models(m)
    errors = {k: pct(v["test_error_mean"], 2) for k, v in pools.items()}
    worst = max(pools, key=lambda k: pools[k]["test_error_mean"])
    tied = sorted(k for k in pools if errors[k] == errors[worst])
    if tied != ["n100_adv_top"]:
        return ("—", f"not the top-layer pool alone as the worst pool model ({tied})")
    return errors["n100_adv_layers"], errors[worst]


def dropout_best_and_above_paper(m: Metrics) -> tuple[str, str]:
    """The dropout baseline, named our best model: its mean test error and how far above the
    paper's 1.3% it is."""
    runs = m("advtrain.json")
    best = min(runs, key=lambda k: runs[k]["test_error_mean"])
    if best != "n100_dropout":
        return (f"not the best model ({best} is)", "—")
    value = runs[best]["test_error_mean"]
    return pct(value, 2), pct(value - m.paper["adversarial_training"]["dropout"], 2)


def interval_excludes_zero(m: Metrics, model: str, other: str) -> tuple[str, str]:
    """The paired 95% interval of model − other, as the docs write it, when it excludes zero."""
    low, high = m.advtrain(model)["paired_difference"][other]["ci95"]
    if low <= 0 <= high:
        return ("an interval that includes zero", "—")
    return signed(low * 100), signed(high * 100)


def interval_includes_zero(m: Metrics, model: str, other: str) -> bool:
    low, high = m.advtrain(model)["paired_difference"][other]["ci95"]
    return low <= 0 <= high


def table2_set_error(m: Metrics, model: str) -> float:
    return mean(m.advtrain(model)["transfer_error"].values())


def advtrain_row(model: str) -> Callable[[Metrics], tuple[str, ...]]:
    """One row of docs/advtrain.md's results table."""

    def compute(m: Metrics) -> tuple[str, ...]:
        run = m.advtrain(model)
        seeds = run["seeds"]
        low, high = run["test_error_mean_ci95"]
        paper = m.paper["adversarial_training"][run["kind"]]
        return (
            str(run["epochs"]),
            pct(run["test_error_mean"], 2),
            pct(run["test_error_std"], 2),
            pct(low, 2),
            pct(high, 2),
            ", ".join(pct(e, 2) for _, e in sorted(zip(seeds, run["test_errors"], strict=True))),
            signed((run["test_error_mean"] - paper) * 100),
            fixed(run["mean_min_distortion"], 4),
            pct(table2_set_error(m, model)),
        )

    return compute


ADVTRAIN_ROW = (
    r"\| {model} \| [^|]+ \| (\d+) \| {B}{NUM}% ± {NUM}%{B} \[{NUM}, {NUM}\] \| ([\d., ]+)% \| "
    r"[^|]+ \| {NUM} pp \| {B}{NUM}{B} \| {B}{NUM}%{B} \|"
)
#: The results table's rows: model -> its pool-levels cell (part of the row's phrase).
ADVTRAIN_LEVELS = {
    "n100_wd": "—",
    "n100_dropout": "—",
    "n100_adv_input": "0",
    "n100_adv_layers": "1, 2",
    "n100_adv_top": "2",
}
PAIRED_COLUMNS = ("n100_wd", "n100_dropout", "n100_adv_input")


def paired(m: Metrics, model: str, other: str) -> tuple[str, str, str]:
    """mean [95% interval] of model − other, in percentage points."""
    difference = m.advtrain(model)["paired_difference"][other]
    low, high = difference["ci95"]
    return signed(difference["mean"] * 100), signed(low * 100), signed(high * 100)


def paired_row(model: str) -> Callable[[Metrics], tuple[str, ...]]:
    def compute(m: Metrics) -> tuple[str, ...]:
        return tuple(
            value for other in PAIRED_COLUMNS if other != model for value in paired(m, model, other)
        )

    return compute


def paired_pattern(model: str) -> str:
    cells = ["—" if other == model else rf"{NUM} \[{NUM}, {NUM}\]" for other in PAIRED_COLUMNS]
    return rf"\| {model} \| " + " \\| ".join(cells) + r" \|"


def seed0_errors(m: Metrics) -> tuple[str, ...]:
    models = ("n100_wd", "n100_dropout", "n100_adv_input", "n100_adv_layers", "n100_adv_top")
    runs = [m.advtrain(model) for model in models]
    return tuple(pct(run["test_errors"][run["seeds"].index(0)], 2) for run in runs)


# ---- the table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocNumber:
    doc: str  # relative to the repository root
    phrase: str  # occurs exactly once in the doc (whitespace normalised)
    pattern: str  # its match spans the phrase; its groups are the doc's numbers
    expected: Callable[[Metrics], tuple[str, ...]]
    within: str = ""  # the phrase is looked for after this text, when given

    @property
    def id(self) -> str:
        return f"{self.doc}: {self.phrase}"


def entry(
    doc: str, phrase: str, pattern: str, expected: Callable[[Metrics], Any], within: str = ""
) -> DocNumber:
    """One doc number; in `pattern`, {NUM} stands for a number and {B} for optional bold."""
    return DocNumber(doc, phrase, pattern.replace("{NUM}", NUM).replace("{B}", B), expected, within)


DIFFERENCES = "docs/differences.md"
ADVTRAIN = "docs/advtrain.md"

ENTRIES: list[DocNumber] = [
    # docs/differences.md
    entry(
        DIFFERENCES,
        "the N examples instead, softmax1's minimal distortion is",
        r"the N examples instead, softmax1's minimal distortion is {NUM},",
        lambda m: (fixed(m.decay("softmax1", "mean_example")["exact_distortion"], 3),),
    ),
    entry(
        DIFFERENCES,
        "under ours,",
        r"\({NUM}/{NUM}% under ours, {NUM}/{NUM}% under the other\)",
        lambda m: (
            pct(m("train/softmax3.json")["train_error"]),
            pct(m("train/softmax3.json")["test_error"]),
            pct(m.decay("softmax3", "mean_example")["train_error"]),
            pct(m.decay("softmax3", "mean_example")["test_error"]),
        ),
    ),
    entry(
        DIFFERENCES,
        "our mean minimal distortion is",
        r"At {NUM}% success our mean minimal distortion is {NUM}–{NUM}× the paper's",
        success_and_distortion_ratios,
    ),
    entry(
        DIFFERENCES,
        "shows how far the attack stays from the truth",
        r"shows how far the attack stays from the truth: {NUM}× on softmax1, {NUM}× on softmax2, "
        r"{NUM}× on softmax3",
        lambda m: tuple(
            fixed(m(f"adversarial/{k}_train.json")["exact"]["ratio_of_means"], 2)
            for k in ("softmax1", "softmax2", "softmax3")
        ),
    ),
    entry(
        DIFFERENCES,
        "transfer about as often as the paper's",
        r"transfer about as often as the paper's \({NUM}% against",
        lambda m: (pct(mean(off_diagonal(m("transfer/table2.json")))),),
    ),
    entry(
        DIFFERENCES,
        "off-diagonal cells agree",
        r"{NUM} of its {NUM} off-diagonal cells agree .{0,80}?, {NUM} within the seed means' "
        r"\(the report's verdict counts {NUM} of {NUM} rates",
        lambda m: tuple(str(n) for n in table2_agreement(m)),
    ),
    entry(
        DIFFERENCES,
        "on average against the paper's 10.0%",
        r"{NUM}% on average against the paper's 10\.0%; amplified to distortion 0\.1, {NUM}% "
        r"\(paper 56%\); amplified by the paper's relative ×1\.67, {NUM}%",
        lambda m: tuple(
            pct(table4_transfer(m, block)) for block in (None, "amplified", "amplified_factor")
        ),
    ),
    entry(
        DIFFERENCES,
        "them) and a test error of",
        r"them\) and a test error of {NUM}%",
        lambda m: (pct(m("train/ae400.json")["test_error"]),),
    ),
    entry(
        DIFFERENCES,
        "Our best pool model (the input pool) reaches",
        r"Our best pool model \(the input pool\) reaches {NUM}%",
        best_pool,
    ),
    entry(
        DIFFERENCES,
        "the top-layer pool, our worst pool model",
        r"per-layer variant \({NUM}%\) and the top-layer pool, our worst pool model \({NUM}%\)",
        per_layer_and_worst_pool_is_top,
    ),
    entry(
        DIFFERENCES,
        "our best model at",
        r"our best model at {NUM}%, is {NUM} points above the paper's",
        dropout_best_and_above_paper,
    ),
    # docs/adversarial.md
    entry(
        "docs/adversarial.md",
        "success ours is",
        r"At {NUM}% success ours is {NUM}–{NUM}× the paper's",
        success_and_distortion_ratios,
    ),
    # docs/transfer.md
    entry(
        "docs/transfer.md",
        "(σ = 0.1 reaches a distortion of",
        r"\(σ = 0\.1 reaches a distortion of {NUM}\)",
        lambda m: (fixed(m("transfer/table2.json")["noise_clipped_distortion"]["0.1"], 3),),
    ),
    entry(
        "docs/transfer.md",
        "Our minimal adversarials average about",
        r"Our minimal adversarials average about {NUM}, so this multiplies their distortion by "
        r"{NUM}–{NUM}",
        lambda m: (
            fixed(mean(m("transfer/table4.json")["mean_distortion"].values()), 3),
            *span([*m("transfer/table4.json")["amplified"]["mean_distortion_ratio"].values()], 2),
        ),
    ),
    # docs/instability.md
    entry(
        "docs/instability.md",
        "the product bound overestimates",
        r"the product bound overestimates the largest observed ‖Δlogits‖/‖r‖ by {NUM}–{NUM}× on "
        r"the sigmoid networks \(([\w, ]+);",
        lambda m: (
            *span([r["network_looseness"] for r in m.sigmoid_instability()], 0),
            ", ".join(r["model"] for r in m.sigmoid_instability()),
        ),
    ),
    entry(
        "docs/instability.md",
        "on the linear softmax1",
        r"by {NUM}× on the linear softmax1",
        lambda m: (fixed(m("instability/softmax1.json")["network_looseness"], 2),),
    ),
    entry(
        "docs/instability.md",
        "the output layer's bound is nearly reached",
        r"the output layer's bound is nearly reached \({NUM}–{NUM}×",
        lambda m: span([r["rows"][-1]["looseness"] for r in m.sigmoid_instability()], 2),
    ),
    entry(
        "docs/instability.md",
        "while each hidden layer's is",
        r"while each hidden layer's is {NUM}–{NUM}× above",
        lambda m: span(
            [row["looseness"] for r in m.sigmoid_instability() for row in r["rows"][:-1]], 1
        ),
    ),
    # docs/advtrain.md: the results table, one entry per row
    *(
        entry(
            ADVTRAIN,
            f"| {model} | {levels} |",
            ADVTRAIN_ROW.replace("{model}", model),
            advtrain_row(model),
        )
        for model, levels in ADVTRAIN_LEVELS.items()
    ),
    # docs/advtrain.md: the paired differences, one entry per row
    *(
        entry(
            ADVTRAIN,
            f"| {model} | ",
            paired_pattern(model),
            paired_row(model),
            within="Paired differences of test error by seed",
        )
        for model in ("n100_dropout", "n100_adv_input", "n100_adv_layers", "n100_adv_top")
    ),
    entry(
        ADVTRAIN,
        "Weight decay alone reaches",
        r"Weight decay alone reaches {NUM}%, {NUM} points above the paper's 1\.6% .{0,80}?"
        r"our interval, \[{NUM}, {NUM}\]\)",
        lambda m: (
            pct(m.advtrain("n100_wd")["test_error_mean"], 2),
            pct(
                m.advtrain("n100_wd")["test_error_mean"]
                - m.paper["adversarial_training"]["weight_decay_only"],
                2,
            ),
            *(pct(v, 2) for v in m.advtrain("n100_wd")["test_error_mean_ci95"]),
        ),
    ),
    entry(
        ADVTRAIN,
        "100 epochs) reaches",
        r"100 epochs\) reaches {NUM}%, the best of our five models but {NUM} points above",
        dropout_best_and_above_paper,
    ),
    entry(
        ADVTRAIN,
        "The best pool model, the input pool, reaches",
        r"The best pool model, the input pool, reaches {NUM}%, well above 1\.2%; it is {NUM} "
        r"points below the weight-decay baseline, by a paired interval that excludes zero, "
        r"\[{NUM}, {NUM}\], and {NUM} above the dropout baseline, an interval that includes "
        r"zero\. It is the hardest model to fool: its test adversarials need {NUM} times the "
        r"distortion and the zoo's adversarial sets fool it {NUM}% of the time against {NUM}%",
        lambda m: (
            *best_pool(m),
            points(-m.advtrain("n100_adv_input")["paired_difference"]["n100_wd"]["mean"]),
            *interval_excludes_zero(m, "n100_adv_input", "n100_wd"),
            points(m.advtrain("n100_adv_input")["paired_difference"]["n100_dropout"]["mean"])
            if interval_includes_zero(m, "n100_adv_input", "n100_dropout")
            else "an interval that excludes zero",
            fixed(
                m.advtrain("n100_adv_input")["mean_min_distortion"]
                / m.advtrain("n100_wd")["mean_min_distortion"],
                1,
            ),
            pct(table2_set_error(m, "n100_adv_input"), 0),
            pct(table2_set_error(m, "n100_wd"), 0),
        ),
    ),
    entry(
        ADVTRAIN,
        "The top-layer pool is",
        r"The top-layer pool is {NUM} points behind the input pool, \[{NUM}, {NUM}\], and the "
        r"per-layer pool {NUM} behind",
        lambda m: (
            points(m.advtrain("n100_adv_top")["paired_difference"]["n100_adv_input"]["mean"]),
            *paired(m, "n100_adv_top", "n100_adv_input")[1:],
            points(m.advtrain("n100_adv_layers")["paired_difference"]["n100_adv_input"]["mean"]),
        ),
    ),
    # docs/benchmarks.md
    entry(
        "docs/benchmarks.md",
        "results has test errors",
        r"results has test errors \({NUM}, {NUM}, {NUM}, {NUM}, {NUM}%\)",
        seed0_errors,
    ),
]


def normalised(text: str) -> str:
    """The doc's text with every run of whitespace one space (sentences wrap across lines)."""
    return " ".join(text.split())


def locate(item: DocNumber, text: str) -> re.Match[str] | str:
    """The pattern's match around the entry's phrase in the normalised text, or what went
    wrong."""
    start = text.find(item.within) if item.within else 0
    if start < 0:
        return f"{item.within!r} not found"
    count = text.count(item.phrase, start)
    if count != 1:
        return f"the phrase occurs {count} times (expected once)"
    at = text.index(item.phrase, start)
    window = max(start, at - 150)
    for match in re.compile(item.pattern).finditer(text, window, at + len(item.phrase) + 800):
        if match.start() <= at < match.end():
            return match
    return f"the numbers could not be parsed (pattern {item.pattern!r})"


def problems(item: DocNumber, text: str, metrics: Metrics) -> list[str]:
    """What is wrong with one doc number: the phrase not found once, the numbers not parsed
    around it, or the doc's numbers differing from the metrics'."""
    where = f"{item.doc}, at {item.phrase!r}"
    match = locate(item, normalised(text))
    if isinstance(match, str):
        return [f"{where}: {match}"]
    found, expected = match.groups(), tuple(item.expected(metrics))
    if len(found) != len(expected):
        return [f"{where}: {len(found)} numbers in the doc, {len(expected)} computed"]
    return [
        f"{where}: the doc says {doc_value}, the metrics say {metric_value}"
        for doc_value, metric_value in zip(found, expected, strict=True)
        if doc_value.replace("-", MINUS) != metric_value.replace("-", MINUS)
    ]


def read_doc(doc: str) -> str:
    return (ROOT / doc).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def metrics() -> Metrics:
    return Metrics()


@pytest.mark.parametrize("item", ENTRIES, ids=lambda item: item.id)
def test_doc_number_matches_the_committed_metrics(item: DocNumber, metrics: Metrics) -> None:
    found = problems(item, read_doc(item.doc), metrics)
    assert not found, "\n".join(found)


def perturbed(item: DocNumber, text: str) -> tuple[str, str, str]:
    """The doc's text with the last digit of the entry's first number changed, that number as
    the doc had it, and as it now reads."""
    flat = normalised(text)
    match = locate(item, flat)
    assert not isinstance(match, str), match
    group = next(i for i, g in enumerate(match.groups(), 1) if re.search(r"\d", g))
    start, end = match.span(group)
    last = max(i for i in range(start, end) if flat[i].isdigit())
    digit = str((int(flat[last]) + 1) % 10)
    return flat[:last] + digit + flat[last + 1 :], match.group(group), flat[start:last] + digit


@pytest.mark.parametrize("item", ENTRIES, ids=lambda item: item.id)
def test_a_changed_doc_number_is_caught(item: DocNumber, metrics: Metrics) -> None:
    text, old, new = perturbed(item, read_doc(item.doc))
    found = problems(item, text, metrics)
    assert found, f"{item.id}: changing {old} to {new} went unnoticed"
    assert any(item.doc in p and item.phrase in p and f"says {new}" in p for p in found), found


def metrics_with(change: Callable[[dict[str, Any]], None], relative: str) -> Metrics:
    changed = Metrics()
    data = copy.deepcopy(changed(relative))
    change(data)
    changed.files[relative] = data
    return changed


METRIC_CHANGES = [
    (
        "advtrain.json",
        lambda d: d["n100_adv_input"].update(test_error_mean=0.0165),
        "Our best pool model (the input pool) reaches",
    ),
    (
        "advtrain.json",
        lambda d: d["n100_adv_layers"].update(test_error_mean=0.0224),
        "the top-layer pool, our worst pool model",
    ),
    (
        "transfer/table4.json",
        lambda d: d["amplified"]["error"][0].__setitem__(1, 0.5),
        "on average against the paper's 10.0%",
    ),
    (
        "instability/n200.json",
        lambda d: d.update(network_looseness=78.0),
        "the product bound overestimates",
    ),
    (
        "readings/decay.json",
        lambda d: next(
            row
            for row in d["rows"]
            if (row["model"], row["reading"]) == ("softmax1", "mean_example")
        ).update(exact_distortion=0.05),
        "the N examples instead, softmax1's minimal distortion is",
    ),
]


@pytest.mark.parametrize(
    ("relative", "change", "phrase"), METRIC_CHANGES, ids=[c[2] for c in METRIC_CHANGES]
)
def test_a_changed_metric_is_caught(relative, change, phrase) -> None:
    item = next(e for e in ENTRIES if e.phrase == phrase)
    text = read_doc(item.doc)
    assert not (found := problems(item, text, Metrics())), "\n".join(found)
    found = problems(item, text, metrics_with(change, relative))
    assert found and all(item.doc in p and "the metrics say" in p for p in found), found
