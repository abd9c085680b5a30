"""The report's unit-analysis section (Section 3, Figures 1–2): units of φ vs random directions.

Reads the merged statistics of rule `units_summary` (reports/metrics/units.json); the verdict on
the paper's claim is the one derived from the tests by intriguing.units.directions.claim_verdict.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intriguing.report.format import image, markdown_table

TITLE = "## Section 3 — units of φ(x) vs random directions (Figures 1–2)"
FIGURE_CAPTIONS = {
    "natural": "top-k images of single units (natural basis, Figure 1)",
    "random": "top-k images of random directions (Figure 2)",
    "coherence": "coherence of units and random directions",
}


def _interval(mean: float, ci: list[float]) -> str:
    return f"{mean:.3f} [{ci[0]:.3f}, {ci[1]:.3f}]"


def measures_table(result: dict[str, Any]) -> str:
    """One row per coherence measure: both means with CIs, chance, difference, r, p, result."""
    header = [
        "measure",
        "units (95% CI)",
        "random directions (95% CI)",
        "chance",
        "units − random (95% CI)",
        "r",
        "p",
        "p (Holm)",
        "result",
    ]
    rows = [
        [
            m["title"],
            f"{_interval(m['units_mean'], m['units_ci95'])}, n = {m['units_n']}",
            f"{_interval(m['random_mean'], m['random_ci95'])}, n = {m['random_n']}",
            f"{m['chance']:.3f}",
            f"{m['difference']:+.3f} [{m['difference_ci95'][0]:+.3f}, "
            f"{m['difference_ci95'][1]:+.3f}]",
            f"{m['rank_biserial']:+.2f}",
            f"{m['p_value']:.2g}",
            f"{m['p_holm']:.2g}",
            m["result"],
        ]
        for m in result["measures"]
    ]
    return markdown_table(header, rows)


def network_part(name: str, result: dict[str, Any], figures: dict[str, str], base: Path) -> str:
    """A network's setting, verdict, statistics and figures."""
    dim = result["dimension"]
    left_out = len(result["units_undetermined"])
    parts = [
        f"### `{name}` — {result['description']}",
        f"φ: {result['layer']} ({dim} units). Image set: {result['image_set']}; top "
        f"{result['top_k']} images per direction. Weights: {result['weights_detail']}. "
        f"Random directions: {result['random_directions']}. Left out (top-k not determined by "
        f"the data: a dead unit, or one active on fewer than {result['top_k']} images): "
        f"{left_out} of {dim} units, {len(result['random_undetermined'])} of "
        f"{result['random_directions']} random directions.",
    ]
    if result["weights"] == "random":
        parts.append(
            "**Random weights: this network is untrained, so its numbers test the code path, "
            "not the paper's claim.**"
        )
    parts += [result["verdict"]["sentence"], measures_table(result)]
    for kind, caption in FIGURE_CAPTIONS.items():
        key = f"{name}_{kind}"
        if key in figures:
            parts.append(image(f"{name}: {caption}", figures[key], base))
    return "\n\n".join(parts)


def units_section(summary: dict[str, Any] | None, figures: dict[str, str], base_dir: Path) -> str:
    """The Markdown section; `figures` maps `<network>_<kind>` to a figure's path, `base_dir`
    is the report's directory (links are relative to it)."""
    intro = (
        "The paper (Section 3) finds the images that most activate a single unit ⟨φ(x), e_i⟩ "
        "no more semantically related than those of a random direction ⟨φ(x), v⟩, by eye. We "
        "test it: for every unit of φ and for seeded random unit directions (Gaussian, "
        "normalised; `units.random_directions` of them, by default more than there are units, so "
        "that the random group is measured precisely and a verdict does not hinge on one small "
        "draw), "
        "the top-k test images are scored by *label purity* (share of the most common label), "
        "by *pixel similarity* (mean pairwise cosine similarity of the mean-centred images) "
        "and, where set, by the same similarity in *another model's* last hidden layer "
        "(`units.feature_models`). Chance: the mean score of 1000 random image sets. Means "
        "with 95% percentile-bootstrap CIs; two-sided Mann–Whitney U test; r is the "
        "rank-biserial correlation, P(unit > random) − P(unit < random); a network's p-values "
        "are Holm-adjusted over its measures, and read at `units.alpha`. The claim *holds* on "
        "a network when no measure finds the units significantly more coherent, *does not "
        "hold* when every measure does, and *partly holds* otherwise."
    )
    parts = [TITLE, intro]
    if summary is None or not summary["networks"]:
        return "\n\n".join([*parts, "Not run: no unit-analysis results yet."])
    statuses = summary["verdict"]["per_network"]
    parts.append(
        "**Overall**: the claim "
        + "; ".join(f"{status} on `{name}`" for name, status in statuses.items())
        + "."
    )
    parts += [
        network_part(name, result, figures, base_dir)
        for name, result in summary["networks"].items()
    ]
    return "\n\n".join(parts)
