"""Frame bounds (extreme singular values) of convolutional and fully connected layers.

Section 4.3 of Szegedy et al. (2013) bounds the Lipschitz constant of each layer
phi_k(x) = max(0, W_k x + b_k) by the upper frame bound of W_k (its largest singular
value) and reports lower and upper frame bounds of AlexNet's layers (Table 5). This module
computes them from a layer's weights: exactly for circular convolutions, iteratively or densely
for the real zero-padded convolution, by SVD for fully connected layers
(:mod:`intriguing.spectral.layers` applies them layer by layer to a model).

Circular convolution with stride D: derivation of the per-frequency matrices
---------------------------------------------------------------------------
Input x_c on the periodic grid Z_n^2 (c = 1..C), n = D*m, output y_f on Z_m^2 (f = 1..F),
in torch's cross-correlation convention with indices taken mod n:

    y_f[i] = sum_c sum_a w_{f,c}[a] x_c[D*i + a].

Unitary DFTs: X_c[xi] = (1/n) sum_t x_c[t] e^{-2 pi i xi.t/n} on Z_n^2 and
Y_f[eta] = (1/m) sum_i y_f[i] e^{-2 pi i eta.i/m} on Z_m^2.

1. The full-resolution correlation z_f = sum_c x_c * w_{f,c} is diagonal in frequency:
   Z_f[xi] = sum_c conj(w^_{f,c}[xi]) X_c[xi], w^ the unnormalised n x n DFT of the kernel
   (a kernel larger than the grid is folded mod n first: circularly it wraps exactly so).
2. Subsampling aliases: z[D*i] = (1/n) sum_xi Z[xi] e^{2 pi i xi.i/m}; writing
   xi = eta + m*l with eta in Z_m^2, l in Z_D^2 and summing over i (which gives m^2 delta):
   Y_f[eta] = (1/m)(1/n) m^2 sum_l Z_f[eta + m*l] = (1/D) sum_l Z_f[eta + m*l].
3. Hence Y[:, eta] = (1/D) A(eta) X_stack(eta), where A(eta) is F x (D^2 C) with entries
   A(eta)_{f,(c,l)} = conj(w^_{f,c}[eta + m*l]) and X_stack(eta) = (X_c[eta + m*l])_{c,l}.
   Every xi in Z_n^2 equals eta + m*l for exactly one (eta, l), so X -> (X_stack(eta))_eta is
   a permutation of unitary DFT coefficients: the operator is unitarily equivalent to
   blockdiag_eta(A(eta)/D). Its singular values are those of the m^2 matrices A(eta)/D,
   m^2 * min(F, D^2 C) = min(F m^2, C n^2) values: exactly as many as the operator has.

In angular frequency omega = 2 pi eta/n the aliases sit at omega + 2 pi l/D, so the paper's
||W|| = sup_omega ||A(omega)|| with rows w^_{c,f}(omega + l pi D^-1) is exact only with the
shift 2 pi l/D and the factor 1/D. Check: pure subsampling (w = delta, C = F = 1) has
A = (1, ..., 1) of norm D, while the operator norm is 1. On the n-grid omega ranges over
2 pi eta/n; the sup over all omega is the norm on the infinite grid. With strides
(D_h, D_w) the factor is 1/sqrt(D_h D_w). For real kernels A(-eta) is the conjugate of
A(eta) with permuted columns, so half of the frequencies suffice for the bounds. Grouped
convolutions are block diagonal over groups: their singular values are the union of the
groups'.

Zero padding and lower bounds
-----------------------------
A zero-padded layer (input n, padding p, stride D) equals P C_N E: E embeds the input,
zero-padded, into a periodic grid of any size N >= n + 2p divisible by D, C_N is the
circular convolution there, and P keeps the outputs the layer computes (they never read a
wrapped index). E is an isometry and P a coordinate projection, so ||layer|| <= ||C_N||: the
circular upper bound on the padded grid bounds the real layer. No such relation holds for
the smallest singular value: the circular lower bound is not a lower bound of the layer.

"Lower bound" here is the smallest of the min(inputs, outputs) singular values. A layer
with more inputs than outputs has a null space (its true lower frame bound is 0); we then
still report the smallest of its min(inputs, outputs) singular values, as the paper's
Table 5 must have (its FC1, 9216 inputs -> 4096 outputs, has lower bound 0.09).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor

IntPair = int | tuple[int, int]

__all__ = [
    "circular_conv_singular_values",
    "circular_size_for_padded_layer",
    "conv_adjoint",
    "conv_frame_bounds",
    "conv_operator_norm",
    "conv_operator_singular_values",
    "linear_frame_bounds",
    "linear_operator_norm",
]


def _pair(value: IntPair, name: str) -> tuple[int, int]:
    """Normalise an int or a pair of ints to a pair of ints."""
    if isinstance(value, int):
        return value, value
    if len(value) != 2 or not all(isinstance(v, int) for v in value):
        raise ValueError(f"{name} must be an int or a pair of ints, got {value!r}")
    return value[0], value[1]


def _check_conv_weight(weight: Tensor, groups: int) -> None:
    """Reject weights that are not (C_out, C_in/groups, k_h, k_w) with groups dividing C_out."""
    if weight.ndim != 4:
        raise ValueError(
            f"conv weight must have rank 4 (C_out, C_in/groups, k_h, k_w), got shape "
            f"{tuple(weight.shape)}"
        )
    if groups < 1 or weight.shape[0] % groups != 0:
        raise ValueError(
            f"groups={groups} must be a positive divisor of the {weight.shape[0]} output channels"
        )


@contextmanager
def _single_threaded_on_cpu(device: torch.device) -> Iterator[None]:
    """Run one intra-op thread on the CPU while SVD-ing many small matrices.

    LAPACK's threading inside each small matrix only adds synchronisation: on a busy 2-core
    machine, 496 complex 192 x 64 SVDs took 0.7 s on one thread and 25 s on two. The
    setting is process-wide and restored afterwards.
    """
    if device.type != "cpu":
        yield
        return
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def _fold_kernel(weight: Tensor, size: tuple[int, int]) -> Tensor:
    """Wrap a kernel larger than the periodic grid modulo the grid size (exact circularly)."""
    (n_h, n_w), (k_h, k_w) = size, weight.shape[-2:]
    reps_h, reps_w = -(-k_h // n_h), -(-k_w // n_w)
    if reps_h == 1 and reps_w == 1:
        return weight
    padded = F.pad(weight, (0, reps_w * n_w - k_w, 0, reps_h * n_h - k_h))
    return padded.unflatten(-1, (reps_w, n_w)).sum(-2).unflatten(-2, (reps_h, n_h)).sum(-3)


def _aliased_frequency_matrices(
    weight: Tensor,
    stride: IntPair,
    input_size: IntPair,
    groups: int,
    half_spectrum: bool,
) -> Tensor:
    """The matrices A(eta)/D of the module docstring, complex128 on weight.device.

    Shape (groups * m_h * m_w', C_out/groups, D_h D_w C_in/groups), one per group and output
    frequency eta; with half_spectrum only eta_w <= m_w/2 (enough for real kernels' bounds).
    """
    _check_conv_weight(weight, groups)
    stride_h, stride_w = _pair(stride, "stride")
    n_h, n_w = _pair(input_size, "input_size")
    if min(stride_h, stride_w, n_h, n_w) < 1:
        raise ValueError(f"stride {stride!r} and input_size {input_size!r} must be positive")
    if n_h % stride_h or n_w % stride_w:
        raise ValueError(
            f"input_size {(n_h, n_w)} must be divisible by the stride {(stride_h, stride_w)} "
            "for the circular operator; use circular_size_for_padded_layer to round it up"
        )
    m_h, m_w = n_h // stride_h, n_w // stride_w
    out_channels, in_per_group = weight.shape[:2]
    out_per_group = out_channels // groups

    kernel = _fold_kernel(weight.detach().to(torch.float64), (n_h, n_w))
    spectrum = torch.fft.fft2(kernel, s=(n_h, n_w))  # (F, C_g, n_h, n_w); index xi = l*m + eta
    spectrum = spectrum.reshape(groups, out_per_group, in_per_group, stride_h, m_h, stride_w, m_w)
    if half_spectrum:
        spectrum = spectrum[..., : m_w // 2 + 1]
    matrices = spectrum.permute(0, 4, 6, 1, 2, 3, 5).reshape(
        -1, out_per_group, in_per_group * stride_h * stride_w
    )
    return matrices / math.sqrt(stride_h * stride_w)


def _batched_svdvals(matrices: Tensor) -> Tensor:
    """Singular values of a batch of small matrices (single-threaded on the CPU)."""
    with _single_threaded_on_cpu(matrices.device):
        return torch.linalg.svdvals(matrices)


def circular_conv_singular_values(
    weight: Tensor, stride: IntPair, input_size: IntPair, groups: int = 1
) -> Tensor:
    """All singular values (descending, float64) of the circular strided convolution.

    These are the min(C_out m^2, C_in n^2) singular values of the operator from
    R^{C_in n_h n_w} to R^{C_out (n_h/D_h)(n_w/D_w)}; see the module docstring.
    """
    matrices = _aliased_frequency_matrices(weight, stride, input_size, groups, False)
    return _batched_svdvals(matrices).flatten().sort(descending=True).values


def conv_frame_bounds(
    weight: Tensor,
    stride: IntPair,
    input_size: IntPair,
    groups: int = 1,
    boundary: str = "circular",
) -> tuple[float, float]:
    """(lower, upper) frame bounds of a strided convolution on a periodic input grid.

    weight is (C_out, C_in/groups, k_h, k_w); input_size must be divisible by the stride.
    Kernels larger than the grid are wrapped modulo the grid size, which is what a circular
    convolution does with them. The upper bound is the operator norm (the paper's
    sup_omega ||A(omega)||, with the aliasing and scaling corrections of the module
    docstring) and, on the padded grid, bounds the zero-padded layer too. The lower bound is
    the smallest of the min(inputs, outputs) singular values: for a layer with more inputs
    than outputs this ignores the null space, as Table 5 does. Only boundary="circular" is
    exact here; zero-padded layers are handled by conv_operator_norm and
    conv_operator_singular_values.

    Speed: all frequencies are SVD-ed in complex64 (half the cost), then the candidates for
    the extremes (within 1e-4 * upper of them, far above float32's SVD error) again in
    complex128, so both bounds have float64 accuracy.
    """
    if boundary != "circular":
        raise ValueError(
            f"boundary must be 'circular', got {boundary!r}; for the zero-padded layer use "
            "conv_operator_norm / conv_operator_singular_values"
        )
    matrices = _aliased_frequency_matrices(weight, stride, input_size, groups, True)
    rough = _batched_svdvals(matrices.to(torch.complex64))
    rough_lower, rough_upper = rough[:, -1], rough[:, 0]
    margin = 1e-4 * rough_upper.max()
    candidates = (rough_lower <= rough_lower.min() + margin) | (
        rough_upper >= rough_upper.max() - margin
    )
    exact = _batched_svdvals(matrices[candidates])
    return exact[:, -1].min().item(), exact[:, 0].max().item()


def circular_size_for_padded_layer(
    input_size: IntPair, total_padding: IntPair, stride: IntPair
) -> tuple[int, int]:
    """Smallest periodic grid on which the circular bound bounds a zero-padded layer.

    That is input + total padding (both sides together), rounded up to a multiple of the
    stride; see "Zero padding" in the module docstring.
    """
    sizes, paddings, strides = (
        _pair(input_size, "input_size"),
        _pair(total_padding, "total_padding"),
        _pair(stride, "stride"),
    )
    height, width = (-(-(n + p) // s) * s for n, p, s in zip(sizes, paddings, strides, strict=True))
    return height, width


def _conv_output_size(
    input_size: tuple[int, int],
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: tuple[int, int],
) -> tuple[int, int]:
    """Spatial output size of a zero-padded convolution (ValueError if it would be empty)."""
    height, width = (
        (n + 2 * p - k) // s + 1
        for n, k, s, p in zip(input_size, kernel, stride, padding, strict=True)
    )
    if min(height, width) < 1:
        raise ValueError(
            f"kernel {kernel} does not fit the input {input_size} with padding {padding}"
        )
    return height, width


def conv_adjoint(
    output: Tensor,
    weight: Tensor,
    stride: IntPair,
    input_size: IntPair,
    padding: IntPair = 0,
    groups: int = 1,
) -> Tensor:
    """Exact adjoint of x -> conv2d(x, weight, stride, padding, groups) on an input_size grid.

    conv_transpose2d alone returns the smallest grid consistent with the output; the rows
    and columns the forward convolution skipped (when (n + 2p - k) is not a multiple of the
    stride) are restored by output_padding, which makes <A x, y> = <x, A^T y> exact.
    """
    _check_conv_weight(weight, groups)
    size, strides, pads = (
        _pair(input_size, "input_size"),
        _pair(stride, "stride"),
        _pair(padding, "padding"),
    )
    kernel = tuple(weight.shape[-2:])
    _conv_output_size(size, kernel, strides, pads)
    output_padding = tuple(
        (n + 2 * p - k) % s for n, k, s, p in zip(size, kernel, strides, pads, strict=True)
    )
    return F.conv_transpose2d(
        output, weight, stride=strides, padding=pads, output_padding=output_padding, groups=groups
    )


def _largest_singular_value_lanczos(
    apply: Callable[[Tensor], Tensor],
    apply_adjoint: Callable[[Tensor], Tensor],
    start: Tensor,
    output_dim: int,
    max_iterations: int,
    tol: float,
) -> float:
    """Largest singular value by Golub-Kahan-Lanczos bidiagonalisation of the operator.

    A V_k = U_k B_k with B_k upper bidiagonal (alphas on the diagonal, betas above), both
    bases fully reorthogonalised. The top singular value sigma of B_k never exceeds the
    operator's, and with p its left singular vector some true singular value lies within
    beta_k |p_k| of sigma: iteration stops once that residual is <= tol * sigma.
    """
    right = start.new_zeros(max_iterations + 1, start.numel())
    left = start.new_zeros(max_iterations, output_dim)
    right[0] = start / start.norm()
    alphas: list[float] = []
    betas: list[float] = []
    sigma = 0.0
    for step in range(max_iterations):
        u = apply(right[step])
        if step:
            u -= betas[-1] * left[step - 1]
        for _ in range(2):
            u -= left[:step].T @ (left[:step] @ u)
        alphas.append(u.norm().item())
        if alphas[-1] == 0.0:
            break
        left[step] = u / alphas[-1]
        v = apply_adjoint(left[step]) - alphas[-1] * right[step]
        for _ in range(2):
            v -= right[: step + 1].T @ (right[: step + 1] @ v)
        beta = v.norm().item()
        bidiagonal = torch.diag(torch.tensor(alphas, dtype=torch.float64))
        bidiagonal += torch.diag(torch.tensor(betas, dtype=torch.float64), 1)
        left_vectors, singular_values, _ = torch.linalg.svd(bidiagonal)
        sigma = singular_values[0].item()
        if beta * abs(left_vectors[-1, 0].item()) <= tol * sigma:
            break
        betas.append(beta)
        right[step + 1] = v / beta
    return sigma


def conv_operator_norm(
    weight: Tensor,
    stride: IntPair,
    input_size: IntPair,
    padding: IntPair = 0,
    groups: int = 1,
    max_iterations: int = 300,
    tol: float = 1e-6,
    seed: int = 0,
) -> float:
    """Largest singular value of the real zero-padded convolution (conv2d as torch runs it).

    Lanczos bidiagonalisation on the operator itself (plain power iteration stalls: the top
    of a convolution's spectrum is a cluster of nearby frequencies), applied with conv2d and
    its exact adjoint (conv_adjoint) on weight.device from a seeded random start, until a
    true singular value is certified within tol relative (or max_iterations). The estimate
    approaches sigma_max from below; AlexNet's conv1 at 224 takes 165 iterations (20-60 s
    on 2 CPU cores, mostly reorthogonalisation). It never exceeds the circular upper bound on
    circular_size_for_padded_layer(input_size, 2 * padding, stride), since the zero-padded
    layer is a compression of that circular one.
    """
    _check_conv_weight(weight, groups)
    size, strides, pads = (
        _pair(input_size, "input_size"),
        _pair(stride, "stride"),
        _pair(padding, "padding"),
    )
    weight = weight.detach()
    input_shape = (1, weight.shape[1] * groups, *size)
    output_shape = (1, weight.shape[0], *_conv_output_size(size, weight.shape[-2:], strides, pads))

    def apply(x: Tensor) -> Tensor:
        return F.conv2d(x.view(input_shape), weight, None, strides, pads, 1, groups).flatten()

    def apply_adjoint(y: Tensor) -> Tensor:
        return conv_adjoint(y.view(output_shape), weight, strides, size, pads, groups).flatten()

    generator = torch.Generator(device=weight.device).manual_seed(seed)
    start = torch.randn(
        math.prod(input_shape), generator=generator, device=weight.device, dtype=weight.dtype
    )
    return _largest_singular_value_lanczos(
        apply, apply_adjoint, start, math.prod(output_shape), max_iterations, tol
    )


def conv_operator_singular_values(
    weight: Tensor,
    stride: IntPair,
    input_size: IntPair,
    padding: IntPair = 0,
    groups: int = 1,
    max_input_dim: int = 4096,
) -> Tensor:
    """All singular values (descending, float64) of the zero-padded convolution, densely.

    Builds the explicit matrix by convolving the C_in n_h n_w basis images, so it is only
    affordable for small layers: ValueError above max_input_dim inputs. This is how the
    smallest singular value of a zero-padded layer is obtained (no iterative method
    converges reliably to it); for the largest alone use conv_operator_norm.
    """
    _check_conv_weight(weight, groups)
    size = _pair(input_size, "input_size")
    in_channels = weight.shape[1] * groups
    input_dim = in_channels * size[0] * size[1]
    if input_dim > max_input_dim:
        raise ValueError(
            f"dense operator would have {input_dim} > max_input_dim={max_input_dim} columns"
        )
    basis = torch.eye(input_dim, dtype=torch.float64, device=weight.device)
    images = F.conv2d(
        basis.view(input_dim, in_channels, *size),
        weight.detach().to(torch.float64),
        stride=_pair(stride, "stride"),
        padding=_pair(padding, "padding"),
        groups=groups,
    )
    return torch.linalg.svdvals(images.flatten(1))


def linear_frame_bounds(weight: Tensor) -> tuple[float, float]:
    """(lower, upper) frame bounds of a fully connected layer y = W x by SVD of W.

    Uses torch.linalg.svdvals on W in its tall orientation (never eigenvalues of W W^T,
    which would square the condition number and lose small singular values). For W with
    more inputs than outputs the lower bound is the smallest of its min(m, n) singular
    values, ignoring the null space, as in the paper's Table 5.
    """
    if weight.ndim != 2:
        raise ValueError(f"linear weight must have rank 2, got shape {tuple(weight.shape)}")
    weight = weight.detach()
    tall = weight if weight.shape[0] >= weight.shape[1] else weight.T
    values = torch.linalg.svdvals(tall)
    return values[-1].item(), values[0].item()


def linear_operator_norm(
    weight: Tensor, max_iterations: int = 300, tol: float = 1e-6, seed: int = 0
) -> float:
    """Largest singular value of a fully connected layer y = W x, without a full SVD.

    Lanczos bidiagonalisation with W and W^T (as conv_operator_norm does for convolutions),
    from a seeded random start, until a true singular value is certified within tol relative
    (or max_iterations). The estimate approaches sigma_max from below. Costs a few hundred
    matrix-vector products where linear_frame_bounds' full SVD of a 4096 x 4096 layer takes
    10-20 s on 2 CPU cores; it gives no lower bound.
    """
    if weight.ndim != 2:
        raise ValueError(f"linear weight must have rank 2, got shape {tuple(weight.shape)}")
    weight = weight.detach()
    generator = torch.Generator(device=weight.device).manual_seed(seed)
    start = torch.randn(
        weight.shape[1], generator=generator, device=weight.device, dtype=weight.dtype
    )
    return _largest_singular_value_lanczos(
        lambda x: weight @ x, lambda y: weight.T @ y, start, weight.shape[0], max_iterations, tol
    )
