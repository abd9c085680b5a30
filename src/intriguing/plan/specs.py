"""What Snakemake needs to plan the workflow, without torch.

The Snakefile validates params.yaml and names its jobs from these at every invocation (each DVC
stage, each cluster job, each dry run); importing torch there would cost every one of them
seconds. The registry's model specs, the levels a pool may perturb, the spectral analysis's
AlexNets, the unit analysis's figure kinds and a job's determinism environment live here; the
torch code (intriguing.core.models, .adversarial_training, .spectral_analysis, .units_analysis,
.runtime) uses the same definitions.
"""

from __future__ import annotations

import re
from dataclasses import MISSING, asdict, dataclass, fields
from typing import Any

from intriguing.plan.choices import ACTIVATION_MODULES, ARCHITECTURES, INPUT_LEVEL

INPUT_SHAPE = (1, 28, 28)
NUM_CLASSES = 10


@dataclass(frozen=True)
class ModelSpec:
    """One registry entry of params.yaml (`models.<name>`).

    `weight_decay` holds one λ per weight layer trained by the supervised phase, in forward
    order: for `mlp` the hidden layers and the output layer; for `conv` the convolution, the
    hidden fully connected layers and the output layer; for `autoencoder` only the softmax on
    top (the encoder is trained first, without labels, and then frozen).

    `dropout` drops units of every fully connected hidden layer's output (for `conv`, its
    hidden fully connected layers, not the convolution), `input_dropout` input pixels; both
    only in training. `max_norm` (None: none) caps the L2 norm of every unit's incoming weight
    vector after each step of a mini-batch optimiser, the companion of dropout in Srivastava et
    al. 2014 (:func:`intriguing.core.models.constrain_norms`).

    For `autoencoder` only (the AE400 variants of the ledger entry `ae400_pretraining`):
    `decoder` is the reconstruction's output, `sigmoid` or `linear` (UFLDL's "linear decoder");
    `pretrain_min_epochs` epochs of the autoencoder run before its relative-change stop may end
    it (capped by the profile's `pretrain_epochs`); `top_tolerance_relative` (None: the
    run's `train.tolerance_relative`) stops the top softmax's L-BFGS, 0 only on torch's own
    tolerances or the iteration budget.
    """

    name: str
    arch: str
    weight_decay: tuple[float, ...]
    train_set: str
    optimizer: str
    hidden: tuple[int, ...] = ()
    activation: str = "sigmoid"
    dropout: float = 0.0
    input_dropout: float = 0.0
    max_norm: float | None = None
    conv_channels: int = 0
    conv_kernel: int = 0
    pool: int = 0
    sparsity_target: float = 0.0
    sparsity_weight: float = 0.0
    autoencoder_decay: float = 0.0
    decoder: str = "sigmoid"
    pretrain_min_epochs: int = 0
    top_tolerance_relative: float | None = None

    @classmethod
    def from_params(cls, name: str, entry: dict[str, Any]) -> ModelSpec:
        values = dict(entry)
        values["weight_decay"] = tuple(float(v) for v in entry["weight_decay"])
        values["hidden"] = tuple(int(v) for v in entry.get("hidden", ()))
        unknown = set(values) - {f.name for f in fields(cls)}
        if unknown:
            raise ValueError(f"model {name}: unknown keys {sorted(unknown)}")
        return cls(name=name, **values)

    @classmethod
    def with_defaults(cls, stored: dict[str, Any]) -> dict[str, Any]:
        """A stored spec dict completed with the defaults of fields added after it was saved."""
        defaults = {f.name: f.default for f in fields(cls) if f.default is not MISSING}
        return {**defaults, **stored}

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["weight_decay"] = list(self.weight_decay)
        data["hidden"] = list(self.hidden)
        return data

    def describe(self) -> str:
        """The architecture in one line, e.g. `784 → 100 → 100 → 10 (sigmoid)`."""
        if self.arch == "conv":
            head = (
                f"conv {self.conv_channels}×{self.conv_kernel}×{self.conv_kernel} → "
                f"{self.activation} → max-pool {self.pool}"
            )
        elif self.arch == "autoencoder":
            head = f"784 → {self.hidden[0]} (sparse autoencoder, frozen)"
        else:
            head = "784"
        hidden = [str(units) for units in (self.hidden if self.arch != "autoencoder" else ())]
        if self.input_dropout:
            head = f"{head} → dropout {self.input_dropout}"
        if self.dropout:
            hidden = [f"{units} → dropout {self.dropout}" for units in hidden]
        tail = " → ".join([head, *hidden, "10 softmax"])
        if self.max_norm is not None:
            tail = f"{tail}, max-norm {self.max_norm:g}"
        return f"{tail} ({self.activation})" if self.arch == "mlp" and self.hidden else tail

    def hidden_layer_kinds(self) -> list[tuple[str, str]]:
        """(weight layer, activation) module names of the hidden layers build_model makes."""
        activation = ACTIVATION_MODULES.get(self.activation, self.activation)
        convolution = [("Conv2d", activation)] if self.arch == "conv" else []
        return convolution + [("Linear", activation)] * len(self.hidden)

    @property
    def decayed_layer_count(self) -> int:
        """How many weight layers the supervised phase trains (and decays)."""
        if self.arch == "mlp":
            return len(self.hidden) + 1
        if self.arch == "autoencoder":
            return 1
        if self.arch == "conv":
            return len(self.hidden) + 2
        raise ValueError(
            f"model {self.name}: unknown architecture {self.arch!r}; allowed: {ARCHITECTURES}"
        )


