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
