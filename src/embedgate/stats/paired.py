"""Paired significance tests on per-query scores: randomization (sign-flip), t and Wilcoxon.

Every test here sees two aligned vectors of per-query scores, the baseline ``a`` and the
candidate ``b``, and works on the differences ``d = b - a`` (candidate minus baseline). The null
hypothesis is about their centre relative to ``null_difference`` (``mu0``, 0 by default):

============  ==============================  ====================================
alternative   H0                               H1
============  ==============================  ====================================
two-sided     centre of d == mu0               centre of d != mu0
greater       centre of d <= mu0               centre of d > mu0  (b better, if higher is better)
less          centre of d >= mu0               centre of d < mu0
============  ==============================  ====================================

A shifted null (``mu0 = -margin``, ``alternative="greater"``) is the one-sided non-inferiority
test "b is not worse than a by more than margin" (Wellek 2010, ch. 2; Walker & Nowacki 2011).
The tests run on ``d - mu0``.

Note the orientation: ``scipy.stats.ttest_rel(x, y)`` works on ``x - y``, so
``t_test(a, b, alternative="greater")`` equals ``ttest_rel(b, a, alternative="greater")``.

References:
    Smucker, Allan & Carterette (2007). A comparison of statistical significance tests for
    information retrieval evaluation. CIKM.
    Phipson & Smyth (2010). Permutation p-values should never be zero. Stat. Appl. Genet. Mol.
    Biol. 9(1).
    Wilcoxon (1945). Individual comparisons by ranking methods. Biometrics Bulletin 1(6).
    Pratt (1959). Remarks on zeros and ties in the Wilcoxon signed rank procedures. JASA 54.
    Wellek (2010). Testing Statistical Hypotheses of Equivalence and Noninferiority, 2nd ed.
    Walker & Nowacki (2011). Understanding equivalence and noninferiority testing. J Gen Intern
    Med 26(2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from embedgate.stats._common import (
    Alternative,
    FloatArray,
    Seed,
    check_alternative,
    check_finite,
    check_resamples,
    invalid,
    is_constant,
    json_float,
    paired_scores,
    rng_from,
)

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = [
    "EXACT_AUTO_LIMIT",
    "EXACT_MAX",
    "TESTS",
    "PairedTest",
    "TestName",
    "check_test",
    "paired_test",
    "randomization_test",
    "t_test",
    "wilcoxon_test",
]

TestName: TypeAlias = Literal["randomization", "t", "wilcoxon"]
_TEST_NAMES: tuple[TestName, ...] = ("randomization", "t", "wilcoxon")
ZeroMethod: TypeAlias = Literal["wilcox", "pratt", "zsplit"]
WilcoxonMethod: TypeAlias = Literal["auto", "exact", "asymptotic"]

#: With ``exact=None``, sign flips are enumerated exactly up to this many nonzero differences.
EXACT_AUTO_LIMIT = 30
#: The most nonzero differences ``exact=True`` accepts (two tables of 2**22 sums, ~64 MB).
EXACT_MAX = 44

# Signed sums closer than this fraction of sum(|d|) count as equal: it absorbs the rounding
# of adding the same numbers in another order, while real distinct values of IR score sums are
# many orders of magnitude further apart.
_REL_TIE = 1e-10
# Monte Carlo sign matrices are drawn in blocks of about this many cells.
_BLOCK_CELLS = 1 << 21

_DESCRIPTIONS: dict[str, str] = {
    "randomization": "paired randomization test",
    "t": "paired t-test",
    "wilcoxon": "Wilcoxon signed-rank test",
}


@dataclass(frozen=True, slots=True)
class PairedTest:
    """The outcome of one paired test.

    Attributes:
        test: ``"randomization"``, ``"t"`` or ``"wilcoxon"``.
        statistic: mean of ``d - mu0`` (randomization), Student's t (t), or W+, the sum of the
            ranks of the positive ``d - mu0`` (wilcoxon; scipy reports ``min(W+, W-)`` for
            two-sided tests). NaN for a t-test on one query.
        p_value: in [0, 1]; never NaN.
        n: number of queries (pairs), zeros included.
        alternative: ``"two-sided"``, ``"greater"`` or ``"less"`` (about ``b - a``).
        null_difference: ``mu0``, the centre of ``b - a`` under H0.
        resamples: Monte Carlo resamples, or None when the p-value is not simulated.
        exact: True when the p-value comes from the full null distribution (enumeration or the
            exact Wilcoxon distribution), False for Monte Carlo or asymptotic p-values.
    """

    test: TestName
    statistic: float
    p_value: float
    n: int
    alternative: Alternative
    null_difference: float = 0.0
    resamples: int | None = None
    exact: bool = False

    @property
    def description(self) -> str:
        """For example ``"one-sided paired randomization test (exact)"``."""
        sided = "two-sided" if self.alternative == "two-sided" else "one-sided"
        how = (
            "exact"
            if self.exact
            else f"{self.resamples} resamples"
            if self.resamples is not None
            else "asymptotic"
        )
        if self.test == "t":
            return f"{sided} {_DESCRIPTIONS[self.test]}"
        return f"{sided} {_DESCRIPTIONS[self.test]} ({how})"

    @property
    def monte_carlo_error(self) -> float:
        """Standard error of a Monte Carlo p-value, ``sqrt(p(1-p)/R)``; 0 when not simulated."""
        if self.resamples is None or self.exact:
            return 0.0
        return math.sqrt(self.p_value * (1.0 - self.p_value) / self.resamples)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict; a NaN statistic becomes None."""
        return {
            "test": self.test,
            "statistic": json_float(self.statistic),
            "p_value": self.p_value,
            "n": self.n,
            "alternative": self.alternative,
            "null_difference": self.null_difference,
            "resamples": self.resamples,
            "exact": self.exact,
        }


