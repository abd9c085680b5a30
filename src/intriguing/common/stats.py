"""Confidence intervals for rates."""

from __future__ import annotations

import math


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (scipy's); (0, 1) when n = 0."""
    if n == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest  # seconds to import: paid only where an interval is computed

    interval = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return interval.low, interval.high


def mean_interval(values: list[float], confidence: float = 0.95) -> tuple[float, float]:
    """Student-t interval for the mean of a few independent values (e.g. runs with other seeds);
    (mean, mean) for a single value, which has no spread to estimate."""
    from statistics import fmean, stdev

    from scipy.stats import t

    mean = fmean(values)
    if len(values) < 2:
        return mean, mean
    half = t.ppf((1 + confidence) / 2, len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return mean - half, mean + half


def seed_mean_interval(
    rates: list[float], n: int, confidence: float = 0.95
) -> tuple[float, float, float]:
    """(seed mean, low, high) of a rate measured once per replicate (networks trained from
    independent seeds) on the same n examples.

    Two independent sources of spread, added in quadrature (variances add), each side apart:
    the seeds' (the Student-t interval over the replicates, :func:`mean_interval`) and the n
    examples' (the Wilson interval of the seed mean, its count rounded to a whole example). The
    replicates share the examples, so their spread cannot show the second; the Wilson term keeps
    the interval honest when the replicates agree (a 100% diagonal) or are few. One replicate
    gives exactly its Wilson interval. Clipped to [0, 1]."""
    from statistics import fmean

    mean = fmean(rates)
    seed_low, seed_high = mean_interval(rates, confidence)
    sample_low, sample_high = wilson_interval(round(mean * n), n, confidence)
    low = mean - math.hypot(mean - seed_low, mean - sample_low)
    high = mean + math.hypot(seed_high - mean, sample_high - mean)
    return mean, max(low, 0.0), min(high, 1.0)
