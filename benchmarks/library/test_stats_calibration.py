"""Calibration of embedgate.stats by simulation: size under true nulls, power under planted effects.

Every cell runs one test on 10,000 simulated golden sets of IR-like per-query scores
(:class:`embedgate.stats.ScoreModel`: a quarter of scores at 0, a sixth at 1, 21 distinct
values, about half of the differences exactly zero, correlation 0.78 between the models).
Monte Carlo randomization tests use 1,000 resamples each (valid at any number; fewer resamples
only cost a little power). Run::

    python -m pytest benchmarks/library/test_stats_calibration.py -s -p no:randomly

and read the three tables it prints. What each asserts:

* superiority null (the models are exchangeable): rejection rate <= alpha + 3 SE; cells above
  alpha + 2 SE are marked. An exactly calibrated test lands above alpha + 2 SE in 2.3% of
  cells, so among 24 cells one or two marks are expected: a 10,000-set run marked the one-sided
  t and Wilcoxon tests at n = 100 (0.0551, 0.0552), and 200,000 sets then gave 0.0499 and
  0.0501 there (0.0507 and 0.0503 at n = 300; 0.0504 and 0.0497 at n = 1,000 over 40,000);
* non-inferiority boundary (the candidate is worse by exactly the margin; the differences are
  skewed, so mean-based tests are only asymptotically valid): rate <= alpha + 0.015 for n >= 100,
  reported for n = 30; the Wilcoxon test is reported only, since it puts the margin on the
  pseudo-median rather than the mean;
* planted effects: empirical power of the t and randomization tests within 5 points of
  :func:`embedgate.stats.power_at`; the Wilcoxon test is reported only.

The fast version of these checks runs in ``tests/unit/stats/test_calibration.py``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from embedgate.stats import ScoreModel, minimum_detectable_effect, paired_test, power_at

# About six minutes on two cores: run with EMBEDGATE_RUN_SLOW=1 (the fast version of these
# checks is in tests/unit/stats/test_calibration.py and always runs).
pytestmark = pytest.mark.slow

ALPHA = 0.05
N_SIM = 10_000
SE = math.sqrt(ALPHA * (1 - ALPHA) / N_SIM)
NULL_MARK = ALPHA + 2 * SE
NULL_LIMIT = ALPHA + 3 * SE
BOUNDARY_LIMIT = ALPHA + 0.015
RESAMPLES = 1_000
MODEL = ScoreModel()
TESTS = ("randomization", "t", "wilcoxon")


def rate(test: str, a: np.ndarray, b: np.ndarray, alternative: str, mu0: float = 0.0) -> float:
    p = np.fromiter(
        (
            paired_test(
                test,
                a[i],
                b[i],
                alternative=alternative,  # type: ignore[arg-type]
                null_difference=mu0,
                resamples=RESAMPLES,
                seed=i,
            ).p_value
            for i in range(a.shape[0])
        ),
        dtype=float,
        count=a.shape[0],
    )
    return float(np.mean(p <= ALPHA))


def _skew(shift: float) -> float:
    a, b = MODEL.sample(1, 2_000_000, shift=shift, seed=99)
    d = (b - a)[0]
    return float(np.mean((d - d.mean()) ** 3) / d.std() ** 3)


@pytest.mark.parametrize("n", [12, 30, 100, 300])
def test_size_under_the_superiority_null(n: int) -> None:
    a, b = MODEL.sample(N_SIM, n, seed=10_000 + n)
    rows = {
        (test, alt): rate(test, a, b, alt) for test in TESTS for alt in ("two-sided", "greater")
    }
    print(
        f"\nsuperiority null, n={n}, {N_SIM:,} sets, alpha + 2 SE = {NULL_MARK:.4f} (marked *), "
        f"limit alpha + 3 SE = {NULL_LIMIT:.4f}"
    )
    for (test, alt), r in rows.items():
        print(f"  {test:13s} {alt:9s} rejection rate {r:.4f}{' *' if r > NULL_MARK else ''}")
    bad = {k: r for k, r in rows.items() if r > NULL_LIMIT}
    assert not bad, f"rates above {NULL_LIMIT:.4f}: {bad}"


@pytest.mark.parametrize("shift", [-0.3, -0.6])
def test_size_at_the_non_inferiority_boundary(shift: float) -> None:
    true_diff, _ = MODEL.moments(shift=shift, size=8_000_000)
    margin = -true_diff
    print(
        f"\nnon-inferiority boundary: true difference {true_diff:+.4f} = -margin, "
        f"skewness of differences {_skew(shift):+.2f}, {N_SIM:,} sets"
    )
    failures = []
    for n in (30, 100, 300):
        a, b = MODEL.sample(N_SIM, n, shift=shift, seed=20_000 + n)
        for test in TESTS:
            r = rate(test, a, b, "greater", -margin)
            note = "" if test != "wilcoxon" else "  (margin on the pseudo-median: not a check)"
            print(f"  n={n:3d} {test:13s} rejection rate {r:.4f}{note}")
            if test != "wilcoxon" and n >= 100 and r > BOUNDARY_LIMIT:
                failures.append((n, test, r))
    assert not failures, f"rates above {BOUNDARY_LIMIT:.3f}: {failures}"


def test_power_under_planted_effects_matches_the_power_module() -> None:
    cases: list[tuple[str, int, float]] = [("shift 0.25", 100, 0.25), ("shift 0.15", 300, 0.15)]
    # And an effect planted at the power module's own MDE (predicted power 0.80).
    for n in (50, 200):
        _, sd0 = MODEL.moments(shift=0.2, size=1_000_000)
        target = minimum_detectable_effect(sd0, n)
        lo, hi = 0.0, 1.0
        for _ in range(30):  # bisect the latent shift whose true mean difference is the MDE
            mid = (lo + hi) / 2
            if MODEL.moments(shift=mid, size=1_000_000)[0] < target:
                lo = mid
            else:
                hi = mid
        cases.append((f"at MDE n={n}", n, (lo + hi) / 2))
    print(f"\nplanted effects, one-sided alpha={ALPHA}, {N_SIM:,} sets")
    failures = []
    for label, n, shift in cases:
        true_diff, sd = MODEL.moments(shift=shift, size=4_000_000)
        predicted = power_at(true_diff, sd, n, alpha=ALPHA)
        a, b = MODEL.sample(N_SIM, n, shift=shift, seed=30_000 + n)
        print(
            f"  {label:13s} n={n:3d} true difference {true_diff:+.4f} sd {sd:.4f}: "
            f"predicted power {predicted:.3f}"
        )
        for test in TESTS:
            emp = rate(test, a, b, "greater")
            print(f"    {test:13s} empirical power {emp:.3f} ({emp - predicted:+.3f})")
            if test != "wilcoxon" and abs(emp - predicted) > 0.05:
                failures.append((label, test, emp, predicted))
    assert not failures, failures
