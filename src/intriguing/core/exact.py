"""Exact minimal adversarial distortion D(x, l) of an affine (softmax) classifier.

For logits W x + b the paper's D(x, l), the least |r|_2 with x + r in [0, 1]^n classified as l,
is a convex quadratic programme with n variables and C - 1 linear constraints:

    minimise |r|^2   subject to   -x <= r <= 1 - x,   (w_l - w_j)(x + r) + b_l - b_j >= 0 (j != l).

Its exact optimum certifies the iterative attack (:mod:`intriguing.core.attack`) on the
softmax models: attack distortion / exact distortion >= 1 says how far the box-constrained
L-BFGS search lands from the true D(x, l), with no solver of ours on both sides.

Method: the Lagrangian dual, which has only C - 1 = 9 variables. With A the rows w_l - w_j and
c = A x + (b_l - b_j) the clean margins, the inner minimum over the box is separable,
r(mu) = clip(A^T mu / 2, -x, 1 - x), and g(mu) = |r(mu)|^2 - mu^T (A r(mu) + c) is concave,
piecewise quadratic, with gradient -(A r(mu) + c) and (generalised) Hessian -A_S A_S^T / 2 on
the pixels S that r(mu) leaves unclipped. g is maximised over mu >= 0 by a batched projected
Newton method: multipliers at 0 whose constraint holds stay fixed, the others take a Newton
step on the 9x9 system, and the step length is the *exact* maximiser of g along the step
(g' along a ray is piecewise linear with one breakpoint where each pixel enters or leaves the
box: one sort and a cumulative sum per iteration), capped where a multiplier reaches 0. On a
piecewise quadratic this finds the optimal pieces in a few steps and then lands on the
optimum, up to rounding (2-4 steps on MNIST-sized problems). Weak duality makes g(mu) a lower
bound at every mu >= 0; an example stops once r(mu) is feasible and
|r(mu)| <= (1 + tolerance) sqrt(g(mu)) (g of the problem solved, next paragraph).

Boundary: the minimiser lies on the decision boundary (a tie between l and its runner-up).
The dual is solved for margins >= 1e-12 * (|b_l - b_j| + |w_l - w_j|_1), far above float64
rounding of the logits, so the returned point has every margin >= 0 when recomputed in float64
(this moves |r| by ~1e-11 relative; ``lower_bound`` is for the unshifted problem, so the pair
still brackets the exact D(x, l)). Cast to float32, x_adv moves by ~1e-8 per pixel and a
float32 model may then see a tie or the other class: that is the optimum's nature, not an
error; the distortion is the exact infimum either way.

Unreachable targets: if no point of the box is classified as l (e.g. a class whose logit
cannot win), the QP is infeasible and the dual grows without bound. This is certified by
g(mu) exceeding max |r|^2 over the box (weak duality then leaves no feasible r; a Newton ray
along which g increases forever is followed far enough to show it); the example is then
``feasible`` False with ``distortion`` and ``lower_bound`` = inf (the minimum over an empty
set) and ``x_adv`` = x. If ``max_iterations`` ends an example first (not seen in our tests), it
keeps its last r(mu) when that is feasible (``feasible`` True, the gap shows in
``lower_bound``), and is otherwise undecided: ``feasible`` False, ``distortion`` NaN.
An example already classified as l (every margin >= 0) gets r = 0, distortion 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor, nn

__all__ = ["ExactResult", "exact_minimal_distortion", "linear_map"]

# Margin the primal point keeps above the boundary, relative to |b_l - b_j| + |w_l - w_j|_1.
_SHIFT = 1e-12
# Ridge on the Newton system relative to its full-box diagonal; it only steers the direction.
_RIDGE = 1e-10
# Examples solved together (bounds memory: a few (chunk, 2n) float64 tensors).
_CHUNK = 4096


@dataclass(frozen=True)
class ExactResult:
    """Per-example exact solution, indexed like the batch; float64 (feasible bool, iterations int).

    distortion: sqrt(|r|^2 / n) of the primal point (the paper's units); inf when the target is
        unreachable, NaN when undecided. lower_bound: the dual bound in the same units
        (<= distortion; their ratio is the remaining gap). x_adv: x + r, shape of x, inside
        [0, 1], margins >= 0 in float64 (x itself when not feasible). feasible: a point of the
        box is classified as the target (and x_adv is one). iterations: Newton steps taken.
    """

    distortion: Tensor
    lower_bound: Tensor
    x_adv: Tensor
    feasible: Tensor
    iterations: Tensor


def linear_map(model: nn.Module) -> tuple[Tensor, Tensor] | None:
    """(W, b) when `model` is an affine classifier of flattened images, else None.

    Affine means: ``model.layers`` (or the model itself) is an nn.Sequential, nested or not, of
    Flatten (of all but the batch dimension), Dropout or Identity modules and exactly one
    nn.Linear, or the model is a bare nn.Linear. Dropout counts as the identity it is in eval
    mode. W and b are detached copies (b is zeros for a Linear without bias).
    """
    container = getattr(model, "layers", model)
    if isinstance(container, nn.Linear):
        leaves: list[nn.Module] = [container]
    elif isinstance(container, nn.Sequential):
        leaves = _leaves(container)
    else:
        return None
    linear: list[nn.Linear] = []
    for module in leaves:
        if isinstance(module, nn.Linear):
            linear.append(module)
        elif isinstance(module, nn.Flatten):
            if module.start_dim != 1 or module.end_dim != -1:
                return None
        elif not isinstance(module, nn.Dropout | nn.Identity):
            return None
    if len(linear) != 1:
        return None
    layer = linear[0]
    weight = layer.weight.detach().clone()
    bias = torch.zeros_like(weight[:, 0]) if layer.bias is None else layer.bias.detach().clone()
    return weight, bias


def _leaves(sequential: nn.Sequential) -> list[nn.Module]:
    """The modules a Sequential applies in order, nested Sequentials expanded."""
    out: list[nn.Module] = []
    for module in sequential:
        out.extend(_leaves(module) if isinstance(module, nn.Sequential) else [module])
    return out


def exact_minimal_distortion(
    weight: Tensor,
    bias: Tensor,
    x: Tensor,
    target: Tensor,
    *,
    tolerance: float = 1e-6,
    max_iterations: int = 200,
) -> ExactResult:
    """Exact D(x, target) for logits weight @ x + bias (method: the module docstring).

    weight: (C, n); bias: (C,); x: (N, ...) images in [0, 1], n elements each (flattened
    internally); target: (N,) labels. tolerance: stop once distortion <= (1 + tolerance) *
    the dual bound of the problem solved (lower_bound, of the exact problem, is ~1e-11 relative
    below that); max_iterations: most Newton steps per example. Runs on x's device in float64;
    no loop over examples (chunks of 4096 bound the memory).
    """
    if weight.dim() != 2 or bias.shape != weight.shape[:1] or weight.shape[0] < 2:
        raise ValueError(f"weight (C, n) and bias (C,), C >= 2; got {weight.shape}, {bias.shape}")
    count = x.shape[0]
    flat = x.flatten(1).to(torch.float64)
    if flat.shape[1] != weight.shape[1]:
        raise ValueError(f"x has {flat.shape[1]} elements per example, weight {weight.shape[1]}")
    if target.shape != (count,):
        raise ValueError(f"target must have shape ({count},), got {tuple(target.shape)}")
    if count and (flat.min() < 0 or flat.max() > 1):
        raise ValueError("x must lie in [0, 1]")
    device = flat.device
    weight = weight.detach().to(device, torch.float64)
    bias = bias.detach().to(device, torch.float64)
    target = target.to(device, torch.long)
    if count and (target.min() < 0 or target.max() >= weight.shape[0]):
        raise ValueError(f"target labels must lie in [0, {weight.shape[0]})")

    starts = range(0, count, _CHUNK) if count else [0]
    parts = [
        _solve(
            weight, bias, flat[i : i + _CHUNK], target[i : i + _CHUNK], tolerance, max_iterations
        )
        for i in starts
    ]
    squared, bound, r, feasible, iterations = (
        torch.cat(column) for column in zip(*parts, strict=True)
    )
    pixels = flat.shape[1]
    distortion = squared.div(pixels).sqrt()  # inf: unreachable, NaN: undecided
    lower_bound = bound.clamp_min(0).div(pixels).sqrt()
    x_adv = torch.where(feasible[:, None], flat + r, flat)
    return ExactResult(
        distortion=distortion,
        lower_bound=lower_bound,
        x_adv=x_adv.view(count, *x.shape[1:]),
        feasible=feasible,
        iterations=iterations,
    )


def _solve(
    weight: Tensor, bias: Tensor, x: Tensor, target: Tensor, tolerance: float, max_iterations: int
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """One chunk: (|r|^2, dual bound g, r, feasible, iterations).

    |r|^2 is NaN for an undecided example; g is inf for a certified unreachable one.
    """
    count, pixels = x.shape
    classes = weight.shape[0]
    others = torch.arange(classes - 1, device=x.device).expand(count, -1)
    others = others + (others >= target[:, None]).long()  # (N, K): the labels j != l
    one_hot = torch.eye(classes, dtype=torch.float64, device=x.device)
    # Row k of D picks logit_l - logit_{others[k]}: A = D W, a = D b, margins = D logits.
    select = one_hot[target][:, None, :] - one_hot[others]  # (N, K, C)
    margins = (select @ (x @ weight.T + bias)[:, :, None]).squeeze(-1)  # c = A x + a
    pair_l1 = (weight[:, None] - weight[None]).abs().sum(-1)
    pair_sq = (weight[:, None] - weight[None]).pow(2).sum(-1)
    pair_bias = (bias[:, None] - bias[None]).abs()
    shift = _SHIFT * (pair_l1 + pair_bias)[target[:, None], others]
    ridge = _RIDGE * 0.5 * pair_sq[target[:, None], others].mean(1) + torch.finfo(x.dtype).tiny
    outer = (weight.T[:, :, None] * weight.T[:, None, :]).reshape(pixels, -1)  # w_i w_i^T
    reach = torch.maximum(x, 1 - x).pow(2).sum(1)  # max |r|^2 over the box

    squared = torch.full((count,), torch.nan, dtype=x.dtype, device=x.device)
    bound = torch.zeros(count, dtype=x.dtype, device=x.device)
    r_out = torch.zeros_like(x)
    feasible = torch.zeros(count, dtype=torch.bool, device=x.device)
    iterations = torch.zeros(count, dtype=torch.long, device=x.device)
    mu = torch.zeros_like(margins)

    already = (margins >= 0).all(1)
    squared[already] = 0.0
    feasible[already] = True
    active = (~already).nonzero().squeeze(1)
    for step in range(max_iterations + 1):
        if active.numel() == 0:
            break
        d_sel, c0, m_a = select[active], margins[active], mu[active]
        lo, hi = -x[active], 1 - x[active]
        p = 0.5 * _mix(d_sel, m_a) @ weight  # A^T mu / 2
        r = torch.clamp(p, lo, hi)
        gap0 = (d_sel @ (r @ weight.T)[:, :, None]).squeeze(-1) + c0  # A r + c
        norm2 = r.pow(2).sum(1)
        dual = norm2 - (m_a * gap0).sum(1)
        primal_ok = (gap0 >= 0).all(1)
        # Stop on the gap of the problem solved (margins >= shift): the shift's own gap to the
        # true problem's bound, ~1e-11 relative, is below any useful tolerance.
        solved = dual + (m_a * shift[active]).sum(1)
        converged = primal_ok & (norm2 <= (1 + tolerance) ** 2 * solved.clamp_min(0))
        unreachable = dual > reach[active]
        last = step == max_iterations
        finish = converged | unreachable | (torch.full_like(converged, last))
        if finish.any():
            done = active[finish]
            ok = (primal_ok & ~unreachable)[finish]
            never = unreachable[finish]
            squared[done] = torch.where(ok, norm2[finish], torch.where(never, torch.inf, torch.nan))
            bound[done] = torch.where(never, torch.inf, dual[finish])
            r_out[done] = r[finish]
            feasible[done] = ok
        if last:
            break
        keep = ~finish
        if not keep.any():
            break
        active, d_sel, m_a, dual = active[keep], d_sel[keep], m_a[keep], dual[keep]
        lo, hi, p = lo[keep], hi[keep], p[keep]
        gap = gap0[keep] - shift[active]  # gradient of f for margins >= shift

        # Newton direction on the free multipliers (minimising f = -g, gradient `gap`).
        unclipped = ((p > lo) & (p < hi)).to(x.dtype)
        gram = (unclipped @ outer).view(-1, classes, classes)  # W diag(unclipped) W^T
        hessian = 0.5 * d_sel @ gram @ d_sel.transpose(1, 2)
        direction = _newton_direction(hessian, gap, m_a, ridge[active])

        # Exact line search along mu + t d, capped where a multiplier reaches 0.
        slope0 = (direction * gap).sum(1)
        root, final = _line_search(p, lo, hi, _mix(d_sel, direction) @ weight, slope0)
        # phi' <= final < 0 forever: a step that lifts g past `reach`, certifying next round.
        lift = (3 * reach[active] - 2 * dual).clamp_min(1.0) / (-final).clamp_min(1e-300)
        t = torch.where(torch.isinf(root), lift, root)
        shrinking = direction < 0
        ratio = torch.where(shrinking, m_a / (-direction).clamp_min(1e-300), torch.inf)
        t_cap, blocking = ratio.min(1)
        capped = t_cap <= t
        t = torch.where(capped, t_cap, t)
        t = torch.where(slope0 < 0, t, 0.0)  # no descent left (rounding): keep mu
        new_mu = (m_a + t[:, None] * direction).clamp_min(0)
        rows = (capped & (slope0 < 0)).nonzero().squeeze(1)
        new_mu[rows, blocking[rows]] = 0.0
        mu[active] = new_mu
        iterations[active] += 1
    return squared, bound, r_out, feasible, iterations


def _newton_direction(hessian: Tensor, gap: Tensor, mu: Tensor, ridge: Tensor) -> Tensor:
    """Projected Newton step for min f(mu), mu >= 0, on the multipliers not held at 0.

    A multiplier is held at 0 when its constraint holds (gap >= 0), or when the Newton step
    would push it below 0 (then the step is solved again without it: at most K rounds). If
    rounding leaves no descent, the step is the negative gradient of the free multipliers.
    """
    free = (mu > 0) | (gap < 0)
    eye = torch.eye(gap.shape[1], dtype=gap.dtype, device=gap.device)
    for _ in range(gap.shape[1]):
        both = free[:, :, None] & free[:, None, :]
        diagonal = torch.where(free, ridge[:, None], 1.0)
        system = torch.where(both, hessian, 0.0) + eye * diagonal[:, :, None]
        direction = torch.linalg.solve(system, torch.where(free, -gap, 0.0))
        direction = torch.where(free, direction, 0.0)
        blocked = free & (mu <= 0) & (direction < 0)
        if not blocked.any():
            break
        free = free & ~blocked
    direction = torch.where((mu <= 0) & (direction < 0), 0.0, direction)
    steepest = torch.where((mu > 0) | (gap < 0), -gap, 0.0)
    descent = (direction * gap).sum(1, keepdim=True) < 0
    return torch.where(descent, direction, steepest)


def _mix(select: Tensor, coefficients: Tensor) -> Tensor:
    """D^T v: (N, K) constraint coefficients as (N, C) class coefficients (A^T v = D^T v @ W)."""
    return (select.transpose(1, 2) @ coefficients[:, :, None]).squeeze(-1)


def _line_search(
    p: Tensor, lo: Tensor, hi: Tensor, velocity: Tensor, slope0: Tensor
) -> tuple[Tensor, Tensor]:
    """Least t >= 0 with phi'(t) = 0, phi(t) = f(mu + t d), and phi' after the last breakpoint.

    Along the ray the unclipped primal is p + t v / 2 (v = A^T d) and phi'(t) = slope0 +
    sum_i v_i (r_i(t) - r_i(0)), piecewise linear and nondecreasing: pixel i adds slope v_i^2 / 2
    while p_i + t v_i / 2 is inside [lo_i, hi_i]. Sorting the entry and exit times gives phi' at
    every breakpoint by cumulative sums; the root is interpolated in its segment. The root is
    inf when phi' is still negative after every pixel has left the box (then f decreases
    without bound along the ray at rate at least -final).
    """
    q = 0.5 * velocity
    moving = q != 0
    q_safe = torch.where(moving, q, 1.0)
    t_lo, t_hi = (lo - p) / q_safe, (hi - p) / q_safe
    enter = torch.where(moving, torch.minimum(t_lo, t_hi).clamp_min(0), torch.inf)
    leave = torch.where(moving, torch.maximum(t_lo, t_hi).clamp_min(0), torch.inf)
    weight = velocity * q  # slope of phi' while the pixel is unclipped
    times, order = torch.cat([enter, leave], 1).sort(1)
    changes = torch.cat([weight, -weight], 1).gather(1, order)
    zero = torch.zeros_like(times[:, :1])
    slopes = torch.cat([zero, changes.cumsum(1)], 1)  # slope on [times[k], times[k + 1]]
    times = torch.cat([zero, times], 1)  # breakpoints, t = 0 first
    lengths = times[:, 1:] - times[:, :-1]
    finite = torch.isfinite(lengths) & (slopes[:, :-1] != 0)
    increments = torch.where(finite, slopes[:, :-1] * torch.where(finite, lengths, 0.0), 0.0)
    values = torch.cat([slope0[:, None], slope0[:, None] + increments.cumsum(1)], 1)
    k = ((values < 0).sum(1, keepdim=True) - 1).clamp_min(0)  # last breakpoint with phi' < 0
    start, value, slope = times.gather(1, k), values.gather(1, k), slopes.gather(1, k)
    end = torch.cat([times[:, 1:], torch.full_like(zero, torch.inf)], 1).gather(1, k)
    root = torch.where(slope > 0, start - value / slope.clamp_min(1e-300), end)
    root = torch.where(torch.isinf(end), torch.inf, torch.minimum(root, end).clamp_min(0))
    return root.squeeze(1), values[:, -1]
