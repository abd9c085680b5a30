"""Minimal adversarial examples by box-constrained L-BFGS (Szegedy et al. 2013, Section 4.1).

For an image x and a target label l != f(x) the paper approximates D(x, l), the closest image
to x inside the box [0, 1]^m that the model classifies as l, by minimising

    c * |r|^2 + CE(model(x + r), l)    subject to  x + r in [0, 1]^m

with box-constrained L-BFGS, and searching c for the smallest distortion that still reaches l.
This module is the attack as the rest of the code calls it (options, targets, results); the
search over c is :mod:`intriguing.core.search`, the batched L-BFGS it runs
:mod:`intriguing.core.solver`, the distortion :mod:`intriguing.core.distortion`.

Norm form: the penalty is the *squared* L2 norm. |r| has no gradient at r = 0, which is where
every search starts, and its kink spoils L-BFGS's curvature pairs; |r|^2 is smooth. Both forms
trace the same family of minimisers as c varies (a stationary point for c on |r| is one for
c' = c / (2|r|) on |r|^2), so the c search reaches the same approximation of D(x, l).

The returned image is the search's least-distortion point classified as l, and ``success`` is
re-checked with a plain forward pass on it. An example whose clean prediction already is the
target is returned unchanged (distortion 0, success, c = inf, 0 iterations): D(x, f(x)) = x.
Distortion is the paper's sqrt(sum((x' - x)^2) / n) with n the number of input elements (784
for MNIST) and pixels in [0, 1].

How close this gets to the true D(x, l): for a linear model D(x, l) is a quadratic programme,
and with the paper's cross-entropy the attack lands 1-5% above its optimum. That gap belongs to
the formulation, not to the solver (which matches scipy's L-BFGS-B on the same objective):
cross-entropy pushes down every other class, not only the strongest, so its minimisers sit
slightly past the closest point of the decision boundary. ``temperature`` T replaces the loss by
the cross-entropy of the logits divided by T, times T:

    T * CE(z / T, l) = T * log sum_j exp((z_j - z_l) / T)  ->  max(max_{j != l} z_j - z_l, 0)

as T -> 0, Carlini and Wagner's margin, which is zero once l wins. T = 1 is the paper's loss;
at lower T the other classes' weight in the gradient falls off as exp(-gap / T), so the
minimisers approach the boundary's closest point while the loss stays smooth enough for
L-BFGS's curvature pairs (the margin's kink would keep every solve running to max_iterations).

What "lower" means depends on the logits' scale: the gaps are in the logits' units, and a weakly
confident model (heavy weight decay: small logits) sees a T of 1 as a large one, every other
class weighted alike, so its minimisers lie far past the boundary. ``temperature_scale``
``logit_std`` therefore measures T in units of the example's own clean-logit spread,
T = temperature * std_j(z_j(x)): for logits a z + b (a > 0) the loss is a times the same
function, the minimisers trace the same family as c varies, and the attack comes as near the
closest point on a small-logit model as on a confident one (tests: within 0.5% of the QP at two
logit scales 20x apart, where one fixed T is 1.1-1.3x off on the smaller). ``none`` takes T in
the logits' own units; temperature 1 with ``none`` is the paper's cross-entropy, the function's
default. The pipeline's choice (`adversarial.attack.temperature`, `temperature_scale`) and the
measurements behind it are the ledger's entry `attack_temperature`
(src/intriguing/reference/readings.yaml); docs/benchmarks.md, "Attack", compares fixed T = 1
and 0.1 with peer attacks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from intriguing.core.distortion import distortion
from intriguing.core.search import SearchOptions, search_c
from intriguing.core.solver import SolverOptions
from intriguing.plan.choices import TARGET_POLICIES

__all__ = [
    "AttackResult",
    "choose_targets",
    "minimal_adversarial",
    "minimal_adversarial_closest",
]


@dataclass
class AttackResult:
    """Per-example outcome of an attack; tensors are indexed like the attacked batch.

    x_adv: adversarial image, same shape as x, inside [0, 1] exactly; for a failed example the
        solution of the last c tried (the strongest attempt). success: model(x_adv).argmax ==
        target. distortion: the paper's measure between x and x_adv. c: penalty weight whose
        solve produced x_adv (inf when x already was classified as target). iterations: accepted
        L-BFGS steps over all solves. evaluations: model forward+backward passes per example
        (its own; the batched model call also carries finished examples until the batch is
        compacted, so the model may see more rows in all). target: the attacked label.
    """

    x_adv: Tensor
    success: Tensor
    distortion: Tensor
    c: Tensor
    iterations: Tensor
    evaluations: Tensor
    target: Tensor


def choose_targets(
    labels: Tensor, policy: str, seed: int | None = None, num_classes: int = 10
) -> Tensor:
    """Target labels != labels: ``random`` (uniform over the other classes, seeded) or ``next``.

    ``next`` is (y + 1) mod num_classes. For the ``closest`` policy (the wrong label that needs
    the least distortion) use :func:`minimal_adversarial_closest`, which needs the model.
    """
    if policy == "next":
        return (labels + 1) % num_classes
    if policy == "random":
        generator = torch.Generator().manual_seed(0 if seed is None else seed)
        offsets = torch.randint(1, num_classes, labels.shape, generator=generator)
        return (labels + offsets.to(labels.device)) % num_classes
    if policy == "closest":
        raise ValueError(
            "policy 'closest' needs the model: call minimal_adversarial_closest(model, x, labels)"
        )
    raise ValueError(f"unknown target policy {policy!r}; allowed: {list(TARGET_POLICIES)}")


#: Examples optimised together: one number, or one per device type ({cpu: 1024, cuda: 16384}):
#: the batch only sets the speed and the memory, never the result.
BatchSize = int | Mapping[str, int]


def batch_size_on(batch_size: BatchSize, device: torch.device) -> int:
    """The batch size for `device`: a number as it is, a map by the device's type."""
    if not isinstance(batch_size, Mapping):
        return batch_size
    if device.type not in batch_size:
        raise ValueError(
            f"batch_size {dict(batch_size)} gives no size for device type {device.type!r}"
        )
    return int(batch_size[device.type])


