"""Paired tests agree with scipy and behave on the edge cases of IR scores."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest
import scipy.stats as sps
from hypothesis import given, settings
from hypothesis import strategies as st

from embedgate.stats import (
    TESTS,
    PairedTest,
    ScoreModel,
    paired_test,
    randomization_test,
    t_test,
    wilcoxon_test,
)
from embedgate.stats.paired import EXACT_AUTO_LIMIT, EXACT_MAX

ALTERNATIVES = ("two-sided", "greater", "less")


def ir_scores(n: int, seed: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """nDCG-like scores with point masses at 0 and 1, ties and zero differences."""
    a, b = ScoreModel().sample(1, n, shift=shift, seed=seed)
    return a[0], b[0]


def mean_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x - y, axis=axis)


# --------------------------------------------------------------------------- t-test


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("n", "seed"), [(2, 0), (3, 5), (10, 2), (50, 3), (300, 4)])
def test_t_test_matches_scipy_ttest_rel(n: int, seed: int, alternative: str) -> None:
    a, b = ir_scores(n, seed, shift=0.1)
    ours = t_test(a, b, alternative=alternative)
    ref = sps.ttest_rel(b, a, alternative=alternative)
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-12)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-10, abs=1e-300)
    assert (ours.n, ours.test, ours.alternative) == (n, "t", alternative)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("mu0", [-0.05, 0.02])
def test_t_test_with_a_shifted_null_matches_ttest_1samp(alternative: str, mu0: float) -> None:
    a, b = ir_scores(120, 7)
    ours = t_test(a, b, alternative=alternative, null_difference=mu0)
    ref = sps.ttest_1samp(b - a, popmean=mu0, alternative=alternative)
    assert ours.statistic == pytest.approx(ref.statistic, rel=1e-10)
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-9)
    assert ours.null_difference == mu0


def test_t_test_on_one_query_has_no_evidence() -> None:
    res = t_test([0.2], [0.9], alternative="greater")
    assert math.isnan(res.statistic)
    assert res.p_value == 1.0


def test_t_test_on_identical_scores_gives_p_one_not_nan() -> None:
    res = t_test([0.3, 0.5, 0.0, 1.0], [0.3, 0.5, 0.0, 1.0])
    assert (res.statistic, res.p_value) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("alternative", "p"), [("greater", 0.0), ("two-sided", 0.0), ("less", 1.0)]
)
def test_t_test_on_constant_nonzero_differences_is_infinite(alternative: str, p: float) -> None:
    res = t_test([0.25, 0.5, 0.0], [0.5, 0.75, 0.25], alternative=alternative)
    assert res.statistic == math.inf
    assert res.p_value == p


def test_t_test_constant_differences_equal_to_the_null_give_p_one() -> None:
    res = t_test([0.25, 0.5, 0.0], [0.5, 0.75, 0.25], null_difference=0.25)
    assert res.p_value == 1.0


# --------------------------------------------------------------------------- randomization


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize(("n", "seed"), [(2, 0), (3, 1), (5, 2), (8, 3), (12, 4), (14, 5)])
def test_exact_randomization_equals_scipy_permutation_test(
    n: int, seed: int, alternative: str
) -> None:
    a, b = ir_scores(n, seed, shift=0.2)
    ours = randomization_test(a, b, alternative=alternative)
    ref = sps.permutation_test(
        (b, a),
        mean_diff,
        permutation_type="samples",
        alternative=alternative,
        n_resamples=2**n,
        vectorized=True,
    )
    assert ours.exact
    assert ours.resamples is None
    assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-12)
    assert ours.statistic == pytest.approx(ref.statistic, abs=1e-12)


@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_shifted_randomization_equals_permutation_test_on_shifted_scores(
    alternative: str,
) -> None:
    a, b = ir_scores(13, 11, shift=-0.1)
    margin = 0.03
    ours = randomization_test(a, b, alternative=alternative, null_difference=-margin)
    ref = sps.permutation_test(
        (b + margin, a),
        mean_diff,
        permutation_type="samples",
        alternative=alternative,
        n_resamples=2**13,
        vectorized=True,
    )
    assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-12)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_monte_carlo_randomization_agrees_with_scipy_within_monte_carlo_error(
    alternative: str,
) -> None:
    a, b = ir_scores(150, 21, shift=0.08)
    r = 40_000
    ours = randomization_test(a, b, alternative=alternative, resamples=r, seed=5)
    ref = sps.permutation_test(
        (b, a),
        mean_diff,
        permutation_type="samples",
        alternative=alternative,
        n_resamples=r,
        vectorized=True,
        rng=np.random.default_rng(6),
    )
    assert not ours.exact
    assert ours.resamples == r
    p = ref.pvalue
    # Two independent estimates of p: SD of their difference is sqrt(2 p (1-p) / R)
    # (doubled for the two-sided p = 2 min(...)); allow 4 of them.
    factor = 2.0 if alternative == "two-sided" else 1.0
    tol = 4 * factor * math.sqrt(2 * p * (1 - p) / r) + 1e-4
    assert abs(ours.p_value - p) <= tol
    assert ours.monte_carlo_error == pytest.approx(math.sqrt(ours.p_value * (1 - ours.p_value) / r))


def test_monte_carlo_agrees_with_full_enumeration_within_monte_carlo_error() -> None:
    rng = np.random.default_rng(3)
    a = rng.random(26)
    b = np.clip(a + rng.normal(0.04, 0.12, 26), 0, 1)
    exact = randomization_test(a, b, alternative="greater")
    mc = randomization_test(a, b, alternative="greater", exact=False, resamples=50_000, seed=1)
    assert exact.exact
    assert not mc.exact
    p = exact.p_value
    assert abs(mc.p_value - p) <= 4 * math.sqrt(p * (1 - p) / 50_000) + 1e-4


def test_enumeration_beyond_the_auto_limit_when_asked() -> None:
    rng = np.random.default_rng(9)
    d = rng.normal(0.1, 1.0, EXACT_AUTO_LIMIT + 4)
    auto = randomization_test(np.zeros_like(d), d, resamples=1000)
    forced = randomization_test(np.zeros_like(d), d, exact=True)
    assert not auto.exact
    assert forced.exact
    assert 0 < forced.p_value < 1


def test_exact_enumeration_refuses_too_many_differences() -> None:
    d = np.linspace(0.01, 1, EXACT_MAX + 1)
    with pytest.raises(ValueError, match="exact=False"):
        randomization_test(np.zeros_like(d), d, exact=True)


def test_zero_differences_carry_no_information() -> None:
    """Adding tied queries (zero differences) leaves the sign-flip p-value unchanged."""
    a = np.array([0.2, 0.4, 0.1, 0.7, 0.3])
    b = np.array([0.5, 0.6, 0.0, 0.9, 0.6])
    with_ties = randomization_test(np.r_[a, [0.5] * 20], np.r_[b, [0.5] * 20])
    without = randomization_test(a, b)
    assert with_ties.exact
    assert with_ties.p_value == without.p_value
    assert with_ties.n == 25


def test_all_zero_differences_give_p_one() -> None:
    for alternative in ALTERNATIVES:
        res = randomization_test([0.1, 0.5, 1.0], [0.1, 0.5, 1.0], alternative=alternative)
        assert res.p_value == 1.0
        assert res.statistic == 0.0


def test_randomization_on_one_query() -> None:
    assert randomization_test([0.2], [0.9], alternative="greater").p_value == 0.5
    assert randomization_test([0.2], [0.9], alternative="less").p_value == 1.0
    assert randomization_test([0.2], [0.9]).p_value == 1.0


def test_randomization_on_two_queries_by_hand() -> None:
    # d = (0.1, 0.3): signed sums 0.4, -0.2, 0.2, -0.4; one of four is >= 0.4, all are <= 0.4.
    res = randomization_test([0.5, 0.2], [0.6, 0.5], alternative="greater")
    assert res.p_value == 0.25
    assert res.statistic == pytest.approx(0.2)
    assert randomization_test([0.5, 0.2], [0.6, 0.5], alternative="less").p_value == 1.0
    assert randomization_test([0.5, 0.2], [0.6, 0.5]).p_value == 0.5


def test_constant_nonzero_differences_reach_the_smallest_exact_p() -> None:
    res = randomization_test([0.0] * 6, [0.25] * 6, alternative="greater")
    assert res.p_value == pytest.approx(2.0**-6)


def test_monte_carlo_p_value_is_never_zero() -> None:
    d = np.full(40, 0.5) + np.linspace(0, 0.1, 40)
    res = randomization_test(np.zeros(40), d, alternative="greater", resamples=99, exact=False)
    assert res.p_value == pytest.approx(1 / 100)


@given(
    st.lists(
        st.tuples(st.sampled_from([0.0, 0.25, 0.5, 0.75, 1.0]), st.sampled_from([0.0, 0.5, 1.0])),
        min_size=1,
        max_size=12,
    )
)
@settings(max_examples=60, deadline=None)
def test_swapping_models_swaps_the_one_sided_alternatives(pairs: list[tuple[float, float]]) -> None:
    a = np.array([p[0] for p in pairs])
    b = np.array([p[1] for p in pairs])
    for test in (randomization_test, wilcoxon_test, t_test):
        g = test(a, b, alternative="greater")
        l_ = test(b, a, alternative="less")
        assert 0.0 <= g.p_value <= 1.0
        assert g.p_value == pytest.approx(l_.p_value, abs=1e-12)
        two = test(a, b).p_value
        assert test(b, a).p_value == pytest.approx(two, abs=1e-12)


# --------------------------------------------------------------------------- Wilcoxon


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("n", [1, 5, 20, 50])
def test_wilcoxon_without_ties_uses_the_exact_distribution_like_scipy(
    n: int, alternative: str
) -> None:
    rng = np.random.default_rng(n)
    a = rng.random(n)
    b = a + rng.normal(0.05, 0.2, n)
    ours = wilcoxon_test(a, b, alternative=alternative)
    ref = sps.wilcoxon(b, a, alternative=alternative)
    assert ours.exact
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-12)
    if alternative != "two-sided":
        assert ours.statistic == ref.statistic


@pytest.mark.parametrize("zero_method", ["wilcox", "pratt", "zsplit"])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_wilcoxon_with_ties_and_many_queries_matches_scipy_asymptotic(
    alternative: str, zero_method: str
) -> None:
    a, b = ir_scores(200, 31, shift=0.1)
    ours = wilcoxon_test(a, b, alternative=alternative, zero_method=zero_method)
    ref = sps.wilcoxon(b, a, alternative=alternative, zero_method=zero_method)
    assert not ours.exact
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-10)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_wilcoxon_with_ties_on_few_queries_matches_scipy_permutation(
    seed: int, alternative: str
) -> None:
    a, b = ir_scores(12, seed, shift=0.2)
    if np.all(a == b):
        pytest.skip("no nonzero difference")
    ours = wilcoxon_test(a, b, alternative=alternative)
    ref = sps.wilcoxon(b, a, alternative=alternative)  # scipy enumerates up to n = 13
    assert ours.exact
    assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-12)


@pytest.mark.parametrize("zero_method", ["wilcox", "pratt", "zsplit"])
def test_wilcoxon_enumerates_exactly_where_scipy_would_approximate(zero_method: str) -> None:
    # 14 queries with zeros and ties: scipy's "auto" uses the normal approximation here; the
    # exact permutation distribution is what scipy gives when asked to enumerate.
    a, b = ir_scores(14, 2, shift=0.25)
    ours = wilcoxon_test(a, b, alternative="greater", zero_method=zero_method)
    ref = sps.wilcoxon(
        b,
        a,
        alternative="greater",
        zero_method=zero_method,
        method=sps.PermutationMethod(n_resamples=2**14),
    )
    assert ours.exact
    assert ours.p_value == pytest.approx(ref.pvalue, abs=1e-12)
    forced = wilcoxon_test(
        a, b, alternative="greater", zero_method=zero_method, method="asymptotic"
    )
    asym = sps.wilcoxon(b, a, alternative="greater", zero_method=zero_method, method="asymptotic")
    assert forced.p_value == pytest.approx(asym.pvalue, rel=1e-10)


def test_wilcoxon_with_a_shift_matches_scipy_on_shifted_differences() -> None:
    a, b = ir_scores(80, 8, shift=-0.1)
    ours = wilcoxon_test(a, b, alternative="greater", null_difference=-0.02)
    ref = sps.wilcoxon(b - a + 0.02, alternative="greater")
    assert ours.p_value == pytest.approx(ref.pvalue, rel=1e-10)


def test_wilcoxon_all_zero_differences_give_p_one_instead_of_nan() -> None:
    res = wilcoxon_test([0.4, 0.0, 1.0], [0.4, 0.0, 1.0])
    assert (res.statistic, res.p_value) == (0.0, 1.0)


def test_wilcoxon_constant_differences() -> None:
    res = wilcoxon_test([0.0] * 5, [0.5] * 5, alternative="greater")
    assert res.p_value == pytest.approx(2.0**-5)
    assert res.statistic == 15.0


def test_wilcoxon_rejects_unknown_options() -> None:
    with pytest.raises(ValueError, match="zero_method"):
        wilcoxon_test([0.1, 0.2], [0.2, 0.3], zero_method="drop")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="method"):
        wilcoxon_test([0.1, 0.2], [0.2, 0.3], method="fast")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- input and seeds


@pytest.mark.parametrize("name", sorted(TESTS))
def test_mismatched_lengths_are_refused_with_both_lengths(name: str) -> None:
    with pytest.raises(ValueError, match=r"baseline has 3 scores and candidate 2"):
        paired_test(name, [0.1, 0.2, 0.3], [0.1, 0.2])


@pytest.mark.parametrize("name", sorted(TESTS))
@pytest.mark.parametrize("bad", [math.nan, math.inf])
def test_non_finite_scores_are_refused_with_their_position(name: str, bad: float) -> None:
    with pytest.raises(
        ValueError, match=r"candidate scores are NaN or infinite at position\(s\) 1"
    ):
        paired_test(name, [0.1, 0.2, 0.3], [0.1, bad, 0.3])


@pytest.mark.parametrize(
    ("a", "match"),
    [([], "no scores"), ([[0.1, 0.2]], "1-d"), (["x"], "cannot be read as numbers")],
)
def test_malformed_scores_are_refused(a: list[object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        t_test(a, a)  # type: ignore[arg-type]


def test_unknown_test_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="randomization, t, wilcoxon"):
        paired_test("sign", [0.1], [0.2])


def test_unknown_alternative_is_refused() -> None:
    with pytest.raises(ValueError, match="alternative"):
        t_test([0.1, 0.2], [0.2, 0.3], alternative="bigger")  # type: ignore[arg-type]


@pytest.mark.parametrize("name", sorted(TESTS))
def test_inputs_are_never_modified(name: str) -> None:
    a, b = ir_scores(40, 3, shift=0.1)
    a.setflags(write=False)
    b.setflags(write=False)
    a0, b0 = a.copy(), b.copy()
    paired_test(name, a, b, null_difference=-0.01, resamples=500)
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)


def test_global_random_state_is_left_alone() -> None:
    np.random.seed(123)
    random.seed(123)
    before = (np.random.get_state()[1].copy(), random.getstate())
    a, b = ir_scores(100, 3, shift=0.1)
    randomization_test(a, b, resamples=500, seed=4)
    after = (np.random.get_state()[1], random.getstate())
    np.testing.assert_array_equal(before[0], after[0])
    assert before[1] == after[1]


def test_monte_carlo_is_reproducible_by_seed_and_accepts_a_generator() -> None:
    a, b = ir_scores(100, 3, shift=0.05)
    p1 = randomization_test(a, b, resamples=2000, seed=7).p_value
    p2 = randomization_test(a, b, resamples=2000, seed=7).p_value
    p3 = randomization_test(a, b, resamples=2000, seed=np.random.default_rng(7)).p_value
    assert p1 == p2 == p3
    with pytest.raises(ValueError, match="seed"):
        randomization_test(a, b, seed=1.5)  # type: ignore[arg-type]


def test_result_describes_itself() -> None:
    a, b = ir_scores(100, 3, shift=0.05)
    res = randomization_test(a, b, alternative="greater", resamples=2000)
    assert isinstance(res, PairedTest)
    assert res.description == "one-sided paired randomization test (2000 resamples)"
    assert t_test(a, b).description == "two-sided paired t-test"
    assert randomization_test(a[:5], b[:5]).description.endswith("(exact)")
    d = t_test([0.1], [0.2]).to_dict()
    assert d["statistic"] is None
    assert d["p_value"] == 1.0


def test_randomization_handles_more_nonzero_differences_than_a_float_exponent_holds() -> None:
    # 1,190 nonzero differences (XQuAD's query count): 2.0**1190 overflows a float.
    rng = np.random.default_rng(5)
    a = rng.uniform(0, 1, 1190)
    b = a + rng.normal(0.05, 0.2, 1190)
    result = randomization_test(a, b, alternative="greater", resamples=2_000, seed=1)
    assert not result.exact
    assert result.resamples == 2_000
    assert result.p_value < 0.01
