"""Report sections on the spectral stage's results: the paper's Table 5 beside the frame bounds
of our AlexNets, and the same bounds for our MNIST models.

Table 5 has no confidence intervals: an AlexNet's upper bound agrees with the paper's when it
lies within a factor of verdicts.TABLE5_FACTOR of it, with the reproduced / partly / not rule
of intriguing.report.verdicts.share_state over the eight layers. Lower bounds are shown, not judged.
An AlexNet with random weights (or a smoke-profile shortcut, see intriguing.spectral.networks)
gets no such verdict: its verdict reads "Not comparable: random weights".

Torch-free on purpose: the report needs the AlexNets' names (intriguing.plan.specs) and the
weights' labels (intriguing.spectral.labels), not the networks.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from intriguing.plan.specs import ALEXNETS
from intriguing.report.format import bound, image, markdown_table
from intriguing.report.verdicts import NOT_COMPARABLE, TABLE5_FACTOR, share_state
from intriguing.spectral.labels import weights_label


def bound_cells(row: dict[str, Any], paper: dict[str, Any] | None = None) -> list[str]:
    """Lower, upper, and the upper as a multiple of the paper's (when given)."""
    ratio = f"{row['upper'] / paper['upper']:.3g}×" if paper else ""
    return [bound(row["lower"]), bound(row["upper"]), ratio]


def table5_verdict(result: dict[str, Any], reference: list[dict[str, Any]]) -> str:
    """One sentence on one AlexNet: not comparable (and why), or how its upper bounds agree."""
    caveats = result["table5_caveats"]
    if caveats:
        return (
            f"**{NOT_COMPARABLE}: {'; '.join(caveats)}.** These numbers describe "
            f"{'an untrained network' if result['weights'] == 'random' else 'a shortened run'} "
            "and are no reproduction of Table 5."
        )
    ratios = [
        (ours["layer"], ours["upper"] / paper["upper"])
        for ours, paper in zip(result["rows"], reference, strict=False)
    ]
    agree = sum(1 / TABLE5_FACTOR <= ratio <= TABLE5_FACTOR for _, ratio in ratios)
    layer, worst = max(ratios, key=lambda item: abs(math.log(item[1])))
    variant = (
        ""
        if result["network"] == "alexnet_original"
        else " This is another variant of AlexNet than the paper's, so agreement is indicative."
    )
    return (
        f"**{share_state(agree, len(ratios))}**: {agree} of {len(ratios)} upper bounds lie "
        f"within a factor of {TABLE5_FACTOR:g} of the paper's; the furthest is {layer} at "
        f"{worst:.3g}× the paper's.{variant}"
    )


def figure_link(network: str, figures: dict[str, str], base_dir: Path) -> str:
    """The image of a network's frame bounds per layer."""
    return image(f"{network}: frame bounds per layer", figures[network], base_dir)


def table5_section(
    results: dict[str, dict[str, Any]],
    figures: dict[str, str],
    reference: list[dict[str, Any]],
    base_dir: Path,
) -> str:
    """The paper's Table 5 beside the bounds of our AlexNets, with the weights' source."""
    intro = (
        "Lower and upper frame bounds (smallest and largest singular values) of every "
        "convolutional and fully connected layer of AlexNet (Section 4.3). Convolutions: the "
        "exact singular values of the *circular* convolution on the layer's zero-padded input "
        "grid (rounded up to a multiple of the stride), per frequency as in the paper's formula "
        "with the aliasing correction; the upper bound also bounds the real zero-padded layer, "
        "the lower bound is the circular one. Fully connected layers: SVD. A layer with more "
        "inputs than outputs reports the smallest of its min(inputs, outputs) singular values, "
        "as Table 5 does. `alexnet_original` is the two-GPU network the paper analysed (227×227 "
        "input, no public weights); `alexnet_torchvision` is torchvision's one-GPU variant "
        "(224×224, other channel counts). Verdict, for trained weights only: an upper bound "
        f"agrees when within a factor of {TABLE5_FACTOR:g} of the paper's; lower bounds are "
        "shown, not judged."
    )
    parts = ["## Table 5 — frame bounds", intro]
    alexnets = [network for network in ALEXNETS if network in results]
    if not alexnets:
        return "\n\n".join([*parts, "Not run: no spectral results for the AlexNets yet."])
    for network in alexnets:
        result = results[network]
        fallback = f" ({result['weights_fallback']})" if result["weights_fallback"] else ""
        parts.append(
            f"- `{network}` — weights: {result['weights_detail']}{fallback}. "
            + table5_verdict(result, reference)
        )
    rows = []
    for index, paper in enumerate(reference):
        rows.append([paper["layer"], "paper", paper["size"], *bound_cells(paper)])
        for network in alexnets:
            if index < len(results[network]["rows"]):
                ours = results[network]["rows"][index]
                label = f"`{network}` ({weights_label(results[network])})"
                rows.append([ours["layer"], label, ours["size"], *bound_cells(ours, paper)])
    paper_product = {"lower": None, "upper": math.prod(paper["upper"] for paper in reference)}
    rows.append(["product of uppers", "paper", "", *bound_cells(paper_product)])
    for network in alexnets:
        ours = {"lower": None, "upper": results[network]["lipschitz_upper_bound"]}
        label = f"`{network}` ({weights_label(results[network])})"
        rows.append(["product of uppers", label, "", *bound_cells(ours, paper_product)])
    parts.append(
        markdown_table(["layer", "source", "size", "lower", "upper", "upper ÷ paper's"], rows)
    )
    parts.append(
        "Size: input channels × kernel × kernel × output channels (convolutions), inputs × "
        "outputs (fully connected), as in the paper. — : not computed (upper bound only)."
    )
    parts += [figure_link(network, figures, base_dir) for network in alexnets if network in figures]
    return "\n\n".join(parts)


def mnist_bounds_section(
    results: dict[str, dict[str, Any]], figures: dict[str, str], base_dir: Path
) -> str:
    """Frame bounds of our trained MNIST models: per layer, and the product of the uppers."""
    networks = [network for network in results if network not in ALEXNETS]
    parts = [
        "## Frame bounds of our MNIST models",
        "The same analysis on the models of the zoo (the paper reports none for MNIST). The "
        "product of the upper bounds bounds each network's Lipschitz constant (its sigmoid and "
        "ReLU units and non-overlapping max-pooling are 1-Lipschitz).",
    ]
    if not networks:
        return "\n\n".join([*parts, "Not run: no spectral results for the MNIST models."])
    summary = [
        [
            network,
            results[network]["description"],
            results[network]["weights_detail"],
            bound(results[network]["lipschitz_upper_bound"]),
        ]
        for network in networks
    ]
    parts.append(markdown_table(["model", "network", "weights", "product of uppers"], summary))
    layers = [
        [network, row["layer"], row["kind"], row["size"], bound(row["lower"]), bound(row["upper"])]
        for network in networks
        for row in results[network]["rows"]
    ]
    parts.append(markdown_table(["model", "layer", "kind", "size", "lower", "upper"], layers))
    parts += [figure_link(network, figures, base_dir) for network in networks if network in figures]
    return "\n\n".join(parts)