def minimal_adversarial(
    model: nn.Module,
    x: Tensor,
    target: Tensor,
    *,
    c_init: float | Tensor = 1.0,
    c_factor: float = 10.0,
    c_steps: int = 10,
    c_tolerance: float = 0.01,
    max_iterations: int = 100,
    history: int = 5,
    tolerance: float = 1e-5,
    gradient_tolerance: float = 1e-5,
    batch_size: BatchSize = 1024,
    temperature: float = 1.0,
    temperature_scale: str = "none",
) -> AttackResult:
    """Approximate D(x, target) for every example (method: the docstrings of this module,
    :mod:`intriguing.core.search` and :mod:`intriguing.core.solver`).

    c_init: first c (float or one per example); c_factor: bracketing ratio; c_steps: most
    solves per example; c_tolerance: stop once c_failure / c_success <= 1 + c_tolerance;
    max_iterations: most L-BFGS steps per solve; history: stored (s, y) pairs; tolerance:
    relative objective decrease that ends a solve; gradient_tolerance: projected-gradient
    infinity norm that ends a solve; batch_size: examples optimised together (a number, or one
    per device type, `batch_size_on`); temperature: T of the loss T * CE(logits / T, target)
    (1: the paper's cross-entropy; toward 0: the margin), in the units temperature_scale names
    (``none``: the logits'; ``logit_std``: each example's clean-logit standard deviation).
    """
    batch_size = batch_size_on(batch_size, x.device)
    options = SearchOptions(
        c_factor=c_factor,
        c_steps=c_steps,
        c_tolerance=c_tolerance,
        solver=SolverOptions(
            max_iterations=max_iterations,
            history=history,
            tolerance=tolerance,
            gradient_tolerance=gradient_tolerance,
        ),
        batch_size=batch_size,
        skip_solved=True,
        temperature=temperature,
        temperature_scale=temperature_scale,
    )
    outcome = search_c(model, x, target, c_init, options)
    x_adv = outcome.x_adv.view_as(x)
    success = _classified_as(model, x_adv, outcome.target, batch_size)
    x_adv = x_adv.to(x.device)
    return AttackResult(
        x_adv=x_adv,
        success=success.to(x.device),
        distortion=distortion(x, x_adv),
        c=outcome.c.to(x.device),
        iterations=outcome.iterations.to(x.device),
        evaluations=outcome.evaluations.to(x.device),
        target=target.clone(),
    )


def minimal_adversarial_closest(
    model: nn.Module, x: Tensor, labels: Tensor, num_classes: int = 10, **options
) -> AttackResult:
    """Attack every label other than ``labels`` and keep the least-distortion success.

    Examples with no successful target keep the attempt with the least distortion. The chosen
    labels are in the result's ``target`` field. ``options`` go to :func:`minimal_adversarial`.
    """
    count = x.shape[0]
    offsets = torch.arange(1, num_classes, device=labels.device)
    targets = ((labels[None, :] + offsets[:, None]) % num_classes).reshape(-1)
    repeated = x.unsqueeze(0).expand(num_classes - 1, *x.shape).reshape(-1, *x.shape[1:])
    every = minimal_adversarial(model, repeated, targets, **options)
    # Rank failures after every success, then by distortion.
    score = every.distortion.view(num_classes - 1, count) + (~every.success).view(
        num_classes - 1, count
    ) * (every.distortion.max() + 1)
    chosen = score.argmin(dim=0) * count + torch.arange(count, device=score.device)
    return AttackResult(
        x_adv=every.x_adv[chosen],
        success=every.success[chosen],
        distortion=every.distortion[chosen],
        c=every.c[chosen],
        iterations=every.iterations.view(num_classes - 1, count).sum(dim=0),
        evaluations=every.evaluations.view(num_classes - 1, count).sum(dim=0),
        target=every.target[chosen],
    )


def _classified_as(model: nn.Module, x: Tensor, target: Tensor, batch_size: int) -> Tensor:
    """Whether the model's prediction on each example of x is its target (forward only)."""
    with torch.no_grad():
        predictions = [model(part).argmax(dim=1) for part in x.split(batch_size)]
    return torch.cat(predictions) == target if predictions else target.new_zeros(0, dtype=bool)
