"""`evaluate_task_model`: a real model on a task dataset through a real cache file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from embedgate.cache import EmbeddingCache
from embedgate.datasets.tasks import RerankingDataset, RerankingQuery
from embedgate.errors import ConfigError
from embedgate.evaluation import evaluate_task_model, read_results
from embedgate.models import load_model
from embedgate.specs import parse_model_spec

QUERIES = (
    RerankingQuery(
        "q1",
        "how do I reset my password",
        ("Open Settings, choose Security and click Reset password.",),
        ("Refunds take 14 days.", "Invoices are in Billing."),
    ),
    RerankingQuery(
        "q2",
        "money back for an annual plan",
        ("Annual plans are refunded pro rata within 14 days.",),
        ("Turn on two-factor login.", "Open Settings, choose Security and click Reset password."),
    ),
)


@pytest.fixture(scope="module")
def prompted() -> object:
    """MiniLM with a document prompt, so the role a text was embedded in shows in its vector."""
    return load_model(parse_model_spec("prompted=st:all-MiniLM-L6-v2?document_prompt=passage: "))


def test_reranking_embeds_queries_as_queries_and_candidates_as_documents(
    prompted: object, tmp_path: Path
) -> None:
    dataset = RerankingDataset("faq-rerank", QUERIES)
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        evaluation = evaluate_task_model("prompted", prompted, dataset, cache=cache, seed=1)  # type: ignore[arg-type]
        (stored,) = cache.models()
    candidates = {c for q in QUERIES for c in q.candidates}
    assert (stored.queries, stored.documents) == (len(QUERIES), len(candidates))
    assert evaluation.cache == {
        "queries": {"hits": 0, "misses": 2, "embedded": 2},
        "documents": {"hits": 0, "misses": 5, "embedded": len(candidates)},  # each text once
    }
    assert evaluation.task == "reranking"
    assert evaluation.main_metric == "map"
    assert evaluation.mean("map") == pytest.approx(1.0)  # each positive is found first
    assert evaluation.query_ids == ("q1", "q2")


def test_a_task_result_round_trips_through_results_json(prompted: object, tmp_path: Path) -> None:
    dataset = RerankingDataset("faq-rerank", QUERIES)
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        evaluation = evaluate_task_model("prompted", prompted, dataset, cache=cache, seed=1)  # type: ignore[arg-type]
    path = evaluation.write(tmp_path / "out")
    again = read_results(path)
    assert (again.task, again.main_metric, again.means) == ("reranking", "map", evaluation.means)
    assert again.summary == evaluation.summary
    assert json.loads(path.read_text())["task"] == "reranking"


def test_a_lexical_model_is_refused_with_the_reason(tmp_path: Path) -> None:
    bm25 = load_model(parse_model_spec("bm25"))
    with (
        EmbeddingCache(tmp_path / "cache.sqlite") as cache,
        pytest.raises(ConfigError, match=r"bm25 is a lexical model.*reranking dataset faq-rerank"),
    ):
        evaluate_task_model(
            "bm25", bm25, RerankingDataset("faq-rerank", QUERIES), cache=cache, seed=1
        )


def test_the_query_role_is_what_symmetric_tasks_use(prompted: object, tmp_path: Path) -> None:
    from embedgate.datasets.tasks import STSDataset, STSPair

    pairs = (STSPair("a", "x y", "x z", 4.0), STSPair("b", "x y", "q r", 1.0))
    with EmbeddingCache(tmp_path / "cache.sqlite") as cache:
        evaluation = evaluate_task_model(
            "prompted",
            prompted,  # type: ignore[arg-type]
            STSDataset("toy", pairs),
            cache=cache,
            seed=1,
        )
        (stored,) = cache.models()
    assert (stored.queries, stored.documents) == (3, 0)
    assert set(evaluation.cache) == {"queries"}
