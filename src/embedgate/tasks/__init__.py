"""Evaluators for STS, classification, clustering, bitext mining and reranking.

Each evaluator is a pure function ``evaluate_<task>(dataset, embed, *, seed) -> TaskScores``:
``embed`` turns texts into one float row per text (the caller wires the model, its role and
the embedding cache), every distinct text is passed once, and all randomness comes from
``seed``. `evaluate_task` dispatches on ``dataset.task``.

The rule every evaluator keeps, so that reports and paired tests treat every task as they
treat retrieval queries: for each metric key in `TaskScores.per_item`, the mean over items is
that metric's value on the dataset. Figures that are not such a mean (macro-F1, the spread over
seeds, per-language results) go in `TaskScores.summary`.

| task | items | per-item metrics (main first) | summary |
|---|---|---|---|
| sts | sentence pairs | spearman, pearson (correlation contributions) | pairs |
| classification | evaluated texts | accuracy, knn_accuracy (share correct) | macro_f1, ... |
| clustering | seeded k-means runs | v_measure | v_measure_std |
| bitext | translation pairs | accuracy (mean of both directions) | f1, per language |
| reranking | queries | map, mrr@10 | queries |

Example:
    >>> import numpy as np
    >>> from embedgate.datasets.tasks import STSDataset, STSPair
    >>> ds = STSDataset("toy", (STSPair("a", "x", "y", 1.0), STSPair("b", "x", "z", 4.0)))
    >>> vec = {"x": [1.0, 0.0], "y": [0.0, 1.0], "z": [1.0, 0.2]}
    >>> scores = evaluate_task(ds, lambda t: np.array([vec[s] for s in t]), seed=0)
    >>> MAIN_METRICS[ds.task], round(scores.mean("spearman"), 6)
    ('spearman', 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any

from embedgate.datasets.tasks import TaskDataset, TaskName
from embedgate.tasks._common import Embed, TaskScores
from embedgate.tasks.bitext import evaluate_bitext
from embedgate.tasks.classification import evaluate_classification
from embedgate.tasks.clustering import evaluate_clustering
from embedgate.tasks.reranking import evaluate_reranking
from embedgate.tasks.sts import evaluate_sts

__all__ = [
    "EVALUATORS",
    "MAIN_METRICS",
    "Embed",
    "TaskScores",
    "evaluate_bitext",
    "evaluate_classification",
    "evaluate_clustering",
    "evaluate_reranking",
    "evaluate_sts",
    "evaluate_task",
]

#: The per-item metric each task is ranked by; the same as `embedgate.evaluation.MAIN_METRICS`
#: for these tasks (a test keeps them equal). Bitext ranks by accuracy, where MTEB ranks by F1,
#: because only accuracy is a mean over pairs that paired tests can use (F1 is in the summary).
MAIN_METRICS: Mapping[TaskName, str] = MappingProxyType(
    {
        "sts": "spearman",
        "classification": "accuracy",
        "clustering": "v_measure",
        "bitext": "accuracy",
        "reranking": "map",
    }
)

#: ``task -> evaluator``; each takes ``(dataset, embed, *, seed)``.
EVALUATORS: Mapping[TaskName, Callable[..., TaskScores]] = MappingProxyType(
    {
        "sts": evaluate_sts,
        "classification": evaluate_classification,
        "clustering": evaluate_clustering,
        "bitext": evaluate_bitext,
        "reranking": evaluate_reranking,
    }
)


def evaluate_task(
    dataset: TaskDataset,
    embed: Embed,
    *,
    seed: int,
    embed_candidates: Embed | None = None,
    **options: Any,
) -> TaskScores:
    """Evaluate one model on one task dataset with the evaluator of ``dataset.task``.

    Args:
        dataset: any dataset `embedgate.datasets.load_task_dataset` returns.
        embed: texts -> one float row per text.
        seed: seeds every random choice (classification samples, k-means runs).
        embed_candidates: for reranking, embeds the candidates (``embed`` by default);
            ignored by the other tasks.
        **options: passed to the evaluator (e.g. ``n_experiments`` for classification).

    Returns:
        The per-item scores (means = the dataset's values) and the summary.

    Raises:
        TypeError: ``dataset`` is not a task dataset.
    """
    task = getattr(dataset, "task", None)
    if not isinstance(task, str) or task not in EVALUATORS:
        raise TypeError(
            f"evaluate_task takes an STS, classification, clustering, bitext or reranking "
            f"dataset, got {type(dataset).__name__}; retrieval runs through evaluate_model."
        )
    if task == "reranking":
        options["embed_candidates"] = embed_candidates
    return EVALUATORS[task](dataset, embed, seed=seed, **options)  # type: ignore[index]