def pool_level_error(hidden_layer_kinds: list[tuple[str, str]], level: int) -> str | None:
    """Why a pool cannot perturb ``level`` of a model with these hidden layers (None: it can).

    Level k >= 1 is the output of the k-th hidden layer, which must be a fully connected
    sigmoid layer: its outputs lie in [0, 1], the box the attack needs.
    """
    count = len(hidden_layer_kinds)
    if not 0 <= level <= count:
        return (
            f"level {level}: the model has {count} hidden layers; allowed levels: "
            f"0 (input) to {count}"
        )
    if level == INPUT_LEVEL:
        return None
    layer, activation = hidden_layer_kinds[level - 1]
    if layer != "Linear" or activation != "Sigmoid":
        return (
            f"level {level}: perturbing a layer output needs a fully connected sigmoid layer "
            f"(outputs in [0, 1]); got {layer} + {activation}"
        )
    return None


@dataclass(frozen=True)
class AlexNetForm:
    """One of the two AlexNets the spectral analysis knows."""

    description: str
    input_size: int


ALEXNETS: dict[str, AlexNetForm] = {
    "alexnet_torchvision": AlexNetForm(
        "torchvision.models.alexnet: the one-GPU variant (conv channels 64-192-384-256-256)", 224
    ),
    "alexnet_original": AlexNetForm(
        "Krizhevsky et al. (2012) as in Table 5: two-GPU grouped convolutions "
        "(conv channels 96-256-384-384-256)",
        227,
    ),
}

#: The unit analysis's figures per network: units, random directions, their coherence.
UNITS_FIGURE_KINDS = ("natural", "random", "coherence")

#: The file-name suffix of a model's replicate r >= 1 ("n100_rep1"); replicate 0 keeps the
#: model's own name, so its paths and seed are those of a run without replicates.
REPLICATE_SUFFIX = "_rep"
_REPLICATE_NAME = re.compile(rf"^(?P<model>.+){REPLICATE_SUFFIX}(?P<replicate>[1-9][0-9]*)$")


def replicate_name(model: str, replicate: int) -> str:
    """The name of a model's replicate (a network trained from its own seed): the model's name
    for replicate 0, `<model>_rep<r>` for the others."""
    if replicate < 0:
        raise ValueError(f"model {model}: replicate {replicate} < 0")
    return model if replicate == 0 else f"{model}{REPLICATE_SUFFIX}{replicate}"


def split_replicate(name: str) -> tuple[str, int]:
    """(model, replicate) of a replicate's name: the inverse of :func:`replicate_name`."""
    match = _REPLICATE_NAME.match(name)
    return (match["model"], int(match["replicate"])) if match else (name, 0)


def replicate_names(models: list[str], replicated: list[str], count: int) -> list[str]:
    """Every network to train: `count` replicates of each replicated model, one of the others."""
    return [
        replicate_name(model, replicate)
        for model in models
        for replicate in range(count if model in replicated else 1)
    ]


def replicate_members(models: list[str], replicated: list[str], count: int) -> list[dict[str, str]]:
    """Per replicate r, each model's network: a replicated model's r-th, the others' only one.
    One replicate when none of `models` is replicated (the others would repeat it)."""
    rounds = count if any(model in replicated for model in models) else 1
    return [
        {model: replicate_name(model, r if model in replicated else 0) for model in models}
        for r in range(rounds)
    ]
