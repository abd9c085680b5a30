"""Minimal adversarial examples by box-constrained L-BFGS (Szegedy et al. 2013, Section 4.1).

For an image x and a target label l != f(x) the paper approximates D(x, l), the closest image
to x inside the box [0, 1]^m that the model classifies as l, by minimising

    c * |r|^2 + CE(model(x + r), l)    subject to  x + r in [0, 1]^m

with box-constrained L-BFGS, and searching c for the smallest distortion that still reaches l.

Norm form: the penalty is the *squared* L2 norm. |r| has no gradient at r = 0, which is where
every search starts, and its kink spoils L-BFGS's curvature pairs; |r|^2 is smooth. Both forms
trace the same family of minimisers as c varies (a stationary point for c on |r| is one for
c' = c / (2|r|) on |r|^2), so the c search reaches the same approximation of D(x, l). With c on
the norm, larger c means smaller distortion: the search looks for the largest c that succeeds.
A bonus of |r|^2: changing c shifts the Hessian by exactly 2 * (c' - c) * I, so every curvature
pair stays exact after a change of c (y' = y + 2 (c' - c) s) and L-BFGS keeps its history.

The solver is a batched projected L-BFGS written in torch in which every example has its own c,
its own iterate, its own history of (s, y) pairs, its own line search and its own stopping test;
nothing about one example (its convergence, a backtracking step, its c search) delays another:

* Direction: the compact L-BFGS representation (Byrd, Nocedal and Schnabel 1994) applied to the
  gradient restricted to the free variables, i.e. those not held at a bound by the gradient
  (x_i = 0 with g_i > 0, or x_i = 1 with g_i < 0); the direction is zero on the held ones. It
  is a descent direction whenever the projected gradient is nonzero.
* Line search: backtracking (halving) along the projected path P(x + t d) with the Armijo test
  f(P(x + t d)) <= f(x) + 1e-4 g.(P(x + t d) - x), one trial point per example per batched
  model call; t starts at 1 (at a unit-length step when an example has no history yet).
* Stopping, per example and per solve: relative decrease of the objective <= tolerance, or
  projected-gradient infinity norm <= gradient_tolerance, or max_iterations, or a failed line
  search.
* c search, per example: geometric bracketing (c multiplied or divided by c_factor) from
  c_init until one solve succeeds and one fails, then bisection in log c; it stops after
  c_steps solves or once the bracket's ratio is below 1 + c_tolerance. Each solve starts from
  the previous solution (warm start) and keeps the history.
* The batch is a work queue: an example leaves when its c search ends and the next waiting
  example takes its place, so the batch stays full until the queue is empty.
* Cost per batched model call: the model's forward and backward passes, two passes over the
  (B, 2 * history, D) history (batched matrix products) and some fifty whole-batch tensor ops.
  On a CPU shared with other busy processes, multi-threaded ops stall on every one of them:
  there torch.set_num_threads(1) is several times faster.

Every point the solver evaluates that the model classifies as l is a valid adversarial example;
the one with the least distortion over all c values is returned, and ``success`` is then
re-checked with a plain forward pass on the returned images. An example whose clean
prediction already is the target is returned unchanged (distortion 0, success, c = inf,
0 iterations): D(x, f(x)) = x. Distortion is the paper's sqrt(sum((x' - x)^2) / n) with n the
number of input elements (784 for MNIST) and pixels in [0, 1].

How close this gets to the true D(x, l): for a linear model D(x, l) is a quadratic programme,
and with the paper's cross-entropy the attack lands 1-5% above its optimum. That gap belongs to
the formulation, not to the solver (which matches scipy's L-BFGS-B on the same objective):
cross-entropy pushes down every other class, not only the strongest, so its minimisers sit
slightly past the closest point of the decision boundary. ``temperature`` T replaces the loss by
the cross-entropy of the logits divided by T, times T:

    T * CE(z / T, l) = T * log sum_j exp((z_j - z_l) / T)  ->  max(max_{j != l} z_j - z_l, 0)

as T -> 0, Carlini and Wagner's margin, which is zero once l wins. T = 1 is the paper's loss;
at T = 0.1 the other classes' weight in the gradient falls off as exp(-gap / T), so the
minimisers approach the boundary's closest point (within 0.2% of the QP's optimum, tests) while
the loss stays smooth enough for L-BFGS's curvature pairs (the margin's kink would keep every
solve running to max_iterations). The pipeline keeps the paper's T = 1 by default
(`adversarial.attack.temperature`); README, "Attack benchmark", measures both.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "AttackResult",
    "PenaltySolution",
    "amplify",
    "choose_targets",
    "distortion",
    "minimal_adversarial",
    "minimal_adversarial_closest",
    "minimize_penalty",
]

ARMIJO_SLOPE = 1e-4
MAX_BACKTRACKS = 20
# Leave finished examples in the batch until this fraction of it has finished (removing rows
# copies the whole L-BFGS history, so it is done in bulk).
COMPACTION_FRACTION = 1 / 8


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


@dataclass
class PenaltySolution:
    """Minimiser of c |r|^2 + CE(model(x + r), target) over the box for one fixed c per example."""

    x: Tensor
    objective: Tensor
    iterations: Tensor
    evaluations: Tensor


@dataclass(frozen=True)
class _Config:
    """Options of one search (see :func:`minimal_adversarial`)."""

    c_factor: float
    c_steps: int
    c_tolerance: float
    max_iterations: int
    history: int
    tolerance: float
    gradient_tolerance: float
    batch_size: int
    skip_solved: bool
    temperature: float = 1.0


@dataclass
class _Rows:
    """State of the examples currently in the batch; dim 0 indexes the example."""

    index: Tensor  # position in the caller's batch
    x0: Tensor  # (B, D) original image
    target: Tensor
    c: Tensor  # penalty weight of the current solve
    c_success: Tensor  # largest c whose solution reached the target (0: none yet)
    c_failure: Tensor  # smallest c whose solution did not (inf: none yet)
    solves: Tensor  # finished solves
    x: Tensor  # (B, D) current iterate
    distance_sq: Tensor  # |x - x0|^2
    objective: Tensor  # c |x - x0|^2 + CE at x
    gradient: Tensor  # (B, D) of the objective at x
    prediction: Tensor  # argmax of the logits at x
    direction: Tensor  # (B, D) search direction of the current line search
    step: Tensor  # trial step length along direction
    backtracks: Tensor
    solve_iterations: Tensor
    iterations: Tensor
    evaluations: Tensor
    pairs: Tensor  # (B, 2 H, D): s in slots [0, H), y (for the current c) in [H, 2 H)
    s_dot_s: Tensor  # (B, H, H) Gram matrices of the stored pairs, [i, j] = s_i . s_j
    s_dot_y: Tensor  # [i, j] = s_i . y_j
    y_dot_y: Tensor
    stored: Tensor  # (B, H) bool: slot holds a pair
    pointer: Tensor  # next slot to write; slots pointer, pointer+1, ... run oldest to newest
    best_x: Tensor  # (B, D) least-distortion point classified as target so far
    best_distance_sq: Tensor  # its |x - x0|^2 (inf: none yet)
    best_c: Tensor
    finished: Tensor  # bool: c search over, waiting to leave the batch

    def select(self, keep: Tensor) -> _Rows:
        return _Rows(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})

    @staticmethod
    def concat(first: _Rows, second: _Rows) -> _Rows:
        return _Rows(
            **{
                f.name: torch.cat([getattr(first, f.name), getattr(second, f.name)])
                for f in fields(first)
            }
        )

    def __len__(self) -> int:
        return self.index.shape[0]


def distortion(x: Tensor, x_adv: Tensor) -> Tensor:
    """Paper's distortion sqrt(sum((x_adv - x)^2) / n) per example, n = elements per example."""
    difference = (x_adv - x).flatten(1)
    return difference.pow(2).mean(dim=1).sqrt()


