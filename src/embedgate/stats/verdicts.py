"""Verdicts: superiority, non-inferiority and equivalence of a candidate against a baseline.

A verdict is one pre-declared claim about one metric on one dataset, decided by a paired test
on the per-query scores at a stated alpha, reported with the effect size, its confidence
interval and, for a family of claims, the Holm-adjusted p-value. ``Δ`` is always
``mean(candidate - baseline)`` in metric units; "better" follows ``higher_is_better``.

================  ===================================  =======================================
kind              H0 (higher is better)                passes when
================  ===================================  =======================================
superiority       Δ <= 0 (two-sided: Δ = 0)            p <= alpha (two-sided: and Δ > 0)
non-inferiority   Δ <= -margin                         p <= alpha: b is not worse than a by
                                                       more than the margin
equivalence       Δ <= -margin or Δ >= margin          both one-sided tests (TOST) reject:
                                                       -margin < Δ < margin
================  ===================================  =======================================

The decision uses the test's p-value (Holm-adjusted within a family), so the tests of a family
combine under one correction. The reported interval has level ``1 - 2 alpha`` for one-sided
claims and equivalence (its bound is the one-sided ``1 - alpha`` confidence bound, the dual of
the test: Schuirmann 1987; Walker & Nowacki 2011) and ``1 - alpha`` for two-sided superiority;
it is not adjusted for multiplicity. With the t-test and ``interval="t"`` the bound and the
test agree exactly; with the other tests they agree up to the difference between the test and
the bootstrap, which matters only near the boundary.

Choose the margin before looking at the results, in metric units (for example 0.01 nDCG@10),
from what a user of the search would notice (Wellek 2010, ch. 1).

References:
    Schuirmann (1987). A comparison of the two one-sided tests procedure and the power approach
    for assessing the equivalence of average bioavailability. J. Pharmacokinet. Biopharm. 15.
    Wellek (2010). Testing Statistical Hypotheses of Equivalence and Noninferiority, 2nd ed.
    Walker & Nowacki (2011). Understanding equivalence and noninferiority testing. J Gen Intern
    Med 26(2).
    Holm (1979). A simple sequentially rejective multiple test procedure. Scand. J. Stat. 6(2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from embedgate.stats._common import (
    Seed,
    check_finite,
    check_probability,
    check_resamples,
    invalid,
    json_float,
    paired_scores,
    rng_from,
    seed_label,
)
from embedgate.stats.bootstrap import Interval, IntervalMethod, cohens_dz, mean_difference_interval
from embedgate.stats.multiple import Correction, adjust
from embedgate.stats.paired import TESTS, TestName, check_test

if TYPE_CHECKING:
    from collections.abc import Iterable

    from embedgate.stats._common import Alternative

__all__ = [
    "Kind",
    "Verdict",
    "correct",
    "equivalence",
    "non_inferiority",
    "superiority",
]

Kind: TypeAlias = Literal["superiority", "non-inferiority", "equivalence"]
VerdictAlternative: TypeAlias = Literal["two-sided", "greater", "less", "equivalence"]

_TEST_NAMES: dict[str, str] = {
    "randomization": "paired randomization test",
    "t": "paired t-test",
    "wilcoxon": "Wilcoxon signed-rank test",
}
_CORRECTION_NAMES: dict[str, str] = {"holm": "Holm", "bonferroni": "Bonferroni"}


def _num(x: float, digits: int, *, signed: bool = False) -> str:
    """``x`` to ``digits`` decimals, never as ``-0.000``."""
    if math.isfinite(x) and round(x, digits) == 0:
        x = 0.0
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def _fmt_p(p: float) -> str:
    if p == 0.0:
        return "=0"
    if p < 1e-4:
        return "<0.0001"
    return f"={p:.3g}"


@dataclass(frozen=True, slots=True)
class Verdict:
    """One decided claim about a candidate against a baseline.

    Attributes:
        kind: ``"superiority"``, ``"non-inferiority"`` or ``"equivalence"``.
        baseline: name of the baseline model (``a``).
        candidate: name of the candidate model (``b``).
        metric: metric name, e.g. ``"nDCG@10"``, or None.
        dataset: dataset name, or None.
        test: ``"randomization"``, ``"t"`` or ``"wilcoxon"``.
        alternative: H1 about ``Δ = mean(b - a)`` against its null value (``"greater"``,
            ``"less"``, ``"two-sided"``), or ``"equivalence"`` for TOST.
        alpha: significance level (family-wise when corrected).
        margin: non-inferiority or equivalence margin in metric units; 0 for superiority.
        correction: ``"none"``, ``"holm"`` or ``"bonferroni"``.
        family_size: number of verdicts in the declared family (1 when alone).
        n: number of queries.
        mean_baseline: mean score of the baseline.
        mean_candidate: mean score of the candidate.
        mean_diff: ``Δ = mean(b - a)``.
        interval: confidence interval of ``Δ`` (see the module docstring for its level).
        d_z: Cohen's ``d_z`` of the differences (NaN for one query, ``+-inf`` when constant).
        statistic: the test statistic (for TOST, of the one-sided test with the larger p).
        p_value: the raw p-value (for TOST, the larger of the two).
        p_adjusted: the p-value after ``correction`` (equal to ``p_value`` when none).
        passed: whether the claim is shown at ``alpha``.
        higher_is_better: the metric's direction.
        resamples: Monte Carlo resamples of the test, None when not simulated.
        exact: whether the test's p-value is exact.
        seed: the int seed, None when a Generator was passed.
    """

    kind: Kind
    baseline: str
    candidate: str
    metric: str | None
    dataset: str | None
    test: TestName
    alternative: VerdictAlternative
    alpha: float
    margin: float
    correction: Correction
    family_size: int
    n: int
    mean_baseline: float
    mean_candidate: float
    mean_diff: float
    interval: Interval
    d_z: float
    statistic: float
    p_value: float
    p_adjusted: float
    passed: bool
    higher_is_better: bool = True
    resamples: int | None = None
    exact: bool = False
    seed: int | None = None

    @property
    def null_difference(self) -> float:
        """The value of ``Δ`` at the boundary of H0 (for equivalence: the upper margin)."""
        sign = 1.0 if self.higher_is_better else -1.0
        if self.kind == "non-inferiority":
            return -sign * self.margin
        if self.kind == "equivalence":
            return self.margin
        return 0.0

    def hypotheses(self, digits: int = 3) -> str:
        """H0 and H1 in words, e.g. ``"H0: Δ ≤ -0.010 vs H1: Δ > -0.010"``.

        ``Δ`` is ``mean(candidate - baseline)``; for the Wilcoxon test it is the centre of
        symmetry (pseudo-median) of the differences instead of their mean.
        """
        m = f"{self.margin:.{digits}f}"
        if self.kind == "equivalence":
            return f"H0: |Δ| ≥ {m} vs H1: -{m} < Δ < {m}"
        mu0 = f"{self.null_difference:+.{digits}f}" if self.null_difference else "0"
        if self.alternative == "two-sided":
            return f"H0: Δ = {mu0} vs H1: Δ ≠ {mu0}"
        if self.alternative == "greater":
            return f"H0: Δ ≤ {mu0} vs H1: Δ > {mu0}"
        return f"H0: Δ ≥ {mu0} vs H1: Δ < {mu0}"

    @property
    def test_description(self) -> str:
        """The test as words, e.g. ``one-sided paired randomization test, 10000 resamples``."""
        name = _TEST_NAMES[self.test]
        if self.kind == "equivalence":
            what = f"TOST with two one-sided {name.replace('test', 'tests')}"
        else:
            sided = "two-sided" if self.alternative == "two-sided" else "one-sided"
            what = f"{sided} {name}"
        if self.test == "t":
            return what
        if self.exact:
            return f"{what}, exact"
        if self.resamples is not None:
            return f"{what}, {self.resamples} resamples"
        return f"{what}, normal approximation"

    def sentence(self, digits: int = 3) -> str:
        """The verdict as one sentence.

        Example:
            >>> v = non_inferiority([0.5, 0.4, 0.7, 0.2] * 25, [0.5, 0.3, 0.7, 0.3] * 25,
            ...     margin=0.02, baseline="minilm", candidate="static-minilm",
            ...     metric="nDCG@10", dataset="scifact", test="t")
            >>> print(v.sentence())
            static-minilm is not worse than minilm by more than 0.020 nDCG@10 on scifact (one-sided paired t-test, n=100, Δ=+0.000, 90% BCa bootstrap CI [-0.013, 0.011], d_z=0.00, p=0.00295 ≤ α=0.05).
        """  # noqa: E501, RUF002
        unit = f" {self.metric}" if self.metric else ""
        in_metric = f" in {self.metric}" if self.metric else ""
        on = f" on {self.dataset}" if self.dataset else ""
        c, b = self.candidate, self.baseline
        m = f"{self.margin:.{digits}f}"
        shown = self.p_adjusted <= self.alpha
        if self.kind == "superiority":
            if self.passed:
                claim = f"{c} is better than {b}{in_metric}{on}"
            elif shown:  # two-sided and significant the wrong way
                claim = f"{c} is not better than {b}: it is significantly worse{in_metric}{on}"
            else:
                claim = f"{c} is not shown to be better than {b}{in_metric}{on}"
        elif self.kind == "non-inferiority":
            claim = (
                f"{c} is not worse than {b} by more than {m}{unit}{on}"
                if self.passed
                else f"{c} may be worse than {b} by more than {m}{unit}{on}"
            )
        else:
            claim = (
                f"{c} is equivalent to {b} within ±{m}{unit}{on}"
                if self.passed
                else f"{c} is not shown to be equivalent to {b} within ±{m}{unit}{on}"
            )
        parts = [] if self.higher_is_better else ["lower is better"]
        iv = self.interval
        parts += [
            self.test_description,
            f"n={self.n}",
            f"Δ={_num(self.mean_diff, digits, signed=True)}",
            f"{iv.description} [{_num(iv.low, digits)}, {_num(iv.high, digits)}]",
        ]
        if not math.isnan(self.d_z):
            parts.append(f"d_z={_num(self.d_z, 2)}")
        cmp = "≤" if shown else ">"
        if self.correction == "none":
            uncorrected = (
                f" uncorrected over {self.family_size} comparisons" if self.family_size > 1 else ""
            )
            parts.append(f"p{_fmt_p(self.p_value)}{uncorrected} {cmp} α={self.alpha:g}")  # noqa: RUF001
        else:
            name = _CORRECTION_NAMES[self.correction]
            parts.append(f"p{_fmt_p(self.p_value)}")
            parts.append(
                f"{name}-adjusted over {self.family_size} comparisons "
                f"p{_fmt_p(self.p_adjusted)} {cmp} α={self.alpha:g}"  # noqa: RUF001
            )
        return f"{claim} ({', '.join(parts)})."

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict of every field, the hypotheses and the sentence.

        Non-finite numbers (documented edge cases: one query, constant differences) become
        None.
        """
        return {
            "kind": self.kind,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "metric": self.metric,
            "dataset": self.dataset,
            "test": self.test,
            "alternative": self.alternative,
            "alpha": self.alpha,
            "margin": self.margin,
            "correction": self.correction,
            "family_size": self.family_size,
            "n": self.n,
            "mean_baseline": self.mean_baseline,
            "mean_candidate": self.mean_candidate,
            "mean_diff": self.mean_diff,
            "interval": self.interval.to_dict(),
            "d_z": json_float(self.d_z),
            "statistic": json_float(self.statistic),
            "p_value": self.p_value,
            "p_adjusted": self.p_adjusted,
            "passed": self.passed,
            "higher_is_better": self.higher_is_better,
            "resamples": self.resamples,
            "exact": self.exact,
            "seed": self.seed,
            "hypotheses": self.hypotheses(),
            "sentence": self.sentence(),
        }


