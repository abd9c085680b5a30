"""Units of φ(x) (Section 3): are single units more semantically coherent than random directions?

The paper inspects the images x of a set that maximise ⟨φ(x), e_i⟩ for a unit e_i of a layer φ
and those that maximise ⟨φ(x), v⟩ for a random direction v, and finds both sets equally
"semantically related" by eye. This module makes the comparison quantitative:

* `layer_activations` reads φ(x) from any torch module through a forward hook (by default the
  input of its last `nn.Linear`, i.e. the last hidden layer of a classifier);
* `top_k` gives, per direction, the k images of largest projection;
* `label_purity` and `mean_pairwise_cosine` measure how coherent a direction's top-k images
  are, in label space and in a feature space other than φ (pixels, another model's features);
* `compare_distributions` sets the coherence of the units against that of as many random
  directions: bootstrap CIs of the means, a two-sided Mann–Whitney U test and the rank-biserial
  effect size; `holm_adjusted` corrects a network's tests for their number;
* `claim_verdict` says in words whether "units are no more coherent than random directions"
  holds.

Nothing here knows about MNIST, files or Snakemake (see intriguing.units.network).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from intriguing.common.progress import Progress
from intriguing.common.stats import CONFIDENCE, bootstrap_distribution, holm, percentile_interval

UNITS_MORE = "units more coherent"
RANDOM_MORE = "random directions more coherent"
NO_DIFFERENCE = "no significant difference"
HOLDS, PARTLY_HOLDS, DOES_NOT_HOLD = "holds", "partly holds", "does not hold"
#: Percentiles of the 95% interval of units − random, written exactly: the means' intervals
#: compute theirs from the level (2.500000000000002), which interpolates a last bit apart, and
#: the stored intervals must not move.
DIFFERENCE_PERCENTILES = (2.5, 97.5)


def last_linear(model: nn.Module) -> tuple[str, nn.Linear]:
    """Name and module of the last `nn.Linear` a model registers (its output layer, for the
    classifiers of the zoo and torchvision's)."""
    linears = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear)]
    if not linears:
        raise ValueError(f"{type(model).__name__} has no nn.Linear layer; name the layer to read")
    return linears[-1]


def resolve_layer(model: nn.Module, layer: nn.Module | str | None) -> tuple[nn.Module, bool, str]:
    """(module, read its input?, description) of the layer φ is read from.

    None: the input of the last Linear layer (the last hidden layer); a name: that submodule's
    output (`model.get_submodule`); a module: its output.
    """
    if layer is None:
        name, module = last_linear(model)
        description = (
            f"input of the last Linear layer `{name}` "
            f"({module.in_features} → {module.out_features}): the last hidden layer"
        )
        return module, True, description
    if isinstance(layer, str):
        try:
            return model.get_submodule(layer), False, f"output of `{layer}`"
        except AttributeError as error:
            names = [name for name, _ in model.named_modules() if name]
            raise ValueError(
                f"layer {layer!r}: no such submodule of {type(model).__name__}; allowed: {names}"
            ) from error
    return layer, False, f"output of {type(layer).__name__}"


def _batches(data: torch.Tensor | Iterable, batch_size: int) -> Iterable[torch.Tensor]:
    """Input batches from a tensor (sliced) or an iterable of tensors or (input, ...) tuples."""
    if isinstance(data, torch.Tensor):
        for start in range(0, len(data), batch_size):
            yield data[start : start + batch_size]
        return
    for batch in data:
        yield batch[0] if isinstance(batch, list | tuple) else batch


def _total(data: torch.Tensor | Iterable) -> int:
    """How many inputs `data` holds, for progress (0 when it cannot tell)."""
    dataset = getattr(data, "dataset", data)
    return len(dataset) if hasattr(dataset, "__len__") else 0


