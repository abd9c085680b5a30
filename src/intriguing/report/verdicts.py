"""The verdict rules of the report, in one place: small pure functions that take plain numbers
(a cell's value with its interval, p-values, ratios) and return a :class:`Verdict`, its state and
the sentence of the numbers that decided it. The sections call them and write
:meth:`Verdict.line`; the board (intriguing.report.board) gathers those lines.

Every rule can reach each of its states, and says which numbers put it there. The thresholds
come from params.yaml (`report`, read into :class:`VerdictSettings`); where the paper is silent
the ledger (reference/readings.yaml, `verdict_rules`) argues for their values. The few fixed
ones, which no reading varies, are named below. A cell may be one model's rate or a
mean over seeds: the rules see only its value and interval.

A comparison whose premise fails (no data to pair, a baseline that does not reach the paper's
level) is *Inconclusive*, with the reason, rather than forced into another state.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from intriguing.common.stats import holm, spearman_bootstrap

REPRODUCED, PARTLY, NOT_REPRODUCED = "Reproduced", "Partly reproduced", "Not reproduced"
HOLDS, PARTLY_HOLDS, DOES_NOT_HOLD = "Holds", "Partly holds", "Does not hold"
INCONCLUSIVE = "Inconclusive"
NOT_COMPARABLE = "Not comparable"  # a result that is no reproduction (an untrained AlexNet)

#: An AlexNet's upper bound agrees with Table 5's when within this factor of it either way
#: (Table 5 has no intervals to judge by; intriguing.report.spectral).
TABLE5_FACTOR = 2.0


@dataclass(frozen=True)
class VerdictSettings:
    """The thresholds of the verdict rules (params.yaml, `report`)."""

    distortion_tolerance: float  # relative: |ours / paper − 1| within it agrees
    exact_ratio_bound: float  # our attack ÷ the exact minimum at most this: the attack is minimal
    alpha: float  # family-wise level of the Holm-adjusted McNemar tests
    transfer_share: float  # share of cells above noise that makes a transfer claim reproduced
    noise_clean_margin: float  # a noise cell within this of the clean error cannot disagree
    pattern_rho: float  # Spearman ρ the pattern's interval must lie above to be reproduced
    bootstrap_resamples: int
    bootstrap_seed: int

    @classmethod
    def from_params(cls, report_params: Mapping[str, Any]) -> VerdictSettings:
        """From params.yaml's `report` block (validated by the schema)."""
        return cls(**{name: report_params[name] for name in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Verdict:
    """A verdict's state (one of board.VERDICT_WORDS) and the numbers that decided it."""

    state: str
    numbers: str

    def line(self, claim: str) -> str:
        """The sentence a section writes: '**State** (claim): numbers'. The claim, a few words
        without parentheses, is what the board shows in its first column."""
        if "(" in claim or ")" in claim:
            raise ValueError(f"a claim must not hold parentheses: {claim!r}")
        return f"**{self.state}** ({claim}): {self.numbers}"


def share_state(agree: int, total: int, share: float = 1.0) -> str:
    """Reproduced when at least `share` of the items agree (all of them by default), partly
    when at least half do (at least one when `share` is below 1), not reproduced otherwise."""
    if share >= 1:
        if agree == total:
            return REPRODUCED
        return PARTLY if 2 * agree >= total else NOT_REPRODUCED
    if agree >= share * total:
        return REPRODUCED
    return PARTLY if agree > 0 else NOT_REPRODUCED


@dataclass(frozen=True)
class DistortionCell:
    """One model's mean minimal distortion beside the paper's."""

    model: str
    ours: float
    paper: float

    @property
    def ratio(self) -> float:
        return self.ours / self.paper


def distortion_verdict(cells: Sequence[DistortionCell], tolerance: float) -> Verdict:
    """Our mean minimal distortions against the paper's: a model agrees when its ratio lies
    within 1 ± `tolerance`; all agree: reproduced, at least half: partly, else not."""
    if not cells:
        return Verdict(INCONCLUSIVE, "no model with a distortion of the paper's to compare.")
    inside = [cell for cell in cells if abs(cell.ratio - 1) <= tolerance]
    worst = max(cells, key=lambda cell: abs(cell.ratio - 1))
    return Verdict(
        share_state(len(inside), len(cells)),
        f"{len(inside)} of {len(cells)} models' mean minimal distortion lies within "
        f"±{tolerance:.0%} of the paper's; ours ÷ paper from "
        f"{min(c.ratio for c in cells):.2f}× to {max(c.ratio for c in cells):.2f}× "
        f"(furthest: {worst.model}, {worst.ours:.4f} against {worst.paper:.3f}).",
    )


def exact_minimum_verdict(ratios: Mapping[str, float], bound: float) -> Verdict:
    """Our attack against the exact minimal distortion (softmax models): holds when every
    model's ratio of means is at most `bound`, partly when some are, does not hold otherwise."""
    if not ratios:
        return Verdict(INCONCLUSIVE, "no model has an exact minimum to compare with.")
    within = [model for model, ratio in ratios.items() if ratio <= bound]
    state = HOLDS if len(within) == len(ratios) else PARTLY_HOLDS if within else DOES_NOT_HOLD
    listed = ", ".join(f"{model} {ratio:.3f}×" for model, ratio in ratios.items())
    return Verdict(
        state,
        f"{len(within)} of {len(ratios)} softmax models within {bound:.2f}× of the exact "
        f"minimum (ours ÷ exact: {listed}).",
    )


@dataclass(frozen=True)
class PairedCell:
    """A transfer cell and its noise baseline on the same originals and model, with the exact
    McNemar test of the pair (`p_value`, two-sided)."""

    label: str
    adversarial: float
    noise: float
    p_value: float


def supports(cell: PairedCell, adjusted_p: float, alpha: float) -> bool:
    """Does a cell transfer beyond noise: more errors than the noise row, and a Holm-adjusted
    McNemar p-value below alpha?"""
    return cell.adversarial > cell.noise and adjusted_p < alpha


def above_noise_verdict(
    replicates: Sequence[Sequence[PairedCell]], alpha: float, share: float, baseline: str
) -> tuple[Verdict, list[float], list[bool]]:
    """Transfer against noise, from the same cells measured once per replicate (networks
    trained from other seeds; one list for a table of one replicate): within a replicate a cell
    supports the claim when its error exceeds the noise error on the same originals and its
    McNemar p-value, Holm-adjusted over the cells, is below `alpha`; a cell supports it when it
    does in every replicate (an intersection–union test, whose p-value is the largest of the
    replicates' adjusted ones: level alpha with no further adjustment). Reproduced when at
    least `share` of the cells support it, partly when one does, else not. Also each cell's
    p-value and whether it supports the claim, in the order of the cells."""
    if not replicates or not replicates[0]:
        return Verdict(INCONCLUSIVE, "no cell pairs adversarials with noise."), [], []
    adjusted = [holm([cell.p_value for cell in cells]) for cells in replicates]
    cell_count = len(replicates[0])
    supporting = [
        all(supports(cells[k], p[k], alpha) for cells, p in zip(replicates, adjusted, strict=True))
        for k in range(cell_count)
    ]
    combined = [max(p[k] for p in adjusted) for k in range(cell_count)]
    count = sum(supporting)
    every = f" in each of {len(replicates)} replicates" if len(replicates) > 1 else ""
    return (
        Verdict(
            share_state(count, cell_count, share),
            f"{count} of {cell_count} cells are misclassified more often than {baseline} on the "
            f"same originals{every} (exact McNemar, Holm-adjusted over the {cell_count} cells, "
            f"α = {alpha:g}; largest adjusted p = {max(combined):.2g}; reproduced needs "
            f"{share:.0%}).",
        ),
        combined,
        supporting,
    )


@dataclass(frozen=True)
class AgreementCell:
    """One of our rates, its 95% interval and the paper's value; `left_out` names why the cell
    cannot disagree with the paper (None when it can)."""

    label: str
    ours: float
    low: float
    high: float
    paper: float
    left_out: str | None = None

    @property
    def consistent(self) -> bool:
        return self.low <= self.paper <= self.high


def agreement_verdict(cells: Sequence[AgreementCell]) -> Verdict:
    """How many of the cells that can disagree have the paper's value inside our 95% interval:
    all: reproduced, at least half: partly, else not; the cells left out are counted by reason."""
    judged = [cell for cell in cells if cell.left_out is None]
    reasons: dict[str, int] = {}
    for cell in cells:
        if cell.left_out is not None:
            reasons[cell.left_out] = reasons.get(cell.left_out, 0) + 1
    left_out = (
        " Left out, as cells that cannot disagree: "
        + "; ".join(f"{count} {reason}" for reason, count in reasons.items())
        + "."
        if reasons
        else ""
    )
    if not judged:
        return Verdict(INCONCLUSIVE, "no cell that can disagree with the paper." + left_out)
    agree = sum(cell.consistent for cell in judged)
    worst = max(judged, key=lambda cell: abs(cell.ours - cell.paper))
    return Verdict(
        share_state(agree, len(judged)),
        f"{agree} of {len(judged)} rates agree with the paper within our 95% CI; the largest "
        f"difference is {(worst.ours - worst.paper) * 100:+.2f} pp ({worst.label})." + left_out,
    )


def pattern_verdict(
    ours: Sequence[float], paper: Sequence[float], rho_threshold: float, resamples: int, seed: int
) -> tuple[Verdict, dict[str, Any]]:
    """Does our table follow the paper's pattern? Spearman ρ of the paired off-diagonal cells
    with a seeded bootstrap 95% interval over the cells: reproduced when the interval lies above
    `rho_threshold`, partly when it lies above 0 only, not reproduced when it lies below
    `rho_threshold` (a strong agreement ruled out); inconclusive when it reaches from 0 or below
    to above `rho_threshold` (too few cells to tell), for fewer than three cells, or when the
    resamples give no interval. Also the numbers as a dict for the metrics."""
    rho, (low, high) = spearman_bootstrap(ours, paper, resamples, seed)
    if math.isnan(rho) or math.isnan(low):
        return (
            Verdict(INCONCLUSIVE, f"{len(ours)} cells give no rank correlation."),
            {"cells": len(ours)},
        )
    numbers = {
        "spearman_rho": rho,
        "spearman_rho_low": low,
        "spearman_rho_high": high,
        "cells": len(ours),
    }
    if low > rho_threshold:
        state = REPRODUCED
    elif low > 0:
        state = PARTLY
    elif high < rho_threshold:
        state = NOT_REPRODUCED
    else:
        state = INCONCLUSIVE
    return (
        Verdict(
            state,
            f"Spearman ρ of our and the paper's {len(ours)} off-diagonal cells {rho:+.2f} "
            f"[{low:+.2f}, {high:+.2f}] (bootstrap over cells, {resamples} resamples). "
            f"Reproduced needs the interval above {rho_threshold:g}, partly above 0, not "
            f"reproduced below {rho_threshold:g}; inconclusive otherwise.",
        ),
        numbers,
    )


def premise_verdict(premise_met: bool, reason: str, verdict: Verdict) -> Verdict:
    """`verdict` when its premise holds, else Inconclusive with the reason in its place."""
    return verdict if premise_met else Verdict(INCONCLUSIVE, reason)
