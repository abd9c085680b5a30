"""How the report and the figures name where a network's weights came from (torch-free, so the
report can use it without loading the spectral code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NOT_COMPARABLE = "not comparable to Table 5"


@dataclass(frozen=True)
class Weights:
    """Where a network's weights came from.

    source: `random`, `file`, `torchvision_download` (AlexNets) or `checkpoint` (MNIST models);
    fallback: why the source asked for was not used (None when it was).
    """

    source: str
    detail: str
    fallback: str | None = None

    def phrase(self) -> str:
        return {
            "random": "random weights",
            "file": "weights from a local file",
            "torchvision_download": "torchvision's IMAGENET1K_V1 weights",
            "checkpoint": "trained weights",
        }[self.source]


def weights_label(result: dict[str, Any]) -> str:
    """How the report and the figure name a network's rows, e.g. 'random weights — not
    comparable to Table 5'."""
    phrase = Weights(result["weights"], result["weights_detail"]).phrase()
    if result.get("table5_caveats"):
        return f"{phrase} — {NOT_COMPARABLE}"
    return phrase
