"""The Table 5 verdict of the report's spectral section."""

import pytest

from intriguing.report.spectral import table5_verdict
from intriguing.report.verdicts import TABLE5_FACTOR


def alexnet(uppers: list[float], caveats: list[str] | None = None) -> dict:
    return {
        "network": "alexnet_original",
        "weights": "random" if caveats else "trained",
        "table5_caveats": caveats or [],
        "rows": [{"layer": f"layer{i}", "upper": upper} for i, upper in enumerate(uppers)],
    }


PAPER = [{"upper": 2.0}, {"upper": 4.0}, {"upper": 10.0}]


@pytest.mark.parametrize(
    ("uppers", "opening"),
    [
        ([2.0 * TABLE5_FACTOR, 4.0 / TABLE5_FACTOR, 10.0], "**Reproduced**: 3 of 3"),
        ([2.0, 4.0 * TABLE5_FACTOR * 1.01, 10.0], "**Partly reproduced**: 2 of 3"),
        ([2.0, 40.0, 100.0], "**Not reproduced**: 1 of 3"),
    ],
)
def test_upper_bounds_agree_within_the_factor_either_way(uppers, opening):
    sentence = table5_verdict(alexnet(uppers), PAPER)
    assert sentence.startswith(opening)
    assert f"within a factor of {TABLE5_FACTOR:g}" in sentence


def test_random_weights_are_not_comparable():
    sentence = table5_verdict(alexnet([2.0, 4.0, 10.0], ["random weights"]), PAPER)
    assert sentence.startswith("**Not comparable: random weights.**")
