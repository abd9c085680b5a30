"""Confidence intervals."""

import math

import numpy as np
import pytest

from intriguing.common.stats import (
    bootstrap_distribution,
    holm,
    mcnemar_exact,
    mean_interval,
    percentile_interval,
    seed_mean_interval,
    spearman_bootstrap,
    wilson_interval,
)


def test_wilson_interval_known_value():
    low, high = wilson_interval(5, 10)
    assert low == pytest.approx(0.2366, abs=1e-4) and high == pytest.approx(0.7634, abs=1e-4)


def test_wilson_interval_reaches_the_boundaries_exactly():
    assert wilson_interval(0, 60000)[0] == 0.0
    assert wilson_interval(7, 7)[1] == 1.0
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_mcnemar_uses_only_the_discordant_pairs():
    first = [True] * 10 + [False] * 90
    second = [True] * 2 + [False] * 98
    test = mcnemar_exact(first, second)
    assert (test.first_only, test.second_only) == (8, 0)
    assert test.p_value == pytest.approx(2 * 0.5**8)  # two-sided binomial, all 8 one way
    assert mcnemar_exact(second, first).p_value == pytest.approx(test.p_value)
    # errors on the same originals: no discordant pair, nothing to tell them apart
    assert mcnemar_exact(first, first) == (0, 0, 1.0)
    with pytest.raises(ValueError, match="same examples"):
        mcnemar_exact(first, second[:50])


def test_holm_steps_down_and_keeps_the_order():
    assert holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []


def test_spearman_bootstrap_is_seeded_and_brackets_rho():
    ours = [0.1, 0.2, 0.3, 0.5, 0.4, 0.9, 0.8, 0.05]
    paper = [0.12, 0.25, 0.2, 0.6, 0.45, 0.85, 0.9, 0.02]
    rho, (low, high) = spearman_bootstrap(ours, paper, 500, seed=3)
    assert low <= rho <= high <= 1
    assert spearman_bootstrap(ours, paper, 500, seed=3) == (rho, (low, high))
    assert spearman_bootstrap([1, 2, 3, 4], [4, 3, 2, 1], 200, 0)[0] == pytest.approx(-1)
    assert math.isnan(spearman_bootstrap([1, 2], [1, 2], 200, 0)[0])
    with pytest.raises(ValueError, match="paired"):
        spearman_bootstrap([1, 2, 3], [1, 2], 200, 0)


def test_bootstrap_draws_each_sample_in_turn_from_the_seeded_generator():
    # the stored intervals were made by drawing these indices directly; scipy must draw the same
    units, other = np.arange(5.0) ** 2, np.arange(7.0)
    generator = np.random.default_rng(3)
    first = units[generator.integers(0, 5, (40, 5))].mean(axis=1)
    second = other[generator.integers(0, 7, (40, 7))].mean(axis=1)

    def difference(a, b, axis):
        return a.mean(axis=axis) - b.mean(axis=axis)

    distribution = bootstrap_distribution((units, other), difference, 40, 3)
    assert distribution.tolist() == (first - second).tolist()


def test_paired_bootstrap_resamples_the_pairs_together():
    x, y = np.arange(6.0), 10 * np.arange(6.0)
    distribution = bootstrap_distribution(
        (x, y), lambda a, b: float(np.all(b == 10 * a)), 50, 0, paired=True, vectorized=False
    )
    assert distribution.tolist() == [1.0] * 50


def test_percentile_interval_leaves_out_undefined_statistics():
    values = np.array([math.nan, *range(101), math.inf])
    assert percentile_interval(values, 0.9) == pytest.approx((5.0, 95.0))
    assert all(map(math.isnan, percentile_interval(np.array([math.nan, math.nan]))))


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
