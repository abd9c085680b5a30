"""Frame bounds of conv and linear layers against explicitly built dense operators."""

import itertools
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from intriguing.spectral.alexnet import original_alexnet
from intriguing.spectral.bounds import (
    circular_conv_singular_values,
    circular_size_for_padded_layer,
    conv_adjoint,
    conv_frame_bounds,
    conv_operator_norm,
    conv_operator_singular_values,
    linear_frame_bounds,
    linear_operator_norm,
)
from intriguing.spectral.layers import network_frame_bounds


def random_weight(out_channels, in_per_group, kernel, seed):
    generator = torch.Generator().manual_seed(seed)
    kernel_h, kernel_w = (kernel, kernel) if isinstance(kernel, int) else kernel
    shape = (out_channels, in_per_group, kernel_h, kernel_w)
    return torch.randn(*shape, generator=generator, dtype=torch.float64)


def dense_circular_operator(weight, stride, size, groups, periodic_extension):
    """Matrix of the circular strided convolution, column j = image of basis vector j."""
    in_channels = weight.shape[1] * groups
    dim = in_channels * size[0] * size[1]
    basis = torch.eye(dim, dtype=torch.float64).view(dim, in_channels, *size)
    images = F.conv2d(
        periodic_extension(basis, weight.shape[-2:]), weight, None, stride, 0, 1, groups
    )
    return images.flatten(1).T


def circular_pad(images, kernel):
    """Periodic extension by F.pad(mode='circular'): k - 1 wrapped rows/columns."""
    return F.pad(images, (0, kernel[1] - 1, 0, kernel[0] - 1), mode="circular")


