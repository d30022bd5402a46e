"""`evaluate_task` dispatches on the dataset's task; main metrics agree with evaluation's."""

from __future__ import annotations

import numpy as np
import pytest

from embedgate import evaluation
from embedgate.datasets import (
    BitextDataset,
    BitextPair,
    ClassificationDataset,
    ClusteringDataset,
    Document,
    LabelledText,
    Query,
    RerankingDataset,
    RerankingQuery,
    RetrievalDataset,
    STSDataset,
    STSPair,
)
from embedgate.errors import MalformedResponse
from embedgate.tasks import EVALUATORS, MAIN_METRICS, TaskScores, evaluate_task

TEXTS = tuple(LabelledText(str(i), f"text {i}", "ab"[i % 2]) for i in range(12))
DATASETS = [
    STSDataset("s", (STSPair("0", "a", "b", 1.0), STSPair("1", "a", "c", 2.0))),
    ClassificationDataset("c", TEXTS[:8], TEXTS[8:]),
    ClusteringDataset("k", TEXTS, n_runs=2),
    BitextDataset("b", tuple(BitextPair(f"x/{i}", str(i), "x", f"s{i}", f"t{i}") for i in "01")),
    RerankingDataset("r", (RerankingQuery("q", "query", ("yes",), ("no", "maybe")),)),
]


def test_main_metrics_are_the_ones_evaluation_ranks_by() -> None:
    for task, metric in MAIN_METRICS.items():
        assert evaluation.MAIN_METRICS[task] == metric
    assert set(MAIN_METRICS) == set(EVALUATORS)


@pytest.mark.parametrize("dataset", DATASETS, ids=lambda d: d.task)
def test_every_task_returns_its_main_metric_for_every_item_in_order(
    dataset, counting_embed
) -> None:
    scores = evaluate_task(dataset, counting_embed(dim=4), seed=3)
    main = MAIN_METRICS[dataset.task]
    for metric, per_item in scores.per_item.items():
        assert tuple(per_item) == dataset.item_ids, metric
        assert all(np.isfinite(v) for v in per_item.values())
    assert main in scores.per_item
    assert scores.mean(main) == pytest.approx(np.mean(list(scores.per_item[main].values())))
    assert all(isinstance(v, float) for v in scores.summary.values())
    with pytest.raises(TypeError):
        scores.per_item[main]["new"] = 1.0  # type: ignore[index]


def test_a_retrieval_dataset_is_sent_to_evaluate_model(counting_embed) -> None:
    retrieval = RetrievalDataset(
        "r", None, "test", (Document("d", "", "x"),), (Query("q", "y"),), {"q": {"d": 1}}
    )
    with pytest.raises(TypeError, match="evaluate_model"):
        evaluate_task(retrieval, counting_embed(), seed=0)  # type: ignore[arg-type]


def test_an_embedder_returning_the_wrong_rows_is_caught() -> None:
    with pytest.raises(MalformedResponse, match="one row per text"):
        evaluate_task(DATASETS[0], lambda texts: np.zeros((1, 3)), seed=0)
    with pytest.raises(MalformedResponse, match="NaN"):
        evaluate_task(DATASETS[0], lambda texts: np.full((len(texts), 3), np.nan), seed=0)


def test_task_scores_means_are_per_item_means() -> None:
    scores = TaskScores({"m": {"a": 1.0, "b": 0.0}}, {"s": 2.0})
    assert scores.means == {"m": 0.5}
    assert dict(scores.summary) == {"s": 2.0}
