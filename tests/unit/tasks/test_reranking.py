"""Reranking: per-query AP and MRR@10, checked with sklearn and pytrec_eval."""

from __future__ import annotations

import numpy as np
import pytest
import pytrec_eval
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import average_precision_score
from sklearn.metrics.pairwise import cosine_similarity

from embedgate.datasets import RerankingDataset, RerankingQuery
from embedgate.tasks import evaluate_reranking, evaluate_task
from embedgate.tasks.reranking import average_precision, reciprocal_rank


def _dataset(n_queries: int, seed: int) -> RerankingDataset:
    rng = np.random.default_rng(seed)
    queries = []
    for q in range(n_queries):
        n_pos, n_neg = int(rng.integers(1, 4)), int(rng.integers(1, 7))  # at most 9 candidates
        queries.append(
            RerankingQuery(
                f"q{q}",
                f"query {q}",
                tuple(f"q{q} relevant {i}" for i in range(n_pos)),
                tuple(f"q{q} other {i}" for i in range(n_neg)),
            )
        )
    return RerankingDataset("toy", tuple(queries))


def test_scores_equal_pytrec_eval_map_and_reciprocal_rank(counting_embed) -> None:
    ds = _dataset(30, seed=0)
    embed = counting_embed(dim=5)
    scores = evaluate_reranking(ds, embed, seed=0)

    run, qrels = {}, {}
    for q in ds.queries:
        sims = cosine_similarity(embed([q.query]), embed(list(q.candidates)))[0]
        run[q.id] = {f"c{i}": float(s) for i, s in enumerate(sims)}
        qrels[q.id] = {f"c{i}": int(i < len(q.positive)) for i in range(len(q.candidates))}
    trec = pytrec_eval.RelevanceEvaluator(qrels, {"map", "recip_rank"}).evaluate(run)
    for q in ds.queries:
        assert scores.per_item["map"][q.id] == pytest.approx(trec[q.id]["map"], abs=1e-9)
        # Lists are shorter than 10, so MRR@10 is the plain reciprocal rank.
        assert scores.per_item["mrr@10"][q.id] == pytest.approx(trec[q.id]["recip_rank"], abs=1e-9)
    assert 0.2 < scores.mean("map") < 0.95
    assert list(scores.per_item["map"]) == list(ds.item_ids)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 4), st.booleans()), min_size=1, max_size=25).filter(
        lambda rows: any(r for _, r in rows)
    )
)
def test_average_precision_with_ties_is_sklearns(rows: list[tuple[int, bool]]) -> None:
    scores = np.array([float(s) for s, _ in rows])
    relevant = np.array([r for _, r in rows])
    assert average_precision(scores, relevant) == pytest.approx(
        average_precision_score(relevant, scores), abs=1e-12
    )


def test_reciprocal_rank_ranks_a_tied_positive_after_the_negatives_and_stops_at_ten() -> None:
    tie = np.array([0.5, 0.5, 0.5, 0.1])
    assert reciprocal_rank(tie, np.array([False, True, False, False])) == pytest.approx(1 / 3)
    eleventh = np.r_[np.linspace(1, 0.5, 10), 0.4]
    assert reciprocal_rank(eleventh, np.arange(11) == 10) == 0.0
    assert reciprocal_rank(eleventh, np.arange(11) == 9) == pytest.approx(0.1)


def test_candidates_go_through_their_own_embed_and_queries_through_embed(
    counting_embed,
) -> None:
    ds = _dataset(4, seed=1)
    queries, candidates = counting_embed(dim=4), counting_embed(dim=4)
    evaluate_task(ds, queries, seed=0, embed_candidates=candidates)
    assert queries.calls == [[q.query for q in ds.queries]]
    assert len(candidates.calls) == 1
    assert set(candidates.calls[0]) == {c for q in ds.queries for c in q.candidates}


def test_a_text_listed_as_positive_and_negative_ties_and_is_ranked_pessimistically(
    counting_embed,
) -> None:
    q = RerankingQuery("q", "query", ("same text",), ("same text", "far away"))
    table = {"query": [1.0, 0.0], "same text": [0.9, 0.1], "far away": [0.0, 1.0]}
    scores = evaluate_reranking(RerankingDataset("toy", (q,)), counting_embed(table, 2))
    assert scores.per_item["mrr@10"]["q"] == 0.5
    assert scores.per_item["map"]["q"] == 0.5  # sklearn: both tied at the top, one relevant
