"""The report's "Adversarial training" section (Section 4.2): our runs beside the paper's.

The paper gives three test errors of 100-100-10 networks: weight decay only (1.6%), carefully
applied dropout (about 1.3%) and a pool of adversarial examples (below 1.2%), and says that
adversarial examples of the higher layers "seem to be more useful than those on the input or
lower layers". Each of our models is compared with the paper's figure of its kind (``kind`` in
reports/metrics/advtrain.json, derived from its settings), and with each other by the paired
differences of advtrain.json (same seeds, 95% t-interval of the mean difference). Verdicts:

* **Below 1.2%**: *inconclusive* when neither baseline reaches the paper's level (its mean test
  error at most the paper's figure for its kind): the paper's comparison is of a pool against
  baselines as good as its own, which cannot be judged then. Otherwise *reproduced* when the
  best pool model (lowest mean) has a mean test error
  below the paper's bound and beats both baselines by paired intervals that exclude zero;
  *partly reproduced* when it beats both baselines that way but not the bound; *not
  reproduced* otherwise.
* **Higher layers more useful**: the pool on the highest level alone (its lowest level the
  highest among the pool models) against the pool on the input (level 0): *reproduced* when
  the paired interval of (higher − input) lies below zero, *not reproduced* when it lies above
  (the opposite holds) or contains zero (no difference beyond the seed-to-seed spread).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intriguing.report.format import OUTSIDE_CI_MARK, image, markdown_table, percent
from intriguing.report.verdicts import (
    NOT_REPRODUCED,
    PARTLY,
    REPRODUCED,
    Verdict,
    premise_verdict,
)

POOL_CLAIM = "adversarial pool below 1.2%, beating both baselines"
LAYERS_CLAIM = "higher-layer adversarials more useful"

KIND_LABELS = {
    "weight_decay_only": "weight decay only",
    "dropout": "dropout",
    "adversarial_pool": "pool of adversarial examples",
}
BASELINE_KINDS = ("weight_decay_only", "dropout")


def points(difference: dict[str, Any]) -> str:
    """A paired difference in percentage points with its interval, e.g. '−0.12 pp [−0.2, −0.04]'."""
    low, high = difference["ci95"]
    return f"{difference['mean'] * 100:+.2f} pp [{low * 100:+.2f}, {high * 100:+.2f}]"


def _below_zero(difference: dict[str, Any]) -> bool:
    return difference["ci95"][1] < 0


def _above_zero(difference: dict[str, Any]) -> bool:
    return difference["ci95"][0] > 0


def _kind_models(summary: dict[str, dict[str, Any]], kinds: tuple[str, ...]) -> list[str]:
    return [model for model, m in summary.items() if m["kind"] in kinds]


def pool_verdict(summary: dict[str, dict[str, Any]], paper: dict[str, float]) -> str:
    """The verdict on "below 1.2%" (module docstring), with the paired differences it rests on."""
    pool = _kind_models(summary, ("adversarial_pool",))
    baselines = _kind_models(summary, BASELINE_KINDS)
    if not pool:
        return "- below 1.2%: not run: no model trained with a pool of adversarial examples."
    best = min(pool, key=lambda model: summary[model]["test_error_mean"])
    ours = summary[best]["test_error_mean"]
    target = paper["adversarial_pool"]
    paired = {
        baseline: summary[best]["paired_difference"][baseline]
        for baseline in baselines
        if baseline in summary[best].get("paired_difference", {})
    }
    beats_all = len(paired) == len(baselines) > 0 and all(map(_below_zero, paired.values()))
    if beats_all and ours < target:
        status = REPRODUCED
    elif beats_all:
        status = PARTLY
    else:
        status = NOT_REPRODUCED
    comparisons = "; ".join(
        f"{best} − {baseline} {points(difference)}" for baseline, difference in paired.items()
    )
    baseline_levels = {
        baseline: (summary[baseline]["test_error_mean"], paper[summary[baseline]["kind"]])
        for baseline in baselines
    }
    levels = ", ".join(
        f"{baseline} {percent(mean)} (the paper's {percent(level)})"
        for baseline, (mean, level) in baseline_levels.items()
    )
    verdict = premise_verdict(
        any(mean <= level for mean, level in baseline_levels.values()),
        f"neither baseline reaches the paper's level ({levels or 'no baseline ran'}), so the "
        f"paper's comparison cannot be judged; our best pool model, {best}, reaches "
        f"{percent(ours)} (the paper: below {percent(target)}); paired: "
        f"{comparisons or 'no baseline ran the same seeds'}.",
        Verdict(
            status,
            f"our best pool model, {best}, reaches {percent(ours)} ± "
            f"{percent(summary[best]['test_error_std'])} over {len(summary[best]['seeds'])} "
            f"seeds (the paper: below {percent(target)}); paired by seed against the baselines: "
            f"{comparisons or 'no baseline ran the same seeds'}.",
        ),
    )
    return f"- {verdict.line(POOL_CLAIM)}"


def layers_verdict(summary: dict[str, dict[str, Any]]) -> str:
    """The verdict on "higher layers more useful" (module docstring)."""
    pool = _kind_models(summary, ("adversarial_pool",))
    inputs = [model for model in pool if summary[model]["pool_levels"] == [0]]
    if not inputs or len(pool) < 2:
        return "- higher layers: not run: it needs a pool on the input and one on a layer."
    reference = inputs[0]
    higher = max(
        (model for model in pool if model != reference),
        key=lambda model: (min(summary[model]["pool_levels"]), -len(summary[model]["pool_levels"])),
    )
    difference = summary[higher]["paired_difference"].get(reference)
    if difference is None:
        return f"- higher layers: not comparable: {higher} and {reference} share no seed."
    remark = ""
    if _below_zero(difference):
        status, reading = REPRODUCED, "better than"
    elif _above_zero(difference):
        status, reading = NOT_REPRODUCED, "worse than"
        remark = ", the opposite of the paper's remark"
    else:
        status, reading = NOT_REPRODUCED, "not distinguishable from"
    others = "; ".join(
        f"{model} − {reference} {points(summary[model]['paired_difference'][reference])}"
        for model in pool
        if model not in (reference, higher) and reference in summary[model]["paired_difference"]
    )
    numbers = (
        f"the pool on level(s) {', '.join(map(str, summary[higher]['pool_levels']))} alone, "
        f"{higher}, is {reading} the pool on the input, {reference}{remark}: paired difference "
        f"{points(difference)}" + (f"; {others}" if others else "") + "."
    )
    return f"- {Verdict(status, numbers).line(LAYERS_CLAIM)}"


def paired_table(summary: dict[str, dict[str, Any]]) -> str:
    """Every model's paired difference to each baseline, in percentage points."""
    baselines = _kind_models(summary, BASELINE_KINDS)
    header = ["model", *(f"− {baseline}" for baseline in baselines)]
    rows = [
        [
            model,
            *(
                points(m["paired_difference"][baseline])
                if baseline in m.get("paired_difference", {})
                else "—"
                for baseline in baselines
            ),
        ]
        for model, m in summary.items()
    ]
    return markdown_table(header, rows)


