"""Transfer of adversarial examples (Tables 2 and 4) and Gaussian-noise baselines (Figure 7).

A model *errs* on a distorted example when its prediction differs from the original's true
label: the paper's "ratio of misclassified instances". Every rate is computed on exactly the
originals the adversarial sets were built from (all sets of a split share them; this is checked)
and carries its sample size and a 95% Wilson interval. Every example of a set counts, including
the rare ones the attack failed on (their number is reported with the set).

Noise baselines add N(0, stddev²) to every pixel of the same originals. The paper's rows
(`noise`) are *unclipped*: the paper prints their distortion as σ itself (Table 2: 0.1, 0.3),
which only unclipped noise reaches. The same draw clipped to [0, 1] (`noise_clipped`, a
secondary row) keeps the image valid but shrinks the noise (and brightens MNIST's black
background on average); the distortion each actually reaches (the paper's sqrt(Σ(x'−x)²/784))
is reported beside the requested σ. Figure 7's σ = 1 accuracy likewise: `accuracy` unclipped
(the one compared with the paper's 51%), `accuracy_clipped` beside it.

Table 4's amplified sets come in two readings of the paper's x + 0.1·(x'−x)/‖x'−x‖
(:func:`intriguing.core.distortion.amplify`): `amplified`, every example amplified to
distortion 0.1, and `amplified_factor`, every perturbation ×0.1/0.06, the paper's relative
increase. Each is compared with the paper's amplified rows.

Transfer at matched distortion (`matched`, on when the rule is given the paper's distortions): every
adversarial set rescaled along x' − x by one factor per set, found by bisection, so that its mean
distortion (clipped to [0, 1] like the attack's box) equals the paper's mean minimal distortion for
its model; the distortion actually reached is reported. A cell that differs from the paper's as
found but agrees at matched distortion differs by distortion, not by model.

Per-original error indicators (`error_bits`, and `noise_error_bits` per noise level): for every
cell, which of the n shared originals the column's model gets wrong, as a hex string of the bits
packed most-significant first (:func:`pack_errors`, :func:`unpack_errors`), so that an adversarial
row and a noise row can be compared pair by pair (McNemar).

Where the transferred adversarials land, a column the paper lacks: for every cell, the share of
the set's examples that the evaluating model classifies as the attack's own target label
(`target_share`; on the diagonal this is the attack's success rate).

Replicates (params.yaml `train.replicated_models`): a table is computed once per replicate r,
from the r-th network of every replicated model (the others' only one), attacked and
evaluating; the table's own fields are replicate 0's, and its `replicates` block holds every
replicate's fields and their seed means with intervals that include the seed-to-seed spread
(intriguing.transfer.replicates, torch-free for the report).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from intriguing.common.plotting import pyplot, save_figure
from intriguing.common.stats import mcnemar_exact, wilson_interval
from intriguing.core.distortion import amplify, distortion, gaussian_noise
from intriguing.core.evaluation import PREDICTION_BATCH, predict
from intriguing.core.models import ModelSpec, load_checkpoint
from intriguing.transfer.replicates import (
    AMPLIFIED_KEYS,
    MATCHED_KEY,
    amplified_keys,
    rescaled_keys,
)

ERROR_DEFINITION = (
    "a model errs on a distorted example when it does not predict the original's true label"
)
TARGET_SHARE_DEFINITION = (
    "the share of a set's examples that the evaluating model classifies as the attack's own "
    "target label"
)
#: JSON key of each noise variant -> whether it is clipped to [0, 1]; the first is the paper's.
NOISE_KINDS = {"noise": False, "noise_clipped": True}
NOISE_ROWS = {
    "noise": "unclipped: the paper's rows (their distortion is σ, as the paper prints it)",
    "noise_clipped": "clipped to [0, 1]: a secondary row (valid images, less distortion)",
}
MATCHED_LABEL = "at the paper's distortion"
#: bisection steps of the matching factor: 2^-40 of its bracket, far below any reported digit.
MATCHING_STEPS = 40


@dataclass(frozen=True)
class Rate:
    """A rate (errors, or any count of examples) with its sample size and 95% Wilson interval."""

    errors: int
    n: int

    @property
    def value(self) -> float:
        return self.errors / self.n

    @property
    def ci95(self) -> list[float]:
        return list(wilson_interval(self.errors, self.n))


def misclassified(
    model: nn.Module, x: torch.Tensor, labels: torch.Tensor, batch_size: int = PREDICTION_BATCH
) -> torch.Tensor:
    """Per example: does the model's prediction differ from the true label?"""
    return predict(model, x, batch_size) != labels


