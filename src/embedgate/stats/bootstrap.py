"""Confidence intervals and effect sizes for paired per-query scores.

The paired bootstrap resamples *queries*: each resample draws ``n`` query indices with
replacement and takes the baseline score, the candidate score and their difference from the
same queries, so the pairing (the correlation between two models on one query) is kept.
Intervals are BCa (bias-corrected and accelerated, Efron & Tibshirani 1993, ch. 14) by default,
or percentile; the t interval is the dual of the paired t-test.

References:
    Efron & Tibshirani (1993). An Introduction to the Bootstrap. Chapman & Hall, ch. 13-14.
    Cohen (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed.
    Lakens (2013). Calculating and reporting effect sizes. Front. Psychol. 4:863 (d_z).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import special as spc
from scipy import stats as sps

from embedgate.stats._common import (
    FloatArray,
    Seed,
    check_probability,
    check_resamples,
    invalid,
    is_constant,
    json_float,
    paired_scores,
    rng_from,
    seed_label,
)

__all__ = [
    "EffectSize",
    "Interval",
    "IntervalMethod",
    "PairedBootstrap",
    "cohens_dz",
    "effect_size",
    "mean_difference_interval",
    "paired_bootstrap",
    "t_interval",
]

IntervalMethod: TypeAlias = Literal["bca", "percentile", "t"]
BootstrapMethod: TypeAlias = Literal["bca", "percentile"]

_NAMES: dict[str, str] = {"bca": "BCa bootstrap", "percentile": "percentile bootstrap", "t": "t"}
# Index matrices are drawn in blocks of about this many cells (8 MB of int64).
_BLOCK_CELLS = 1 << 20


@dataclass(frozen=True, slots=True)
class Interval:
    """A two-sided confidence interval.

    Attributes:
        low: lower bound; ``-inf`` when it cannot be estimated (one query).
        high: upper bound; ``+inf`` when it cannot be estimated.
        level: confidence level, e.g. 0.95.
        method: ``"bca"``, ``"percentile"`` (bootstrap) or ``"t"``. A BCa request that falls back
            to percentile (see :func:`paired_bootstrap`) says ``"percentile"``.
        resamples: bootstrap resamples, None for the t interval.
    """

    low: float
    high: float
    level: float
    method: IntervalMethod
    resamples: int | None = None

    @property
    def description(self) -> str:
        """For example ``"95% BCa bootstrap CI"``."""
        return f"{_percent(self.level)} {_NAMES[self.method]} CI"

    def contains(self, value: float) -> bool:
        """True when ``low <= value <= high``."""
        return self.low <= value <= self.high

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict; unbounded ends become None."""
        return {
            "low": json_float(self.low),
            "high": json_float(self.high),
            "level": self.level,
            "method": self.method,
            "resamples": self.resamples,
        }


@dataclass(frozen=True, slots=True)
class PairedBootstrap:
    """Intervals of the mean difference and of each model's mean, from the same resamples."""

    difference: Interval
    baseline: Interval
    candidate: Interval
    seed: int | None


