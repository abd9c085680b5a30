"""The model registry's specs and the one function that builds a model from a spec.

Every model maps images (N, 1, 28, 28) with pixels in [0, 1] to logits (N, 10), and keeps its
weight layers in forward order in ``weight_layers`` so that the paper's per-layer weight decay,
the spectral analysis and the attacks can walk it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import nn

INPUT_SHAPE = (1, 28, 28)
NUM_CLASSES = 10
ACTIVATIONS: dict[str, type[nn.Module]] = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry of params.yaml (`models.<name>`)."""

    name: str
    arch: str
    weight_decay: tuple[float, ...]
    train_set: str
    optimizer: str
    hidden: tuple[int, ...] = ()
    activation: str = "sigmoid"

    @classmethod
    def from_params(cls, name: str, entry: dict[str, Any]) -> ModelSpec:
        return cls(
            name=name,
            arch=entry["arch"],
            weight_decay=tuple(float(v) for v in entry["weight_decay"]),
            train_set=entry["train_set"],
            optimizer=entry["optimizer"],
            hidden=tuple(int(v) for v in entry.get("hidden", ())),
            activation=entry.get("activation", "sigmoid"),
        )

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["weight_decay"] = list(self.weight_decay)
        data["hidden"] = list(self.hidden)
        return data


class Classifier(nn.Module):
    """A feed-forward classifier: `features` (anything) then the listed weight layers."""

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
    if spec.arch != "mlp":
        raise ValueError(f"model {spec.name}: unknown architecture {spec.arch!r}; allowed: ['mlp']")
    if spec.activation not in ACTIVATIONS:
        raise ValueError(
            f"model {spec.name}: unknown activation {spec.activation!r}; "
            f"allowed: {sorted(ACTIVATIONS)}"
        )
    sizes = [int(torch.tensor(INPUT_SHAPE).prod()), *spec.hidden, NUM_CLASSES]
    layers: list[nn.Module] = [nn.Flatten()]
    for position, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(fan_in, fan_out))
        if position < len(sizes) - 2:
            layers.append(ACTIVATIONS[spec.activation]())
    model = Classifier(nn.Sequential(*layers))
    if len(model.weight_layers) != len(spec.weight_decay):
        raise ValueError(
            f"model {spec.name}: {len(spec.weight_decay)} weight-decay values for "
            f"{len(model.weight_layers)} weight layers"
        )
    return model


def weight_decay_penalty(model: Classifier, lambdas: tuple[float, ...]) -> torch.Tensor:
    """The paper's decay: Σ_layers λ·Σw²/k, k = the layer's number of units (outputs).

    Only connection weights are decayed, not biases.
    """
    total = torch.zeros((), device=next(model.parameters()).device)
    for layer, lam in zip(model.weight_layers, lambdas, strict=True):
        units = layer.weight.shape[0]
        total = total + lam * layer.weight.pow(2).sum() / units
    return total


class CheckpointMismatch(ValueError):
    """A model file that was not built from the spec params.yaml now gives."""


def save_checkpoint(path: str, model: Classifier, spec: ModelSpec, provenance: dict) -> None:
    """Save weights, the spec they were built from, and how they were trained, atomically."""
    from intriguing.io import atomic_path

    payload = {"state_dict": model.state_dict(), "spec": spec.to_dict(), "provenance": provenance}
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)


def load_checkpoint(
    path: str, expected: ModelSpec, device: torch.device | str = "cpu"
) -> tuple[Classifier, dict]:
    """Load a model, refusing a file whose stored spec differs from `expected`."""
    payload = torch.load(path, map_location=device, weights_only=True)
    stored = payload.get("spec") if isinstance(payload, dict) else None
    if stored != expected.to_dict():
        raise CheckpointMismatch(
            f"{path}: built from spec {stored}, but params.yaml now gives {expected.to_dict()}; "
            "retrain it (delete the file or rerun the train rule)"
        )
    model = build_model(expected).to(device)
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model, payload["provenance"]
