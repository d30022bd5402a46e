"""The simulated scores look like per-query IR scores, and the null really is a null."""

from __future__ import annotations

import numpy as np
import pytest

from embedgate.stats import ScoreModel


def test_scores_have_point_masses_ties_and_zero_differences() -> None:
    model = ScoreModel()
    a, b = model.sample(1, 200_000, seed=0)
    a, d = a[0], (b - a)[0]
    assert np.all((a >= 0) & (a <= 1))
    assert (a == 0).mean() == pytest.approx(model.floor, abs=0.03)
    assert (a == 1).mean() == pytest.approx(1 - model.ceiling, abs=0.03)
    assert np.unique(a).size == model.levels + 1
    assert (d == 0).mean() > model.same  # identical rankings, and ties by chance
    assert np.corrcoef(a, b[0])[0, 1] > 0.5  # paired: both models share query difficulty


def test_without_a_shift_the_differences_are_symmetric_about_zero() -> None:
    a, b = ScoreModel().sample(1, 400_000, seed=1)
    d = (b - a)[0]
    values, counts = np.unique(np.round(d, 10), return_counts=True)
    mirrored = dict(zip(values.tolist(), counts.tolist(), strict=True))
    for v, c in zip(values.tolist(), counts.tolist(), strict=True):
        other = mirrored.get(-v if v else 0.0, 0)
        assert abs(c - other) < 5 * np.sqrt(c + other) + 5


def test_a_positive_shift_plants_a_positive_mean_difference() -> None:
    mean0, sd0 = ScoreModel().moments(size=400_000)
    mean1, sd1 = ScoreModel().moments(shift=0.3, size=400_000)
    assert abs(mean0) < 3 * sd0 / np.sqrt(400_000)
    assert mean1 > 0.05
    assert sd1 > 0


def test_sampling_is_reproducible_and_checks_its_parameters() -> None:
    a1, b1 = ScoreModel().sample(3, 7, seed=5)
    a2, b2 = ScoreModel().sample(3, 7, seed=5)
    np.testing.assert_array_equal(a1, a2)
    np.testing.assert_array_equal(b1, b2)
    with pytest.raises(ValueError, match="floor"):
        ScoreModel(floor=0.9, ceiling=0.5)
    with pytest.raises(ValueError, match="same"):
        ScoreModel(same=1.0)
    with pytest.raises(ValueError, match=">= 1"):
        ScoreModel().sample(0, 5)
