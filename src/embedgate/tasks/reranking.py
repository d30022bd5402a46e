"""Reranking: how well cosine similarity orders each query's candidates, relevant ones first.

The protocol is MTEB's ``RerankingEvaluator`` (Muennighoff et al., 2023, "MTEB: Massive Text
Embedding Benchmark", EACL): each query's candidates (its positives and negatives) are
ordered by cosine similarity to the query, and scored per query with

- ``"map"`` (main): average precision over the whole candidate list, as
  `sklearn.metrics.average_precision_score` computes it (MTEB calls it):
  ``AP = sum_n (R_n - R_{n-1}) P_n`` over the distinct similarity thresholds ``n`` in
  decreasing order, with ``P_n`` and ``R_n`` the precision and recall of the candidates
  scoring at least that threshold (Manning, Raghavan and Schütze, 2008, "Introduction to
  Information Retrieval", ch. 8). Candidates that tie are taken together, at once. Every
  positive is in the list, so this is trec_eval's AP when there are no ties.
- ``"mrr@10"``: the reciprocal rank of the first positive, 0 when it is below rank 10
  (MTEB's ``mrr_at_k`` with its default ``k=10``; the key names the cutoff, as ``"mrr@10"``
  does for retrieval). A positive that ties with negatives is ranked after them
  (pessimistic), so duplicated texts never flatter a model; MTEB's order among ties is
  whatever ``torch.argsort`` returns.

A query's score is its own; the mean over queries is the dataset's MAP and MRR@10.

Queries and candidates may be embedded differently (E5-style models prefix ``query:`` and
``passage:``): ``embed`` takes the queries and ``embed_candidates`` the candidates (``embed``
by default).
"""

from __future__ import annotations

import numpy as np

from embedgate.datasets.tasks import RerankingDataset
from embedgate.tasks._common import (
    Embed,
    FloatArray,
    TaskScores,
    embed_distinct,
    l2_normalize,
    ordered,
)

__all__ = ["average_precision", "evaluate_reranking", "reciprocal_rank"]

MRR_CUTOFF = 10


def average_precision(scores: FloatArray, relevant: np.ndarray) -> float:
    """Average precision of ``scores`` for boolean ``relevant``, ties taken together.

    Equals ``sklearn.metrics.average_precision_score(relevant, scores)``; 0 when nothing is
    relevant.

    Example:
        >>> import numpy as np
        >>> average_precision(np.array([0.9, 0.8, 0.7]), np.array([False, True, True]))
        0.5833333333333333
    """
    relevant = np.asarray(relevant, dtype=bool)
    n_relevant = int(relevant.sum())
    if n_relevant == 0:
        return 0.0
    order = np.argsort(-np.asarray(scores, dtype=np.float64), kind="stable")
    sorted_scores = np.asarray(scores, dtype=np.float64)[order]
    hits = np.cumsum(relevant[order])
    # The last position of each group of tied scores is where a threshold takes effect.
    ends = np.r_[np.flatnonzero(np.diff(sorted_scores)), len(order) - 1]
    tp = hits[ends].astype(np.float64)
    precision = tp / (ends + 1)
    recall = tp / n_relevant
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def reciprocal_rank(scores: FloatArray, relevant: np.ndarray, cutoff: int = MRR_CUTOFF) -> float:
    """``1 / rank`` of the best-scored positive, ties with negatives ranked pessimistically.

    0 when there is no positive or its rank is beyond ``cutoff``.

    Example:
        >>> import numpy as np
        >>> reciprocal_rank(np.array([0.9, 0.9, 0.1]), np.array([False, True, False]))
        0.5
    """
    scores = np.asarray(scores, dtype=np.float64)
    relevant = np.asarray(relevant, dtype=bool)
    if not relevant.any():
        return 0.0
    best = scores[relevant].max()
    rank = 1 + int(np.sum(scores[~relevant] >= best))
    return 1.0 / rank if rank <= cutoff else 0.0


def evaluate_reranking(
    dataset: RerankingDataset,
    embed: Embed,
    *,
    seed: int = 0,
    embed_candidates: Embed | None = None,
) -> TaskScores:
    """Score a model on a reranking dataset: per-query AP (main) and MRR@10.

    Args:
        dataset: queries with their positive and negative candidates.
        embed: texts -> one row per text; called once with every distinct query.
        seed: unused (the evaluation is deterministic); accepted so every task has one
            signature.
        embed_candidates: embeds the candidates (every distinct one, in one call); ``embed``
            when ``None``.

    Returns:
        ``per_item``: ``"map"`` and ``"mrr@10"`` per query. ``summary``: ``"queries"``,
        ``"candidates_per_query"`` (mean).
    """
    del seed
    query_vectors, query_index = embed_distinct(embed, [q.query for q in dataset.queries])
    candidates = [c for q in dataset.queries for c in q.candidates]
    cand_vectors, cand_index = embed_distinct(embed_candidates or embed, candidates)
    query_unit = l2_normalize(query_vectors)
    cand_unit = l2_normalize(cand_vectors)
    aps, rrs = [], []
    start = 0
    for i, q in enumerate(dataset.queries):
        n = len(q.positive) + len(q.negative)
        rows = cand_index[start : start + n]
        start += n
        # Similarities of distinct texts, spread to their copies: copies tie exactly.
        distinct, copies = np.unique(rows, return_inverse=True)
        sims = (cand_unit[distinct] @ query_unit[query_index[i]])[copies]
        relevant = np.r_[np.ones(len(q.positive), bool), np.zeros(len(q.negative), bool)]
        aps.append(average_precision(sims, relevant))
        rrs.append(reciprocal_rank(sims, relevant))
    ids = dataset.item_ids
    return TaskScores(
        per_item={"map": ordered(ids, aps), "mrr@10": ordered(ids, rrs)},
        summary={
            "queries": float(len(ids)),
            "candidates_per_query": float(len(candidates) / len(ids)),
        },
    )
