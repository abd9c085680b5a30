"""Confidence intervals."""

import pytest

from intriguing.common.stats import mean_interval, seed_mean_interval, wilson_interval


def test_wilson_interval_known_value():
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)


def test_wilson_interval_reaches_the_boundaries_exactly():
    assert wilson_interval(0, 60000)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_one_replicate_gives_its_wilson_interval():
    mean, low, high = seed_mean_interval([0.3], 100)
    assert mean == 0.3
    assert (low, high) == pytest.approx(wilson_interval(30, 100))


def test_agreeing_replicates_keep_the_wilson_interval_of_the_shared_examples():
    mean, low, high = seed_mean_interval([1.0, 1.0, 1.0], 1000)
    assert mean == 1.0 and high == 1.0
    assert low == pytest.approx(wilson_interval(1000, 1000)[0])


def test_seed_spread_widens_the_interval_beyond_either_source():
    rates = [0.20, 0.30, 0.25]
    mean, low, high = seed_mean_interval(rates, 1000)
    seed_low, seed_high = mean_interval(rates)
    sample_low, sample_high = wilson_interval(250, 1000)
    assert mean == pytest.approx(0.25)
    assert low < min(seed_low, sample_low) and high > max(seed_high, sample_high)
    assert 0.0 <= low and high <= 1.0