def _decide(
    kind: Kind,
    alternative: VerdictAlternative,
    p: float,
    alpha: float,
    mean_diff: float,
    higher_is_better: bool,
) -> bool:
    if p > alpha:
        return False
    if kind == "superiority" and alternative == "two-sided":
        return (mean_diff > 0) == higher_is_better and mean_diff != 0
    return True


def _verdict(
    kind: Kind,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    margin: float,
    baseline: str,
    candidate: str,
    metric: str | None,
    dataset: str | None,
    test: str,
    alpha: float,
    two_sided: bool,
    higher_is_better: bool,
    level: float | None,
    interval: IntervalMethod,
    resamples: int,
    seed: Seed,
) -> Verdict:
    a_, b_ = paired_scores(a, b)
    alpha = check_probability("alpha", alpha)
    if alpha >= 0.5:
        raise invalid(f"alpha must be below 0.5 for a one-sided claim, got {alpha}.")
    margin = check_finite("margin", margin)
    resamples = check_resamples(resamples)
    test_name = check_test(test)
    if test_name == "wilcoxon" and kind != "superiority":
        raise invalid(
            f"the Wilcoxon test cannot decide {kind}: shifted by a margin it tests the "
            "pseudo-median of the differences, not their mean, and with many tied queries the "
            "two differ by more than any margin (at the boundary it claimed non-inferiority in "
            "27-88% of simulated golden sets). Use test='randomization' or test='t'."
        )
    run = TESTS[test_name]
    test_rng, lower_rng, boot_rng = rng_from(seed).spawn(3)
    better: Alternative = "greater" if higher_is_better else "less"
    sign = 1.0 if higher_is_better else -1.0
    alternative: VerdictAlternative
    if kind == "superiority":
        alternative = "two-sided" if two_sided else better
        res = run(a_, b_, alternative, 0.0, resamples, test_rng)
    elif kind == "non-inferiority":
        if margin <= 0:
            raise invalid(
                f"a non-inferiority margin must be > 0 in metric units, got {margin}; "
                "with no margin ask for superiority instead."
            )
        alternative = better
        res = run(a_, b_, alternative, -sign * margin, resamples, test_rng)
    else:
        if margin <= 0:
            raise invalid(f"an equivalence margin must be > 0 in metric units, got {margin}.")
        alternative = "equivalence"
        above = run(a_, b_, "greater", -margin, resamples, lower_rng)
        below = run(a_, b_, "less", margin, resamples, test_rng)
        res = above if above.p_value >= below.p_value else below
    if level is None:
        level = 1.0 - alpha if alternative == "two-sided" else 1.0 - 2.0 * alpha
    level = check_probability("level", level)
    ci = mean_difference_interval(
        a_, b_, level=level, method=interval, resamples=resamples, seed=boot_rng
    )
    mean_diff = float(np.mean(b_ - a_))
    return Verdict(
        kind=kind,
        baseline=baseline,
        candidate=candidate,
        metric=metric,
        dataset=dataset,
        test=test_name,
        alternative=alternative,
        alpha=alpha,
        margin=margin,
        correction="none",
        family_size=1,
        n=int(a_.size),
        mean_baseline=float(np.mean(a_)),
        mean_candidate=float(np.mean(b_)),
        mean_diff=mean_diff,
        interval=ci,
        d_z=cohens_dz(a_, b_),
        statistic=res.statistic,
        p_value=res.p_value,
        p_adjusted=res.p_value,
        passed=_decide(kind, alternative, res.p_value, alpha, mean_diff, higher_is_better),
        higher_is_better=higher_is_better,
        resamples=res.resamples,
        exact=res.exact,
        seed=seed_label(seed),
    )


