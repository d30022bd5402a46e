"""Power, minimum detectable effect and queries needed, for paired comparisons of two models.

The model is the paired t-test on the per-query differences ``d = b - a``: with ``n`` queries,
SD of differences ``sigma_d`` and a true mean difference ``delta`` above the null value, the
t statistic follows a noncentral t distribution with ``n - 1`` degrees of freedom and
noncentrality ``delta sqrt(n) / sigma_d``. Power is the chance it passes the critical value:

    one-sided:  power = P(T' > t_{1-alpha, n-1})
    two-sided:  power = P(T' > t_{1-alpha/2, n-1}) + P(T' < -t_{1-alpha/2, n-1})

The minimum detectable effect (MDE) is the ``delta`` at which power reaches the target (0.8 by
default); the familiar approximation is ``(t_{1-alpha(/2)} + t_{power}) sigma_d / sqrt(n)``
(Cohen 1988, ch. 2), solved exactly here. The paired randomization test has, for n of a few
dozen and more, the same power as the t-test (Smucker, Allan & Carterette 2007 find them to
agree closely on IR data); the Wilcoxon test has asymptotic relative efficiency 3/pi to 1.5
versus the t-test, depending on the shape of ``d``, so these numbers are only a guide for it.

``sigma_d`` comes from the data at hand, so every figure here is an estimate: a golden set
whose differences are noisier than the pilot will need more queries.

For a family of ``m`` comparisons corrected by Holm, plan with ``alpha / m`` (the smallest
threshold Holm applies) to be safe.

References:
    Cohen (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed., ch. 2.
    Julious (2004). Sample sizes for clinical trials with normal data. Stat. Med. 23(12).
    Webber, Moffat & Zobel (2008). Statistical power in retrieval experimentation. CIKM.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import optimize as spo
from scipy import stats as sps

from embedgate.stats._common import (
    check_finite,
    check_probability,
    invalid,
    json_float,
    paired_scores,
)

__all__ = [
    "PowerKind",
    "PowerReport",
    "minimum_detectable_effect",
    "power_at",
    "power_report",
    "queries_needed",
]

PowerKind: TypeAlias = Literal["superiority", "non-inferiority"]


def _check_power(power: float, alpha: float, two_sided: bool) -> float:
    power = check_probability("power", power)
    floor = alpha / 2 if two_sided else alpha
    if power <= floor:
        raise invalid(
            f"power {power} does not exceed the false-positive rate {floor:g} the test already "
            "has at zero effect; ask for more power (0.8 is usual)."
        )
    return power


def power_at(
    effect: float, sd: float, n: int, *, alpha: float = 0.05, two_sided: bool = False
) -> float:
    """Power of the paired t-test to detect a true mean difference ``effect`` above the null.

    ``effect`` points the way of the alternative (positive: towards H1). Edge cases follow
    :func:`embedgate.stats.t_test`: with fewer than 2 queries the test never rejects (power 0);
    with ``sd = 0`` it rejects for any nonzero ``effect`` of the right sign (power 1) and
    never for ``effect = 0``.

    Example:
        >>> round(power_at(0.02, 0.1, 200), 3)
        0.88
    """
    alpha = check_probability("alpha", alpha)
    effect = check_finite("effect", effect)
    sd = check_finite("sd", sd)
    if sd < 0:
        raise invalid(f"sd must be >= 0, got {sd}.")
    if n < 2:
        return 0.0
    if sd == 0:
        return 1.0 if (effect != 0 and (two_sided or effect > 0)) else 0.0
    df = n - 1
    nc = effect * math.sqrt(n) / sd
    if two_sided:
        crit = float(sps.t.ppf(1 - alpha / 2, df))
        # P(T' < -c | nc) = P(T' > c | -nc); scipy's nct.cdf returns NaN in parts of the far
        # tail where nct.sf does not.
        return min(1.0, _upper_tail(crit, df, nc) + _upper_tail(crit, df, -nc))
    crit = float(sps.t.ppf(1 - alpha, df))
    return _upper_tail(crit, df, nc)


def _upper_tail(crit: float, df: int, nc: float) -> float:
    """``P(T' > crit)`` for noncentral t; the normal tail where scipy cannot say."""
    p = float(sps.nct.sf(crit, df, nc))
    return p if math.isfinite(p) else float(sps.norm.sf(crit - nc))


def minimum_detectable_effect(
    sd: float, n: int, *, alpha: float = 0.05, power: float = 0.8, two_sided: bool = False
) -> float:
    """The smallest true effect (above the null value) detected with probability ``power``.

    Solves ``power_at(effect, sd, n) = power`` for ``effect > 0``. ``inf`` for fewer than 2
    queries; 0 when ``sd = 0``.

    Example:
        >>> round(minimum_detectable_effect(0.1, 200), 4)
        0.0176
    """
    alpha = check_probability("alpha", alpha)
    target = _check_power(power, alpha, two_sided)
    sd = check_finite("sd", sd)
    if n < 2:
        return math.inf
    if sd == 0:
        return 0.0
    z = float(sps.norm.ppf(1 - (alpha / 2 if two_sided else alpha)) + sps.norm.ppf(target))
    hi = 2.0 * z * sd / math.sqrt(n) + sd
    while power_at(hi, sd, n, alpha=alpha, two_sided=two_sided) < target:
        hi *= 2.0
    return float(
        spo.brentq(
            lambda e: power_at(e, sd, n, alpha=alpha, two_sided=two_sided) - target,
            0.0,
            hi,
            xtol=1e-12 * max(sd, 1e-300),
        )
    )


def queries_needed(
    effect: float,
    sd: float,
    *,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = False,
) -> int:
    """The fewest queries (at least 2) that give ``power`` to detect ``effect`` above the null.

    Starts from the normal approximation ``((z_{1-alpha(/2)} + z_power) sd / effect)^2`` and
    searches with the exact noncentral t power, which grows with n.

    Raises:
        ValueError: ``effect <= 0``: no number of queries detects no effect or one in the
            wrong direction.

    Example:
        >>> queries_needed(0.02, 0.1)
        156
    """
    alpha = check_probability("alpha", alpha)
    target = _check_power(power, alpha, two_sided)
    effect = check_finite("effect", effect)
    sd = check_finite("sd", sd)
    if effect <= 0:
        raise invalid(
            f"effect must be > 0 (towards the alternative), got {effect}; no number of "
            "queries detects a zero effect or one in the wrong direction."
        )
    if sd == 0:
        return 2

    def ok(n: int) -> bool:
        return power_at(effect, sd, n, alpha=alpha, two_sided=two_sided) >= target

    z = float(sps.norm.ppf(1 - (alpha / 2 if two_sided else alpha)) + sps.norm.ppf(target))
    lo = max(2, math.floor((z * sd / effect) ** 2))
    if ok(lo):
        while lo > 2 and ok(lo - 1):
            lo -= 1
        return lo
    hi = lo + 1
    while not ok(hi):
        lo, hi = hi, 2 * hi
    while hi - lo > 1:  # invariant: not ok(lo), ok(hi)
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid
    return hi


@dataclass(frozen=True, slots=True)
class PowerReport:
    """Whether a golden set is big enough to tell two models apart, on one dataset and metric.

    Attributes:
        kind: ``"superiority"`` (is b better?) or ``"non-inferiority"`` (is b within a margin?).
        n: queries in the golden set.
        sd_diff: SD of the per-query differences ``b - a`` (``ddof=1``); NaN with one query.
        mean_diff: the observed ``mean(b - a)``, for context only (post-hoc "observed power"
            is a function of the p-value and is deliberately not reported).
        alpha: the test's significance level.
        power: the target power.
        two_sided: whether the planned test is two-sided.
        margin: the non-inferiority margin (0 for superiority).
        higher_is_better: the metric's direction.
        mde: smallest true effect above the null value detectable with ``power`` at ``n``
            (metric units; ``inf`` with fewer than 2 queries).
        detectable_difference: the same as a value of ``mean(b - a)``: ``+-mde`` for
            superiority, ``-margin + mde`` for non-inferiority (signs flipped when lower is
            better).
        assumed_difference: the true ``mean(b - a)`` assumed for ``queries_needed``.
        queries_needed: queries needed for ``power`` at ``assumed_difference``; None when no
            difference was assumed or the spread cannot be estimated.
        dataset: dataset name, if given.
        metric: metric name, if given.
    """

    kind: PowerKind
    n: int
    sd_diff: float
    mean_diff: float
    alpha: float
    power: float
    two_sided: bool
    margin: float
    higher_is_better: bool
    mde: float
    detectable_difference: float
    assumed_difference: float | None
    queries_needed: int | None
    dataset: str | None = None
    metric: str | None = None

    @property
    def enough_queries(self) -> bool | None:
        """True when ``n`` already reaches ``queries_needed``; None when that is unknown."""
        return None if self.queries_needed is None else self.n >= self.queries_needed

    def sentence(self, digits: int = 3) -> str:
        """One sentence for a report.

        Example:
            >>> r = power_report([0.5, 0.4, 0.7, 0.2] * 50, [0.6, 0.3, 0.7, 0.3] * 50,
            ...                  assumed_difference=0.01, dataset="scifact", metric="nDCG@10")
            >>> print(r.sentence())
            On scifact (n=200 queries, SD of per-query differences 0.083), a one-sided paired t-test at α=0.05 has 80% power to detect a true nDCG@10 difference of +0.015; detecting +0.010 needs 429 queries.
        """  # noqa: E501, RUF002
        unit = f" {self.metric}" if self.metric else ""
        what = f"{self.metric} difference" if self.metric else "difference"
        if not math.isfinite(self.sd_diff):
            where = f"On {self.dataset}, " if self.dataset else ""
            return (
                f"{where}{self.n} query is too few to estimate the spread of per-query "
                "differences; score at least 2 (better 30 or more) queries to plan the golden set."
            )
        context = f"n={self.n} queries, SD of per-query differences {self.sd_diff:.{digits}f}"
        lead = f"On {self.dataset} ({context})" if self.dataset else f"With {context}"
        sided = "two-sided" if self.two_sided else "one-sided"
        head = (
            f"{lead}, a {sided} paired t-test at α={self.alpha:g} has "  # noqa: RUF001
            f"{100 * self.power:.10g}% power to "
        )
        dd = (
            f"±{self.mde:.{digits}f}"
            if self.two_sided
            else f"{self.detectable_difference:+.{digits}f}"
        )
        if self.kind == "superiority":
            body = f"detect a true {what} of {dd}"
            tail = (
                f"; detecting {self.assumed_difference:+.{digits}f} needs "
                f"{self.queries_needed:,} queries."
                if self.queries_needed is not None and self.assumed_difference is not None
                else "."
            )
        else:
            body = (
                f"show non-inferiority at margin {self.margin:.{digits}f}{unit} only if the true "
                f"difference is at least {dd}"
            )
            tail = (
                f"; showing it when the true difference is {self.assumed_difference:+.{digits}f} "
                f"needs {self.queries_needed:,} queries."
                if self.queries_needed is not None and self.assumed_difference is not None
                else "."
            )
        return head + body + tail

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (non-finite numbers become None) with the sentence."""
        return {
            "kind": self.kind,
            "dataset": self.dataset,
            "metric": self.metric,
            "n": self.n,
            "sd_diff": json_float(self.sd_diff),
            "mean_diff": self.mean_diff,
            "alpha": self.alpha,
            "power": self.power,
            "two_sided": self.two_sided,
            "margin": self.margin,
            "higher_is_better": self.higher_is_better,
            "mde": json_float(self.mde),
            "detectable_difference": json_float(self.detectable_difference),
            "assumed_difference": self.assumed_difference,
            "queries_needed": self.queries_needed,
            "enough_queries": self.enough_queries,
            "sentence": self.sentence(),
        }


def power_report(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    kind: PowerKind = "superiority",
    margin: float = 0.0,
    assumed_difference: float | None = None,
    alpha: float = 0.05,
    power: float = 0.8,
    two_sided: bool = False,
    higher_is_better: bool = True,
    dataset: str | None = None,
    metric: str | None = None,
) -> PowerReport:
    """How big an effect this golden set can detect, and how many queries a given one needs.

    The SD of the per-query differences ``b - a`` is estimated from the scores given (a pilot
    comparison, or the baseline against a previous candidate).

    * superiority: H0 ``mean(b - a) <= 0``; the MDE is the smallest true gain detectable with
      ``power``; ``queries_needed`` is for a true gain of ``assumed_difference`` (if given).
    * non-inferiority: H0 ``mean(b - a) <= -margin``; the MDE is measured from ``-margin``, so
      the claim has ``power`` only if the true difference is at least ``-margin + MDE``;
      ``queries_needed`` is for a true difference of ``assumed_difference`` (default 0: the
      two models are equally good). One-sided only.

    Report one per dataset (and metric): each golden set has its own spread.

    Raises:
        ValueError: bad input, ``margin <= 0`` for non-inferiority, two-sided non-inferiority,
            or an ``assumed_difference`` that does not point towards the alternative.
    """
    a_, b_ = paired_scores(a, b)
    alpha = check_probability("alpha", alpha)
    target = _check_power(power, alpha, two_sided)
    margin = check_finite("margin", margin)
    d = b_ - a_
    n = int(d.size)
    sd = float(np.std(d, ddof=1)) if n >= 2 else math.nan
    sign = 1.0 if higher_is_better else -1.0
    if kind == "superiority":
        if margin != 0:
            raise invalid("superiority has no margin; use kind='non-inferiority' for one.")
        null = 0.0
    elif kind == "non-inferiority":
        if margin <= 0:
            raise invalid(f"a non-inferiority margin must be > 0, got {margin}.")
        if two_sided:
            raise invalid("non-inferiority is a one-sided question; pass two_sided=False.")
        null = -margin
        if assumed_difference is None:
            assumed_difference = 0.0
    else:
        raise invalid(f"kind {kind!r} is not one of superiority, non-inferiority.")

    if math.isfinite(sd):
        mde = minimum_detectable_effect(sd, n, alpha=alpha, power=target, two_sided=two_sided)
    else:
        mde = math.inf
    needed: int | None = None
    if assumed_difference is not None:
        assumed_difference = check_finite("assumed_difference", assumed_difference)
        effect = sign * assumed_difference - null
        if two_sided:
            effect = abs(effect)
        if effect <= 0:
            raise invalid(
                f"assumed_difference {assumed_difference} does not exceed the null value "
                f"{sign * null:+g} in the better direction; no number of queries can show it."
            )
        if math.isfinite(sd):
            needed = queries_needed(effect, sd, alpha=alpha, power=target, two_sided=two_sided)
    return PowerReport(
        kind=kind,
        n=n,
        sd_diff=sd,
        mean_diff=float(np.mean(d)),
        alpha=alpha,
        power=target,
        two_sided=two_sided,
        margin=margin,
        higher_is_better=higher_is_better,
        mde=mde,
        detectable_difference=sign * (null + mde),
        assumed_difference=assumed_difference,
        queries_needed=needed,
        dataset=dataset,
        metric=metric,
    )