# --------------------------------------------------------------------------- sign flips


def _signed_sums(x: FloatArray) -> FloatArray:
    """All ``2**len(x)`` values of ``sum(s_i * x_i)`` over signs ``s_i`` in {-1, +1}."""
    sums = np.zeros(1)
    for v in x.tolist():
        sums = np.concatenate((sums + v, sums - v))
    return sums


def _sign_flip_p(
    x: FloatArray,
    alternative: Alternative,
    *,
    exact: bool | None,
    resamples: int,
    rng: np.random.Generator | None,
) -> tuple[float, bool]:
    """p-value of ``T = sum(x)`` under random sign flips of ``x``; and whether it is exact.

    Zeros never change ``T`` when flipped, so they are dropped: the exact p-value over the
    nonzero elements equals the one over all ``2**n`` sign vectors. The exact distribution is
    counted by meeting in the middle (all signed sums of each half; sort one half, binary-search
    the other), so 40 nonzero differences cost two tables of about a million sums.
    """
    x = x[x != 0]
    k = int(x.size)
    if k == 0:
        return 1.0, True
    t0 = float(x.sum())
    gamma = _REL_TIE * float(np.abs(x).sum())
    # k <= log2(resamples) rather than 2.0**k <= resamples: 2.0**k overflows past k = 1023.
    use_exact = (k <= EXACT_AUTO_LIMIT or k <= math.log2(resamples)) if exact is None else exact
    if use_exact:
        if k > EXACT_MAX:
            raise invalid(
                f"exact enumeration of 2**{k} sign flips is too large (at most {EXACT_MAX} "
                "nonzero differences); pass exact=False for a Monte Carlo p-value."
            )
        half = k // 2
        left = np.sort(_signed_sums(x[:half]))
        right = _signed_sums(x[half:])
        total = float(left.size) * float(right.size)
        n_ge = float(left.size * right.size - np.searchsorted(left, t0 - gamma - right).sum())
        n_le = float(np.searchsorted(left, t0 + gamma - right, side="right").sum())
        p_greater, p_less = n_ge / total, n_le / total
    else:
        if rng is None:
            raise invalid("a Monte Carlo p-value needs a seed.")
        block = max(1, _BLOCK_CELLS // k)
        n_ge = n_le = 0
        done = 0
        while done < resamples:
            m = min(block, resamples - done)
            # One random bit per sign: 8 signs per random byte.
            raw = rng.integers(0, 256, size=(m, (k + 7) // 8), dtype=np.uint8)
            bits = np.unpackbits(raw, axis=1, count=k)
            t = (1.0 - 2.0 * bits) @ x
            n_ge += int(np.count_nonzero(t >= t0 - gamma))
            n_le += int(np.count_nonzero(t <= t0 + gamma))
            done += m
        # Phipson & Smyth (2010): count the observed statistic as one of the resamples.
        p_greater = (n_ge + 1) / (resamples + 1)
        p_less = (n_le + 1) / (resamples + 1)
    if alternative == "greater":
        p = p_greater
    elif alternative == "less":
        p = p_less
    else:
        p = min(1.0, 2.0 * min(p_greater, p_less))
    return min(1.0, p), bool(use_exact)


# --------------------------------------------------------------------------- the tests


def randomization_test(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    null_difference: float = 0.0,
    resamples: int = 10_000,
    exact: bool | None = None,
    seed: Seed = 0,
) -> PairedTest:
    """Paired randomization (sign-flip) test of the mean difference.

    H0: the differences ``d_i - mu0`` are symmetric about 0, so each could have had either sign
    (for ``mu0 = 0``: the two models are exchangeable on every query). The statistic is
    ``T = mean(d - mu0)``; its null distribution is that of ``mean(s_i (d_i - mu0))`` over all
    sign vectors ``s``. This is the test Smucker, Allan & Carterette (2007) recommend for IR.

    * Exact when at most :data:`EXACT_AUTO_LIMIT` differences are nonzero (or ``2**k`` is at
      most ``resamples``): ``p = #{T* >= T} / 2**k``, every sign vector counted once.
    * Otherwise Monte Carlo with ``resamples`` random sign vectors and
      ``p = (1 + #{T* >= T}) / (1 + R)`` (Phipson & Smyth 2010), which is never 0 and keeps
      the test valid at every R. Its Monte Carlo error is ``PairedTest.monte_carlo_error``.
    * Two-sided: ``p = min(1, 2 min(p_greater, p_less))``, as ``scipy.stats.permutation_test``.

    Edge cases: zero differences are kept (a flipped zero is still zero), so only nonzero
    differences carry information; all differences zero gives ``p = 1``; one query gives
    ``p = 1/2`` at best one-sided. With a shifted null (non-inferiority, ``mu0 = -margin``) the
    test assumes the distribution of ``d`` is symmetric about ``mu0`` at the boundary of H0;
    without symmetry it is still asymptotically valid for the mean, because the sign-flip
    variance ``sum (d_i - mu0)**2`` estimates ``n Var(d)`` when the mean is ``mu0``
    (Janssen 1997). ``tests/unit/stats/test_calibration.py`` checks it on skewed IR-like data.

    Args:
        a: baseline per-query scores.
        b: candidate per-query scores, aligned with ``a``.
        alternative: see the module docstring.
        null_difference: ``mu0``.
        resamples: Monte Carlo sign vectors when the test is not exact.
        exact: True to force enumeration (at most :data:`EXACT_MAX` nonzero differences),
            False to force Monte Carlo, None to choose.
        seed: an int or a Generator; only used for Monte Carlo.

    Returns:
        A :class:`PairedTest`; ``statistic`` is ``mean(d) - mu0``.

    Raises:
        ValueError: mismatched lengths, non-finite scores, bad options.

    Example:
        >>> randomization_test([0.2, 0.5, 0.4, 0.1], [0.3, 0.7, 0.6, 0.4], alternative="greater")
        PairedTest(test='randomization', statistic=0.19999999999999998, p_value=0.0625, n=4, alternative='greater', null_difference=0.0, resamples=None, exact=True)
    """  # noqa: E501
    a_, b_ = paired_scores(a, b)
    alternative = check_alternative(alternative)
    mu0 = check_finite("null_difference", null_difference)
    resamples = check_resamples(resamples)
    x = b_ - a_ - mu0
    rng = rng_from(seed)
    p, used_exact = _sign_flip_p(x, alternative, exact=exact, resamples=resamples, rng=rng)
    return PairedTest(
        test="randomization",
        statistic=float(np.mean(b_ - a_)) - mu0,
        p_value=p,
        n=int(x.size),
        alternative=alternative,
        null_difference=mu0,
        resamples=None if used_exact else resamples,
        exact=used_exact,
    )


def t_test(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    null_difference: float = 0.0,
) -> PairedTest:
    """Paired Student t-test of the mean difference.

    H0: ``E[d] = mu0`` (or ``<=``/``>=`` one-sided), with ``t = (mean(d) - mu0) / (s_d / sqrt(n))``
    on ``n - 1`` degrees of freedom, ``s_d`` the sample SD (``ddof=1``). Matches
    ``scipy.stats.ttest_rel(b, a)`` (note the order) wherever scipy gives a number.

    Edge cases, defined instead of scipy's NaN:
        * one query: ``t`` is NaN and ``p = 1`` (no estimate of spread, no evidence).
        * all differences equal to ``mu0`` (e.g. identical scores): ``t = 0``, ``p = 1``.
        * constant differences ``c != mu0``: ``s_d = 0`` so ``t = +-inf``: ``p = 0`` for the
          alternative that points the way of ``c - mu0`` and for two-sided, ``p = 1`` for the
          other one-sided alternative. (Every query moved by exactly the same amount.)

    Reference: Student (1908); Smucker, Allan & Carterette (2007) for its use in IR.

    Example:
        >>> round(t_test([0.2, 0.5, 0.4, 0.1], [0.3, 0.7, 0.6, 0.4]).p_value, 4)
        0.0163
    """
    a_, b_ = paired_scores(a, b)
    alternative = check_alternative(alternative)
    mu0 = check_finite("null_difference", null_difference)
    d = b_ - a_
    n = int(d.size)
    shifted = float(np.mean(d)) - mu0
    if n < 2:
        return PairedTest("t", math.nan, 1.0, n, alternative, mu0)
    if is_constant(d):
        c = float(d[0]) - mu0
        if c == 0.0:
            return PairedTest("t", 0.0, 1.0, n, alternative, mu0)
        t = math.copysign(math.inf, c)
        wins = alternative == "two-sided" or (alternative == "greater") == (c > 0)
        return PairedTest("t", t, 0.0 if wins else 1.0, n, alternative, mu0)
    se = float(np.std(d, ddof=1)) / math.sqrt(n)
    t = shifted / se
    df = n - 1
    if alternative == "greater":
        p = float(sps.t.sf(t, df))
    elif alternative == "less":
        p = float(sps.t.cdf(t, df))
    else:
        p = float(min(1.0, 2.0 * sps.t.sf(abs(t), df)))
    return PairedTest("t", t, p, n, alternative, mu0)


def wilcoxon_test(
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    null_difference: float = 0.0,
    zero_method: ZeroMethod = "wilcox",
    method: WilcoxonMethod = "auto",
) -> PairedTest:
    """Wilcoxon signed-rank test.

    H0: the distribution of ``d - mu0`` is symmetric about 0. The statistic is
    ``W+ = sum of the ranks of |d_i - mu0| over the positive d_i - mu0`` (average ranks for
    ties). It tests the centre of symmetry (the pseudo-median), not the mean: with a shifted
    null the margin applies to the pseudo-median, which on IR scores (many zero differences,
    skew) can sit far from the mean. It is no test of a margin on the mean: the verdicts refuse
    it for non-inferiority and equivalence.

    Zeros (``zero_method``, default ``"wilcox"``, scipy's default): ``"wilcox"`` drops zero
    differences (the classic conditional test, Wilcoxon 1945); ``"pratt"`` ranks them with the
    others and then ignores their ranks (Pratt 1959); ``"zsplit"`` splits their ranks between
    W+ and W-. All are passed through to scipy for the asymptotic and exact-distribution paths.

    ``method="auto"`` picks, in order:
        1. no zeros, no tied ``|d|`` and ``n <= 50``: the exact Wilcoxon distribution
           (``scipy.stats.wilcoxon(method="exact")``, as scipy's own ``"auto"`` does);
        2. otherwise, at most :data:`EXACT_AUTO_LIMIT` nonzero differences: the exact
           conditional distribution of W+ given the tied ranks, by enumerating every sign
           vector (what scipy does only up to ``n = 13``, through ``permutation_test``; beyond
           that scipy falls back to the normal approximation, which is anti-conservative when
           few differences are nonzero);
        3. otherwise the normal approximation with tie correction and no continuity correction
           (``scipy.stats.wilcoxon(method="asymptotic", correction=False)``).

    Edge cases: all differences zero (after the shift) gives ``W+ = 0``, ``p = 1`` (scipy warns
    and returns NaN); one nonzero difference gives ``p = 1/2`` one-sided at best.

    Example:
        >>> wilcoxon_test([0.2, 0.5, 0.4, 0.1], [0.3, 0.7, 0.6, 0.4], alternative="greater")
        PairedTest(test='wilcoxon', statistic=10.0, p_value=0.0625, n=4, alternative='greater', null_difference=0.0, resamples=None, exact=True)
    """  # noqa: E501
    a_, b_ = paired_scores(a, b)
    alternative = check_alternative(alternative)
    mu0 = check_finite("null_difference", null_difference)
    if zero_method not in ("wilcox", "pratt", "zsplit"):
        raise invalid(f"zero_method {zero_method!r} is not one of wilcox, pratt, zsplit.")
    if method not in ("auto", "exact", "asymptotic"):
        raise invalid(f"method {method!r} is not one of auto, exact, asymptotic.")
    d = b_ - a_ - mu0
    n = int(d.size)
    nonzero = d != 0
    k = int(np.count_nonzero(nonzero))
    if k == 0:
        return PairedTest("wilcoxon", 0.0, 1.0, n, alternative, mu0, exact=True)
    if zero_method == "wilcox":
        ranks = sps.rankdata(np.abs(d[nonzero]))
        signs = np.sign(d[nonzero])
        zero_ranks = 0.0
    else:
        all_ranks = sps.rankdata(np.abs(d))
        ranks, signs = all_ranks[nonzero], np.sign(d[nonzero])
        zero_ranks = float(all_ranks[~nonzero].sum()) / 2.0 if zero_method == "zsplit" else 0.0
    w_plus = float(ranks[signs > 0].sum()) + zero_ranks
    has_ties = np.unique(np.abs(d[nonzero])).size < k
    clean = not has_ties and k == n

    if method == "auto":
        path = (
            "exact-dist"
            if clean and n <= 50
            else "enumerate"
            if k <= EXACT_AUTO_LIMIT
            else "asymptotic"
        )
    elif method == "exact":
        path = "exact-dist" if clean else "enumerate"
    else:
        path = "asymptotic"

    if path == "enumerate":
        p, _ = _sign_flip_p(signs * ranks, alternative, exact=True, resamples=1, rng=None)
    else:
        p = float(
            sps.wilcoxon(
                d,
                zero_method=zero_method,
                correction=False,
                alternative=alternative,
                method="exact" if path == "exact-dist" else "asymptotic",
            ).pvalue
        )
    return PairedTest(
        "wilcoxon", w_plus, min(1.0, p), n, alternative, mu0, exact=path != "asymptotic"
    )


def _randomization(
    a: FloatArray,
    b: FloatArray,
    alternative: Alternative,
    null_difference: float,
    resamples: int,
    seed: Seed,
) -> PairedTest:
    return randomization_test(
        a,
        b,
        alternative=alternative,
        null_difference=null_difference,
        resamples=resamples,
        seed=seed,
    )


def _t(
    a: FloatArray,
    b: FloatArray,
    alternative: Alternative,
    null_difference: float,
    resamples: int,
    seed: Seed,
) -> PairedTest:
    return t_test(a, b, alternative=alternative, null_difference=null_difference)


def _wilcoxon(
    a: FloatArray,
    b: FloatArray,
    alternative: Alternative,
    null_difference: float,
    resamples: int,
    seed: Seed,
) -> PairedTest:
    return wilcoxon_test(a, b, alternative=alternative, null_difference=null_difference)


#: The tests by name, each called as ``f(a, b, alternative, null_difference, resamples, seed)``.
TESTS: dict[str, Callable[[FloatArray, FloatArray, Alternative, float, int, Seed], PairedTest]] = {
    "randomization": _randomization,
    "t": _t,
    "wilcoxon": _wilcoxon,
}


def check_test(test: str) -> TestName:
    """``test`` itself, once known to be a key of :data:`TESTS`; else a ValueError naming them."""
    for name in _TEST_NAMES:
        if test == name:
            return name
    raise invalid(f"unknown test {test!r}; choose one of {', '.join(sorted(TESTS))}.")


def paired_test(
    test: str,
    a: npt.ArrayLike,
    b: npt.ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    null_difference: float = 0.0,
    resamples: int = 10_000,
    seed: Seed = 0,
) -> PairedTest:
    """Run the test named ``test`` (a key of :data:`TESTS`) with its default options.

    Raises:
        ValueError: an unknown test name (the message lists the known ones), or bad input.
    """
    fn = TESTS[check_test(test)]
    a_, b_ = paired_scores(a, b)
    return fn(a_, b_, alternative, null_difference, resamples, seed)
