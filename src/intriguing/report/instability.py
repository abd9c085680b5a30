"""Report section: the adversarial perturbations' observed gains against the frame bounds.

Reads what rule `instability` writes (intriguing.instability.gains) and says, from the numbers, how
loose the product of upper frame bounds is as a measure of the instability the attack finds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intriguing.report.format import bound, image, markdown_table

TITLE = "## Beyond the paper — frame bounds against the adversarial perturbations"


def gain_cells(summary: dict[str, Any]) -> list[str]:
    """max, mean and median of an observed gain, 3 significant digits."""
    return [bound(summary[key]) for key in ("max", "mean", "median")]


def looseness_verdict(results: dict[str, dict[str, Any]]) -> str:
    """One sentence from the numbers: does every bound hold, and how loose is the product."""
    layers = [row for result in results.values() for row in result["rows"]]
    violated = [
        f"{model} {row['layer']}"
        for model, result in results.items()
        for row in result["rows"]
        if row["looseness"] < 1 or row["cumulative_looseness"] < 1
    ]
    loosest = max(results, key=lambda model: results[model]["network_looseness"])
    tightest = min(results, key=lambda model: results[model]["network_looseness"])
    held = (
        "every observed gain lies below its bound"
        if not violated
        else f"**a bound is exceeded** ({', '.join(violated)}): a bug, or float error"
    )
    per_layer = [row["looseness"] for row in layers]
    return (
        f"Over {sum(r['n'] for r in results.values())} adversarial perturbations of "
        f"{len(results)} models, {held}. The product of upper bounds overestimates the largest "
        f"observed change of the logits per unit of perturbation by "
        f"{results[tightest]['network_looseness']:.3g}× ({tightest}) to "
        f"{results[loosest]['network_looseness']:.3g}× ({loosest}); a single layer's bound lies "
        f"{min(per_layer):.3g}× to {max(per_layer):.3g}× above its largest observed gain."
    )


def instability_section(
    results: dict[str, dict[str, Any]], figures: dict[str, str], base_dir: Path
) -> str:
    """Per model and layer: observed gains (max, mean, median), bounds, looseness; figures."""
    parts = [
        TITLE,
        "The product of the layers' upper frame bounds bounds how much any perturbation r can "
        "change a network's output, ‖φ(x + r) − φ(x)‖ ≤ U₁⋯U_K ‖r‖ (Section 4.3). How much of "
        "that does an adversarial example use? For every successful adversarial example of our "
        "sets, with φ_k the output of layer k (its linear map, then its activation or pooling; "
        "φ₀ = x): the *per-layer gain* ‖Δφ_k‖ / ‖Δφ_{k−1}‖, bounded by U_k, and the *cumulative "
        "gain* ‖Δφ_k‖ / ‖r‖, bounded by U₁⋯U_k. Looseness = bound ÷ largest observed gain. The "
        "sigmoid is ¼-Lipschitz, so on the sigmoid networks a factor of 4 per hidden layer of "
        "the looseness is the activation's alone.",
    ]
    if not results:
        return "\n\n".join([*parts, "Not run: no instability results yet."])
    parts.append(looseness_verdict(results))
    summary = [
        [
            model,
            result["description"],
            ", ".join(
                f"{item['split']} ({item['used']} of {item['n']})" for item in result["sets"]
            ),
            f"{result['mean_distortion']:.4f}",
            bound(result["lipschitz_upper_bound"]),
            bound(result["network_gain_max"]),
            f"{result['network_looseness']:.3g}×",
        ]
        for model, result in results.items()
    ]
    parts.append(
        markdown_table(
            [
                "model",
                "network",
                "adversarial examples (used of n)",
                "mean distortion",
                "product of uppers",
                "max ‖Δlogits‖ / ‖r‖",
                "looseness",
            ],
            summary,
        )
    )
    layers = [
        [
            model,
            row["layer"],
            bound(row["upper"]),
            *gain_cells(row["gain"]),
            f"{row['looseness']:.3g}×",
            bound(row["upper_product"]),
            *gain_cells(row["cumulative_gain"]),
            f"{row['cumulative_looseness']:.3g}×",
        ]
        for model, result in results.items()
        for row in result["rows"]
    ]
    parts.append(
        markdown_table(
            [
                "model",
                "layer",
                "U_k",
                "gain max",
                "mean",
                "median",
                "looseness",
                "U₁⋯U_k",
                "cumulative max",
                "mean",
                "median",
                "looseness",
            ],
            layers,
        )
    )
    parts += [
        image(f"{model}: observed gains and frame bounds per layer", figures[model], base_dir)
        for model in results
        if model in figures
    ]
    return "\n\n".join(parts)