def tiled(images, kernel):
    """Periodic extension by tiling, valid for kernels larger than the grid."""
    n_h, n_w = images.shape[-2:]
    reps = (1, 1, -(-(n_h + kernel[0]) // n_h), -(-(n_w + kernel[1]) // n_w))
    return images.repeat(*reps)[..., : n_h + kernel[0] - 1, : n_w + kernel[1] - 1]


def dense_zero_padded_operator(weight, stride, size, padding, groups):
    in_channels = weight.shape[1] * groups
    dim = in_channels * size[0] * size[1]
    basis = torch.eye(dim, dtype=torch.float64).view(dim, in_channels, *size)
    return F.conv2d(basis, weight, None, stride, padding, 1, groups).flatten(1).T


def extreme_singular_values(matrix):
    values = torch.linalg.svdvals(matrix)
    return values.min().item(), values.max().item()


# (C_out, C_in, kernel, stride, input size, groups): wide and tall, odd and even kernels.
CIRCULAR_CASES = [
    (3, 2, 3, 1, (6, 6), 1),  # tall, stride 1
    (2, 4, 4, 2, (8, 8), 1),  # wide, even kernel
    (10, 2, 3, 2, (6, 6), 1),  # tall, stride 2
    (6, 4, 2, 2, (6, 6), 2),  # wide, groups 2, even kernel
    (4, 2, 5, 4, (8, 8), 2),  # wide, stride 4, groups 2
    (36, 2, 5, 4, (8, 8), 2),  # tall, stride 4, groups 2
    (3, 2, (3, 2), (1, 2), (5, 8), 1),  # rectangular kernel, grid and stride
]


@pytest.mark.parametrize(("c_out", "c_in", "kernel", "stride", "size", "groups"), CIRCULAR_CASES)
def test_circular_spectrum_matches_dense_operator(c_out, c_in, kernel, stride, size, groups):
    weight = random_weight(c_out, c_in // groups, kernel, seed=c_out + c_in)
    dense = dense_circular_operator(weight, stride, size, groups, circular_pad)
    expected = torch.linalg.svdvals(dense)

    spectrum = circular_conv_singular_values(weight, stride, size, groups)
    assert spectrum.shape == expected.shape == (min(dense.shape),)
    torch.testing.assert_close(spectrum, expected, rtol=1e-5, atol=1e-9 * expected[0].item())

    lower, upper = conv_frame_bounds(weight, stride, size, groups)
    expected_lower, expected_upper = extreme_singular_values(dense)
    assert upper == pytest.approx(expected_upper, rel=1e-5)
    assert lower == pytest.approx(expected_lower, rel=1e-5)
    assert (lower, upper) == pytest.approx((spectrum[-1].item(), spectrum[0].item()), rel=1e-12)


def test_tiny_lower_bound_keeps_float64_accuracy():
    """Two nearly equal input-channel kernels: lower / upper ~ 1e-7, below float32's reach."""
    weight = random_weight(4, 3, 3, seed=2)
    weight[:, 1] = weight[:, 0] + 1e-7 * random_weight(4, 1, 3, seed=3)[:, 0]
    dense = dense_circular_operator(weight, 1, (6, 6), 1, circular_pad)
    lower, upper = conv_frame_bounds(weight, 1, 6)
    expected_lower, expected_upper = extreme_singular_values(dense)
    assert expected_lower < 1e-6 * expected_upper
    assert lower == pytest.approx(expected_lower, rel=1e-5)
    assert upper == pytest.approx(expected_upper, rel=1e-5)


def test_float32_weight_gives_float64_accurate_bounds():
    weight = random_weight(4, 3, 3, seed=1)
    dense = dense_circular_operator(weight, 2, (6, 6), 1, circular_pad)
    bounds = conv_frame_bounds(weight.float(), 2, 6)
    expected = extreme_singular_values(dense)
    assert bounds == pytest.approx(expected, rel=1e-5)


def test_kernel_larger_than_grid_wraps_around():
    weight = random_weight(3, 2, 7, seed=3)
    dense = dense_circular_operator(weight, 2, (4, 4), 1, tiled)
    assert conv_frame_bounds(weight, 2, 4) == pytest.approx(
        extreme_singular_values(dense), rel=1e-5
    )


def paper_formula_singular_values(weight, stride, n, shift_per_alias, scale):
    """Singular values of scale * A(omega), rows (w^_{c,f}(omega + shift*l))_{c,l}, directly.

    Evaluates the kernels' Fourier transforms at the (n/stride)^2 output frequencies
    omega = 2 pi eta / n by explicit sums over the taps, independently of the FFT code.
    """
    out_channels, in_channels, kernel, _ = weight.shape
    taps = np.arange(kernel)
    values = []
    for eta in itertools.product(range(n // stride), repeat=2):
        columns = []
        for alias in itertools.product(range(stride), repeat=2):
            omega = [
                2 * np.pi * e / n + shift_per_alias * a for e, a in zip(eta, alias, strict=True)
            ]
            phase = np.exp(-1j * np.add.outer(omega[0] * taps, omega[1] * taps))
            columns.append(np.einsum("fcab,ab->fc", weight.numpy(), phase))
        values.append(np.linalg.svd(scale * np.concatenate(columns, axis=1), compute_uv=False))
    values = np.concatenate(values)
    return values.min(), values.max()


def test_paper_formula_needs_aliasing_shift_and_scaling():
    stride, n = 2, 8
    weight = random_weight(10, 2, 3, seed=5)  # tall per-frequency matrices (10 x 8)
    dense = dense_circular_operator(weight, stride, (n, n), 1, circular_pad)
    expected = extreme_singular_values(dense)

    derived = paper_formula_singular_values(weight, stride, n, 2 * np.pi / stride, 1 / stride)
    assert derived == pytest.approx(expected, rel=1e-6)

    unscaled = paper_formula_singular_values(weight, stride, n, 2 * np.pi / stride, 1.0)
    assert unscaled[1] == pytest.approx(stride * expected[1], rel=1e-6)
    literal_shift = paper_formula_singular_values(weight, stride, n, np.pi / stride, 1 / stride)
    assert literal_shift[0] != pytest.approx(expected[0], rel=1e-2)
    assert literal_shift[1] != pytest.approx(expected[1], rel=1e-2)


# (C_out, C_in, kernel, stride, input size, padding, groups)
ZERO_PADDED_CASES = [
    (3, 2, 3, 1, 7, 1, 1),
    (4, 2, 4, 2, 9, 1, 1),  # (n + 2p - k) % stride = 1: needs output_padding
    (4, 4, 5, 4, 11, 2, 2),  # output_padding 2, groups 2
    (5, 3, 3, 2, 8, 0, 1),
]


@pytest.mark.parametrize(
    ("c_out", "c_in", "kernel", "stride", "size", "padding", "groups"), ZERO_PADDED_CASES
)
def test_zero_padded_norm_matches_dense_and_is_below_circular_bound(
    c_out, c_in, kernel, stride, size, padding, groups
):
    weight = random_weight(c_out, c_in // groups, kernel, seed=7 * c_out + kernel)
    dense = dense_zero_padded_operator(weight, stride, (size, size), padding, groups)
    expected = torch.linalg.svdvals(dense)

    norm = conv_operator_norm(weight, stride, size, padding, groups, tol=1e-10)
    assert norm == pytest.approx(expected[0].item(), rel=1e-4)
    torch.testing.assert_close(
        conv_operator_singular_values(weight, stride, size, padding, groups), expected
    )

    circular_size = circular_size_for_padded_layer(size, 2 * padding, stride)
    assert all(n % stride == 0 and n >= size + 2 * padding for n in circular_size)
    _, circular_upper = conv_frame_bounds(weight, stride, circular_size, groups)
    assert norm <= circular_upper * (1 + 1e-9)


def test_zero_padded_norm_float32():
    weight = random_weight(6, 3, 3, seed=11)
    dense = dense_zero_padded_operator(weight, 2, (9, 9), 1, 1)
    expected = torch.linalg.svdvals(dense)[0].item()
    assert conv_operator_norm(weight.float(), 2, 9, 1) == pytest.approx(expected, rel=1e-4)


def test_dense_zero_padded_operator_refuses_large_layers():
    with pytest.raises(ValueError, match="max_input_dim"):
        conv_operator_singular_values(random_weight(2, 3, 3, seed=0), 1, 64, 1)


@pytest.mark.parametrize(
    ("stride", "size", "padding", "groups"),
    [(1, 7, 1, 1), (2, 9, 1, 2), (2, 10, 2, 1), (4, 13, 2, 2), (4, 16, 0, 1)],
)
def test_adjoint_is_exact(stride, size, padding, groups):
    generator = torch.Generator().manual_seed(stride * size)
    weight = random_weight(4, 4 // groups, 3 if stride < 4 else 5, seed=size)
    x = torch.randn(2, 4, size, size, generator=generator, dtype=torch.float64)
    forward = F.conv2d(x, weight, None, stride, padding, 1, groups)
    y = torch.randn(forward.shape, generator=generator, dtype=torch.float64)
    adjoint = conv_adjoint(y, weight, stride, size, padding, groups)
    assert adjoint.shape == x.shape
    assert (forward * y).sum().item() == pytest.approx((x * adjoint).sum().item(), rel=1e-12)


@pytest.mark.parametrize("shape", [(30, 7), (7, 30), (12, 12)])
def test_linear_frame_bounds_match_numpy(shape):
    weight = torch.randn(*shape, generator=torch.Generator().manual_seed(sum(shape)))
    expected = np.linalg.svd(weight.double().numpy(), compute_uv=False)
    lower, upper = linear_frame_bounds(weight)
    assert upper == pytest.approx(expected[0], rel=1e-5)
    assert lower == pytest.approx(expected[-1], rel=1e-5)


@pytest.mark.parametrize("shape", [(300, 120), (120, 300)])
def test_linear_operator_norm_matches_svd(shape):
    weight = torch.randn(*shape, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    exact = torch.linalg.svdvals(weight)[0].item()
    estimate = linear_operator_norm(weight)
    assert estimate == pytest.approx(exact, rel=1e-6) and estimate <= exact * (1 + 1e-12)


def test_network_frame_bounds_on_small_sequential():
    torch.manual_seed(0)
    model = nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 4, 3, stride=2),
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(16, 5),
    ).train()

    bounds = network_frame_bounds(model, (3, 12, 12))

    assert model.training
    assert [(row.name, row.kind) for row in bounds.rows] == [
        ("0", "conv"),
        ("3", "conv"),
        ("6", "linear"),
    ]
    assert [row.input_shape for row in bounds.rows] == [(3, 12, 12), (8, 6, 6), (16,)]
    assert [row.output_shape for row in bounds.rows] == [(8, 12, 12), (4, 2, 2), (5,)]
    assert [row.circular_size for row in bounds.rows] == [(14, 14), (6, 6), None]
    expected = [
        conv_frame_bounds(model[0].weight, 1, 14),
        conv_frame_bounds(model[3].weight, 2, 6),
        linear_frame_bounds(model[6].weight),
    ]
    assert [(row.lower, row.upper) for row in bounds.rows] == expected
    assert bounds.lipschitz_upper_bound == pytest.approx(
        math.prod(row.upper for row in bounds.rows)
    )
    assert conv_operator_norm(model[0].weight.detach(), 1, 12, 1) <= bounds.rows[0].upper
    records = json.loads(json.dumps(bounds.to_records()))
    assert records[1]["input_shape"] == [8, 6, 6]
    assert records[2]["circular_size"] is None


def test_original_alexnet_has_table5_layers():
    model = original_alexnet(seed=0)
    layers = {name: m for name, m in model.named_children() if isinstance(m, nn.Conv2d | nn.Linear)}
    assert {name: tuple(m.weight.shape) for name, m in layers.items()} == {
        "conv1": (96, 3, 11, 11),
        "conv2": (256, 48, 5, 5),
        "conv3": (384, 256, 3, 3),
        "conv4": (384, 192, 3, 3),
        "conv5": (256, 192, 3, 3),
        "fc6": (4096, 9216),
        "fc7": (4096, 4096),
        "fc8": (1000, 4096),
    }
    assert model(torch.zeros(1, 3, 227, 227)).shape == (1, 1000)
    assert torch.equal(original_alexnet(seed=0).conv1.weight, model.conv1.weight)
    assert not torch.equal(original_alexnet(seed=1).conv1.weight, model.conv1.weight)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: conv_frame_bounds(torch.randn(2, 3, 3), 1, 8), "rank 4"),
        (lambda: conv_frame_bounds(torch.randn(2, 3, 3, 3), 3, 8), "divisible by the stride"),
        (lambda: conv_frame_bounds(torch.randn(3, 2, 3, 3), 1, 8, groups=2), "divisor"),
        (lambda: conv_frame_bounds(torch.randn(2, 3, 3, 3), 1, 8, boundary="zero"), "circular"),
        (lambda: conv_operator_norm(torch.randn(2, 3, 5, 5), 1, 3), "does not fit"),
        (lambda: linear_frame_bounds(torch.randn(2, 3, 3)), "rank 2"),
    ],
)
def test_bad_input_raises_clear_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()
