"""A network's Conv2d and Linear layers, traced in forward order, and their frame bounds.

Section 4.3 of Szegedy et al. (2013) bounds a network's Lipschitz constant by the product of
its layers' upper frame bounds (Table 5). This module finds each layer and the input size it
sees by a dummy forward pass, and computes its bounds with :mod:`intriguing.spectral.bounds`:
a table of per-layer bounds and their product for a whole model.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch
from torch import Tensor, nn

from intriguing.spectral.bounds import (
    circular_size_for_padded_layer,
    conv_frame_bounds,
    linear_frame_bounds,
)

__all__ = [
    "LayerBounds",
    "NetworkBounds",
    "TracedLayer",
    "layer_frame_bounds",
    "network_frame_bounds",
    "trace_layers",
]


@dataclass(frozen=True)
class TracedLayer:
    """A Conv2d or Linear layer with the shapes it sees in a forward pass (batch dim dropped)."""

    name: str
    module: nn.Conv2d | nn.Linear
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]


def trace_layers(model: nn.Module, input_shape: tuple[int, ...]) -> list[TracedLayer]:
    """Conv2d and Linear layers in forward order, found by hooks on a dummy forward pass.

    Runs torch.zeros(1, *input_shape) through the model in eval mode without gradients (the
    model's train/eval mode is restored afterwards).
    """
    traced: list[TracedLayer] = []

    def make_hook(name: str) -> Callable[..., None]:
        def hook(module: nn.Conv2d | nn.Linear, inputs: tuple[Tensor, ...], output: Tensor) -> None:
            traced.append(
                TracedLayer(name, module, tuple(inputs[0].shape[1:]), tuple(output.shape[1:]))
            )

        return hook

    handles = [
        module.register_forward_hook(make_hook(name))
        for name, module in model.named_modules()
        if isinstance(module, nn.Conv2d | nn.Linear)
    ]
    was_training = model.training
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    try:
        model.eval()
        with torch.no_grad():
            model(torch.zeros(1, *input_shape, device=device))
    finally:
        model.train(was_training)
        for handle in handles:
            handle.remove()
    return traced


def _conv_total_padding(conv: nn.Conv2d) -> tuple[int, int]:
    """Zeros added on both sides together per spatial dim (handles 'same' and 'valid')."""
    if conv.padding_mode != "zeros":
        raise ValueError(f"{conv}: only zero padding is supported, got {conv.padding_mode!r}")
    if conv.dilation != (1, 1):
        raise ValueError(f"{conv}: dilation {conv.dilation} is not supported")
    if conv.padding == "same":
        return conv.kernel_size[0] - 1, conv.kernel_size[1] - 1
    if conv.padding == "valid":
        return (0, 0)
    return 2 * conv.padding[0], 2 * conv.padding[1]


@dataclass(frozen=True)
class LayerBounds:
    """One row of a frame-bound table (shapes without the batch dim).

    circular_size is the periodic grid a conv layer's bounds were computed on (None for
    linear layers).
    """

    name: str
    kind: str
    weight_shape: tuple[int, ...]
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    circular_size: tuple[int, int] | None
    lower: float
    upper: float


def layer_frame_bounds(layer: TracedLayer) -> LayerBounds:
    """Frame bounds of one traced Conv2d or Linear layer.

    Conv2d: circular bounds on the padded input grid rounded up to a multiple of the stride
    (circular_size_for_padded_layer), so the upper bound is a valid bound for the real
    zero-padded layer while the lower bound is the paper's Fourier-domain (circular) one,
    not a lower bound of the zero-padded layer. Linear: exact SVD bounds.
    """
    module = layer.module
    if isinstance(module, nn.Linear):
        kind, size = "linear", None
        lower, upper = linear_frame_bounds(module.weight)
    else:
        kind = "conv"
        size = circular_size_for_padded_layer(
            layer.input_shape[-2:], _conv_total_padding(module), module.stride
        )
        lower, upper = conv_frame_bounds(module.weight, module.stride, size, module.groups)
    return LayerBounds(
        name=layer.name,
        kind=kind,
        weight_shape=tuple(module.weight.shape),
        input_shape=layer.input_shape,
        output_shape=layer.output_shape,
        circular_size=size,
        lower=lower,
        upper=upper,
    )


@dataclass(frozen=True)
class NetworkBounds:
    """Per-layer frame bounds and their product.

    lipschitz_upper_bound = prod(upper) bounds the network's Lipschitz constant (l2 to l2)
    when every other layer is 1-Lipschitz: ReLU, sigmoid (1/4), tanh, dropout in eval,
    flatten, and max-pooling with non-overlapping windows. Overlapping max-pooling (AlexNet's
    3x3 stride 2) can expand distances by up to sqrt(windows per input) = 2, and local
    response normalisation is not accounted for; like the paper, the product ignores them.
    """

    rows: list[LayerBounds]
    lipschitz_upper_bound: float

    def to_records(self) -> list[dict]:
        """Rows as JSON-ready dicts (tuples become lists)."""
        return [
            {key: list(value) if isinstance(value, tuple) else value for key, value in row.items()}
            for row in map(asdict, self.rows)
        ]


def network_frame_bounds(model: nn.Module, input_shape: tuple[int, ...]) -> NetworkBounds:
    """Frame bounds of every Conv2d and Linear layer of model, in forward order.

    input_shape excludes the batch dimension, e.g. (3, 224, 224). Each layer's input size
    comes from a dummy forward pass (trace_layers); see layer_frame_bounds for what the
    bounds of conv layers mean.
    """
    rows = [layer_frame_bounds(layer) for layer in trace_layers(model, input_shape)]
    return NetworkBounds(rows, math.prod(row.upper for row in rows))
