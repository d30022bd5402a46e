"""Power, minimum detectable effect and queries needed."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import scipy.stats as sps

from embedgate.stats import (
    ScoreModel,
    minimum_detectable_effect,
    power_at,
    power_report,
    queries_needed,
)


@pytest.mark.parametrize("two_sided", [False, True])
@pytest.mark.parametrize("n", [2, 10, 300])
def test_power_at_zero_effect_is_alpha(n: int, two_sided: bool) -> None:
    assert power_at(0.0, 0.2, n, alpha=0.05, two_sided=two_sided) == pytest.approx(0.05)


@pytest.mark.parametrize("two_sided", [False, True])
def test_power_matches_a_simulation_of_normal_differences(two_sided: bool) -> None:
    """The noncentral t formula against 40,000 simulated paired t-tests (exact for normal d)."""
    n, sd, effect, reps = 15, 0.2, 0.1, 40_000
    d = np.random.default_rng(0).normal(effect, sd, (reps, n))
    res = sps.ttest_1samp(d, 0.0, axis=1, alternative="two-sided" if two_sided else "greater")
    empirical = float(np.mean(res.pvalue <= 0.05))
    predicted = power_at(effect, sd, n, two_sided=two_sided)
    assert abs(empirical - predicted) < 4 * math.sqrt(predicted * (1 - predicted) / reps)


def test_power_approaches_the_normal_approximation_for_many_queries() -> None:
    n, sd, effect = 5000, 0.3, 0.012
    z = effect * math.sqrt(n) / sd - sps.norm.ppf(0.95)
    assert power_at(effect, sd, n) == pytest.approx(sps.norm.cdf(z), abs=2e-3)


@pytest.mark.parametrize("two_sided", [False, True])
@pytest.mark.parametrize(("sd", "n"), [(0.05, 5), (0.2, 50), (0.3, 1000)])
def test_mde_is_the_effect_where_power_reaches_the_target(
    sd: float, n: int, two_sided: bool
) -> None:
    mde = minimum_detectable_effect(sd, n, power=0.8, two_sided=two_sided)
    assert power_at(mde, sd, n, two_sided=two_sided) == pytest.approx(0.8, abs=1e-8)
    # The textbook approximation (t quantiles at n - 1 df) is close for moderate n.
    q = sps.t.ppf(1 - (0.025 if two_sided else 0.05), n - 1) + sps.t.ppf(0.8, n - 1)
    approx = q * sd / math.sqrt(n)
    assert mde == pytest.approx(approx, rel=0.05 if n > 10 else 0.2)


def test_mde_shrinks_with_the_square_root_of_n_and_two_sided_is_larger() -> None:
    m100 = minimum_detectable_effect(0.2, 100)
    m400 = minimum_detectable_effect(0.2, 400)
    assert m400 == pytest.approx(m100 / 2, rel=0.01)
    assert minimum_detectable_effect(0.2, 100, two_sided=True) > m100


@pytest.mark.parametrize("two_sided", [False, True])
@pytest.mark.parametrize(("effect", "sd"), [(0.5, 0.2), (0.02, 0.15), (0.005, 0.3)])
def test_queries_needed_is_the_smallest_sufficient_n(
    effect: float, sd: float, two_sided: bool
) -> None:
    n = queries_needed(effect, sd, two_sided=two_sided)
    assert power_at(effect, sd, n, two_sided=two_sided) >= 0.8
    if n > 2:
        assert power_at(effect, sd, n - 1, two_sided=two_sided) < 0.8
    assert minimum_detectable_effect(sd, n, two_sided=two_sided) <= effect


def test_power_edge_cases() -> None:
    assert power_at(0.1, 0.2, 1) == 0.0
    assert minimum_detectable_effect(0.2, 1) == math.inf
    assert power_at(0.1, 0.0, 10) == 1.0
    assert power_at(-0.1, 0.0, 10) == 0.0
    assert power_at(0.0, 0.0, 10) == 0.0
    assert minimum_detectable_effect(0.0, 10) == 0.0
    assert queries_needed(0.1, 0.0) == 2


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: queries_needed(0.0, 0.1), "effect must be > 0"),
        (lambda: queries_needed(-0.01, 0.1), "effect must be > 0"),
        (lambda: minimum_detectable_effect(0.1, 10, power=0.04), "power"),
        (lambda: power_at(0.1, -1.0, 10), "sd"),
        (lambda: power_at(0.1, 0.1, 10, alpha=1.5), "alpha"),
    ],
)
def test_bad_power_questions_are_refused(call: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()  # type: ignore[operator]


def _scores(n: int = 200) -> tuple[np.ndarray, np.ndarray]:
    a, b = ScoreModel().sample(1, n, seed=4)
    return a[0], b[0]


def test_superiority_report_per_dataset() -> None:
    a, b = _scores()
    sd = float(np.std(b - a, ddof=1))
    r = power_report(a, b, assumed_difference=0.02, dataset="scifact", metric="nDCG@10")
    assert r.sd_diff == pytest.approx(sd)
    assert r.mde == pytest.approx(minimum_detectable_effect(sd, 200))
    assert r.detectable_difference == r.mde
    assert r.queries_needed == queries_needed(0.02, sd)
    assert r.enough_queries is (r.queries_needed <= 200)
    s = r.sentence()
    assert s.startswith(
        f"On scifact (n=200 queries, SD of per-query differences {sd:.3f}), a "
        "one-sided paired t-test at α=0.05 has 80% power to detect a true "  # noqa: RUF001
        f"nDCG@10 difference of +{r.mde:.3f}; detecting +0.020 needs "
    )
    json.dumps(r.to_dict(), allow_nan=False)


def test_non_inferiority_report_measures_the_mde_from_the_margin() -> None:
    a, b = _scores()
    sd = float(np.std(b - a, ddof=1))
    r = power_report(a, b, kind="non-inferiority", margin=0.03, dataset="scifact")
    mde = minimum_detectable_effect(sd, 200)
    assert r.detectable_difference == pytest.approx(-0.03 + mde)
    assert r.assumed_difference == 0.0
    assert r.queries_needed == queries_needed(0.03, sd)
    assert "show non-inferiority at margin 0.030 only if the true difference is at least" in (
        r.sentence()
    )


def test_lower_is_better_report_flips_the_sign() -> None:
    a, b = _scores()
    r = power_report(a, b, kind="non-inferiority", margin=0.03, higher_is_better=False)
    assert r.detectable_difference == pytest.approx(0.03 - r.mde)
    up = power_report(a, b, assumed_difference=-0.02, higher_is_better=False)
    assert up.detectable_difference == pytest.approx(-up.mde)
    assert up.queries_needed is not None


def test_report_on_one_query_says_it_cannot_plan() -> None:
    r = power_report([0.3], [0.5], assumed_difference=0.1, dataset="tiny")
    assert math.isnan(r.sd_diff)
    assert r.mde == math.inf
    assert r.queries_needed is None
    assert r.enough_queries is None
    assert r.sentence().startswith("On tiny, 1 query is too few")
    json.dumps(r.to_dict(), allow_nan=False)


def test_two_sided_report_uses_plus_minus() -> None:
    a, b = _scores()
    r = power_report(a, b, two_sided=True)
    assert f"difference of ±{r.mde:.3f}." in r.sentence()
    assert r.queries_needed is None


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"kind": "non-inferiority"}, "margin must be > 0"),
        ({"kind": "non-inferiority", "margin": 0.01, "two_sided": True}, "one-sided"),
        ({"margin": 0.01}, "superiority has no margin"),
        ({"assumed_difference": -0.01}, "no number of queries"),
        ({"kind": "equivalence"}, "kind"),
    ],
)
def test_bad_reports_are_refused(kwargs: dict[str, object], match: str) -> None:
    a, b = _scores(20)
    with pytest.raises(ValueError, match=match):
        power_report(a, b, **kwargs)  # type: ignore[arg-type]