def superiority(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    baseline: str = "baseline",
    candidate: str = "candidate",
    metric: str | None = None,
    dataset: str | None = None,
    test: TestName = "randomization",
    alpha: float = 0.05,
    two_sided: bool = False,
    higher_is_better: bool = True,
    level: float | None = None,
    interval: IntervalMethod = "bca",
    resamples: int = 10_000,
    seed: Seed = 0,
) -> Verdict:
    """Is the candidate ``b`` better than the baseline ``a``?

    One-sided by default (H0: ``Δ <= 0``, H1: ``Δ > 0`` when higher is better), which is the
    question a swap to a better model asks; declare it before looking. ``two_sided=True`` tests
    ``Δ = 0`` and passes only when the difference is significant *and* favours the candidate.

    Args:
        a: baseline per-query scores.
        b: candidate per-query scores, aligned with ``a`` by query id.
        baseline: baseline model name for the sentence.
        candidate: candidate model name for the sentence.
        metric: metric name for the sentence, e.g. ``"nDCG@10"``.
        dataset: dataset name for the sentence.
        test: ``"randomization"`` (default; Smucker et al. 2007), ``"t"`` or ``"wilcoxon"``
            (superiority only).
        alpha: significance level; within a family it becomes family-wise via :func:`correct`.
        two_sided: test ``Δ = 0`` two-sided instead.
        higher_is_better: the metric's declared direction; never guessed.
        level: interval level; default ``1 - 2 alpha`` one-sided, ``1 - alpha`` two-sided.
        interval: ``"bca"``, ``"percentile"`` or ``"t"``.
        resamples: Monte Carlo resamples for the test (when not exact) and the bootstrap.
        seed: int or Generator; the test and the bootstrap get independent streams spawned
            from it, so the p-value differs from a direct call with the same int seed.

    Raises:
        ValueError: bad scores or options.
    """
    return _verdict(
        "superiority",
        a,
        b,
        margin=0.0,
        baseline=baseline,
        candidate=candidate,
        metric=metric,
        dataset=dataset,
        test=test,
        alpha=alpha,
        two_sided=two_sided,
        higher_is_better=higher_is_better,
        level=level,
        interval=interval,
        resamples=resamples,
        seed=seed,
    )


