"""Batched projected L-BFGS: many independent penalised problems in the unit box at once.

Problem i of the batch minimises

    f_i(x) = loss_i(x) + w_i * |x - center_i|^2    subject to  x in [0, 1]^D

over its own variables. The caller evaluates the losses and their gradients, one batched call
per step: :func:`trial_points` gives the points to evaluate, :func:`take_step` takes the
losses there, and :func:`update_directions` prepares the next step. Every problem has its own
weight, its own iterate, its own history of (s, y) pairs, its own line search and its own
stopping test; nothing about one problem (its convergence, a backtracking step, a change of its
weight) delays another:

* Direction: the compact L-BFGS representation (Byrd, Nocedal and Schnabel 1994) applied to the
  gradient restricted to the free variables, i.e. those not held at a bound by the gradient
  (x_i = 0 with g_i > 0, or x_i = 1 with g_i < 0); the direction is zero on the held ones. It
  is a descent direction whenever the projected gradient is nonzero.
* Line search: backtracking (halving) along the projected path P(x + t d) with the Armijo test
  f(P(x + t d)) <= f(x) + 1e-4 g.(P(x + t d) - x), one trial point per problem per batched
  evaluation; t starts at 1 (at a unit-length step when a problem has no history yet).
* Stopping, per problem and per solve: relative decrease of the objective <= tolerance, or
  projected-gradient infinity norm <= gradient_tolerance, or max_iterations, or a failed line
  search.
* Changing a weight between solves (:func:`change_weights`): the penalty is squared, so
  w -> w' shifts the Hessian by exactly 2 * (w' - w) * I and every curvature pair stays exact
  (y' = y + 2 (w' - w) s), so the history is kept across solves.
* Cost per step: the caller's evaluation (for a model, its forward and backward passes), two
  passes over the (B, 2 * history, D) history (batched matrix products) and some fifty
  whole-batch tensor ops. On a CPU shared with other busy processes, multi-threaded ops stall
  on every one of them: there torch.set_num_threads(1) is several times faster.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch
from torch import Tensor

__all__ = [
    "SolverOptions",
    "SolverState",
    "StepOutcome",
    "change_weights",
    "start_problems",
    "take_step",
    "trial_points",
    "update_directions",
]

ARMIJO_SLOPE = 1e-4
MAX_BACKTRACKS = 20


@dataclass(frozen=True)
class SolverOptions:
    """When a solve ends, and how much history it keeps.

    max_iterations: most accepted steps per solve; history: stored (s, y) pairs; tolerance:
    relative objective decrease that ends a solve; gradient_tolerance: projected-gradient
    infinity norm that ends a solve.
    """

    max_iterations: int
    history: int
    tolerance: float
    gradient_tolerance: float


@dataclass
class SolverState:
    """State of a batch of problems; dim 0 indexes the problem."""

    center: Tensor  # (B, D) centre of the penalty
    weight: Tensor  # penalty weight of the current solve
    x: Tensor  # (B, D) current iterate
    distance_sq: Tensor  # |x - center|^2
    objective: Tensor  # weight |x - center|^2 + loss at x
    gradient: Tensor  # (B, D) of the objective at x
    direction: Tensor  # (B, D) search direction of the current line search
    step: Tensor  # trial step length along direction
    backtracks: Tensor
    solve_iterations: Tensor
    iterations: Tensor
    evaluations: Tensor
    pairs: Tensor  # (B, 2 H, D): s in slots [0, H), y (for the current weight) in [H, 2 H)
    s_dot_s: Tensor  # (B, H, H) Gram matrices of the stored pairs, [i, j] = s_i . s_j
    s_dot_y: Tensor  # [i, j] = s_i . y_j
    y_dot_y: Tensor
    stored: Tensor  # (B, H) bool: slot holds a pair
    pointer: Tensor  # next slot to write; slots pointer, pointer+1, ... run oldest to newest

    def select(self, keep: Tensor) -> SolverState:
        """The problems selected by ``keep`` (a mask or indices)."""
        return SolverState(**{f.name: getattr(self, f.name)[keep] for f in fields(self)})

    @staticmethod
    def concat(first: SolverState, second: SolverState) -> SolverState:
        """The problems of ``first`` followed by those of ``second``."""
        return SolverState(
            **{
                f.name: torch.cat([getattr(first, f.name), getattr(second, f.name)])
                for f in fields(first)
            }
        )

    def __len__(self) -> int:
        return self.x.shape[0]


@dataclass
class StepOutcome:
    """What one step did to each problem (see :func:`take_step`); dim 0 indexes the problem.

    accepted: the trial point passed the Armijo test and is the new iterate.
    line_search_failed: MAX_BACKTRACKS trial points failed; the solve ends where it is.
    solve_done: the solve ended (converged or line_search_failed).
    stores: the step's (s, y) pair passes the curvature test and enters the history.
    s, y: (B, D) the step to the trial point and the change of gradient along it.
    trial_distance_sq: |trial - center|^2.
    """

    accepted: Tensor
    line_search_failed: Tensor
    solve_done: Tensor
    stores: Tensor
    s: Tensor
    y: Tensor
    trial_distance_sq: Tensor


def start_problems(
    center: Tensor, loss: Tensor, gradient: Tensor, weight: Tensor, history: int
) -> SolverState:
    """Problems starting at their centres, given the loss and its gradient there.

    The penalty and its gradient vanish at the centre, so ``loss`` is the objective there. One
    evaluation is counted per problem (the caller's, at the centre).
    """
    size, dimension = center.shape
    dtype, device = center.dtype, center.device

    def zeros(*shape: int, kind: torch.dtype = dtype) -> Tensor:
        return torch.zeros(size, *shape, dtype=kind, device=device)

    # Without history the first step is steepest descent of unit length on the free variables.
    free_gradient = gradient.masked_fill(
        (center <= 0) & (gradient > 0) | (center >= 1) & (gradient < 0), 0
    )
    norm = free_gradient.norm(dim=1, keepdim=True).clamp_min(torch.finfo(dtype).tiny)
    return SolverState(
        center=center,
        weight=weight,
        x=center.clone(),
        distance_sq=zeros(),
        objective=loss,
        gradient=gradient,
        direction=-free_gradient / norm,
        step=torch.full((size,), 1.0, dtype=dtype, device=device),
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
    )


def trial_points(state: SolverState) -> Tensor:
    """(B, D) the next point of every problem's line search, projected onto the box."""
    return (state.x + state.step[:, None] * state.direction).clamp_(0, 1)


def take_step(
    state: SolverState,
    active: Tensor,
    trial: Tensor,
    trial_loss: Tensor,
    trial_gradient: Tensor,
    options: SolverOptions,
) -> StepOutcome:
    """Judge every active problem's trial point by its loss and loss gradient there.

    A problem whose trial point passes the Armijo test moves there (and its solve may end); one
    whose trial fails halves its step for the next trial. Inactive problems (``active`` False)
    are carried along unchanged. ``trial_gradient`` becomes the objective's gradient (in
    place). Call :func:`update_directions` afterwards.
    """
    state.evaluations += active
    trial_offset = trial - state.center
    trial_distance_sq = trial_offset.pow(2).sum(dim=1)
    trial_objective = trial_loss + state.weight * trial_distance_sq
    trial_gradient += 2 * state.weight[:, None] * trial_offset

    s = trial - state.x
    armijo_bound = state.objective + ARMIJO_SLOPE * (state.gradient * s).sum(dim=1)
    accepted = active & (trial_objective <= armijo_bound)
    state.backtracks += active & ~accepted
    line_search_failed = active & ~accepted & (state.backtracks >= MAX_BACKTRACKS)
    state.step = torch.where(accepted, 1.0, state.step / 2)

    scale = torch.maximum(state.objective.abs(), trial_objective.abs()).clamp_min(1)
    relative_decrease = (state.objective - trial_objective) / scale
    projected_gradient = (trial - trial_gradient).clamp_(0, 1).sub_(trial).abs_().amax(dim=1)
    state.solve_iterations += accepted
    state.iterations += accepted
    converged = accepted & (
        (relative_decrease <= options.tolerance)
        | (projected_gradient <= options.gradient_tolerance)
        | (state.solve_iterations >= options.max_iterations)
    )

    y = trial_gradient - state.gradient
    state.x = torch.where(accepted[:, None], trial, state.x)
    state.gradient = torch.where(accepted[:, None], trial_gradient, state.gradient)
    state.objective = torch.where(accepted, trial_objective, state.objective)
    state.distance_sq = torch.where(accepted, trial_distance_sq, state.distance_sq)
    stores = accepted & ((s * y).sum(dim=1) > torch.finfo(s.dtype).eps * (y * y).sum(dim=1))
    return StepOutcome(
        accepted=accepted,
        line_search_failed=line_search_failed,
        solve_done=converged | line_search_failed,
        stores=stores,
        s=s,
        y=y,
        trial_distance_sq=trial_distance_sq,
    )


def change_weights(state: SolverState, moving: Tensor, new_weight: Tensor) -> Tensor:
    """Start a new solve with weight ``new_weight`` for the problems where ``moving`` is set.

    Moves their objective and gradient to the new weight and returns the change of weight per
    problem (0 where it stays); pass it to :func:`update_directions`, which moves the history.
    """
    change = torch.where(moving, new_weight - state.weight, 0)
    state.weight = torch.where(moving, new_weight, state.weight)
    state.solve_iterations = torch.where(moving, 0, state.solve_iterations)
    state.objective = state.objective + change * state.distance_sq
    moved = moving.nonzero().squeeze(1)
    state.gradient[moved] += 2 * change[moved, None] * (state.x[moved] - state.center[moved])
    return change


def update_directions(
    state: SolverState,
    stores: Tensor,
    s: Tensor,
    y: Tensor,
    change: Tensor | None,
    needs_direction: Tensor,
) -> None:
    """Store new (s, y) pairs, move the history to changed weights, compute new directions.

    ``stores``, ``s`` and ``y`` come from :func:`take_step`, ``change`` from
    :func:`change_weights` (None: no weight changed); problems in ``needs_direction`` get a new
    search direction and a fresh line search. One pass over the history computes the new
    pairs' Gram entries and the products S g, Y g needed by the direction; a second pass
    assembles the direction.
    """
    size, double_history, _ = state.pairs.shape
    history = double_history // 2
    storing = stores.nonzero().squeeze(1)
    slot = state.pointer[storing]
    state.pairs[storing, slot] = s[storing]
    state.pairs[storing, history + slot] = y[storing]
    state.pointer[storing] = (slot + 1) % history
    state.stored[storing, slot] = True
    if change is not None:
        # y = y_loss + 2 w s: every stored pair stays exact under w -> w + change.
        moved = change.nonzero().squeeze(1)
        twice = (2 * change[moved])[:, None, None]
        state.pairs[moved, history:] += twice * state.pairs[moved, :history]
        y = y + 2 * change[:, None] * s
        twice = (2 * change)[:, None, None]
        old_s_dot_y = state.s_dot_y
        state.s_dot_y = old_s_dot_y + twice * state.s_dot_s
        state.y_dot_y = (
            state.y_dot_y + twice * (old_s_dot_y + old_s_dot_y.mT) + twice.square() * state.s_dot_s
        )

    held = ((state.x <= 0) & (state.gradient > 0)) | ((state.x >= 1) & (state.gradient < 0))
    free_gradient = state.gradient.masked_fill(held, 0)
    # Row vectors times the history (not the history times columns): several times faster
    # on CPU for these shapes.
    vectors = torch.stack([s, y, free_gradient], dim=1)
    products = torch.bmm(vectors, state.pairs.mT).mT  # (B, 2H, 3)

    new_slot = torch.zeros_like(state.stored)
    new_slot[storing, slot] = True
    in_row, in_column = new_slot[:, :, None], new_slot[:, None, :]
    s_dot_new_s, y_dot_new_s = products[:, :history, 0], products[:, history:, 0]
    s_dot_new_y, y_dot_new_y = products[:, :history, 1], products[:, history:, 1]
    state.s_dot_s = torch.where(in_row, s_dot_new_s[:, None, :], state.s_dot_s)
    state.s_dot_s = torch.where(in_column, s_dot_new_s[:, :, None], state.s_dot_s)
    state.s_dot_y = torch.where(in_row, y_dot_new_s[:, None, :], state.s_dot_y)
    state.s_dot_y = torch.where(in_column, s_dot_new_y[:, :, None], state.s_dot_y)
    state.y_dot_y = torch.where(in_row, y_dot_new_y[:, None, :], state.y_dot_y)
    state.y_dot_y = torch.where(in_column, y_dot_new_y[:, :, None], state.y_dot_y)

    coefficients, gamma, has_history = _compact_coefficients(state, products[:, :, 2])
    product = gamma * free_gradient + torch.bmm(coefficients[:, None, :], state.pairs).squeeze(1)
    tiny = torch.finfo(product.dtype).tiny
    unit = free_gradient / free_gradient.norm(dim=1, keepdim=True).clamp_min(tiny)
    direction = -torch.where(has_history[:, None], product, unit).masked_fill_(held, 0)
    state.direction = torch.where(needs_direction[:, None], direction, state.direction)
    state.backtracks = torch.where(needs_direction, 0, state.backtracks)
    state.step = torch.where(needs_direction, 1.0, state.step)


def _compact_coefficients(
    state: SolverState, pair_dot_vector: Tensor
) -> tuple[Tensor, Tensor, Tensor]:
    """Coefficients of the L-BFGS inverse Hessian times a vector g, compact representation.

    H g = gamma g + [S, Y] coefficients (Byrd, Nocedal and Schnabel 1994), with R the upper
    triangle of S^T Y in time order and D its diagonal, from ``pair_dot_vector`` = [S g, Y g].
    Empty slots and pairs that fail the curvature test for the current weight get identity rows
    in R and zero coefficients. Returns coefficients (B, 2H), gamma (B, 1) and whether any pair
    is usable (B,).
    """
    size, history = state.stored.shape
    eps = torch.finfo(state.pairs.dtype).eps
    s_dot_y_diagonal = state.s_dot_y.diagonal(dim1=1, dim2=2)
    y_dot_y_diagonal = state.y_dot_y.diagonal(dim1=1, dim2=2)
    usable = state.stored & (s_dot_y_diagonal > eps * y_dot_y_diagonal)
    order = (state.pointer[:, None] + torch.arange(history, device=usable.device)) % history
    usable = usable.gather(1, order)

    def in_time_order(matrix: Tensor) -> Tensor:
        by_row = matrix.gather(1, order[:, :, None].expand(size, history, history))
        return by_row.gather(2, order[:, None, :].expand(size, history, history))

    both_usable = usable[:, :, None] & usable[:, None, :]
    s_dot_y = in_time_order(state.s_dot_y).masked_fill_(~both_usable, 0)
    y_dot_y = in_time_order(state.y_dot_y).masked_fill_(~both_usable, 0)
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
