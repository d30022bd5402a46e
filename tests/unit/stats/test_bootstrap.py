"""Bootstrap and t intervals agree with scipy; effect sizes; edge cases."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest
import scipy.stats as sps

from embedgate.stats import (
    ScoreModel,
    cohens_dz,
    effect_size,
    mean_difference_interval,
    paired_bootstrap,
    t_interval,
)
from embedgate.stats.bootstrap import _bootstrap_means, _interval_from


def ir_scores(n: int, seed: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    a, b = ScoreModel().sample(1, n, shift=shift, seed=seed)
    return a[0], b[0]


def mean_diff(x: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    return np.mean(x - y, axis=axis)


@pytest.mark.parametrize("method", ["bca", "percentile"])
@pytest.mark.parametrize(("n", "seed"), [(2, 1), (8, 2), (60, 3), (400, 4)])
def test_interval_from_one_bootstrap_distribution_equals_scipy(
    n: int, seed: int, method: str
) -> None:
    """Fed the same bootstrap means, scipy computes the same BCa or percentile interval."""
    a, b = ir_scores(n, seed, shift=0.1)
    d = b - a
    if np.all(d == d[0]):
        a[0] += 0.5  # a query that changes, so the interval is not a point
        d = b - a
    boot = _bootstrap_means(d[None, :], 5000, np.random.default_rng(seed))[0]
    ours = _interval_from(d, boot, 0.9, method, 5000)  # type: ignore[arg-type]
    ref = sps.bootstrap(
        (b, a),
        mean_diff,
        paired=True,
        vectorized=True,
        confidence_level=0.9,
        method="BCa" if method == "bca" else "percentile",
        n_resamples=0,
        bootstrap_result=SimpleNamespace(bootstrap_distribution=boot),
    )
    assert ours.method == method
    assert ours.low == pytest.approx(ref.confidence_interval.low, rel=1e-9, abs=1e-12)
    assert ours.high == pytest.approx(ref.confidence_interval.high, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("method", ["bca", "percentile"])
@pytest.mark.parametrize("n", [30, 300])
def test_paired_bootstrap_agrees_with_scipy_within_monte_carlo_error(n: int, method: str) -> None:
    a, b = ir_scores(n, 5, shift=0.1)
    d = b - a
    se = float(np.std(d, ddof=1)) / math.sqrt(n)
    ours = paired_bootstrap(a, b, method=method, resamples=20_000, seed=1)  # type: ignore[arg-type]
    ref = sps.bootstrap(
        (b, a),
        mean_diff,
        paired=True,
        vectorized=True,
        method="BCa" if method == "bca" else "percentile",
        n_resamples=20_000,
        rng=np.random.default_rng(2),
    ).confidence_interval
    # A 95% endpoint from 20,000 resamples has a Monte Carlo SD of at most 0.031 standard
    # errors of the mean (measured over 40 seeds on these data); 0.15 SE is over 3 SDs of the
    # difference between two independent runs.
    assert abs(ours.difference.low - ref.low) < 0.15 * se
    assert abs(ours.difference.high - ref.high) < 0.15 * se
    for mine, x in ((ours.baseline, a), (ours.candidate, b)):
        one = sps.bootstrap(
            (x,),
            np.mean,
            vectorized=True,
            method="BCa" if method == "bca" else "percentile",
            n_resamples=20_000,
            rng=np.random.default_rng(3),
        ).confidence_interval
        se_x = float(np.std(x, ddof=1)) / math.sqrt(n)
        assert abs(mine.low - one.low) < 0.15 * se_x
        assert abs(mine.high - one.high) < 0.15 * se_x


def test_paired_bootstrap_reports_method_level_and_seed() -> None:
    a, b = ir_scores(50, 6, shift=0.1)
    res = paired_bootstrap(a, b, level=0.9, resamples=2000, seed=11)
    assert res.seed == 11
    for iv in (res.difference, res.baseline, res.candidate):
        assert (iv.level, iv.method, iv.resamples) == (0.9, "bca", 2000)
        assert iv.low < iv.high
    assert res.difference.description == "90% BCa bootstrap CI"
    assert res.baseline.contains(float(np.mean(a)))
    again = paired_bootstrap(a, b, level=0.9, resamples=2000, seed=11)
    assert again == res


@pytest.mark.parametrize("level", [0.8, 0.95, 0.99])
def test_t_interval_matches_scipy_ttest_rel(level: float) -> None:
    a, b = ir_scores(80, 7, shift=0.1)
    ours = t_interval(a, b, level=level)
    ref = sps.ttest_rel(b, a).confidence_interval(confidence_level=level)
    assert ours.low == pytest.approx(ref.low, rel=1e-10)
    assert ours.high == pytest.approx(ref.high, rel=1e-10)
    assert (ours.method, ours.resamples) == ("t", None)


@pytest.mark.parametrize("method", ["bca", "percentile", "t"])
def test_one_query_gives_an_unbounded_interval(method: str) -> None:
    iv = mean_difference_interval([0.2], [0.7], method=method)  # type: ignore[arg-type]
    assert (iv.low, iv.high) == (-math.inf, math.inf)
    assert iv.to_dict()["low"] is None


@pytest.mark.parametrize("method", ["bca", "percentile", "t"])
def test_constant_differences_give_a_point_interval(method: str) -> None:
    iv = mean_difference_interval([0.0, 0.5, 0.25], [0.25, 0.75, 0.5], method=method)  # type: ignore[arg-type]
    assert iv.low == iv.high == pytest.approx(0.25)


def test_constant_scores_give_point_intervals_for_each_mean() -> None:
    res = paired_bootstrap([0.5] * 10, [0.5] * 10, resamples=500)
    assert (res.difference.low, res.difference.high) == (0.0, 0.0)
    assert (res.baseline.low, res.candidate.high) == (0.5, 0.5)


def test_two_queries_give_a_finite_interval() -> None:
    res = paired_bootstrap([0.0, 0.0], [0.0, 1.0], resamples=2000, seed=0)
    assert 0.0 <= res.difference.low <= 0.5 <= res.difference.high <= 1.0


def test_differences_equal_up_to_rounding_fall_back_to_percentile_quietly() -> None:
    a = np.array([0.1, 0.2] * 20)
    b = np.array([0.2, 0.3] * 20)  # 0.1 and 0.09999999999999998
    iv = paired_bootstrap(a, b, resamples=500).difference
    assert iv.low == pytest.approx(0.1)
    assert iv.high == pytest.approx(0.1)


def test_many_zero_differences_and_ties_are_fine() -> None:
    a = np.r_[[0.5] * 90, [0.0] * 5, [1.0] * 5]
    b = np.r_[[0.5] * 90, [0.5] * 5, [0.5] * 5]
    iv = paired_bootstrap(a, b, resamples=4000, seed=3).difference
    assert iv.low <= 0.0 <= iv.high
    assert iv.high - iv.low < 0.2


def test_bootstrap_leaves_inputs_and_global_state_alone() -> None:
    a, b = ir_scores(30, 2)
    a0, b0 = a.copy(), b.copy()
    state = np.random.get_state()[1].copy()
    paired_bootstrap(a, b, resamples=300, seed=np.random.default_rng(1))
    np.testing.assert_array_equal(a, a0)
    np.testing.assert_array_equal(b, b0)
    np.testing.assert_array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"level": 1.0}, "level"),
        ({"level": 0}, "level"),
        ({"method": "basic"}, "method"),
        ({"resamples": 0}, "resamples"),
    ],
)
def test_bad_bootstrap_options_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        mean_difference_interval([0.1, 0.2], [0.2, 0.4], **kwargs)  # type: ignore[arg-type]


def test_cohens_dz_by_hand() -> None:
    # d = (0.1, 0.2, 0.2, 0.3): mean 0.2, sd sqrt(0.02 / 3)
    assert cohens_dz([0.2, 0.5, 0.4, 0.1], [0.3, 0.7, 0.6, 0.4]) == pytest.approx(
        0.2 / math.sqrt(0.02 / 3)
    )
    assert cohens_dz([0.3, 0.7, 0.6, 0.4], [0.2, 0.5, 0.4, 0.1]) < 0


def test_cohens_dz_edge_cases() -> None:
    assert math.isnan(cohens_dz([0.1], [0.2]))
    assert cohens_dz([0.1, 0.3], [0.1, 0.3]) == 0.0
    assert cohens_dz([0.0, 0.5], [0.25, 0.75]) == math.inf
    assert cohens_dz([0.25, 0.75], [0.0, 0.5]) == -math.inf


def test_effect_size_bundles_difference_interval_and_dz() -> None:
    a, b = ir_scores(60, 9, shift=0.2)
    es = effect_size(a, b, method="t", level=0.9)
    assert es.mean_diff == pytest.approx(float(np.mean(b - a)))
    assert es.interval == t_interval(a, b, level=0.9)
    assert es.d_z == pytest.approx(cohens_dz(a, b))
    assert es.n == 60
    assert set(es.to_dict()) == {"mean_diff", "interval", "d_z", "n"}
