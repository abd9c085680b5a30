"""Confidence intervals."""

import pytest

from intriguing.common.stats import wilson_interval


def test_wilson_interval_known_value():
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)


def test_wilson_interval_reaches_the_boundaries_exactly():
    assert wilson_interval(0, 60000)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)
