"""Multiple-comparison corrections over a declared family of p-values.

A *family* is every hypothesis a run reports together, declared before looking at the results,
for example every candidate against the baseline on every dataset and metric. Holm's step-down
procedure controls the family-wise error rate (the chance of any false claim in the family) at
alpha under any dependence between the tests, and is uniformly more powerful than Bonferroni.

References:
    Holm (1979). A simple sequentially rejective multiple test procedure. Scand. J. Stat. 6(2).
    Wright (1992). Adjusted p-values for simultaneous inference. Biometrics 48(4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from embedgate.stats._common import FloatArray, invalid

if TYPE_CHECKING:
    from collections.abc import Callable

__all__ = ["CORRECTIONS", "Correction", "adjust", "bonferroni_adjust", "holm_adjust"]

Correction: TypeAlias = Literal["none", "holm", "bonferroni"]


def _p_values(p_values: npt.ArrayLike) -> FloatArray:
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise invalid(f"p-values must form a 1-d family, got shape {p.shape}.")
    if p.size == 0:
        raise invalid("an empty family has nothing to correct; pass at least one p-value.")
    bad = np.flatnonzero(~((p >= 0) & (p <= 1)))
    if bad.size:
        raise invalid(f"p-values must lie in [0, 1]; position {int(bad[0])} is {p[bad[0]]!r}.")
    return p


def holm_adjust(p_values: npt.ArrayLike) -> FloatArray:
    """Holm-Bonferroni adjusted p-values, in the order given.

    With the family sorted ascending, ``p_(1) <= ... <= p_(m)``, the adjusted values are
    ``p~_(i) = min(1, max_{j <= i} (m - j + 1) p_(j))`` (Holm 1979; Wright 1992). Hypothesis i
    is rejected at family-wise level alpha exactly when ``p~_i <= alpha``. Adjusted values are
    never below the raw ones, are monotone in the raw order and capped at 1. Tied p-values get
    the same adjusted value.

    Example:
        >>> holm_adjust([0.01, 0.04, 0.03, 0.005]).tolist()
        [0.03, 0.06, 0.06, 0.02]
    """
    p = _p_values(p_values)
    m = p.size
    order = np.argsort(p, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order])
    out = np.empty(m)
    out[order] = np.minimum(stepped, 1.0)
    return out


def bonferroni_adjust(p_values: npt.ArrayLike) -> FloatArray:
    """Bonferroni adjusted p-values ``min(1, m p_i)``; Holm rejects everything this does."""
    p = _p_values(p_values)
    return np.minimum(p * p.size, 1.0)


def _none(p_values: npt.ArrayLike) -> FloatArray:
    return _p_values(p_values).copy()


#: Corrections by name.
CORRECTIONS: dict[str, Callable[[npt.ArrayLike], FloatArray]] = {
    "none": _none,
    "holm": holm_adjust,
    "bonferroni": bonferroni_adjust,
}


def adjust(p_values: npt.ArrayLike, method: Correction = "holm") -> FloatArray:
    """Adjusted p-values by ``method``, a key of :data:`CORRECTIONS`."""
    try:
        fn = CORRECTIONS[method]
    except KeyError:
        raise invalid(
            f"unknown correction {method!r}; choose one of {', '.join(CORRECTIONS)}."
        ) from None
    return fn(p_values)