def non_inferiority(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    margin: float,
    baseline: str = "baseline",
    candidate: str = "candidate",
    metric: str | None = None,
    dataset: str | None = None,
    test: TestName = "randomization",
    alpha: float = 0.05,
    higher_is_better: bool = True,
    level: float | None = None,
    interval: IntervalMethod = "bca",
    resamples: int = 10_000,
    seed: Seed = 0,
) -> Verdict:
    """Is the candidate ``b`` not worse than the baseline ``a`` by more than ``margin``?

    The claim for a swap to a cheaper or faster model. H0: ``Δ <= -margin`` (the candidate is
    worse by the margin or more), H1: ``Δ > -margin``, tested one-sided on the shifted
    differences ``d + margin`` (Wellek 2010, ch. 2; Walker & Nowacki 2011). Arguments as in
    :func:`superiority`; ``margin > 0`` in metric units, chosen before the results are seen.

    Validity: unlike the superiority null, the shifted null does not make the two models
    exchangeable, so the randomization test (exact only if the shifted differences are
    symmetric) and the t-test are valid asymptotically. When the candidate is worse, per-query
    differences of IR metrics are skewed to the left, and the one-sided size exceeds alpha by
    about ``|skew| (2 z^2 + 1) phi(z) / (6 sqrt(n))``. Simulated IR scores with skewness -0.54
    at the boundary gave sizes (alpha = 0.05) of 0.067 at n = 30, 0.058 at n = 100 and 0.050
    at n = 300; with skewness -0.91, 0.074, 0.062 and 0.055
    (``benchmarks/library/test_stats_calibration.py``). Prefer 100 or more queries, or a
    smaller alpha, for a non-inferiority claim on few queries.

    Raises:
        ValueError: ``test="wilcoxon"``: shifted by a margin it tests the pseudo-median, not
            the mean, and is badly invalid for the mean margin on tied IR scores.
    """
    return _verdict(
        "non-inferiority",
        a,
        b,
        margin=margin,
        baseline=baseline,
        candidate=candidate,
        metric=metric,
        dataset=dataset,
        test=test,
        alpha=alpha,
        two_sided=False,
        higher_is_better=higher_is_better,
        level=level,
        interval=interval,
        resamples=resamples,
        seed=seed,
    )


