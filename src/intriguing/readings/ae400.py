"""The AE400 variants put to the test (ledger entry `ae400_pretraining`).

Our AE400 fits its training set less closely than the paper's (train error 1.9% against
0.57%). Each variant changes one choice the paper leaves open (the top softmax's stopping
rule, the autoencoder phase's length, the decoder's output) and is refitted with the default's
seed, so that its train and test errors can be set beside the default's and the paper's.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from intriguing.core import mnist
from intriguing.core.models import ModelSpec
from intriguing.readings.refit import refit

#: The registry model the variants change.
BASE_MODEL = "ae400"


def variant_spec(base: dict[str, Any], overrides: dict[str, Any]) -> ModelSpec:
    """models.ae400 with a variant's `overrides` merged on; it keeps the name `ae400`, hence
    the default's seed (fit_model derives it from the name)."""
    if not overrides:
        raise ValueError("an AE400 variant must change at least one option of models.ae400")
    return ModelSpec.from_params(BASE_MODEL, {**base, **overrides})


def measure_variant(
    variant: str,
    base: dict[str, Any],
    overrides: dict[str, Any],
    data: mnist.Mnist,
    split: dict[str, np.ndarray],
    options: dict[str, Any],
    limits: dict[str, int | None],
    seed: int,
    device: torch.device,
) -> dict[str, Any]:
    """Refit one variant; its train and test errors and how its training stopped."""
    spec = variant_spec(base, overrides)
    _, measured = refit(spec, data, split, options, limits, seed, device)
    return {"model": BASE_MODEL, "variant": variant, "options": overrides, **measured}


def variants_summary(
    default: dict[str, Any], variants: list[dict[str, Any]], reference: dict[str, Any]
) -> dict[str, Any]:
    """The default AE400 (the train stage's metrics), every variant and the paper's Table 1
    row: what reports/metrics/readings/ae400.json holds and the Readings section renders."""
    paper = reference["table1"][BASE_MODEL]
    keys = ("train_error", "train_error_ci95", "test_error", "test_error_ci95")
    return {
        "model": BASE_MODEL,
        "paper": {"train_error": paper["train_error"], "test_error": paper["test_error"]},
        "default": {key: default[key] for key in keys},
        "variants": variants,
    }
