"""The reproduction report: our numbers beside the paper's, as Markdown and self-contained HTML.

Verdicts are derived from the numbers: a rate is "consistent" with the paper when the paper's
value lies inside our 95% Wilson interval. A claim is *reproduced* when every rate is
consistent, *partly reproduced* when at least half are, and *not reproduced* otherwise.

Table 5 (frame bounds) has no confidence intervals: an AlexNet's upper bound agrees with the
paper's when it lies within a factor of TABLE5_FACTOR of it, with the same reproduced / partly /
not rule over the eight layers. Lower bounds are shown, not judged. An AlexNet with random
weights (or a smoke-profile shortcut, see intriguing.spectral.networks) gets no such verdict:
its verdict reads "Not comparable: random weights".
"""

from __future__ import annotations

import base64
import html
import math
import mimetypes
import os
import platform
import re
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import markdown
import torch
import yaml

from intriguing.plan.params import flatten
from intriguing.spectral.labels import weights_label
from intriguing.spectral.networks import ALEXNETS

OUTSIDE_CI_MARK = "✱"
TABLE5_FACTOR = 2.0


@dataclass(frozen=True)
class RateComparison:
    """One of our rates (with its 95% CI) beside the paper's value."""

    label: str
    ours: float
    ci: tuple[float, float]
    n: int
    paper: float

    @property
    def consistent(self) -> bool:
        return self.ci[0] <= self.paper <= self.ci[1]

    @property
    def difference(self) -> float:
        return self.ours - self.paper

    def cells(self) -> list[str]:
        mark = "" if self.consistent else f" {OUTSIDE_CI_MARK}"
        return [
            f"{percent(self.ours)} [{percent(self.ci[0])}, {percent(self.ci[1])}]{mark}",
            percent(self.paper),
            f"{self.difference * 100:+.2f} pp",
        ]


def percent(value: float) -> str:
    return f"{value * 100:.2f}%"


def status_word(agree: int, total: int) -> str:
    """The verdict's first words from how many comparisons agree."""
    if agree == total:
        return "Reproduced"
    return "Partly reproduced" if 2 * agree >= total else "Not reproduced"


def verdict(comparisons: list[RateComparison]) -> str:
    """One sentence, derived from the numbers, on whether a table's rates match the paper."""
    if not comparisons:
        return "Not run: no results for this claim yet."
    agree = sum(c.consistent for c in comparisons)
    worst = max(comparisons, key=lambda c: abs(c.difference))
    status = status_word(agree, len(comparisons))
    return (
        f"**{status}**: {agree} of {len(comparisons)} rates agree with the paper within our 95% "
        f"CI; the largest difference is {worst.difference * 100:+.2f} pp ({worst.label})."
    )


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def error_table_section(
    title: str,
    intro: str,
    metrics: dict[str, dict[str, Any]],
    reference: dict[str, dict[str, Any]],
    columns: list[tuple[str, str]],
) -> str:
    """A section comparing error rates per model; `columns` maps metric key -> column title."""
    header = ["model", "description"]
    for _, column in columns:
        header += [f"{column} (ours, 95% CI)", f"{column} (paper)", "Δ"]
    rows, comparisons = [], []
    for model, paper_row in reference.items():
        if model not in metrics:
            continue
        row = [model, paper_row["description"]]
        for key, column in columns:
            ours = metrics[model]
            comparison = RateComparison(
                label=f"{model}, {column}",
                ours=ours[key],
                ci=tuple(ours[f"{key}_ci95"]),
                n=ours[key.replace("_error", "_n")],
                paper=paper_row[key],
            )
            comparisons.append(comparison)
            row += comparison.cells()
        rows.append(row)
    parts = [f"## {title}", intro, verdict(comparisons)]
    if rows:
        parts.append(markdown_table(header, rows))
        parts.append(
            f"{OUTSIDE_CI_MARK} the paper's value lies outside our 95% Wilson interval. "
            "Δ = ours − paper, in percentage points."
        )
    else:
        parts.append("_None of this table's models is in `train.models`._")
    return "\n\n".join(parts)


