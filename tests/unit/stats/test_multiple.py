"""Holm-Bonferroni and Bonferroni adjusted p-values."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedgate.stats import CORRECTIONS, adjust, bonferroni_adjust, holm_adjust


def test_holm_by_hand() -> None:
    # m = 4, sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04,
    # raised to 0.06 so the adjusted values stay monotone).
    np.testing.assert_allclose(
        holm_adjust([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02], rtol=1e-12
    )


def test_holm_by_hand_with_capping() -> None:
    # m = 3, sorted: 0.02 (x3 = 0.06), 0.3 (x2 = 0.6), 0.6 (x1 = 0.6); then 0.45 x 3 > 1.
    np.testing.assert_allclose(holm_adjust([0.3, 0.6, 0.02]), [0.6, 0.6, 0.06], rtol=1e-12)
    np.testing.assert_array_equal(holm_adjust([0.5, 0.45, 0.9]), [1.0, 1.0, 1.0])


def test_holm_with_ties_and_a_single_hypothesis() -> None:
    np.testing.assert_allclose(holm_adjust([0.01, 0.01, 0.2]), [0.03, 0.03, 0.2], rtol=1e-12)
    np.testing.assert_array_equal(holm_adjust([0.037]), [0.037])


def test_bonferroni_by_hand() -> None:
    np.testing.assert_allclose(bonferroni_adjust([0.01, 0.2, 0.4]), [0.03, 0.6, 1.0])


def _step_down_rejections(p: list[float], alpha: float) -> list[bool]:
    """Holm (1979) as written: reject in ascending order while p_(i) <= alpha / (m - i)."""
    m = len(p)
    reject = [False] * m
    for i, j in enumerate(sorted(range(m), key=lambda k: p[k])):
        if p[j] > alpha / (m - i):
            break
        reject[j] = True
    return reject


@given(
    st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=30),
    st.sampled_from([0.01, 0.05, 0.1]),
)
@settings(max_examples=300, deadline=None)
def test_holm_adjusted_p_values_reproduce_the_step_down_procedure(
    p: list[float], alpha: float
) -> None:
    adj = holm_adjust(p)
    raw = np.asarray(p)
    assert np.all(adj >= raw)
    assert np.all(adj <= 1.0)
    assert np.all(adj <= bonferroni_adjust(p) + 1e-15)
    order = np.argsort(raw, kind="stable")
    assert np.all(np.diff(adj[order]) >= 0)
    # Equality with the literal procedure, away from exact ties with the threshold.
    if all(abs(x * (len(p) - i) - alpha) > 1e-12 for i, x in enumerate(sorted(p))):
        assert list(adj <= alpha) == _step_down_rejections(p, alpha)


@pytest.mark.parametrize("bad", [[], [0.1, 1.2], [0.1, float("nan")], [-0.1], [[0.1, 0.2]]])
def test_malformed_families_are_refused(bad: list[object]) -> None:
    with pytest.raises(ValueError, match=r"p-values|empty family"):
        holm_adjust(bad)  # type: ignore[arg-type]


def test_corrections_by_name() -> None:
    assert set(CORRECTIONS) == {"none", "holm", "bonferroni"}
    p = [0.01, 0.02]
    np.testing.assert_array_equal(adjust(p, "none"), p)
    np.testing.assert_array_equal(adjust(p), holm_adjust(p))
    with pytest.raises(ValueError, match="none, holm, bonferroni"):
        adjust(p, "bh")  # type: ignore[arg-type]
