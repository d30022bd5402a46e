"""Semantic textual similarity: how well cosine similarity orders sentence pairs like people do.

The protocol is MTEB's ``STSEvaluator`` (Muennighoff et al., 2023, "MTEB: Massive Text
Embedding Benchmark", EACL): embed both sentences of every pair, take the cosine similarity of
each pair, and correlate it with the gold scores. The main score is Spearman's rank
correlation (Spearman, 1904); Pearson's correlation is reported too.

A correlation is a whole-set figure, yet it is a mean: with ``z`` the standardization by the
*population* standard deviation (divide by ``n``),

    r(x, y) = (1/n) * sum_i z(x)_i * z(y)_i

so pair ``i`` contributes ``z(x)_i * z(y)_i`` and the mean of the contributions is Pearson's
``r`` exactly. Spearman's rho is Pearson's ``r`` of the ranks (ties get their average rank,
as `scipy.stats.spearmanr` does), so its per-pair contribution is ``z(rank cos)_i *
z(rank gold)_i``. These contributions are what the paired tests compare between two models:
both models share the gold ranks, so the difference of their means is the difference of
their correlations. A pair's contribution is large and positive when both its similarity and
its gold score are far from typical on the same side; it is not a per-pair "correctness", and
it depends on the other pairs through the ranks and the standardization.

Edge case: when a model gives every pair the same similarity (a constant vector model), the
correlation is undefined; every contribution is scored 0 (no ordering information), where
scipy would return NaN.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import rankdata

from embedgate.datasets.tasks import STSDataset
from embedgate.tasks._common import (
    Embed,
    FloatArray,
    TaskScores,
    embed_distinct,
    l2_normalize,
    ordered,
)

__all__ = ["correlation_contributions", "evaluate_sts", "pair_cosines"]


def correlation_contributions(x: FloatArray, y: FloatArray) -> FloatArray:
    """Per-item terms ``z(x)_i * z(y)_i`` whose mean is Pearson's ``r(x, y)``.

    Args:
        x: one value per item.
        y: one value per item, same length.

    Returns:
        float64 terms; all zero when ``x`` or ``y`` is constant (``r`` undefined).

    Example:
        >>> import numpy as np
        >>> terms = correlation_contributions(np.array([1., 2., 3.]), np.array([1., 3., 2.]))
        >>> round(float(terms.mean()), 6)
        0.5
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    dx = x - x.mean()
    dy = y - y.mean()
    sx = np.sqrt(np.mean(dx * dx))
    sy = np.sqrt(np.mean(dy * dy))
    # A spread this small relative to the values is rounding noise, not an ordering.
    tiny = 1e-12
    if sx <= tiny * max(1.0, float(np.abs(x).max())) or sy <= tiny * max(
        1.0, float(np.abs(y).max())
    ):
        return np.zeros_like(x)
    terms: FloatArray = (dx / sx) * (dy / sy)
    return terms


def pair_cosines(dataset: STSDataset, embed: Embed) -> FloatArray:
    """The cosine similarity of each pair, in pair order (every distinct text embedded once)."""
    texts = [p.sentence1 for p in dataset.pairs] + [p.sentence2 for p in dataset.pairs]
    vectors, index = embed_distinct(embed, texts)
    unit = l2_normalize(vectors)
    n = len(dataset.pairs)
    cosines: FloatArray = np.einsum("ij,ij->i", unit[index[:n]], unit[index[n:]])
    return cosines


def evaluate_sts(dataset: STSDataset, embed: Embed, *, seed: int = 0) -> TaskScores:
    """Score a model on an STS dataset: Spearman (main) and Pearson of cosine vs gold.

    Args:
        dataset: the sentence pairs with gold scores.
        embed: texts -> one row per text; called once with every distinct sentence.
        seed: unused (the evaluation is deterministic); accepted so every task has one
            signature.

    Returns:
        ``per_item``: ``"spearman"`` and ``"pearson"`` per-pair contributions (see the module
        docstring), whose means are the correlations. ``summary``: ``"pairs"``.

    Example:
        >>> import numpy as np
        >>> from embedgate.datasets.tasks import STSDataset, STSPair
        >>> ds = STSDataset("toy", (STSPair("a", "x", "y", 1.0), STSPair("b", "x", "z", 4.0),
        ...                         STSPair("c", "y", "z", 2.0)))
        >>> vec = {"x": [1.0, 0.0], "y": [0.0, 1.0], "z": [1.0, 0.2]}
        >>> scores = evaluate_sts(ds, lambda t: np.array([vec[s] for s in t]))
        >>> round(scores.mean("spearman"), 6)
        1.0
    """
    del seed
    cosines = pair_cosines(dataset, embed)
    gold = np.array([p.score for p in dataset.pairs], dtype=np.float64)
    ids = dataset.item_ids
    spearman = correlation_contributions(rankdata(cosines), rankdata(gold))
    pearson = correlation_contributions(cosines, gold)
    return TaskScores(
        per_item={"spearman": ordered(ids, spearman), "pearson": ordered(ids, pearson)},
        summary={"pairs": float(len(ids))},
    )
