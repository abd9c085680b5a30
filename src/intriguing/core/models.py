"""The model registry's specs and the one function that builds a model from a spec.

Every model maps images (N, 1, 28, 28) with pixels in [0, 1] to logits (N, 10), and keeps its
weight layers in forward order in ``weight_layers`` so that the paper's per-layer weight decay,
the spectral analysis and the attacks can walk it.
"""

from __future__ import annotations

import torch
from torch import nn

# The specs are torch-free (the Snakefile checks params.yaml with them); they are imported
# from here by the code that builds models.
from intriguing.plan.choices import ACTIVATION_MODULES, DECAY_READINGS
from intriguing.plan.specs import INPUT_SHAPE, NUM_CLASSES, ModelSpec

ACTIVATIONS: dict[str, type[nn.Module]] = {
    name: getattr(nn, module) for name, module in ACTIVATION_MODULES.items()
}


class Classifier(nn.Module):
    """A feed-forward classifier; its weight layers in forward order are `weight_layers`."""

    def __init__(self, layers: nn.Sequential) -> None:
        super().__init__()
        self.layers = layers

    @property
    def weight_layers(self) -> list[nn.Module]:
        return [m for m in self.layers if isinstance(m, nn.Linear | nn.Conv2d)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def build_model(spec: ModelSpec) -> Classifier:
    """Build the untrained network a spec describes (weights from torch's default init)."""
    if spec.activation not in ACTIVATIONS:
        raise ValueError(
            f"model {spec.name}: unknown activation {spec.activation!r}; "
            f"allowed: {sorted(ACTIVATIONS)}"
        )
    if len(spec.weight_decay) != spec.decayed_layer_count:
        raise ValueError(
            f"model {spec.name}: {len(spec.weight_decay)} weight-decay values for "
            f"{spec.decayed_layer_count} weight layers"
        )
    activation = ACTIVATIONS[spec.activation]
    layers: list[nn.Module] = []
    width = INPUT_SHAPE[1]
    if spec.arch == "conv":
        layers += [nn.Conv2d(INPUT_SHAPE[0], spec.conv_channels, spec.conv_kernel), activation()]
        width = (width - spec.conv_kernel + 1) // spec.pool
        layers.append(nn.MaxPool2d(spec.pool))
        fan_in = spec.conv_channels * width * width
    else:
        fan_in = INPUT_SHAPE[0] * width * width
    layers.append(nn.Flatten())
    if spec.input_dropout > 0:
        layers.append(nn.Dropout(spec.input_dropout))
    for units in spec.hidden:
        layers += [nn.Linear(fan_in, units), activation()]
        if spec.dropout > 0:
            layers.append(nn.Dropout(spec.dropout))
        fan_in = units
    layers.append(nn.Linear(fan_in, NUM_CLASSES))
    return Classifier(nn.Sequential(*layers))


def constrain_norms(model: Classifier, max_norm: float | None) -> None:
    """Rescale, in place, every unit's incoming weight vector whose L2 norm exceeds `max_norm`
    (None: no constraint), the max-norm regulariser that accompanies dropout (Srivastava et al.
    2014, Section 5.1); called after each optimiser step."""
    if max_norm is None:
        return
    with torch.no_grad():
        for layer in model.weight_layers:
            rows = layer.weight.flatten(1)
            norms = rows.norm(dim=1, keepdim=True)
            rows.mul_((max_norm / norms.clamp_min(1e-12)).clamp(max=1.0))


def decay_coefficient(lam: float, units: int, reading: str) -> float:
    """The per-weight coefficient α of a layer with `units` outputs, the penalty being α·Σw².

    `reading` is one of ``DECAY_READINGS``: ``mean_example`` α = λ/k (the decay added to the
    cross-entropy averaged over examples); ``mean_output`` α = λ·NUM_CLASSES/k (added to the
    cross-entropy averaged over examples × outputs, the objective then scaled by NUM_CLASSES so
    that its data term stays the mean cross-entropy); ``half_mean_output`` half of that, the ½
    of ½λΣw².
    """
    if reading == "mean_example":
        return lam / units
    if reading == "mean_output":
        return lam * NUM_CLASSES / units
    if reading == "half_mean_output":
        return lam * NUM_CLASSES / (2 * units)
    raise ValueError(f"unknown weight-decay reading {reading!r}; allowed: {DECAY_READINGS}")


def weight_decay_penalty(
    model: Classifier, lambdas: tuple[float, ...], reading: str
) -> torch.Tensor:
    """The paper's decay: Σ_layers α·Σw², α = `decay_coefficient` of the layer's λ and units.

    Only connection weights are decayed, not biases; `lambdas` pair with the model's last
    weight layers (a frozen pretrained encoder before them carries none).
    """
    layers = model.weight_layers[len(model.weight_layers) - len(lambdas) :]
    total = torch.zeros((), device=next(model.parameters()).device)
    for layer, lam in zip(layers, lambdas, strict=True):
        alpha = decay_coefficient(lam, layer.weight.shape[0], reading)
        total = total + alpha * layer.weight.pow(2).sum()
    return total


class CheckpointMismatch(ValueError):
    """A model file that was not built from the spec params.yaml now gives."""


def save_checkpoint(path: str, model: Classifier, spec: ModelSpec, provenance: dict) -> None:
    """Save weights, the spec they were built from, and how they were trained, atomically.

    The weights are stored as CPU tensors, so that a file made on a GPU loads on a machine
    without one, with or without ``map_location``."""
    from intriguing.common.files import save_torch

    state = {key: value.detach().cpu() for key, value in model.state_dict().items()}
    payload = {"state_dict": state, "spec": spec.to_dict(), "provenance": provenance}
    save_torch(path, payload)


def load_checkpoint(
    path: str, expected: ModelSpec, device: torch.device | str = "cpu"
) -> tuple[Classifier, dict]:
    """Load a model, refusing a file whose stored spec differs from `expected`."""
    payload = torch.load(path, map_location=device, weights_only=True)
    stored = payload.get("spec") if isinstance(payload, dict) else None
    if not isinstance(stored, dict) or ModelSpec.with_defaults(stored) != expected.to_dict():
        raise CheckpointMismatch(
            f"{path}: built from spec {stored}, but params.yaml now gives {expected.to_dict()}; "
            "retrain it (delete the file or rerun the train rule)"
        )
    model = build_model(expected).to(device)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, payload["provenance"]