def error_rate(model: nn.Module, x: torch.Tensor, labels: torch.Tensor) -> Rate:
    return Rate(int(misclassified(model, x, labels).sum()), len(labels))


def pack_errors(errors: torch.Tensor | np.ndarray) -> str:
    """Per-example error indicators as a hex string, the bits packed most-significant first
    (1000 examples: 250 characters)."""
    bits = np.asarray(errors.cpu() if isinstance(errors, torch.Tensor) else errors, dtype=bool)
    return np.packbits(bits).tobytes().hex()


def unpack_errors(packed: str, n: int) -> np.ndarray:
    """The n error indicators of :func:`pack_errors`' string."""
    bits = np.unpackbits(np.frombuffer(bytes.fromhex(packed), dtype=np.uint8))
    if len(bits) < n or bits[n:].any():
        raise ValueError(f"a packed error string does not hold exactly {n} indicators")
    return bits[:n].astype(bool)


def error_bits(
    sets: dict[str, dict[str, Any]], models: dict[str, nn.Module], labels: torch.Tensor
) -> list[list[str]]:
    """For every (set, model) cell, which originals the model gets wrong (:func:`pack_errors`)."""
    return [
        [pack_errors(misclassified(model, s["x_adv"], labels)) for model in models.values()]
        for s in sets.values()
    ]


def target_share(target: torch.Tensor, predictions: torch.Tensor, num_classes: int = 10) -> Rate:
    """How many examples are classified as their attack's target: the trace of scikit-learn's
    confusion matrix of (target, prediction) over the set's examples."""
    if len(target) == 0:
        return Rate(0, 0)
    from sklearn.metrics import confusion_matrix

    target, predictions = target.cpu().numpy(), predictions.cpu().numpy()
    if max(target.max(), predictions.max()) >= num_classes:
        raise ValueError(f"a label or prediction lies outside the {num_classes} classes")
    matrix = confusion_matrix(target, predictions, labels=np.arange(num_classes))
    return Rate(int(np.trace(matrix)), len(target))


def noise_key(stddev: float) -> str:
    """The JSON key of a noise level: 0.1 -> "0.1"."""
    return f"{stddev:g}"


def matrices(
    sets: dict[str, dict[str, Any]], models: dict[str, nn.Module], labels: torch.Tensor
) -> tuple[list[list[Rate]], list[list[Rate]]]:
    """Error of every model (columns) on every set (rows), and the share of each set's examples
    the model classifies as the attack's target, from one prediction per cell."""
    errors, shares = [], []
    for adversarial in sets.values():
        predictions = [predict(model, adversarial["x_adv"]) for model in models.values()]
        errors.append([Rate(int((p != labels).sum()), len(labels)) for p in predictions])
        shares.append([target_share(adversarial["target"], p) for p in predictions])
    return errors, shares


def rate_fields(rows: Sequence[Sequence[Rate]], name: str = "error") -> dict[str, list]:
    return {
        name: [[rate.value for rate in row] for row in rows],
        f"{name}_ci95": [[rate.ci95 for rate in row] for row in rows],
    }


def cell_fields(
    sets: dict[str, dict[str, Any]], models: dict[str, nn.Module], labels: torch.Tensor
) -> dict[str, list]:
    """`error` and `target_share`, each with its intervals, for every (set, model) cell."""
    errors, shares = matrices(sets, models, labels)
    return {
        **rate_fields(errors),
        **rate_fields(shares, "target_share"),
        "error_bits": error_bits(sets, models, labels),
    }


def mean_successful_distortion(adversarial: dict[str, Any]) -> float | None:
    """Mean distortion over the examples that reached their target (Table 1's measure)."""
    success = adversarial["success"]
    return float(adversarial["distortion"][success].mean()) if success.any() else None


def amplification_label(mode: str, value: float | list[float]) -> str:
    """How a block of amplified rows is labelled in the report and the figure."""
    if not isinstance(value, float):
        return f"amplified ({mode} {value})"
    if mode == "stddev":
        return f"amplified to distortion {value:g}"
    return f"amplified ×{value:.2f}, the paper's relative increase"


