"""The attack's search over c, run for a work queue of examples on one batched solver.

For every example x0 with target l the search solves, for a sequence of c values,

    minimise  c * |x - x0|^2 + T * CE(model(x) / T, l)    subject to  x in [0, 1]^m

(T per example, fixed for its whole search: ``temperature`` in the units ``temperature_scale``
names, :func:`example_temperatures`) with the batched projected L-BFGS of
:mod:`intriguing.core.solver`, one batched model call per solver step. Larger c means
smaller distortion: the search looks for the largest c that still reaches l. Every example has
its own c search:

* c search, per example: geometric bracketing (c multiplied or divided by c_factor) from
  c_init until one solve succeeds and one fails, then bisection in log c; it stops after
  c_steps solves or once the bracket's ratio is below 1 + c_tolerance. Each solve starts from
  the previous solution (warm start) and keeps the history.
* The batch is a work queue: an example leaves when its c search ends and the next waiting
  example takes its place, so the batch stays full until the queue is empty. Finished examples
  wait in the batch until COMPACTION_FRACTION of it has finished, and then leave together.
* Every point the solver evaluates that the model classifies as l is a valid adversarial
  example; the search keeps the one with the least distortion over all c values.
* With ``skip_solved``, examples the model already classifies as l never enter the batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from intriguing.core.solver import (
    SolverOptions,
    SolverState,
    change_weights,
    start_problems,
    take_step,
    trial_points,
    update_directions,
)
from intriguing.plan.choices import TEMPERATURE_SCALES

__all__ = [
    "COMPACTION_FRACTION",
    "SearchOptions",
    "SearchOutcome",
    "example_temperatures",
    "search_c",
]

# Leave finished examples in the batch until this fraction of it has finished (removing rows
# copies the whole L-BFGS history, so it is done in bulk).
COMPACTION_FRACTION = 1 / 8


@dataclass(frozen=True)
class SearchOptions:
    """Options of one search (see :func:`intriguing.core.attack.minimal_adversarial`).

    c_factor: bracketing ratio; c_steps: most solves per example; c_tolerance: stop once
    c_failure / c_success <= 1 + c_tolerance; solver: options of every solve; batch_size:
    examples optimised together; skip_solved: leave examples already classified as their
    target out; temperature: T of the loss, in the units temperature_scale names
    (TEMPERATURE_SCALES).
    """

    c_factor: float
    c_steps: int
    c_tolerance: float
    solver: SolverOptions
    batch_size: int
    skip_solved: bool
    temperature: float = 1.0
    temperature_scale: str = "none"


@dataclass
class SearchOutcome:
    """Per-example results of a search, indexed like the searched batch; images are flat.

    x_adv: least-distortion point classified as the target (without one: x_final; for a
    skipped example: x0). x_final: last iterate of the last solve. c: penalty weight that
    produced x_adv (inf for a skipped example). objective: the penalised loss at x_final.
    iterations: accepted L-BFGS steps over all solves. evaluations: model forward+backward
    passes of the example. target: the target labels, on the model's device.
    """

    x_adv: Tensor
    x_final: Tensor
    c: Tensor
    objective: Tensor
    iterations: Tensor
    evaluations: Tensor
    target: Tensor


@dataclass
class _Rows:
    """Search state of the examples currently in the batch; dim 0 indexes the example."""

    index: Tensor  # position in the caller's batch
    target: Tensor
    problems: SolverState  # center: the original image, weight: c of the current solve
    prediction: Tensor  # argmax of the logits at the current iterate
    c_success: Tensor  # largest c whose solution reached the target (0: none yet)
    c_failure: Tensor  # smallest c whose solution did not (inf: none yet)
    solves: Tensor  # finished solves
    best_x: Tensor  # (B, D) least-distortion point classified as target so far
    best_distance_sq: Tensor  # its |x - x0|^2 (inf: none yet)
    best_c: Tensor
    finished: Tensor  # bool: c search over, waiting to leave the batch

    def select(self, keep: Tensor) -> _Rows:
        return _Rows(
            problems=self.problems.select(keep),
            **{name: getattr(self, name)[keep] for name in _Rows._tensor_fields()},
        )

    @staticmethod
    def concat(first: _Rows, second: _Rows) -> _Rows:
        return _Rows(
            problems=SolverState.concat(first.problems, second.problems),
            **{
                name: torch.cat([getattr(first, name), getattr(second, name)])
                for name in _Rows._tensor_fields()
            },
        )

    @staticmethod
    def _tensor_fields() -> list[str]:
        return [f.name for f in fields(_Rows) if f.name != "problems"]

    def __len__(self) -> int:
        return self.index.shape[0]


def search_c(
    model: nn.Module, x: Tensor, target: Tensor, c_init: float | Tensor, options: SearchOptions
) -> SearchOutcome:
    """Run the per-example c search over a work queue of examples; return per-example outputs."""
    if x.shape[0] != target.shape[0]:
        raise ValueError(f"x has {x.shape[0]} examples but target has {target.shape[0]}")
    if not x.dtype.is_floating_point:
        raise ValueError(f"x must be a floating-point tensor, got {x.dtype}")
    if x.numel() and (x.min() < 0 or x.max() > 1):
        raise ValueError("x must lie in [0, 1]")
    if options.solver.history < 1 or options.batch_size < 1 or options.c_steps < 1:
        raise ValueError("history, batch_size and c_steps must be at least 1")
    if not (math.isfinite(options.temperature) and options.temperature > 0):
        raise ValueError(f"temperature must be a positive number, got {options.temperature!r}")
    if options.temperature_scale not in TEMPERATURE_SCALES:
        raise ValueError(
            f"unknown temperature_scale {options.temperature_scale!r}; "
            f"allowed: {list(TEMPERATURE_SCALES)}"
        )
    device = next((p.device for p in model.parameters()), x.device)
    count, input_shape = x.shape[0], tuple(x.shape[1:])
    x_flat = x.detach().reshape(count, -1).to(device)
    target = target.to(device=device, dtype=torch.long)
    c_start = torch.as_tensor(c_init, dtype=x.dtype, device=device).expand(count).clone()
    if (c_start <= 0).any():
        raise ValueError("c_init must be positive")

    outcome = SearchOutcome(
        x_adv=x_flat.clone(),
        x_final=x_flat.clone(),
        c=torch.full((count,), math.inf, dtype=x.dtype, device=device),
        objective=torch.zeros(count, dtype=x.dtype, device=device),
        iterations=torch.zeros(count, dtype=torch.long, device=device),
        evaluations=torch.zeros(count, dtype=torch.long, device=device),
        target=target,
    )
    temperatures = example_temperatures(model, x_flat.view(count, *input_shape), options)
    evaluate = _Evaluator(model, input_shape, temperatures)
    rows: _Rows | None = None
    next_example = 0
    while True:
        if rows is not None and rows.finished.any():
            finished = rows.finished.sum().item()
            if finished == len(rows) or finished >= COMPACTION_FRACTION * len(rows):
                _write_outcome(rows.select(rows.finished), outcome)
                rows = rows.select(~rows.finished)
        free_slots = options.batch_size - (0 if rows is None else len(rows))
        if free_slots > 0 and next_example < count:
            new_index = torch.arange(
                next_example, min(count, next_example + free_slots), device=device
            )
            next_example += len(new_index)
            new_rows = _start_rows(new_index, x_flat, target, c_start, evaluate, options, outcome)
            rows = new_rows if rows is None else _Rows.concat(rows, new_rows)
        if rows is None or len(rows) == 0:
            if next_example >= count:
                break
            continue
        _tick(rows, evaluate, options)
    return outcome


def example_temperatures(model: nn.Module, x: Tensor, options: SearchOptions) -> Tensor:
    """The loss temperature T of every example of x (on x's device), by options.temperature_scale.

    ``logit_std``: options.temperature times the standard deviation over classes of the clean
    logits model(x0) (one forward pass, in batches of options.batch_size). An example whose
    clean logits are all equal has no spread to measure and keeps T = options.temperature.
    """
    count = x.shape[0]
    if options.temperature_scale == "none" or count == 0:
        return torch.full((count,), options.temperature, dtype=x.dtype, device=x.device)
    with torch.no_grad():
        spread = torch.cat([model(part).std(dim=1) for part in x.split(options.batch_size)])
    spread = torch.where(spread > 0, spread, torch.ones_like(spread)).to(x.dtype)
    return options.temperature * spread


class _Evaluator:
    """The tempered cross-entropy, its input gradient and the prediction for flat images.

    temperatures: T of every example of the caller's batch, looked up by the rows' index.
    """

    def __init__(self, model: nn.Module, input_shape: tuple[int, ...], temperatures: Tensor):
        self.model = model
        self.input_shape = input_shape
        self.temperatures = temperatures

    def __call__(
        self, rows_x: Tensor, target: Tensor, index: Tensor, where: Callable[[int], str]
    ) -> tuple[Tensor, Tensor, Tensor]:
        with torch.enable_grad():
            inputs = rows_x.detach().view(-1, *self.input_shape).requires_grad_(True)
            logits = self.model(inputs)
            _raise_if_not_finite(logits, "logits", index, where)
            temperature = self.temperatures[index].to(logits.dtype)
            loss = temperature * F.cross_entropy(
                logits / temperature[:, None], target, reduction="none"
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
    options: SearchOptions,
    outcome: SearchOutcome,
) -> _Rows:
    """Evaluate new examples at x; leave out those already classified as target (if skipping)."""
    x0 = x_flat[index]
    rows_target = target[index]
    ce, gradient, prediction = evaluate(x0, rows_target, index, lambda _: "at the clean image")
    outcome.evaluations[index] += 1
    if options.skip_solved:
        keep = prediction != rows_target
        index, x0, rows_target = index[keep], x0[keep], rows_target[keep]
        ce, gradient, prediction = ce[keep], gradient[keep], prediction[keep]
    size, dtype, device = len(index), x0.dtype, x0.device

    def zeros(kind: torch.dtype = dtype) -> Tensor:
        return torch.zeros(size, dtype=kind, device=device)

    def full(value: float) -> Tensor:
        return torch.full((size,), value, dtype=dtype, device=device)

    return _Rows(
        index=index,
        target=rows_target,
        problems=start_problems(x0, ce, gradient, c_start[index], options.solver.history),
        prediction=prediction,
        c_success=zeros(),
        c_failure=full(math.inf),
        solves=zeros(kind=torch.long),
        best_x=x0.clone(),
        best_distance_sq=full(math.inf),
        best_c=zeros(),
        finished=zeros(kind=torch.bool),
    )


def _write_outcome(rows: _Rows, outcome: SearchOutcome) -> None:
    """Store the results of examples whose c search is over."""
    found = torch.isfinite(rows.best_distance_sq)
    index, problems = rows.index, rows.problems
    outcome.x_adv[index] = torch.where(found[:, None], rows.best_x, problems.x)
    outcome.x_final[index] = problems.x
    outcome.c[index] = torch.where(found, rows.best_c, problems.weight)
    outcome.objective[index] = problems.objective
    outcome.iterations[index] = problems.iterations
    outcome.evaluations[index] = problems.evaluations


def _tick(rows: _Rows, evaluate: _Evaluator, options: SearchOptions) -> None:
    """One batched model call: every example evaluates its next trial point and moves on.

    An example whose trial point passes the Armijo test takes it (and may end its solve, move
    its c, or finish its search); one whose trial fails halves its step for the next tick.
    """
    problems = rows.problems
    active = ~rows.finished
    trial = trial_points(problems)

    def where(row: int) -> str:
        return (
            f"c search step {int(rows.solves[row]) + 1}, c = {float(problems.weight[row]):.4g}, "
            f"L-BFGS iteration {int(problems.solve_iterations[row]) + 1}, "
            f"line search trial {int(problems.backtracks[row]) + 1}"
        )

    trial_ce, trial_gradient, trial_prediction = evaluate(trial, rows.target, rows.index, where)
    step = take_step(problems, active, trial, trial_ce, trial_gradient, options.solver)

    better = (
        active
        & (trial_prediction == rows.target)
        & (step.trial_distance_sq < rows.best_distance_sq)
    )
    if better.any():
        improved = better.nonzero().squeeze(1)
        rows.best_x[improved] = trial[improved]
        rows.best_distance_sq[improved] = step.trial_distance_sq[improved]
        rows.best_c[improved] = problems.weight[improved]
    rows.prediction = torch.where(step.accepted, trial_prediction, rows.prediction)

    change = _next_c(rows, step.solve_done, options) if step.solve_done.any() else None
    needs_direction = (step.accepted | step.line_search_failed) & ~rows.finished
    if needs_direction.any():
        update_directions(problems, step.stores, step.s, step.y, change, needs_direction)


def _next_c(rows: _Rows, solve_done: Tensor, options: SearchOptions) -> Tensor:
    """Update the c bracket of examples whose solve ended; pick their next c or finish them.

    Returns the change of c per example (0 where c stays) from
    :func:`intriguing.core.solver.change_weights`.
    """
    c = rows.problems.weight
    reached = rows.prediction == rows.target
    rows.c_success = torch.where(solve_done & reached, c, rows.c_success)
    rows.c_failure = torch.where(solve_done & ~reached, c, rows.c_failure)
    rows.solves += solve_done
    bracketed = (rows.c_success > 0) & torch.isfinite(rows.c_failure)
    next_c = torch.where(
        torch.isinf(rows.c_failure),
        rows.c_success * options.c_factor,
        torch.where(
            rows.c_success > 0,
            (rows.c_success * rows.c_failure).sqrt(),
            rows.c_failure / options.c_factor,
        ),
    )
    tight = bracketed & (rows.c_failure <= rows.c_success * (1 + options.c_tolerance))
    search_over = solve_done & ((rows.solves >= options.c_steps) | tight)
    rows.finished |= search_over
    moving = solve_done & ~search_over
    return change_weights(rows.problems, moving, next_c)
