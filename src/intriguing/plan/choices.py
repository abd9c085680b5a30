"""The closed sets of values and the value ranges params.yaml allows, defined once.

The library checks its options against these; the JSON schema Snakemake validates params.yaml
with (workflow/schemas/params.schema.yaml) must stay a static file, so it repeats them, and
tests/unit/plan/test_choices.py fails when the two differ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: `profile`: which block under `profiles` sets the scale.
PROFILES = ("smoke", "default", "full")
#: `device`: `auto` is CUDA when torch finds it, else the CPU.
DEVICES = ("auto", "cpu", "cuda")

#: `models.<m>.arch`.
ARCHITECTURES = ("mlp", "autoencoder", "conv")
#: `models.<m>.activation` and the torch.nn modules they stand for.
ACTIVATION_MODULES = {"sigmoid": "Sigmoid", "relu": "ReLU", "tanh": "Tanh"}
ACTIVATIONS = tuple(ACTIVATION_MODULES)
#: `models.<m>.train_set`: all training images or one of the disjoint halves P1, P2.
TRAIN_SETS = ("all", "p1", "p2")
#: `models.<m>.optimizer`.
OPTIMIZERS = ("lbfgs", "adam", "adam_lbfgs")
#: `models.<m>.decoder`: the autoencoder's reconstruction outputs.
DECODERS = ("sigmoid", "linear")

# The readings of the paper's "λ Σ w_i²/k added to the total loss, where k is the number of
# units in the layer" (the ledger, reference/readings.yaml, entry `decay_normalisation`): the
# total loss is the cross-entropy averaged over the examples (a per-weight coefficient λ/k) or
# over the examples × output units (equivalently, a per-weight coefficient λ·NUM_CLASSES/k), or
# the latter with the usual ½ of ½λΣw² (λ·NUM_CLASSES/(2k)).
#: `train.decay_reading`.
DECAY_READINGS = ("mean_output", "mean_example", "half_mean_output")

#: `adversarial.target_policy`: a uniform random wrong label (seeded), (y + 1) mod 10, or the
#: wrong label that needs the least distortion.
TARGET_POLICIES = ("random", "next", "closest")
#: `advtrain.pool.target_policy`: a random wrong label, or the wrong label with the highest logit
#: at the perturbed level (a one-pass stand-in for the closest target).
POOL_TARGET_POLICIES = ("random", "runner_up")

#: The attack's `temperature_scale`, what its loss temperature is measured in: ``none``, the
#: logits' own units (T = temperature for every example); ``logit_std``, the spread of the
#: example's clean logits (T = temperature times the standard deviation over classes of
#: model(x0)), which makes the loss, and so the attack's minimisers, the same for a model whose
#: logits are a·z + b for any a > 0.
TEMPERATURE_SCALES = ("none", "logit_std")


@dataclass(frozen=True)
class Interval:
    """The values a numeric setting allows: between `low` and `high` (None: unbounded), each end
    included or not; `integer` for a count. `nullable`: None (the setting is off) is allowed."""

    low: float | None
    high: float | None = None
    low_included: bool = True
    high_included: bool = True
    integer: bool = False
    nullable: bool = False

    def __str__(self) -> str:
        low = "-∞" if self.low is None else f"{self.low:g}"
        high = "∞" if self.high is None else f"{self.high:g}"
        opening = "[" if self.low_included and self.low is not None else "("
        closing = "]" if self.high_included and self.high is not None else ")"
        return f"{opening}{low}, {high}{closing}"

    def contains(self, value: float | None) -> bool:
        if value is None:
            return self.nullable
        if self.integer and not float(value).is_integer():
            return False
        if math.isnan(value):
            return False
        above = self.low is None or (value >= self.low if self.low_included else value > self.low)
        below = self.high is None or (
            value <= self.high if self.high_included else value < self.high
        )
        return above and below

    def check(self, name: str, value: float | None) -> None:
        """Refuse a value outside the interval, naming the setting."""
        if not self.contains(value):
            allowed = f"{'an integer' if self.integer else 'a number'} in {self}"
            raise ValueError(
                f"{name} must be {allowed}{' or None' if self.nullable else ''}, got {value!r}"
            )


#: The adversarial pool's settings (`advtrain.pool`, `advtrain.pool_overrides.<m>`, the
#: profiles' `advtrain.pool_size`) and the values each allows.
POOL_RANGES = {
    "replace_fraction": Interval(0, 1, low_included=False),
    "mix_ratio": Interval(0, 1, low_included=False, high_included=False),
    "refreshes_per_epoch": Interval(1, integer=True),
    "warmup_epochs": Interval(0, integer=True),
    "distortion_scale": Interval(0, low_included=False),
    "max_distortion": Interval(0, low_included=False, nullable=True),
    "pool_size": Interval(1, integer=True),
}
#: The level of a pool that perturbs the input (`advtrain.pool_levels.<m>`; level k >= 1 is the
#: output of hidden layer k, plan.specs.pool_level_error checks the model has it).
INPUT_LEVEL = 0