def advtrain_section(
    summary: dict[str, dict[str, Any]],
    paper: dict[str, float],
    figure: str | None = None,
    base_dir: Path = Path(),
) -> str:
    """Markdown: verdict, the table (model, test error mean ± std, minimal distortion, paper),
    and the training-curve figure when given (linked relative to `base_dir`, the report's
    directory)."""
    title = "## Adversarial training (Section 4.2)"
    if not summary:
        return f"{title}\n\nNot run: no adversarial-training results yet."
    intro = (
        "Sigmoid 100-100-10 networks trained by the same mini-batch Adam loop and seeds, each "
        "to its own epoch budget (advtrain.json `epochs`), every setting chosen on a validation "
        "split held out of the training images; the test set is read once per final model. "
        "The pool models mix adversarial examples (box-constrained L-BFGS, minimal distortion, "
        "toward wrong labels; settings under `advtrain.pool`) into every minibatch: of the input "
        "(level 0) or of the hidden layers' outputs (level k, training the layers above k). "
        "Test error: mean ± "
        "standard deviation over seeds, [95% t-interval of the mean]. Minimal distortion: mean "
        "distortion of the adversarials the pipeline's standard attack finds for a seeded sample "
        "of test images (larger: harder to fool). Transfer error: error on the Table 2 "
        "adversarial sets of the zoo's models, averaged over those sets."
    )
    header = [
        "model",
        "kind",
        "pool levels",
        "epochs",
        "seeds",
        "test error (ours)",
        "per seed",
        "paper",
        "Δ",
        "mean minimal distortion",
        "transfer error",
        "train error",
    ]
    rows = []
    for model, m in summary.items():
        low, high = m["test_error_mean_ci95"]
        transfer = m["transfer_error"]
        paper_error = paper[m["kind"]]
        mark = "" if low <= paper_error <= high else f" {OUTSIDE_CI_MARK}"
        rows.append(
            [
                model,
                KIND_LABELS[m["kind"]],
                ", ".join(map(str, m["pool_levels"])) if m["pool_levels"] else "—",
                str(m["epochs"]),
                str(len(m["seeds"])),
                f"{percent(m['test_error_mean'])} ± {percent(m['test_error_std'])} "
                f"[{percent(low)}, {percent(high)}]{mark}",
                ", ".join(percent(error) for error in m["test_errors"]),
                ("below " if m["kind"] == "adversarial_pool" else "") + percent(paper_error),
                f"{(m['test_error_mean'] - paper_error) * 100:+.2f} pp",
                f"{m['mean_min_distortion']:.4f}",
                percent(sum(transfer.values()) / len(transfer)) if transfer else "—",
                percent(m["train_error_mean"]),
            ]
        )
    note = (
        f"{OUTSIDE_CI_MARK} the paper's value lies outside our 95% t-interval of the mean. "
        f"Δ = our mean − the paper's value (for the pool: its bound "
        f"{percent(paper['adversarial_pool'])}), in percentage points."
    )
    paired_note = (
        "Paired differences of test error (this model − the baseline, per seed, the same seeds "
        "and so the same initial weights and minibatch order), mean [95% t-interval]: an "
        "interval below zero means the model beats the baseline beyond the seed-to-seed spread."
    )
    parts = [
        title,
        intro,
        pool_verdict(summary, paper) + "\n" + layers_verdict(summary),
        markdown_table(header, rows),
        note,
        paired_note,
        paired_table(summary),
    ]
    if figure is not None:
        parts.append(image("Adversarial training: training loss per epoch", figure, base_dir))
    return "\n\n".join(parts)