def short_amplification_label(block: dict[str, Any]) -> str:
    """'amplified to 0.1' or 'amplified ×1.67': a row label's suffix."""
    value = block[f"requested_{block['amplification']}"]
    if not isinstance(value, float):
        return block["label"]
    return (
        f"amplified to {value:g}"
        if block["amplification"] == "stddev"
        else f"amplified ×{value:.2f}"
    )


def amplified_block(
    mode: str,
    sets: dict[str, dict[str, Any]],
    models: dict[str, nn.Module],
    labels: torch.Tensor,
) -> dict[str, Any]:
    """One amplification's rows of Table 4 (`mode`: stddev or factor)."""
    for name, adversarial in sets.items():
        if adversarial.get("amplification", "stddev") != mode:
            raise ValueError(f"set {name!r} was not amplified by {mode}")
    values = {float(s[f"amplified_{mode}"]) for s in sets.values()}
    requested = values.pop() if len(values) == 1 else sorted(values)

    def ratio(adversarial: dict[str, Any]) -> float | None:
        original = adversarial.get("original_distortion")
        if original is None or not original.mean() > 0:
            return None
        return float(adversarial["distortion"].mean() / original.mean())

    return {
        "label": amplification_label(mode, requested),
        "amplification": mode,
        f"requested_{mode}": requested,
        "generated_for": list(sets),
        "mean_distortion": {name: float(s["distortion"].mean()) for name, s in sets.items()},
        "mean_distortion_ratio": {name: ratio(s) for name, s in sets.items()},
        **cell_fields(sets, models, labels),
    }


