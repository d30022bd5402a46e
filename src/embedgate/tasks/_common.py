"""What every task evaluator shares: the result type, the embed callable and vector helpers."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from embedgate.errors import MalformedResponse, StatsError

__all__ = [
    "Embed",
    "TaskScores",
    "embed_distinct",
    "l2_normalize",
    "single_threaded",
    "spawn_seeds",
]

Embed = Callable[[Sequence[str]], "npt.NDArray[np.floating]"]
"""texts -> one float row per text, in order (the caller wires the model and the cache)."""

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class TaskScores:
    """What a task evaluator returns.

    The rule every evaluator keeps: for each metric key in ``per_item``, the mean over items
    IS that metric's value on the dataset. Reports take means and the paired tests of
    `embedgate.stats` take the per-item columns, as they do for retrieval queries.

    Attributes:
        per_item: ``{metric key: {item id: score}}``, items in ``dataset.item_ids`` order.
        summary: whole-set figures that are not a mean of per-item scores (macro-F1, the
            spread over seeds, per-language accuracy, ...); reported, never tested.
    """

    per_item: Mapping[str, Mapping[str, float]]
    summary: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = {m: MappingProxyType(dict(s)) for m, s in self.per_item.items()}
        object.__setattr__(self, "per_item", MappingProxyType(frozen))
        object.__setattr__(self, "summary", MappingProxyType(dict(self.summary)))

    def mean(self, metric: str) -> float:
        """The metric's value on the dataset: the mean of its per-item scores."""
        scores = self.per_item[metric]
        return float(np.mean(np.fromiter(scores.values(), dtype=np.float64))) if scores else 0.0

    @property
    def means(self) -> dict[str, float]:
        """``{metric key: mean}`` for every per-item metric."""
        return {m: self.mean(m) for m in self.per_item}


def embed_distinct(embed: Embed, texts: Sequence[str]) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Embed each distinct text once, in one call; return the vectors and each text's row.

    Returns:
        ``(vectors, index)``: ``vectors[index[i]]`` is the vector of ``texts[i]``; float64.

    Raises:
        MalformedResponse: ``embed`` returned the wrong number of rows, not a 2-D array, or
            a NaN or infinite value.
    """
    position: dict[str, int] = {}
    index = np.fromiter(
        (position.setdefault(t, len(position)) for t in texts), dtype=np.intp, count=len(texts)
    )
    distinct = list(position)
    if not distinct:
        return np.zeros((0, 0), dtype=np.float64), index
    raw = np.asarray(embed(distinct))
    if raw.ndim != 2 or raw.shape[0] != len(distinct):
        raise MalformedResponse(
            f"embed returned an array of shape {raw.shape} for {len(distinct)} texts; expected "
            f"({len(distinct)}, dimensions). Return one row per text, in order."
        )
    vectors = raw.astype(np.float64)
    if not np.isfinite(vectors).all():
        raise MalformedResponse("embed returned NaN or infinite values. Check the model.")
    return vectors, index


def l2_normalize(vectors: FloatArray) -> FloatArray:
    """Rows scaled to unit length; an all-zero row stays zero (its cosine with anything is 0)."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    out: FloatArray = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return out


def spawn_seeds(seed: int, n: int) -> list[int]:
    """``n`` independent 32-bit seeds derived from ``seed`` (NumPy's `SeedSequence`).

    Derived seeds keep each run reproducible on its own, and never touch global state.
    """
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer):
        raise StatsError(f"seed must be an integer, got {seed!r}.")
    children = np.random.SeedSequence(int(seed)).spawn(n)
    return [int(c.generate_state(1)[0]) for c in children]


@contextmanager
def single_threaded() -> Iterator[None]:
    """Run BLAS and OpenMP (scikit-learn's k-means, lbfgs) on one thread inside the block.

    The fits here are small (thousands of rows): with several threads they spend more time
    waiting for each other than computing, and on a shared or busy machine (CI runners,
    pytest-xdist workers) spinning threads made them 6 to 15 times slower in our measurements.
    The previous limits are restored on exit.
    """
    with threadpool_limits(limits=1):
        yield


def ordered(item_ids: Sequence[str], values: npt.ArrayLike) -> dict[str, float]:
    """``{item id: float}`` in ``item_ids`` order."""
    return dict(zip(item_ids, np.asarray(values, dtype=np.float64).tolist(), strict=True))


def freeze_summary(summary: Mapping[str, float | np.floating | np.integer]) -> dict[str, float]:
    """The summary as plain floats (no NumPy scalars reach results.json)."""
    return {k: float(v) for k, v in summary.items()}