@torch.no_grad()
def layer_activations(
    model: nn.Module,
    layer: nn.Module | str | None,
    data: torch.Tensor | Iterable,
    batch_size: int = 512,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """φ(x) for every input, flattened to (N, D) float32 on the CPU, in eval mode.

    `data` is a tensor of inputs or an iterable of batches (a DataLoader yielding (x, y), or
    tensors). The layer (see `resolve_layer`) is read by a hook, so any nn.Module works; the
    model's training mode is restored afterwards.
    """
    module, read_input, _ = resolve_layer(model, layer)
    device = torch.device(device) if device is not None else next(model.parameters()).device
    captured: list[torch.Tensor] = []

    def keep(tensor: torch.Tensor) -> None:
        captured.append(tensor.detach().flatten(1).float().cpu())

    if read_input:
        handle = module.register_forward_pre_hook(lambda _m, args: keep(args[0]))
    else:
        handle = module.register_forward_hook(lambda _m, _args, output: keep(output))
    was_training = model.training
    model.eval()
    progress = Progress(_total(data), "activations", every=max(1, 20 * batch_size))
    chunks = []
    try:
        for batch in _batches(data, batch_size):
            captured.clear()
            model(batch.to(device))
            if len(captured) != 1:
                raise ValueError(
                    f"the hooked layer ran {len(captured)} times in one forward pass; "
                    "name a layer that runs exactly once"
                )
            chunks.append(captured[0])
            progress.update(len(batch))
    finally:
        handle.remove()
        model.train(was_training)
        progress.close()
    if not chunks:
        raise ValueError("no inputs: `data` is empty")
    return torch.cat(chunks)


def random_directions(dim: int, count: int, seed: int) -> torch.Tensor:
    """`count` random unit vectors of R^dim (rows): Gaussian, then normalised; seeded."""
    generator = torch.Generator().manual_seed(seed)
    directions = torch.randn(count, dim, generator=generator, dtype=torch.float64)
    return (directions / directions.norm(dim=1, keepdim=True)).float()


def natural_basis(dim: int) -> torch.Tensor:
    """The units e_1 … e_dim as rows."""
    return torch.eye(dim)


def _sorted_projections(
    activations: torch.Tensor, directions: torch.Tensor, k: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Projections ⟨φ(x), v⟩ of every image on every direction, sorted descending (stable,
    so ties keep image order): (values, indices), each (directions, images)."""
    if activations.ndim != 2 or directions.ndim != 2:
        raise ValueError("activations (N, D) and directions (M, D) must be 2-D")
    if activations.shape[1] != directions.shape[1]:
        raise ValueError(
            f"directions have {directions.shape[1]} coordinates, activations {activations.shape[1]}"
        )
    if not 1 <= k <= len(activations):
        raise ValueError(f"top_k = {k}: must lie between 1 and the {len(activations)} images")
    projections = directions.double() @ activations.double().T
    return torch.sort(projections, dim=1, descending=True, stable=True)


def top_k(activations: torch.Tensor, directions: torch.Tensor, k: int) -> torch.Tensor:
    """Indices (M, k) of the k images of largest projection on each direction, largest first."""
    return _sorted_projections(activations, directions, k)[1][:, :k]


def undetermined(activations: torch.Tensor, directions: torch.Tensor, k: int) -> torch.Tensor:
    """Directions whose top-k the data do not determine: the k-th largest projection equals the
    smallest one (a dead ReLU unit; a unit active on fewer than k images). Bool (M,)."""
    values = _sorted_projections(activations, directions, k)[0]
    return values[:, k - 1] <= values[:, -1]


def label_purity(labels: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
    """Share of the most common label among each row's images: (M,) in [1/k, 1]."""
    chosen = labels.long()[top]
    classes = int(labels.max()) + 1
    counts = torch.zeros(len(top), classes, dtype=torch.long, device=chosen.device)
    counts.scatter_add_(1, chosen, torch.ones_like(chosen))
    return counts.max(dim=1).values.double() / top.shape[1]


def mean_pairwise_cosine(features: torch.Tensor, top: torch.Tensor) -> torch.Tensor:
    """Mean cosine similarity over the k(k−1)/2 pairs of each row's images: (M,) in [−1, 1].

    Pass mean-centred features (`centred`) so that unrelated images score about 0.
    """
    k = top.shape[1]
    if k < 2:
        raise ValueError("pairwise similarity needs top_k >= 2")
    chosen = nn.functional.normalize(features.double()[top], dim=2)  # (M, k, P)
    gram = chosen @ chosen.transpose(1, 2)
    off_diagonal = gram.sum(dim=(1, 2)) - gram.diagonal(dim1=1, dim2=2).sum(dim=1)
    return off_diagonal / (k * (k - 1))


def centred(features: torch.Tensor) -> torch.Tensor:
    """Features (N, ...) flattened and centred on their mean over the N images."""
    flat = features.flatten(1).double()
    return flat - flat.mean(dim=0, keepdim=True)


def random_subsets(n: int, k: int, count: int, seed: int) -> torch.Tensor:
    """`count` seeded random k-subsets of range(n), without repeats inside a subset: (count, k).

    The coherence of random image sets is the chance level of a measure."""
    generator = torch.Generator().manual_seed(seed)
    return torch.stack([torch.randperm(n, generator=generator)[:k] for _ in range(count)])


def bootstrap_mean_ci(
    values: np.ndarray, resamples: int, seed: int, level: float = CONFIDENCE
) -> tuple[float, float]:
    """Percentile bootstrap CI of the mean (seeded)."""
    values = np.asarray(values, dtype=float)
    return percentile_interval(bootstrap_distribution((values,), np.mean, resamples, seed), level)


def difference_of_means(units: np.ndarray, random: np.ndarray, axis: int = -1) -> np.ndarray:
    """Mean of the units' values minus mean of the random directions' (along `axis`)."""
    return units.mean(axis=axis) - random.mean(axis=axis)


@dataclass(frozen=True)
class Comparison:
    """Units against random directions on one coherence measure."""

    units_mean: float
    units_ci95: tuple[float, float]
    units_n: int
    random_mean: float
    random_ci95: tuple[float, float]
    random_n: int
    difference: float  # units − random
    difference_ci95: tuple[float, float]
    mann_whitney_u: float
    p_value: float
    p_holm: float  # p_value Holm-adjusted over a network's measures (`holm_adjusted`)
    rank_biserial: float  # P(unit > random) − P(unit < random), in [−1, 1]
    alpha: float
    result: str  # UNITS_MORE | RANDOM_MORE | NO_DIFFERENCE, read from p_holm at alpha

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("units_ci95", "random_ci95", "difference_ci95"):
            data[key] = list(data[key])
        return data


def compare_distributions(
    units: np.ndarray, random: np.ndarray, alpha: float, resamples: int, seed: int
) -> Comparison:
    """Means with 95% bootstrap CIs, the difference of means with its CI, a two-sided
    Mann–Whitney U test and the rank-biserial correlation; `result` reads the test at `alpha`."""
    from scipy.stats import mannwhitneyu  # here: Snakemake imports this module at parse time

    units, random = np.asarray(units, dtype=float), np.asarray(random, dtype=float)
    if len(units) < 2 or len(random) < 2:
        raise ValueError(
            f"need at least 2 values per group to compare, got {len(units)} units and "
            f"{len(random)} random directions"
        )
    differences = bootstrap_distribution((units, random), difference_of_means, resamples, seed)
    test = mannwhitneyu(units, random, alternative="two-sided")
    p_value = 1.0 if np.isnan(test.pvalue) else float(test.pvalue)
    rank_biserial = 2 * float(test.statistic) / (len(units) * len(random)) - 1
    return Comparison(
        units_mean=float(units.mean()),
        units_ci95=bootstrap_mean_ci(units, resamples, seed),
        units_n=len(units),
        random_mean=float(random.mean()),
        random_ci95=bootstrap_mean_ci(random, resamples, seed + 1),
        random_n=len(random),
        difference=float(units.mean() - random.mean()),
        difference_ci95=tuple(float(v) for v in np.percentile(differences, DIFFERENCE_PERCENTILES)),
        mann_whitney_u=float(test.statistic),
        p_value=p_value,
        p_holm=p_value,
        rank_biserial=rank_biserial,
        alpha=alpha,
        result=_result(p_value, rank_biserial, alpha),
    )


def _result(p_value: float, rank_biserial: float, alpha: float) -> str:
    if p_value >= alpha:
        return NO_DIFFERENCE
    return UNITS_MORE if rank_biserial > 0 else RANDOM_MORE


def holm_adjusted(comparisons: dict[str, Comparison]) -> dict[str, Comparison]:
    """The comparisons with Holm's step-down adjustment over all of them (one network's
    measures), so that the chance of any false "more coherent" stays at most alpha."""
    adjusted = holm([comparison.p_value for comparison in comparisons.values()])
    return {
        title: replace(
            comparison,
            p_holm=p_holm,
            result=_result(p_holm, comparison.rank_biserial, comparison.alpha),
        )
        for (title, comparison), p_holm in zip(comparisons.items(), adjusted, strict=True)
    }


def claim_verdict(name: str, comparisons: dict[str, Comparison]) -> dict[str, str]:
    """Whether "units are no more coherent than random directions" holds, from the tests
    (pass them through `holm_adjusted` first to judge a network's measures together).

    It holds when no measure finds the units significantly more coherent, does not hold when
    every measure does, and partly holds otherwise. Returns {status, sentence}.
    """
    if not comparisons:
        raise ValueError("no coherence measures to judge")
    more = [title for title, c in comparisons.items() if c.result == UNITS_MORE]
    if not more:
        status = HOLDS
    elif len(more) == len(comparisons):
        status = DOES_NOT_HOLD
    else:
        status = PARTLY_HOLDS
    alpha = next(iter(comparisons.values())).alpha
    summary = (
        f"on none of the {len(comparisons)} measures are the units significantly more coherent"
        if not more
        else f"the units are significantly more coherent on {len(more)} of {len(comparisons)} "
        f"measures ({', '.join(more)})"
    )
    elsewhere = [f"{c.result} on {title}" for title, c in comparisons.items() if title not in more]
    tendency = [
        f"{title} ({c.difference:+.3f})"
        for title, c in comparisons.items()
        if c.result == NO_DIFFERENCE and c.difference_ci95[0] > 0
    ]
    sentence = (
        f"**{status.capitalize()}** on `{name}`: {summary} than random directions "
        f"(two-sided Mann–Whitney U, Holm-adjusted over the measures, α = {alpha:g})"
        + (f"; {', '.join(elsewhere)}." if elsewhere else ".")
    )
    if tendency:
        sentence += (
            f" The 95% CI of the difference of means excludes 0 in the units' favour on "
            f"{', '.join(tendency)}: a tendency the adjusted rank test does not confirm."
        )
    return {"status": status, "sentence": sentence}