def amplify(x: Tensor, x_adv: Tensor, stddev: float = 0.1) -> tuple[Tensor, Tensor]:
    """Table 4's x + s (x' - x) / |x' - x|_2 with s making the distortion exactly ``stddev``.

    The paper writes s = 0.1 but means a distortion ("stddev") of 0.1, so s = stddev * sqrt(n).
    The result is clipped to [0, 1] because a valid image must stay in the box; clipping can
    only shrink the perturbation, so the distortion actually reached (second return value,
    measured after clipping) is at most ``stddev``. Examples with x_adv == x have no direction
    to amplify and are returned unchanged (distortion 0).
    """
    difference = (x_adv - x).flatten(1)
    norm = difference.norm(dim=1, keepdim=True)
    scale = stddev * math.sqrt(difference.shape[1])
    step = torch.where(
        norm > 0, difference * (scale / norm.clamp_min(torch.finfo(x.dtype).tiny)), 0
    )
    amplified = (x.flatten(1) + step).clamp(0, 1).view_as(x)
    return amplified, distortion(x, amplified)


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
    raise ValueError(f"unknown target policy {policy!r}; expected 'random', 'next' or 'closest'")


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
    batch_size: int = 1024,
    temperature: float = 1.0,
) -> AttackResult:
    """Approximate D(x, target) for every example: see the module docstring for the method.

    c_init: first c (float or one per example); c_factor: bracketing ratio; c_steps: most
    solves per example; c_tolerance: stop once c_failure / c_success <= 1 + c_tolerance;
    max_iterations: most L-BFGS steps per solve; history: stored (s, y) pairs; tolerance:
    relative objective decrease that ends a solve; gradient_tolerance: projected-gradient
    infinity norm that ends a solve; batch_size: examples optimised together; temperature: T of
    the loss T * CE(logits / T, target) (1: the paper's cross-entropy; toward 0: the margin).
    """
    config = _Config(
        c_factor=c_factor,
        c_steps=c_steps,
        c_tolerance=c_tolerance,
        max_iterations=max_iterations,
        history=history,
        tolerance=tolerance,
        gradient_tolerance=gradient_tolerance,
        batch_size=batch_size,
        skip_solved=True,
        temperature=temperature,
    )
    outcome = _search(model, x, target, c_init, config)
    x_adv = outcome["x_adv"].view_as(x)
    success = _classified_as(model, x_adv, outcome["target"], batch_size)
    x_adv = x_adv.to(x.device)
    return AttackResult(
        x_adv=x_adv,
        success=success.to(x.device),
        distortion=distortion(x, x_adv),
        c=outcome["c"].to(x.device),
        iterations=outcome["iterations"].to(x.device),
        evaluations=outcome["evaluations"].to(x.device),
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


def minimize_penalty(
    model: nn.Module,
    x: Tensor,
    target: Tensor,
    c: float | Tensor,
    *,
    max_iterations: int = 100,
    history: int = 5,
    tolerance: float = 1e-5,
    gradient_tolerance: float = 1e-5,
    batch_size: int = 1024,
) -> PenaltySolution:
    """One solve of the batched L-BFGS at fixed c (per example), starting from x.

    This is the inner problem of :func:`minimal_adversarial`, exposed to check the solver
    against an independent one.
    """
    config = _Config(
        c_factor=1.0,
        c_steps=1,
        c_tolerance=0.0,
        max_iterations=max_iterations,
        history=history,
        tolerance=tolerance,
        gradient_tolerance=gradient_tolerance,
        batch_size=batch_size,
        skip_solved=False,
    )
    outcome = _search(model, x, target, c, config)
    return PenaltySolution(
        x=outcome["x_final"].view_as(x).to(x.device),
        objective=outcome["objective"].to(x.device),
        iterations=outcome["iterations"].to(x.device),
        evaluations=outcome["evaluations"].to(x.device),
    )


def _search(
    model: nn.Module, x: Tensor, target: Tensor, c_init: float | Tensor, config: _Config
) -> dict[str, Tensor]:
    """Run the per-example c search over a work queue of examples; return per-example outputs."""
    if x.shape[0] != target.shape[0]:
        raise ValueError(f"x has {x.shape[0]} examples but target has {target.shape[0]}")
    if not x.dtype.is_floating_point:
        raise ValueError(f"x must be a floating-point tensor, got {x.dtype}")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError("x must lie in [0, 1]")
    if config.history < 1 or config.batch_size < 1 or config.c_steps < 1:
        raise ValueError("history, batch_size and c_steps must be at least 1")
    if not (math.isfinite(config.temperature) and config.temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {config.temperature!r}")
    device = next((p.device for p in model.parameters()), x.device)
    count, input_shape = x.shape[0], tuple(x.shape[1:])
    x_flat = x.detach().reshape(count, -1).to(device)
    target = target.to(device=device, dtype=torch.long)
    c_start = torch.as_tensor(c_init, dtype=x.dtype, device=device).expand(count).clone()
    if (c_start <= 0).any():
        raise ValueError("c_init must be positive")

    outputs = {
        "x_adv": x_flat.clone(),
        "x_final": x_flat.clone(),
        "c": torch.full((count,), math.inf, dtype=x.dtype, device=device),
        "objective": torch.zeros(count, dtype=x.dtype, device=device),
        "iterations": torch.zeros(count, dtype=torch.long, device=device),
        "evaluations": torch.zeros(count, dtype=torch.long, device=device),
        "target": target,
    }
    evaluate = _Evaluator(model, input_shape, config.temperature)
    rows: _Rows | None = None
    next_example = 0
    while True:
        if rows is not None and rows.finished.any():
            finished = rows.finished.sum().item()
            if finished == len(rows) or finished >= COMPACTION_FRACTION * len(rows):
                _write_outputs(rows.select(rows.finished), outputs)
                rows = rows.select(~rows.finished)
        free_slots = config.batch_size - (0 if rows is None else len(rows))
        if free_slots > 0 and next_example < count:
            new_index = torch.arange(
                next_example, min(count, next_example + free_slots), device=device
            )
            next_example += len(new_index)
            new_rows = _start_rows(new_index, x_flat, target, c_start, evaluate, config, outputs)
            rows = new_rows if rows is None else _Rows.concat(rows, new_rows)
        if rows is None or len(rows) == 0:
            if next_example >= count:
                break
            continue
        _tick(rows, evaluate, config)
    return outputs


def _classified_as(model: nn.Module, x: Tensor, target: Tensor, batch_size: int) -> Tensor:
    """Whether the model's prediction on each example of x is its target (forward only)."""
    with torch.no_grad():
        predictions = [model(part).argmax(dim=1) for part in x.split(batch_size)]
    return torch.cat(predictions) == target if predictions else target.new_zeros(0, dtype=bool)


class _Evaluator:
    """The tempered cross-entropy, its input gradient and the prediction for flat images."""

    def __init__(
        self,
        model: nn.Module,
        input_shape: tuple[int, ...],
        temperature: float = 1.0,
    ):
        self.model = model
        self.input_shape = input_shape
        self.temperature = temperature

    def __call__(
        self, rows_x: Tensor, target: Tensor, index: Tensor, where: Callable[[int], str]
    ) -> tuple[Tensor, Tensor, Tensor]:
        with torch.enable_grad():
            inputs = rows_x.detach().view(-1, *self.input_shape).requires_grad_(True)
            logits = self.model(inputs)
            _raise_if_not_finite(logits, "logits", index, where)
            loss = self.temperature * F.cross_entropy(
                logits / self.temperature, target, reduction="none"
            )
            (gradient,) = torch.autograd.grad(loss.sum(), inputs)
        gradient = gradient.reshape(rows_x.shape)
        _raise_if_not_finite(gradient.sum(dim=1), "input gradient", index, where)
        return loss.detach(), gradient, logits.detach().argmax(dim=1)


def _raise_if_not_finite(
    values: Tensor, what: str, index: Tensor, where: Callable[[int], str]
) -> None:
    finite = torch.isfinite(values.reshape(values.shape[0], -1)).all(dim=1)
    if not finite.all():
        bad = (~finite).nonzero().squeeze(1)
        first = int(bad[0])
        raise FloatingPointError(
            f"model gave non-finite {what} for example {int(index[first])} of the attacked batch "
            f"({where(first)}); {len(bad)} example(s) affected: {index[bad].tolist()[:10]}"
        )


def _start_rows(
    index: Tensor,
    x_flat: Tensor,
    target: Tensor,
    c_start: Tensor,
    evaluate: _Evaluator,
    config: _Config,
    outputs: dict[str, Tensor],
) -> _Rows:
    """Evaluate new examples at x; finish those already classified as target (if skipping)."""
    x0 = x_flat[index]
    rows_target = target[index]
    ce, gradient, prediction = evaluate(x0, rows_target, index, lambda _: "at the clean image")
    outputs["evaluations"][index] += 1
    if config.skip_solved:
        keep = prediction != rows_target
        index, x0, rows_target = index[keep], x0[keep], rows_target[keep]
        ce, gradient, prediction = ce[keep], gradient[keep], prediction[keep]
    size, dimension, history = len(index), x0.shape[1], config.history
    dtype, device = x0.dtype, x0.device

    def zeros(*shape: int, kind: torch.dtype = dtype) -> Tensor:
        return torch.zeros(size, *shape, dtype=kind, device=device)

    def full(value: float) -> Tensor:
        return torch.full((size,), value, dtype=dtype, device=device)

    # Without history the first step is steepest descent of unit length on the free variables.
    free_gradient = gradient.masked_fill((x0 <= 0) & (gradient > 0) | (x0 >= 1) & (gradient < 0), 0)
    norm = free_gradient.norm(dim=1, keepdim=True).clamp_min(torch.finfo(dtype).tiny)
    return _Rows(
        index=index,
        x0=x0,
        target=rows_target,
        c=c_start[index],
        c_success=zeros(),
        c_failure=full(math.inf),
        solves=zeros(kind=torch.long),
        x=x0.clone(),
        distance_sq=zeros(),
        objective=ce,
        gradient=gradient,
        prediction=prediction,
        direction=-free_gradient / norm,
        step=full(1.0),
        backtracks=zeros(kind=torch.long),
        solve_iterations=zeros(kind=torch.long),
        iterations=zeros(kind=torch.long),
        evaluations=torch.ones(size, dtype=torch.long, device=device),
        pairs=zeros(2 * history, dimension),
        s_dot_s=zeros(history, history),
        s_dot_y=zeros(history, history),
        y_dot_y=zeros(history, history),
        stored=zeros(history, kind=torch.bool),
        pointer=zeros(kind=torch.long),
        best_x=x0.clone(),
        best_distance_sq=full(math.inf),
        best_c=zeros(),
        finished=torch.zeros(size, dtype=torch.bool, device=device),
    )


def _write_outputs(rows: _Rows, outputs: dict[str, Tensor]) -> None:
    """Store the results of examples whose c search is over."""
    found = torch.isfinite(rows.best_distance_sq)
    index = rows.index
    outputs["x_adv"][index] = torch.where(found[:, None], rows.best_x, rows.x)
    outputs["x_final"][index] = rows.x
    outputs["c"][index] = torch.where(found, rows.best_c, rows.c)
    outputs["objective"][index] = rows.objective
    outputs["iterations"][index] = rows.iterations
    outputs["evaluations"][index] = rows.evaluations


def _tick(rows: _Rows, evaluate: _Evaluator, config: _Config) -> None:
    """One batched model call: every example evaluates its next trial point and moves on.

    An example whose trial point passes the Armijo test takes it (and may end its solve, move
    its c, or finish its search); one whose trial fails halves its step for the next tick.
    """
    active = ~rows.finished
    trial = (rows.x + rows.step[:, None] * rows.direction).clamp_(0, 1)

    def where(row: int) -> str:
        return (
            f"c search step {int(rows.solves[row]) + 1}, c = {float(rows.c[row]):.4g}, "
            f"L-BFGS iteration {int(rows.solve_iterations[row]) + 1}, "
            f"line search trial {int(rows.backtracks[row]) + 1}"
        )

    trial_ce, trial_gradient, trial_prediction = evaluate(trial, rows.target, rows.index, where)
    rows.evaluations += active
    trial_offset = trial - rows.x0
    trial_distance_sq = trial_offset.pow(2).sum(dim=1)
    trial_objective = trial_ce + rows.c * trial_distance_sq
    trial_gradient += 2 * rows.c[:, None] * trial_offset

    better = (
        active & (trial_prediction == rows.target) & (trial_distance_sq < rows.best_distance_sq)
    )
    if better.any():
        improved = better.nonzero().squeeze(1)
        rows.best_x[improved] = trial[improved]
        rows.best_distance_sq[improved] = trial_distance_sq[improved]
        rows.best_c[improved] = rows.c[improved]

    s = trial - rows.x
    armijo_bound = rows.objective + ARMIJO_SLOPE * (rows.gradient * s).sum(dim=1)
    accepted = active & (trial_objective <= armijo_bound)
    rows.backtracks += active & ~accepted
    line_search_failed = active & ~accepted & (rows.backtracks >= MAX_BACKTRACKS)
    rows.step = torch.where(accepted, 1.0, rows.step / 2)

    scale = torch.maximum(rows.objective.abs(), trial_objective.abs()).clamp_min(1)
    relative_decrease = (rows.objective - trial_objective) / scale
    projected_gradient = (trial - trial_gradient).clamp_(0, 1).sub_(trial).abs_().amax(dim=1)
    rows.solve_iterations += accepted
    rows.iterations += accepted
    converged = accepted & (
        (relative_decrease <= config.tolerance)
        | (projected_gradient <= config.gradient_tolerance)
        | (rows.solve_iterations >= config.max_iterations)
    )

    y = trial_gradient - rows.gradient
    rows.x = torch.where(accepted[:, None], trial, rows.x)
    rows.gradient = torch.where(accepted[:, None], trial_gradient, rows.gradient)
    rows.objective = torch.where(accepted, trial_objective, rows.objective)
    rows.distance_sq = torch.where(accepted, trial_distance_sq, rows.distance_sq)
    rows.prediction = torch.where(accepted, trial_prediction, rows.prediction)

    solve_done = converged | line_search_failed
    change = _next_c(rows, solve_done, config) if solve_done.any() else None
    stores = accepted & ((s * y).sum(dim=1) > torch.finfo(s.dtype).eps * (y * y).sum(dim=1))
    needs_direction = (accepted | line_search_failed) & ~rows.finished
    if needs_direction.any():
        _update_history_and_direction(rows, stores, s, y, change, needs_direction)


def _next_c(rows: _Rows, solve_done: Tensor, config: _Config) -> Tensor:
    """Update the c bracket of examples whose solve ended; pick their next c or finish them.

    Returns the change of c per example (0 where c stays) after moving objective and gradient
    to the new c; the history is moved by :func:`_update_history_and_direction`.
    """
    reached = rows.prediction == rows.target
    rows.c_success = torch.where(solve_done & reached, rows.c, rows.c_success)
    rows.c_failure = torch.where(solve_done & ~reached, rows.c, rows.c_failure)
    rows.solves += solve_done
    bracketed = (rows.c_success > 0) & torch.isfinite(rows.c_failure)
    next_c = torch.where(
        torch.isinf(rows.c_failure),
        rows.c_success * config.c_factor,
        torch.where(
            rows.c_success > 0,
            (rows.c_success * rows.c_failure).sqrt(),
            rows.c_failure / config.c_factor,
        ),
    )
    tight = bracketed & (rows.c_failure <= rows.c_success * (1 + config.c_tolerance))
    search_over = solve_done & ((rows.solves >= config.c_steps) | tight)
    rows.finished |= search_over
    moving = solve_done & ~search_over
    change = torch.where(moving, next_c - rows.c, 0)
    rows.c = torch.where(moving, next_c, rows.c)
    rows.solve_iterations = torch.where(moving, 0, rows.solve_iterations)
    rows.objective = rows.objective + change * rows.distance_sq
    moved = moving.nonzero().squeeze(1)
    rows.gradient[moved] += 2 * change[moved, None] * (rows.x[moved] - rows.x0[moved])
    return change


def _update_history_and_direction(
    rows: _Rows,
    stores: Tensor,
    s: Tensor,
    y: Tensor,
    change: Tensor | None,
    needs_direction: Tensor,
) -> None:
    """Store new (s, y) pairs, move the history to changed c's, compute new search directions.

    One pass over the history computes the new pairs' Gram entries and the products S g, Y g
    needed by the direction; a second pass assembles the direction.
    """
    size, double_history, _ = rows.pairs.shape
    history = double_history // 2
    storing = stores.nonzero().squeeze(1)
    slot = rows.pointer[storing]
    rows.pairs[storing, slot] = s[storing]
    rows.pairs[storing, history + slot] = y[storing]
    rows.pointer[storing] = (slot + 1) % history
    rows.stored[storing, slot] = True
    if change is not None:
        # y = y_ce + 2 c s: every stored pair stays exact under c -> c + change.
        moved = change.nonzero().squeeze(1)
        twice = (2 * change[moved])[:, None, None]
        rows.pairs[moved, history:] += twice * rows.pairs[moved, :history]
        y = y + 2 * change[:, None] * s
        twice = (2 * change)[:, None, None]
        old_s_dot_y = rows.s_dot_y
        rows.s_dot_y = old_s_dot_y + twice * rows.s_dot_s
        rows.y_dot_y = (
            rows.y_dot_y + twice * (old_s_dot_y + old_s_dot_y.mT) + twice.square() * rows.s_dot_s
        )

    held = ((rows.x <= 0) & (rows.gradient > 0)) | ((rows.x >= 1) & (rows.gradient < 0))
    free_gradient = rows.gradient.masked_fill(held, 0)
    # Row vectors times the history (not the history times columns): several times faster
    # on CPU for these shapes.
    vectors = torch.stack([s, y, free_gradient], dim=1)
    products = torch.bmm(vectors, rows.pairs.mT).mT  # (B, 2H, 3)

    new_slot = torch.zeros_like(rows.stored)
    new_slot[storing, slot] = True
    in_row, in_column = new_slot[:, :, None], new_slot[:, None, :]
    s_dot_new_s, y_dot_new_s = products[:, :history, 0], products[:, history:, 0]
    s_dot_new_y, y_dot_new_y = products[:, :history, 1], products[:, history:, 1]
    rows.s_dot_s = torch.where(in_row, s_dot_new_s[:, None, :], rows.s_dot_s)
    rows.s_dot_s = torch.where(in_column, s_dot_new_s[:, :, None], rows.s_dot_s)
    rows.s_dot_y = torch.where(in_row, y_dot_new_s[:, None, :], rows.s_dot_y)
    rows.s_dot_y = torch.where(in_column, s_dot_new_y[:, :, None], rows.s_dot_y)
    rows.y_dot_y = torch.where(in_row, y_dot_new_y[:, None, :], rows.y_dot_y)
    rows.y_dot_y = torch.where(in_column, y_dot_new_y[:, :, None], rows.y_dot_y)

    coefficients, gamma, has_history = _compact_coefficients(rows, products[:, :, 2])
    product = gamma * free_gradient + torch.bmm(coefficients[:, None, :], rows.pairs).squeeze(1)
    tiny = torch.finfo(product.dtype).tiny
    unit = free_gradient / free_gradient.norm(dim=1, keepdim=True).clamp_min(tiny)
    direction = -torch.where(has_history[:, None], product, unit).masked_fill_(held, 0)
    rows.direction = torch.where(needs_direction[:, None], direction, rows.direction)
    rows.backtracks = torch.where(needs_direction, 0, rows.backtracks)
    rows.step = torch.where(needs_direction, 1.0, rows.step)


def _compact_coefficients(rows: _Rows, pair_dot_vector: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Coefficients of the L-BFGS inverse Hessian times a vector g, compact representation.

    H g = gamma g + [S, Y] coefficients (Byrd, Nocedal and Schnabel 1994), with R the upper
    triangle of S^T Y in time order and D its diagonal, from ``pair_dot_vector`` = [S g, Y g].
    Empty slots and pairs that fail the curvature test for the current c get identity rows in
    R and zero coefficients. Returns coefficients (B, 2H), gamma (B, 1) and whether any pair is
    usable (B,).
    """
    size, history = rows.stored.shape
    eps = torch.finfo(rows.pairs.dtype).eps
    s_dot_y_diagonal = rows.s_dot_y.diagonal(dim1=1, dim2=2)
    y_dot_y_diagonal = rows.y_dot_y.diagonal(dim1=1, dim2=2)
    usable = rows.stored & (s_dot_y_diagonal > eps * y_dot_y_diagonal)
    order = (rows.pointer[:, None] + torch.arange(history, device=usable.device)) % history
    usable = usable.gather(1, order)

    def in_time_order(matrix: Tensor) -> Tensor:
        by_row = matrix.gather(1, order[:, :, None].expand(size, history, history))
        return by_row.gather(2, order[:, None, :].expand(size, history, history))

    both_usable = usable[:, :, None] & usable[:, None, :]
    s_dot_y = in_time_order(rows.s_dot_y).masked_fill_(~both_usable, 0)
    y_dot_y = in_time_order(rows.y_dot_y).masked_fill_(~both_usable, 0)
    curvature = s_dot_y.diagonal(dim1=1, dim2=2)
    upper = s_dot_y.triu() + torch.diag_embed((~usable).to(s_dot_y.dtype))
    s_dot_g = pair_dot_vector[:, :history].gather(1, order).masked_fill_(~usable, 0)
    y_dot_g = pair_dot_vector[:, history:].gather(1, order).masked_fill_(~usable, 0)

    has_history = usable.any(dim=1)
    newest = (history - 1 - usable.flip(1).to(torch.int8).argmax(dim=1))[:, None]
    newest_s_dot_y = curvature.gather(1, newest).squeeze(1)
    newest_y_dot_y = y_dot_y.diagonal(dim1=1, dim2=2).gather(1, newest).squeeze(1)
    gamma = torch.where(has_history, newest_s_dot_y / newest_y_dot_y.where(has_history, 1), 1)
    gamma = gamma[:, None]

    w = torch.linalg.solve_triangular(upper, s_dot_g[:, :, None], upper=True)
    z = curvature[:, :, None] * w + gamma[:, :, None] * (y_dot_y @ w - y_dot_g[:, :, None])
    p = torch.linalg.solve_triangular(upper.mT, z, upper=False)
    coefficients = torch.zeros(size, 2 * history, dtype=p.dtype, device=p.device)
    coefficients[:, :history].scatter_(1, order, p.squeeze(2))
    coefficients[:, history:].scatter_(1, order, -gamma * w.squeeze(2))
    return coefficients, gamma, has_history
