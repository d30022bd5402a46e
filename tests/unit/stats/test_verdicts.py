"""Verdicts decide the declared claim, state how, and read as one sentence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.stats as sps

from embedgate.stats import (
    ScoreModel,
    Verdict,
    correct,
    equivalence,
    non_inferiority,
    superiority,
    t_interval,
)


def ir_scores(n: int, seed: int, shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    a, b = ScoreModel().sample(1, n, shift=shift, seed=seed)
    return a[0], b[0]


NAMES = {
    "baseline": "minilm",
    "candidate": "static-minilm",
    "metric": "nDCG@10",
    "dataset": "scifact",
}


def test_swap_to_a_much_worse_model_fails_non_inferiority() -> None:
    a, b = ir_scores(300, 1, shift=-0.6)
    v = non_inferiority(a, b, margin=0.01, resamples=2000, **NAMES)
    assert not v.passed
    assert v.mean_diff < -0.05
    assert v.sentence().startswith(
        "static-minilm may be worse than minilm by more than 0.010 nDCG@10 on scifact ("
    )


def test_swap_to_an_equally_good_model_passes_non_inferiority_with_a_fair_margin() -> None:
    a, b = ir_scores(400, 2)
    v = non_inferiority(a, b, margin=0.03, resamples=2000, **NAMES)
    assert v.passed
    assert v.kind == "non-inferiority"
    assert v.alternative == "greater"
    assert v.null_difference == -0.03
    s = v.sentence()
    assert s.startswith(
        "static-minilm is not worse than minilm by more than 0.030 nDCG@10 on "
        "scifact (one-sided paired randomization test, "
    )
    assert "n=400" in s
    assert "90% BCa bootstrap CI [" in s
    assert "≤ α=0.05)." in s  # noqa: RUF001
    assert v.hypotheses() == "H0: Δ ≤ -0.030 vs H1: Δ > -0.030"


def test_non_inferiority_by_t_test_is_the_shifted_one_sample_test() -> None:
    a, b = ir_scores(150, 3, shift=-0.05)
    v = non_inferiority(a, b, margin=0.02, test="t")
    ref = sps.ttest_1samp(b - a, popmean=-0.02, alternative="greater")
    assert v.p_value == pytest.approx(ref.pvalue, rel=1e-10)
    assert v.statistic == pytest.approx(ref.statistic, rel=1e-10)


@pytest.mark.parametrize("seed", range(8))
def test_t_test_and_t_confidence_bound_reach_the_same_non_inferiority_decision(seed: int) -> None:
    a, b = ir_scores(60, seed, shift=-0.1)
    margin = 0.02
    v = non_inferiority(a, b, margin=margin, test="t", interval="t")
    assert v.interval == t_interval(a, b, level=0.9)
    assert v.passed == (v.interval.low > -margin)


def test_superiority_of_a_clearly_better_model() -> None:
    a, b = ir_scores(200, 4, shift=0.5)
    v = superiority(a, b, resamples=2000, **NAMES)
    assert v.passed
    assert v.margin == 0.0
    assert v.sentence().startswith("static-minilm is better than minilm in nDCG@10 on scifact (")
    assert v.hypotheses() == "H0: Δ ≤ 0 vs H1: Δ > 0"


def test_superiority_not_shown_for_a_tiny_difference() -> None:
    a, b = ir_scores(30, 5)
    v = superiority(a, b, test="t", **NAMES)
    assert not v.passed
    assert v.sentence().startswith("static-minilm is not shown to be better than minilm")
    assert "> α=0.05)." in v.sentence()  # noqa: RUF001


def test_two_sided_superiority_passes_only_in_the_better_direction() -> None:
    a, b = ir_scores(200, 6, shift=-0.5)
    v = superiority(a, b, two_sided=True, test="t", **NAMES)
    assert v.p_value < 0.05
    assert not v.passed
    assert v.interval.level == 0.95
    assert "significantly worse" in v.sentence()
    assert "two-sided paired t-test" in v.sentence()
    flipped = superiority(b, a, two_sided=True, test="t")
    assert flipped.passed


def test_lower_is_better_metrics_flip_the_direction() -> None:
    # Per-query latency in seconds: the candidate is faster.
    a = np.array([0.30, 0.25, 0.40, 0.35, 0.31, 0.28, 0.33, 0.45] * 5)
    b = a - 0.05
    v = superiority(a, b, higher_is_better=False, metric="latency", test="t")
    assert v.alternative == "less"
    assert v.passed
    assert "lower is better" in v.sentence()
    ni = non_inferiority(a, a + 0.001, margin=0.01, higher_is_better=False, test="t")
    assert ni.null_difference == 0.01
    assert ni.hypotheses() == "H0: Δ ≥ +0.010 vs H1: Δ < +0.010"
    assert ni.passed


def test_equivalence_within_margin() -> None:
    a, b = ir_scores(400, 7)
    v = equivalence(a, b, margin=0.04, resamples=2000, **NAMES)
    assert v.passed
    assert v.alternative == "equivalence"
    assert v.sentence().startswith("static-minilm is equivalent to minilm within ±0.040 nDCG@10")
    assert "TOST with two one-sided paired randomization tests" in v.sentence()
    assert v.hypotheses() == "H0: |Δ| ≥ 0.040 vs H1: -0.040 < Δ < 0.040"
    far = equivalence(a, b + 0.1, margin=0.04, test="t")
    assert not far.passed
    assert "is not shown to be equivalent" in far.sentence()


def test_equivalence_p_is_the_larger_of_the_two_one_sided_p_values() -> None:
    a, b = ir_scores(100, 8, shift=0.1)
    d = b - a
    v = equivalence(a, b, margin=0.05, test="t")
    lo = sps.ttest_1samp(d, -0.05, alternative="greater").pvalue
    hi = sps.ttest_1samp(d, 0.05, alternative="less").pvalue
    assert v.p_value == pytest.approx(max(lo, hi), rel=1e-10)


def test_holm_family_reports_raw_and_adjusted_p_and_decides_on_adjusted() -> None:
    family = [
        non_inferiority(*ir_scores(200, s, shift=sh), margin=0.02, test="t", dataset=f"d{s}")
        for s, sh in enumerate([0.0, -0.05, -0.1, 0.1])
    ]
    corrected = correct(family)
    raw = [v.p_value for v in family]
    from embedgate.stats import holm_adjust

    np.testing.assert_allclose([v.p_adjusted for v in corrected], holm_adjust(raw))
    for before, after in zip(family, corrected, strict=True):
        assert after.p_value == before.p_value
        assert after.p_adjusted >= before.p_value
        assert (after.correction, after.family_size) == ("holm", 4)
        assert after.passed == (after.p_adjusted <= 0.05)
        if after.p_adjusted < 0.0001 or after.p_value < 0.0001:
            continue
        assert f"Holm-adjusted over 4 comparisons p={after.p_adjusted:.3g}" in after.sentence()


def test_correction_can_turn_a_pass_into_a_fail() -> None:
    family = [superiority([0.0] * 5, [0.5] * 5, dataset=str(i)) for i in range(3)]
    assert all(v.passed for v in family)  # exact p = 1/32 each
    assert not any(v.passed for v in correct(family))  # 3/32 > 0.05


def test_bad_families_are_refused() -> None:
    a, b = ir_scores(50, 1)
    v = superiority(a, b, test="t")
    with pytest.raises(ValueError, match="empty family"):
        correct([])
    with pytest.raises(ValueError, match="one alpha"):
        correct([v, superiority(a, b, test="t", alpha=0.01)])
    with pytest.raises(ValueError, match="already part of a family"):
        correct(correct([v, v]))
    uncorrected = correct([v, v], method="none")
    assert "uncorrected over 2 comparisons" in uncorrected[0].sentence()


@pytest.mark.parametrize("test", ["randomization", "t"])
def test_verdict_states_everything_and_serializes_to_strict_json(test: str) -> None:
    a, b = ir_scores(80, 9, shift=0.1)
    v = non_inferiority(a, b, margin=0.01, test=test, resamples=1000, seed=3, **NAMES)  # type: ignore[arg-type]
    d = v.to_dict()
    json.dumps(d, allow_nan=False)
    for key in (
        "test",
        "alpha",
        "margin",
        "correction",
        "n",
        "alternative",
        "p_value",
        "p_adjusted",
        "interval",
        "d_z",
        "seed",
        "hypotheses",
        "sentence",
    ):
        assert key in d
    assert d["seed"] == 3
    assert d["interval"]["level"] == pytest.approx(0.9)  # type: ignore[index]


@pytest.mark.parametrize("test", ["randomization", "t", "wilcoxon"])
def test_verdicts_on_one_query_and_on_constant_scores_do_not_break(test: str) -> None:
    one = superiority([0.2], [0.9], test=test)  # type: ignore[arg-type]
    assert not one.passed
    json.dumps(one.to_dict(), allow_nan=False)
    assert "d_z" not in one.sentence()
    same = superiority([0.5] * 10, [0.5] * 10, test=test)  # type: ignore[arg-type]
    json.dumps(same.to_dict(), allow_nan=False)
    assert "Δ=+0.000" in same.sentence()
    assert same.p_value == 1.0
    if test != "wilcoxon":
        ni = non_inferiority([0.5] * 10, [0.5] * 10, margin=0.01, test=test)  # type: ignore[arg-type]
        json.dumps(ni.to_dict(), allow_nan=False)


@pytest.mark.parametrize("verdict", [non_inferiority, equivalence])
def test_wilcoxon_is_refused_for_claims_about_a_mean_margin(verdict: object) -> None:
    a, b = ir_scores(50, 1)
    with pytest.raises(ValueError, match="pseudo-median"):
        verdict(a, b, margin=0.01, test="wilcoxon")  # type: ignore[operator]


def test_p_values_render_at_their_extremes() -> None:
    constant_gain = superiority([0.0, 0.25, 0.5], [0.25, 0.5, 0.75], test="t")
    assert constant_gain.p_value == 0.0
    assert "p=0 ≤" in constant_gain.sentence()
    a, b = ir_scores(400, 4, shift=0.8)
    strong = superiority(a, b, test="t")
    assert strong.p_value < 1e-4
    assert "p<0.0001 ≤" in strong.sentence()


def test_wilcoxon_superiority_verdict_says_how_its_p_value_was_found() -> None:
    a, b = ir_scores(200, 4, shift=0.3)
    v = superiority(a, b, test="wilcoxon")
    assert "one-sided Wilcoxon signed-rank test, normal approximation" in v.sentence()


def test_verdicts_are_reproducible_by_seed() -> None:
    a, b = ir_scores(100, 10)
    v1 = non_inferiority(a, b, margin=0.01, resamples=1000, seed=5)
    v2 = non_inferiority(a, b, margin=0.01, resamples=1000, seed=5)
    assert v1 == v2
    assert isinstance(v1, Verdict)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"margin": 0.0}, "margin must be > 0"),
        ({"margin": -0.01}, "margin must be > 0"),
        ({"margin": 0.01, "alpha": 0.5}, "alpha"),
        ({"margin": 0.01, "test": "sign"}, "randomization, t, wilcoxon"),
        ({"margin": float("nan")}, "margin"),
    ],
)
def test_bad_verdict_options_are_refused(kwargs: dict[str, object], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        non_inferiority([0.1, 0.2], [0.1, 0.3], **kwargs)  # type: ignore[arg-type]
