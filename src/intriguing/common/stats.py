"""Confidence intervals for rates, paired tests of error rates, and multiple-test adjustment."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

#: The level of every interval the pipeline stores (the `*_ci95` keys) and the report states.
CONFIDENCE = 0.95


class McNemar(NamedTuple):
    """An exact McNemar test: the discordant pairs and the two-sided p-value."""

    first_only: int  # examples the first condition gets wrong and the second right
    second_only: int  # the reverse
    p_value: float


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (scipy's); (0, 1) when n = 0."""
    if n == 0:
        return 0.0, 1.0
    from scipy.stats import binomtest  # seconds to import: paid only where an interval is computed

    interval = binomtest(successes, n).proportion_ci(confidence_level=confidence, method="wilson")
    return interval.low, interval.high


def mean_interval(values: list[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Student-t interval for the mean of a few independent values (e.g. runs with other seeds);
    (mean, mean) for a single value, which has no spread to estimate."""
    from statistics import fmean, stdev

    from scipy.stats import t

    mean = fmean(values)
    if len(values) < 2:
        return mean, mean
    half = t.ppf((1 + confidence) / 2, len(values) - 1) * stdev(values) / math.sqrt(len(values))
    return mean - half, mean + half


def mcnemar_exact(first_errors: Sequence[bool], second_errors: Sequence[bool]) -> McNemar:
    """Exact McNemar test of two error rates measured on the same examples: a two-sided binomial
    test of the discordant pairs (first errs alone against second errs alone) at p = 1/2, the
    test that uses the pairing, which two separate intervals ignore."""
    first = np.asarray(first_errors, dtype=bool)
    second = np.asarray(second_errors, dtype=bool)
    if first.shape != second.shape or first.ndim != 1:
        raise ValueError(
            f"McNemar needs two error vectors over the same examples, got {first.shape} and "
            f"{second.shape}"
        )
    first_only = int((first & ~second).sum())
    second_only = int((second & ~first).sum())
    if first_only + second_only == 0:
        return McNemar(first_only, second_only, 1.0)
    from scipy.stats import binomtest

    p_value = binomtest(first_only, first_only + second_only, 0.5).pvalue
    return McNemar(first_only, second_only, float(p_value))


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm's step-down adjustment of a family of p-values, in their given order: the chance of
    any false rejection stays at most alpha. (scipy's false_discovery_control is
    Benjamini–Hochberg, which bounds the false-discovery rate instead.)"""
    order = sorted(range(len(p_values)), key=lambda index: p_values[index])
    adjusted = [0.0] * len(p_values)
    running = 0.0
    for rank, index in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p_values[index]))
        adjusted[index] = running
    return adjusted


def bootstrap_distribution(
    samples: Sequence[np.ndarray],
    statistic: Callable[..., np.ndarray | float],
    resamples: int,
    seed: int,
    *,
    paired: bool = False,
    vectorized: bool = True,
) -> np.ndarray:
    """The statistic over `resamples` bootstrap resamples of the samples (scipy's
    `scipy.stats.bootstrap`, drawn from `numpy.random.default_rng(seed)`: each sample in turn,
    or the pairs together when `paired`). A vectorized statistic takes the samples and `axis`."""
    import warnings

    from scipy.stats import bootstrap

    with warnings.catch_warnings():  # scipy's own interval, unused here, warns on NaN statistics
        warnings.simplefilter("ignore")
        result = bootstrap(
            tuple(samples),
            statistic,
            n_resamples=resamples,
            paired=paired,
            vectorized=vectorized,
            method="percentile",
            rng=np.random.default_rng(seed),
        )
    return np.asarray(result.bootstrap_distribution, dtype=float)


def percentile_interval(
    distribution: np.ndarray, confidence: float = CONFIDENCE
) -> tuple[float, float]:
    """The percentile interval of a bootstrap distribution, its non-finite values (statistics
    undefined on a resample) left out; (NaN, NaN) when none is finite. numpy's percentile rather
    than scipy.stats.bootstrap's interval: scipy's quantile rounds the last bit differently and
    keeps NaN, and the stored intervals must not move."""
    values = distribution[np.isfinite(distribution)]
    if len(values) == 0:
        return math.nan, math.nan
    tail = (1 - confidence) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def spearman_bootstrap(
    first: Sequence[float],
    second: Sequence[float],
    resamples: int,
    seed: int,
    confidence: float = CONFIDENCE,
) -> tuple[float, tuple[float, float]]:
    """Spearman's rank correlation of paired values and a percentile-bootstrap interval over the
    pairs (resampled with replacement; resamples whose ranks are constant have no correlation
    and are dropped). NaN, with a (NaN, NaN) interval, for fewer than three pairs."""
    from scipy.stats import spearmanr

    x, y = np.asarray(first, dtype=float), np.asarray(second, dtype=float)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"Spearman needs paired values, got {x.shape} and {y.shape}")
    if len(x) < 3:
        return math.nan, (math.nan, math.nan)
    rho = float(spearmanr(x, y).statistic)

    def resampled_rho(x_draw: np.ndarray, y_draw: np.ndarray) -> float:
        if np.ptp(x_draw) > 0 and np.ptp(y_draw) > 0:
            return float(spearmanr(x_draw, y_draw).statistic)
        return math.nan

    distribution = bootstrap_distribution(
        (x, y), resampled_rho, resamples, seed, paired=True, vectorized=False
    )
    return rho, percentile_interval(distribution, confidence)


def seed_mean_interval(
    rates: list[float], n: int, confidence: float = CONFIDENCE
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
