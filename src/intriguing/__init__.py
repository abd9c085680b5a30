"""Reproduction of Szegedy et al. 2013, "Intriguing properties of neural networks".

The calls a researcher makes on a model of their own are importable from here (docs/api.md):
``from intriguing import minimal_adversarial, conv_frame_bounds``. They are loaded on first use,
so importing the package (as the Snakefile does) costs nothing; where each lives is the
library's business, and tests/unit/test_public_api.py pins the list.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

#: Public name -> the module that defines it.
_EXPORTS = {
    # the minimal-distortion attack (Section 4.1) and its targets
    "AttackResult": "intriguing.core.attack",
    "choose_targets": "intriguing.core.attack",
    "minimal_adversarial": "intriguing.core.attack",
    "minimal_adversarial_closest": "intriguing.core.attack",
    # the exact minimum of a linear (softmax) model, a convex QP: the attack's certificate
    "exact_minimal_distortion": "intriguing.core.exact",
    "linear_map": "intriguing.core.exact",
    # distortion, Table 4's amplification, Gaussian noise
    "amplify": "intriguing.core.distortion",
    "distortion": "intriguing.core.distortion",
    "gaussian_noise": "intriguing.core.distortion",
    # predictions and error rates, on adversarial sets of other models or on noise (Tables 2, 4)
    "count_errors": "intriguing.core.evaluation",
    "error_rate": "intriguing.transfer.tables",
    "predict": "intriguing.core.evaluation",
    # frame bounds (Table 5)
    "conv_frame_bounds": "intriguing.spectral.bounds",
    "linear_frame_bounds": "intriguing.spectral.bounds",
    "network_frame_bounds": "intriguing.spectral.layers",
    # single units against random directions (Section 3)
    "UnitsOptions": "intriguing.units.network",
    "analyse_directions": "intriguing.units.network",
    "layer_activations": "intriguing.units.directions",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'intriguing' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