def equivalence(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    margin: float,
    baseline: str = "baseline",
    candidate: str = "candidate",
    metric: str | None = None,
    dataset: str | None = None,
    test: TestName = "randomization",
    alpha: float = 0.05,
    higher_is_better: bool = True,
    level: float | None = None,
    interval: IntervalMethod = "bca",
    resamples: int = 10_000,
    seed: Seed = 0,
) -> Verdict:
    """Is the candidate within ``±margin`` of the baseline (neither better nor worse)?

    Two one-sided tests (TOST, Schuirmann 1987): H0 ``Δ <= -margin`` against ``Δ > -margin``,
    and H0 ``Δ >= margin`` against ``Δ < margin``, each at ``alpha``; the verdict's p-value is
    the larger of the two, and it passes when both reject. Useful for a re-embedding that
    should not change quality (a new library version, quantized vectors). Arguments, validity
    and the refusal of the Wilcoxon test as in :func:`non_inferiority`.
    """
    return _verdict(
        "equivalence",
        a,
        b,
        margin=margin,
        baseline=baseline,
        candidate=candidate,
        metric=metric,
        dataset=dataset,
        test=test,
        alpha=alpha,
        two_sided=False,
        higher_is_better=higher_is_better,
        level=level,
        interval=interval,
        resamples=resamples,
        seed=seed,
    )