def matching_factor(x: torch.Tensor, x_adv: torch.Tensor, target: float) -> float:
    """The factor f for which x + f·(x' − x), clipped to [0, 1], has mean distortion `target`
    (bisection: the clipped mean grows with f). When clipping keeps the mean below the target
    whatever f, the largest factor tried (1024× the unclipped ratio)."""
    if target <= 0:
        raise ValueError(f"the distortion to match must be positive, got {target}")
    own = float(distortion(x, x_adv).mean())
    if own <= 0:
        raise ValueError("a set whose examples equal their originals cannot be rescaled")

    def reached(factor: float) -> float:
        return float(amplify(x, x_adv, factor=factor)[1].mean())

    low, high = 0.0, 2 * target / own
    while reached(high) < target and high < 1024 * target / own:
        low, high = high, 2 * high
    for _ in range(MATCHING_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if reached(middle) < target else (low, middle)
    return high


def matched_block(
    sets: dict[str, dict[str, Any]],
    x: torch.Tensor,
    paper_distortion: dict[str, float],
    models: dict[str, nn.Module],
    labels: torch.Tensor,
) -> dict[str, Any]:
    """Every set rescaled along x' − x so that its mean distortion is the paper's for its model
    (clipped to [0, 1]; the distortion reached and the factor are reported), with its cells."""
    missing = sorted(set(sets) - set(paper_distortion))
    if missing:
        raise ValueError(f"no paper distortion to match for {missing}")
    rescaled, factors, own = {}, {}, {}
    for name, adversarial in sets.items():
        factor = matching_factor(x, adversarial["x_adv"], paper_distortion[name])
        x_matched, reached = amplify(x, adversarial["x_adv"], factor=factor)
        rescaled[name] = {**adversarial, "x_adv": x_matched, "distortion": reached}
        factors[name] = factor
        own[name] = float(distortion(x, adversarial["x_adv"]).mean())
    return {
        "label": MATCHED_LABEL,
        "generated_for": list(sets),
        "target_distortion": {name: float(paper_distortion[name]) for name in sets},
        "own_distortion": own,
        "factor": factors,
        "mean_distortion": {name: float(s["distortion"].mean()) for name, s in rescaled.items()},
        **cell_fields(rescaled, models, labels),
    }


def transfer_table(
    sets: dict[str, dict[str, Any]],
    models: dict[str, nn.Module],
    x: torch.Tensor,
    labels: torch.Tensor,
    noise_stddevs: Sequence[float],
    seed: int,
    amplified: dict[str, dict[str, dict[str, Any]]] | None = None,
    matched_distortion: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Table 2 or 4: each model's error on each model's adversarial set (and where the set's
    examples land), plus noise rows (and, for Table 4, the amplified sets: `amplified` maps a
    reading, stddev or factor, to its sets); with `matched_distortion` (each set's model -> the
    paper's mean distortion), the sets rescaled to it too (:func:`matched_block`)."""
    table: dict[str, Any] = {
        "generated_for": list(sets),
        "evaluated_on": list(models),
        "n": len(labels),
        **cell_fields(sets, models, labels),
        "mean_distortion": {name: mean_successful_distortion(s) for name, s in sets.items()},
        "attack_success_rate": {
            name: float(s["success"].float().mean()) for name, s in sets.items()
        },
        "attack_failures": {name: int((~s["success"]).sum()) for name, s in sets.items()},
        "target_policy": sorted({s["target_policy"] for s in sets.values()}),
        "error_definition": ERROR_DEFINITION,
        "target_share_definition": TARGET_SHARE_DEFINITION,
        "noise_rows": NOISE_ROWS,
    }
    for prefix, clip in NOISE_KINDS.items():
        for field in ("", "_ci95", "_distortion", "_error_bits"):
            table[prefix + field] = {}
        for stddev in noise_stddevs:
            noisy, reached = gaussian_noise(x, stddev, seed, clip)
            wrong = [misclassified(model, noisy, labels) for model in models.values()]
            rates = [Rate(int(w.sum()), len(labels)) for w in wrong]
            key = noise_key(stddev)
            table[prefix][key] = [rate.value for rate in rates]
            table[f"{prefix}_ci95"][key] = [rate.ci95 for rate in rates]
            table[f"{prefix}_distortion"][key] = float(reached.mean())
            table[f"{prefix}_error_bits"][key] = [pack_errors(w) for w in wrong]
    for mode, amplified_sets in (amplified or {}).items():
        table[AMPLIFIED_KEYS[mode]] = amplified_block(mode, amplified_sets, models, labels)
    if matched_distortion is not None:
        table[MATCHED_KEY] = matched_block(sets, x, matched_distortion, models, labels)
    for block in [
        table,
        *(table[key] for key in rescaled_keys(table)),
    ]:
        block["mcnemar"] = mcnemar_against_noise(
            block["error_bits"], table["noise_error_bits"], len(labels)
        )
    return table


def mcnemar_against_noise(
    cell_bits: list[list[str]], noise_bits: dict[str, list[str]], n: int
) -> dict[str, dict[str, list[list[float]]]]:
    """Per noise level (the paper's, unclipped) and per cell of a block: the exact McNemar test
    of the cell's errors against the noise row's on the same originals and model — the
    discordant counts (`adversarial_only`, `noise_only`) and the two-sided `p_value`."""
    result = {}
    for key, noise_row in noise_bits.items():
        noise_errors = [unpack_errors(bits, n) for bits in noise_row]
        tests = [
            [
                mcnemar_exact(unpack_errors(bits, n), noise)
                for bits, noise in zip(row, noise_errors, strict=True)
            ]
            for row in cell_bits
        ]
        result[key] = {
            "adversarial_only": [[test.first_only for test in row] for row in tests],
            "noise_only": [[test.second_only for test in row] for row in tests],
            "p_value": [[test.p_value for test in row] for row in tests],
        }
    return result


def table_rows(table: dict[str, Any]) -> list[dict[str, Any]]:
    """The table as long-format rows (one per cell), for CSV and `dvc plots`."""
    blocks = [("adversarial", table["generated_for"], table["error"], table["error_ci95"])]
    for key in amplified_keys(table):
        block = table[key]
        suffix = short_amplification_label(block)
        blocks.append(
            (
                key,
                [f"{name} {suffix}" for name in block["generated_for"]],
                block["error"],
                block["error_ci95"],
            )
        )
    if MATCHED_KEY in table:
        block = table[MATCHED_KEY]
        blocks.append(
            (
                MATCHED_KEY,
                [f"{name} {MATCHED_LABEL}" for name in block["generated_for"]],
                block["error"],
                block["error_ci95"],
            )
        )
    for kind, suffix in (("noise", ""), ("noise_clipped", " clipped")):
        blocks.append(
            (
                kind,
                [f"noise {key}{suffix}" for key in table[kind]],
                list(table[kind].values()),
                list(table[f"{kind}_ci95"].values()),
            )
        )
    rows = []
    for kind, row_names, errors, intervals in blocks:
        for row_name, row, row_intervals in zip(row_names, errors, intervals, strict=True):
            for column, error, (low, high) in zip(
                table["evaluated_on"], row, row_intervals, strict=True
            ):
                rows.append(
                    {
                        "cell": f"{row_name} → {column}",
                        "kind": kind,
                        "generated_for": row_name,
                        "evaluated_on": column,
                        "error": round(error, 6),
                        "ci_low": round(low, 6),
                        "ci_high": round(high, 6),
                        "n": table["n"],
                    }
                )
    return rows


def paper_grid(table: dict[str, Any], reference: dict[str, Any]) -> dict[str, list]:
    """The paper's numbers laid out like our table (NaN where the paper has no such cell): both
    amplified blocks beside the paper's amplified rows, the unclipped noise beside its noise rows,
    the clipped noise beside nothing (the paper's rows are the unclipped ones)."""
    columns = [
        reference["models"].index(name) if name in reference["models"] else None
        for name in table["evaluated_on"]
    ]

    def pick(row: list[float] | None) -> list[float]:
        if row is None:
            return [float("nan")] * len(columns)
        return [float("nan") if index is None else row[index] for index in columns]

    grid = {"adversarial": [pick(reference["error"].get(name)) for name in table["generated_for"]]}
    for key in amplified_keys(table):
        grid[key] = [
            pick(reference.get("amplified_error", {}).get(name))
            for name in table[key]["generated_for"]
        ]
    if MATCHED_KEY in table:
        grid[MATCHED_KEY] = [
            pick(reference["error"].get(name)) for name in table[MATCHED_KEY]["generated_for"]
        ]
    grid["noise"] = [pick(reference["noise"].get(key)) for key in table["noise"]]
    grid["noise_clipped"] = [pick(None) for _ in table["noise_clipped"]]
    return grid


def heatmap_rows(
    table: dict[str, Any], reference: dict[str, Any]
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Row labels, our matrix and the paper's, stacked as the table is printed."""
    paper = paper_grid(table, reference)
    labels = [f"adv. {name}" for name in table["generated_for"]]
    ours = list(table["error"])
    theirs = list(paper["adversarial"])
    for key in amplified_keys(table):
        suffix = short_amplification_label(table[key])
        labels += [f"{name} {suffix}" for name in table[key]["generated_for"]]
        ours += table[key]["error"]
        theirs += paper[key]
    if MATCHED_KEY in table:
        labels += [f"{name} {MATCHED_LABEL}" for name in table[MATCHED_KEY]["generated_for"]]
        ours += table[MATCHED_KEY]["error"]
        theirs += paper[MATCHED_KEY]
    for kind, suffix in (
        ("noise", ", unclipped (paper's)"),
        ("noise_clipped", ", clipped (secondary)"),
    ):
        labels += [f"noise σ={key}{suffix}" for key in table[kind]]
        ours += list(table[kind].values())
        theirs += paper[kind]
    return labels, np.array(ours, dtype=float), np.array(theirs, dtype=float)


def plot_transfer_heatmaps(
    table: dict[str, Any], reference: dict[str, Any], title: str, path: str | Path
) -> None:
    """Ours, the paper's, and ours − paper's, as three annotated heatmaps (percent)."""
    import seaborn as sns

    plt = pyplot()
    labels, ours, theirs = heatmap_rows(table, reference)
    columns = table["evaluated_on"]
    width = 1.9 + 0.75 * len(columns)
    figure, axes = plt.subplots(
        1, 3, figsize=(3 * width, 0.45 * len(labels) + 1.6), layout="constrained"
    )
    panels = [
        ("ours", ours * 100, "rocket_r", 0, 100),
        ("paper", theirs * 100, "rocket_r", 0, 100),
        ("ours − paper", (ours - theirs) * 100, "vlag", -100, 100),
    ]
    for index, (axis, (name, values, cmap, low, high)) in enumerate(zip(axes, panels, strict=True)):
        sns.heatmap(
            values,
            ax=axis,
            annot=True,
            fmt=".0f",
            cmap=cmap,
            vmin=low,
            vmax=high,
            center=0 if low < 0 else None,
            cbar=True,
            xticklabels=columns,
            yticklabels=labels if index == 0 else False,
            mask=np.isnan(values),
            annot_kws={"fontsize": 8},
        )
        axis.set_title(f"{name} (error %)", fontsize=10)
        axis.set_xlabel("evaluated on")
    figure.suptitle(f"{title} (n = {table['n']} originals per row)", fontsize=11)
    save_figure(figure, path)


def plot_pairs(axes_row: Sequence[Any], x: torch.Tensor, x_adv: torch.Tensor, title: str) -> None:
    """Originals in odd columns, their adversarials in even columns (the paper's Figure 7)."""
    for index, axis in enumerate(axes_row):
        pair, is_adversarial = divmod(index, 2)
        image = (x_adv if is_adversarial else x)[pair, 0].cpu().numpy()
        axis.imshow(image, cmap="gray", vmin=0, vmax=1)
        axis.set_xticks([])
        axis.set_yticks([])
        if index == 0:
            axis.set_ylabel(title, fontsize=8)


def figure7(
    sets: dict[str, dict[str, Any]],
    models: dict[str, nn.Module],
    x: torch.Tensor,
    labels: torch.Tensor,
    noise_stddev: float,
    pairs: int,
    seed: int,
    path: str | Path,
) -> dict[str, Any]:
    """Figure 7: originals beside their adversarials for each model, and the originals with
    Gaussian noise of `noise_stddev` with each model's accuracy on them: unclipped (`accuracy`,
    the paper's, whose distortion is σ) and, beside it, clipped to [0, 1] (`accuracy_clipped`)."""
    noisy, reached = gaussian_noise(x, noise_stddev, seed, clip=False)
    clipped, reached_clipped = gaussian_noise(x, noise_stddev, seed)
    accuracy = {}
    for name, model in models.items():
        rate, rate_clipped = (error_rate(model, z, labels) for z in (noisy, clipped))
        accuracy[name] = {
            "accuracy": 1 - rate.value,
            "accuracy_ci95": [1 - rate.ci95[1], 1 - rate.ci95[0]],
            "accuracy_clipped": 1 - rate_clipped.value,
            "accuracy_clipped_ci95": [1 - rate_clipped.ci95[1], 1 - rate_clipped.ci95[0]],
            "n": rate.n,
        }
    pairs = min(pairs, len(labels))
    plt = pyplot()
    rows = len(sets) + 1
    figure, axes = plt.subplots(
        rows, 2 * pairs, figsize=(0.9 * 2 * pairs, 1.05 * rows + 0.5), squeeze=False
    )
    for axes_row, (name, adversarial) in zip(axes, sets.items(), strict=False):
        mean = float(adversarial["distortion"][:pairs].mean())
        plot_pairs(axes_row, x, adversarial["x_adv"], f"{name}\n(distortion {mean:.3f})")
    accuracies = ", ".join(
        f"{name} {value['accuracy']:.0%} ({value['accuracy_clipped']:.0%})"
        for name, value in accuracy.items()
    )
    # the display clips to [0, 1] either way: the images shown are the clipped ones
    plot_pairs(
        axes[-1], x, clipped, f"noise σ={noise_stddev:g}\n(distortion {float(reached.mean()):.2f})"
    )
    figure.suptitle(
        "Originals (odd columns) and distorted versions (even columns).\n"
        f"Accuracy on noise σ={noise_stddev:g}, unclipped (clipped to [0, 1]): {accuracies}",
        fontsize=9,
    )
    figure.subplots_adjust(wspace=0.05, hspace=0.15, left=0.08, right=0.99, top=0.85, bottom=0.02)
    save_figure(figure, path)
    return {
        "noise_stddev": noise_stddev,
        "noise_distortion": float(reached.mean()),
        "noise_clipped_distortion": float(reached_clipped.mean()),
        "noise_rows": {
            "accuracy": NOISE_ROWS["noise"],
            "accuracy_clipped": NOISE_ROWS["noise_clipped"],
        },
        "noise_accuracy": accuracy,
        "models": list(sets),
        "mean_distortion": {name: mean_successful_distortion(s) for name, s in sets.items()},
    }


def load_models(
    specs: dict[str, dict[str, Any]], model_files: dict[str, str]
) -> dict[str, nn.Module]:
    """The named models (in the order of `specs`) on the CPU, in eval mode."""
    models = {}
    for name, entry in specs.items():
        model, _ = load_checkpoint(model_files[name], ModelSpec.from_params(name, entry))
        models[name] = model.requires_grad_(False)
    return models