def training_details_section(metrics: dict[str, dict[str, Any]]) -> str:
    """How each model was trained: optimiser, iterations, stop reason, time, device."""
    header = [
        "model",
        "trained on",
        "n",
        "optimizer",
        "Adam steps",
        "L-BFGS iterations",
        "stop reason",
        "final loss",
        "wall time",
        "device",
    ]
    rows = []
    for model, m in metrics.items():
        t = m["training"]
        rows.append(
            [
                model,
                m["architecture"],
                t["train_set"],
                str(m["train_n"]),
                t["optimizer"],
                str(t["adam_steps"]),
                str(t["lbfgs_iterations"]),
                t["stop_reason"],
                f"{t['final_loss']:.4f}",
                f"{m['wall_seconds']:.1f} s",
                m["device"],
            ]
        )
    return "\n\n".join(["## Training details", markdown_table(header, rows)])


def bound(value: float | None) -> str:
    """A frame bound in 3 significant digits; '—' where it was not computed."""
    return "—" if value is None else f"{value:.3g}"


def bound_cells(row: dict[str, Any], paper: dict[str, Any] | None = None) -> list[str]:
    """Lower, upper, and the upper as a multiple of the paper's (when given)."""
    ratio = f"{row['upper'] / paper['upper']:.3g}×" if paper else ""
    return [bound(row["lower"]), bound(row["upper"]), ratio]


def table5_verdict(result: dict[str, Any], reference: list[dict[str, Any]]) -> str:
    """One sentence on one AlexNet: not comparable (and why), or how its upper bounds agree."""
    caveats = result["table5_caveats"]
    if caveats:
        return (
            f"**Not comparable: {'; '.join(caveats)}.** These numbers describe "
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
        f"**{status_word(agree, len(ratios))}**: {agree} of {len(ratios)} upper bounds lie "
        f"within a factor of {TABLE5_FACTOR:g} of the paper's; the furthest is {layer} at "
        f"{worst:.3g}× the paper's.{variant}"
    )


def image(alt: str, path: str | Path, base_dir: Path) -> str:
    """A Markdown image, its path relative to the report's directory (render_html inlines it)."""
    return f"![{alt}]({Path(os.path.relpath(path, base_dir)).as_posix()})"


def figure_link(network: str, figures: dict[str, str], base_dir: Path) -> str:
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
            f"{results[network]['wall_seconds']:.2g} s",
        ]
        for network in networks
    ]
    parts.append(
        markdown_table(["model", "network", "weights", "product of uppers", "time"], summary)
    )
    layers = [
        [network, row["layer"], row["kind"], row["size"], bound(row["lower"]), bound(row["upper"])]
        for network in networks
        for row in results[network]["rows"]
    ]
    parts.append(markdown_table(["model", "layer", "kind", "size", "lower", "upper"], layers))
    parts += [figure_link(network, figures, base_dir) for network in networks if network in figures]
    return "\n\n".join(parts)


def provenance_section(provenance: dict[str, Any], wall_times: list[list[str]] = ()) -> str:
    rows = [[key, f"`{value}`"] for key, value in provenance.items()]
    parts = ["## Provenance", markdown_table(["what", "value"], rows)]
    if wall_times:
        parts += [
            "Wall time of each rule's jobs in the run that made these results (Snakemake's "
            "benchmark files, `reports/benchmarks/`):",
            markdown_table(["rule", "jobs", "total", "longest job"], list(wall_times)),
        ]
    return "\n\n".join(parts)


def render_html(markdown_text: str, title: str, base_dir: Path) -> str:
    """Markdown -> one self-contained HTML page (images inlined as data URIs)."""
    body = markdown.markdown(markdown_text, extensions=["tables", "fenced_code", "toc"])
    body = re.sub(r'src="([^"]+)"', lambda m: f'src="{_data_uri(base_dir / m.group(1))}"', body)
    return HTML_TEMPLATE.format(title=html.escape(title), body=body)