def correct(verdicts: Iterable[Verdict], *, method: Correction = "holm") -> tuple[Verdict, ...]:
    """Correct a declared family of verdicts for multiple comparisons.

    Every verdict keeps its raw ``p_value``; ``p_adjusted`` becomes the Holm (default) or
    Bonferroni adjusted value over the whole family and ``passed`` is decided on it, so the
    chance of any false claim in the family is at most ``alpha`` (Holm 1979). The family is
    everything reported together, e.g. every candidate against the baseline on every dataset
    and metric of a run; declare it before looking at the results.

    Raises:
        ValueError: an empty family, verdicts with different alphas, or a verdict that was
            already corrected in another family.

    Example:
        >>> vs = [superiority([0.1, 0.2] * 20, [0.2, 0.3] * 20, dataset=name, test="t")
        ...       for name in ("fiqa", "scifact")]
        >>> [(v.correction, v.family_size, v.p_adjusted) for v in correct(vs)]
        [('holm', 2, 0.0), ('holm', 2, 0.0)]
    """
    family = tuple(verdicts)
    if not family:
        raise invalid("an empty family has nothing to correct; pass every verdict of the run.")
    for v in family:
        if v.correction != "none" or v.family_size != 1:
            raise invalid(
                f"the {v.kind} verdict of {v.candidate} on {v.dataset or 'its dataset'} is "
                f"already part of a family of {v.family_size}; build each family once, from "
                "uncorrected verdicts."
            )
    alphas = sorted({v.alpha for v in family})
    if len(alphas) > 1:
        raise invalid(
            f"a family shares one alpha; these verdicts use {', '.join(map(str, alphas))}."
        )
    adjusted = adjust([v.p_value for v in family], method)
    return tuple(
        replace(
            v,
            correction=method,
            family_size=len(family),
            p_adjusted=float(p),
            passed=_decide(
                v.kind, v.alternative, float(p), v.alpha, v.mean_diff, v.higher_is_better
            ),
        )
        for v, p in zip(family, adjusted, strict=True)
    )