@dataclass(frozen=True, slots=True)
class EffectSize:
    """How large a difference is, not only whether it is significant.

    Attributes:
        mean_diff: ``mean(b - a)`` in metric units (candidate minus baseline).
        interval: confidence interval of ``mean_diff``.
        d_z: Cohen's ``d_z = mean(d) / sd(d)``, the standardized paired effect
            (Cohen 1988, Lakens 2013). NaN for one query; 0 when every difference is 0;
            ``+-inf`` when every difference is the same nonzero number.
        n: number of queries.
    """

    mean_diff: float
    interval: Interval
    d_z: float
    n: int

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict; non-finite ``d_z`` becomes None."""
        return {
            "mean_diff": self.mean_diff,
            "interval": self.interval.to_dict(),
            "d_z": json_float(self.d_z),
            "n": self.n,
        }


def _percent(level: float) -> str:
    return f"{100 * level:.10g}%"


def _bootstrap_means(x: FloatArray, resamples: int, rng: np.random.Generator) -> FloatArray:
    """Means of each row of ``x`` (rows, n) over ``resamples`` joint resamples of its columns."""
    n = x.shape[1]
    out = np.empty((x.shape[0], resamples))
    block = max(1, _BLOCK_CELLS // n)
    for start in range(0, resamples, block):
        m = min(block, resamples - start)
        idx = rng.integers(0, n, (m, n))
        out[:, start : start + m] = x[:, idx].mean(axis=-1)
    return out


def _interval_from(
    x: FloatArray, boot: FloatArray, level: float, method: BootstrapMethod, resamples: int
) -> Interval:
    """The ``level`` interval of ``mean(x)`` from its bootstrap means ``boot``."""
    n = x.size
    theta = float(np.mean(x))
    if n < 2:
        return Interval(-math.inf, math.inf, level, method, resamples)
    if is_constant(x):
        return Interval(theta, theta, level, method, resamples)
    tail = (1.0 - level) / 2.0
    probs = np.array([tail, 1.0 - tail])
    used: BootstrapMethod = method
    if method == "bca":
        # Efron & Tibshirani (1993) eq. 14.14-14.15; the same estimator scipy uses.
        share = (np.count_nonzero(boot < theta) + np.count_nonzero(boot <= theta)) / (2 * boot.size)
        z0 = float(spc.ndtri(share))
        jack = (x.sum() - x) / (n - 1)
        u = (n - 1) * (jack.mean() - jack)
        # Differences equal up to rounding leave u == 0: BCa is undefined, fall back below.
        with np.errstate(divide="ignore", invalid="ignore"):
            accel = float((u**3).sum() / (6.0 * (u**2).sum() ** 1.5))
            z = spc.ndtri(probs)
            denom = 1.0 - accel * (z0 + z)
        if math.isfinite(z0) and math.isfinite(accel) and bool(np.all(denom > 0)):
            probs = spc.ndtr(z0 + (z0 + z) / denom)
        else:
            used = "percentile"
    low, high = np.quantile(boot, probs)
    return Interval(float(low), float(high), level, used, resamples)


def paired_bootstrap(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    level: float = 0.95,
    method: BootstrapMethod = "bca",
    resamples: int = 10_000,
    seed: Seed = 0,
) -> PairedBootstrap:
    """Paired bootstrap confidence intervals of ``mean(b - a)``, ``mean(a)`` and ``mean(b)``.

    Each of ``resamples`` resamples draws ``n`` query indices with replacement; all three means
    are taken on the same indices. Percentile: the ``(1-level)/2`` and ``(1+level)/2``
    quantiles of the bootstrap means. BCa: the same quantiles moved by the bias correction
    ``z0 = Phi^-1(share of bootstrap means below the estimate, ties counted half)`` and the
    acceleration ``a = sum(U^3) / (6 (sum U^2)^1.5)`` from the jackknife values ``U``
    (Efron & Tibshirani 1993, ch. 14), as in ``scipy.stats.bootstrap(paired=True)``.

    Edge cases: one query gives ``(-inf, inf)`` (no information about spread); constant values
    give the point ``(c, c)``, which describes the sample and not a certainty; if BCa is
    undefined (a bias correction at 0 or 1, or an acceleration that folds the interval) the
    percentile interval is returned and its ``method`` says so.

    Args:
        a: baseline per-query scores.
        b: candidate per-query scores, aligned with ``a``.
        level: confidence level in (0, 1).
        method: ``"bca"`` or ``"percentile"``.
        resamples: bootstrap resamples.
        seed: an int or a Generator.

    Example:
        >>> res = paired_bootstrap([0.2, 0.5, 0.4, 0.1, 0.3], [0.3, 0.7, 0.4, 0.4, 0.2], seed=1)
        >>> res.difference.method, res.difference.low <= 0.1 <= res.difference.high
        ('bca', True)
    """
    a_, b_ = paired_scores(a, b)
    level = check_probability("level", level)
    resamples = check_resamples(resamples)
    if method not in ("bca", "percentile"):
        raise invalid(f"method {method!r} is not one of bca, percentile.")
    rows = np.stack((b_ - a_, a_, b_))
    boot = _bootstrap_means(rows, resamples, rng_from(seed))
    diff, base, cand = (
        _interval_from(rows[i], boot[i], level, method, resamples) for i in range(3)
    )
    return PairedBootstrap(diff, base, cand, seed_label(seed))


def t_interval(a: npt.ArrayLike, b: npt.ArrayLike, *, level: float = 0.95) -> Interval:
    """Student t interval of ``mean(b - a)``: ``mean(d) +- t_{(1+level)/2, n-1} s_d / sqrt(n)``.

    The dual of :func:`embedgate.stats.t_test`: the t-test at ``1 - level`` two-sided rejects
    ``mu0`` exactly when ``mu0`` lies outside this interval. One query gives ``(-inf, inf)``;
    constant differences give ``(c, c)``.
    """
    a_, b_ = paired_scores(a, b)
    level = check_probability("level", level)
    d = b_ - a_
    n = d.size
    mean = float(np.mean(d))
    if n < 2:
        return Interval(-math.inf, math.inf, level, "t")
    if is_constant(d):
        return Interval(mean, mean, level, "t")
    half = float(sps.t.ppf((1.0 + level) / 2.0, n - 1)) * float(np.std(d, ddof=1)) / math.sqrt(n)
    return Interval(mean - half, mean + half, level, "t")


def mean_difference_interval(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    level: float = 0.95,
    method: IntervalMethod = "bca",
    resamples: int = 10_000,
    seed: Seed = 0,
) -> Interval:
    """Interval of ``mean(b - a)`` by ``method`` (``"bca"``, ``"percentile"`` or ``"t"``)."""
    if method == "t":
        return t_interval(a, b, level=level)
    if method in ("bca", "percentile"):
        return paired_bootstrap(
            a, b, level=level, method=method, resamples=resamples, seed=seed
        ).difference
    raise invalid(f"interval method {method!r} is not one of bca, percentile, t.")


def cohens_dz(a: npt.ArrayLike, b: npt.ArrayLike) -> float:
    """Cohen's ``d_z = mean(b - a) / sd(b - a)`` (``ddof=1``; Cohen 1988, Lakens 2013).

    NaN for one query; 0 when all differences are 0; ``+-inf`` when they are one nonzero value.

    Example:
        >>> round(cohens_dz([0.2, 0.5, 0.4, 0.1], [0.3, 0.7, 0.6, 0.4]), 3)
        2.449
    """
    a_, b_ = paired_scores(a, b)
    d = b_ - a_
    mean = float(np.mean(d))
    if d.size < 2:
        return math.nan
    if is_constant(d):
        return 0.0 if mean == 0.0 else math.copysign(math.inf, mean)
    return mean / float(np.std(d, ddof=1))


def effect_size(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    level: float = 0.95,
    method: IntervalMethod = "bca",
    resamples: int = 10_000,
    seed: Seed = 0,
) -> EffectSize:
    """The mean difference ``mean(b - a)`` with its confidence interval, and Cohen's ``d_z``.

    Example:
        >>> es = effect_size([0.2, 0.5, 0.4, 0.1], [0.3, 0.7, 0.6, 0.4], method="t")
        >>> round(es.mean_diff, 3), round(es.interval.low, 3), round(es.d_z, 3)
        (0.2, 0.07, 2.449)
    """
    a_, b_ = paired_scores(a, b)
    interval = mean_difference_interval(
        a_, b_, level=level, method=method, resamples=resamples, seed=seed
    )
    return EffectSize(float(np.mean(b_ - a_)), interval, cohens_dz(a_, b_), int(a_.size))