def _data_uri(path: Path) -> str:
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def adversarial_section(
    adversarial: dict[str, dict[str, Any]], reference: dict[str, Any], temperature: float = 1.0
) -> str:
    """Success and mean minimum distortion of every adversarial set beside the paper's;
    ``temperature`` is the attack loss's (params.yaml, adversarial.attack)."""
    paper = {**reference["table1"], **reference["table3"]}
    header = [
        "model",
        "originals",
        "n",
        "success (95% CI)",
        "mean distortion",
        "paper",
        "ours / paper",
        "median distortion",
        "target policy",
        "wall time",
    ]
    rows, rates = [], []
    for key, m in adversarial.items():
        if key.endswith("_amplified"):
            continue
        model, split = key.rsplit("_", 1)
        low, high = m["success_rate_ci95"]
        paper_value = paper.get(model, {}).get("mean_min_distortion")
        rates.append(m["success_rate"])
        rows.append(
            [
                model,
                f"{split} images",
                str(m["n"]),
                f"{percent(m['success_rate'])} [{percent(low)}, {percent(high)}]",
                f"{m['mean_distortion']:.4f}",
                f"{paper_value:.3f}" if paper_value is not None else "—",
                f"{m['mean_distortion'] / paper_value:.2f}×" if paper_value else "—",
                f"{m['median_distortion']:.4f}",
                m["target_policy"],
                f"{m['wall_seconds']:.1f} s",
            ]
        )
    if not rows:
        return "## Adversarial examples — minimum distortion\n\nNot run: no adversarial sets yet."
    lowest = min(rates)
    status = (
        "Reproduced"
        if lowest >= 0.999
        else "Partly reproduced"
        if lowest >= 0.9
        else "Not reproduced"
    )
    verdict_text = (
        f"**{status}**: the attack reaches its target on at least {percent(lowest)} of the "
        "originals of every model (the paper: 100%). Distortion is the paper's "
        "sqrt(Σ(x'−x)²/784); a lower mean distortion at full success means a stronger attack "
        "than the paper's, a higher one a weaker attack or a more robust model."
    )
    return "\n\n".join(
        [
            "## Adversarial examples — minimum distortion (Table 1's last column, Table 3)",
            "Box-constrained L-BFGS on c·‖r‖² + "
            + (
                "cross-entropy(logits, target)"
                if temperature == 1
                else f"T·cross-entropy(logits/T, target) at temperature T = {temperature:g} (the "
                "paper's loss is T = 1; a lower T comes nearer Carlini and Wagner's margin and "
                "the closest point of the target's region)"
            )
            + ", with a per-example search over c (bracketing, then bisection); distortion "
            "averaged over the successful examples.",
            verdict_text,
            markdown_table(header, rows),
        ]
    )


def _git(*args: str) -> str | None:
    try:
        return subprocess.run(
            ["git", *args], capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def params_overrides(params_file: str | Path = "params.yaml") -> list[str]:
    """The keys of params.yaml that differ from the committed version (what `dvc exp run -S`
    or an edit changed), as 'key: committed → now'."""
    committed = _git("show", f"HEAD:{Path(params_file).as_posix()}")
    if committed is None or not Path(params_file).is_file():
        return []
    before = flatten(yaml.safe_load(committed))
    now = flatten(yaml.safe_load(Path(params_file).read_text(encoding="utf-8")))
    return [
        f"{key}: {before.get(key, '(absent)')} → {now.get(key, '(absent)')}"
        for key in sorted(set(before) | set(now))
        if before.get(key) != now.get(key)
    ]


def rule_wall_times(benchmarks_dir: str | Path | None) -> list[list[str]]:
    """Per rule, from Snakemake's benchmark files (one TSV per job, under a folder per rule):
    jobs, total and longest wall time."""
    if benchmarks_dir is None or not Path(benchmarks_dir).is_dir():
        return []
    rows = []
    for folder in sorted(path for path in Path(benchmarks_dir).iterdir() if path.is_dir()):
        seconds = [
            float(tsv.read_text(encoding="utf-8").splitlines()[1].split("\t")[0])
            for tsv in sorted(folder.rglob("*.tsv"))
        ]
        if seconds:
            rows.append(
                [folder.name, str(len(seconds)), f"{sum(seconds):.1f} s", f"{max(seconds):.1f} s"]
            )
    return rows


def provenance(profile: str) -> dict[str, str]:
    """Where and with what the report was made."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown (not a git checkout)"
    versions = {name: metadata.version(name) for name in ("torch", "snakemake", "dvc", "numpy")}
    overrides = params_overrides()
    return {
        "git commit": commit,
        "DVC experiment": os.environ.get("DVC_EXP_NAME", "none (not a DVC experiment)"),
        "profile": profile,
        "params changed from the commit": "; ".join(overrides) if overrides else "none",
        **{f"{name} version": version for name, version in versions.items()},
        "python": platform.python_version(),
        "machine": f"{platform.machine()} {platform.processor()}".strip(),
        "GPU": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    }


HTML_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 72rem; margin: 2rem auto; padding: 0 1rem;
       line-height: 1.5; color: #1a1a1a; }}
table {{ border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.6rem; text-align: left; }}
th {{ background: #f3f3f3; }}
tr:nth-child(even) td {{ background: #fafafa; }}
code {{ background: #f3f3f3; padding: 0 0.2rem; }}
img {{ max-width: 100%; }}
</style>
</head>
<body>
{body}
</body>
</html>
"""
