"""Input checks, type aliases and small helpers shared by the stats modules."""

from __future__ import annotations

import math
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from embedgate.errors import StatsError

FloatArray: TypeAlias = npt.NDArray[np.float64]
Alternative: TypeAlias = Literal["two-sided", "greater", "less"]
Seed: TypeAlias = int | np.random.Generator

ALTERNATIVES: tuple[Alternative, ...] = ("two-sided", "greater", "less")


def invalid(message: str) -> StatsError:
    """The error raised for scores or options the statistics cannot use (a ``ValueError``)."""
    return StatsError(message)


def paired_scores(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Baseline and candidate scores as aligned, finite float64 vectors (never modified)."""
    out: list[FloatArray] = []
    for name, x in (("baseline", a), ("candidate", b)):
        try:
            arr = np.asarray(x, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise invalid(
                f"{name} scores cannot be read as numbers ({exc}). Pass one float per query."
            ) from exc
        if arr.ndim != 1:
            raise invalid(
                f"{name} scores must be a 1-d array with one score per query, got shape "
                f"{arr.shape}. Pass the per-query scores of one metric on one dataset."
            )
        bad = np.flatnonzero(~np.isfinite(arr))
        if bad.size:
            shown = ", ".join(str(i) for i in bad[:5].tolist()) + (", ..." if bad.size > 5 else "")
            raise invalid(
                f"{name} scores are NaN or infinite at position(s) {shown}. Every query needs a "
                "finite score: fix the metric, or drop the query from both models."
            )
        out.append(arr)
    if out[0].size != out[1].size:
        raise invalid(
            f"baseline has {out[0].size} scores and candidate {out[1].size}; paired tests need "
            "one score per query from each model, aligned by query id in the same order."
        )
    if out[0].size == 0:
        raise invalid("no scores: paired statistics need at least one query scored by both models.")
    return out[0], out[1]


def check_alternative(alternative: str) -> Alternative:
    """``alternative`` itself, once known to be one of :data:`ALTERNATIVES`."""
    for known in ALTERNATIVES:
        if alternative == known:
            return known
    raise invalid(f"alternative {alternative!r} is not one of {', '.join(ALTERNATIVES)}.")


def check_probability(name: str, value: float) -> float:
    """``value`` as a float strictly between 0 and 1."""
    v = float(value)
    if not 0.0 < v < 1.0:
        raise invalid(f"{name} must lie strictly between 0 and 1, got {value!r}.")
    return v


def check_finite(name: str, value: float) -> float:
    """``value`` as a finite float."""
    v = float(value)
    if not math.isfinite(v):
        raise invalid(f"{name} must be a finite number, got {value!r}.")
    return v


def check_resamples(resamples: int) -> int:
    """``resamples`` as a positive int."""
    if isinstance(resamples, bool) or int(resamples) != resamples or resamples < 1:
        raise invalid(f"resamples must be a positive integer, got {resamples!r}.")
    return int(resamples)


def rng_from(seed: Seed) -> np.random.Generator:
    """A Generator for ``seed``; a Generator passed in is used as it is (and advanced)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise invalid(
            f"seed must be an int or a numpy.random.Generator, got {type(seed).__name__}. "
            "Randomized statistics never use the global random state."
        )
    return np.random.default_rng(int(seed))


def seed_label(seed: Seed) -> int | None:
    """The int seed to report, or None when a Generator was passed."""
    return None if isinstance(seed, np.random.Generator) else int(seed)


def is_constant(x: FloatArray) -> bool:
    """True when every element equals the first (exactly)."""
    return bool(np.all(x == x[0]))


def json_float(x: float) -> float | None:
    """``x`` for a JSON document: non-finite values (documented edge cases) become None."""
    return float(x) if math.isfinite(x) else None
