"""Clustering: how well k-means on the embeddings recovers the gold grouping of texts.

The protocol is MTEB's ``ClusteringEvaluator`` (Muennighoff et al., 2023, "MTEB: Massive Text
Embedding Benchmark", EACL): `sklearn.cluster.MiniBatchKMeans` with ``k`` = the number of gold
labels and ``batch_size=500`` clusters the embeddings, and the V-measure (Rosenberg and
Hirschberg, 2007, "V-Measure: A conditional entropy-based external cluster evaluation
measure", EMNLP) compares the clusters with the labels: the harmonic mean of homogeneity
(each cluster holds one label) and completeness (each label sits in one cluster). It is
invariant to how clusters are numbered, 1 for a perfect match, near 0 for an unrelated one.

k-means depends on its initialization, so the clustering is run ``dataset.n_runs`` times
(MTEB's ``ClusteringFast`` bootstrap count, 10), each with its own seed derived from
``seed``. Each run is one item: its V-measure is the per-item score, the mean over runs is the
score, and the population standard deviation over runs is ``"v_measure_std"`` (as MTEB
reports). Two models evaluated with the same seed get the same run seeds, so the paired tests
pair them run by run.

Deviations from MTEB, and why: every run clusters all texts (``ClusteringFast`` draws a
bootstrap sample of at most 2,048 texts per run, which for a few thousand texts adds sampling
noise without saving time); so the spread measures k-means' instability alone. ``n_init=3``
is set explicitly: it is what MTEB's published runs used (scikit-learn's default before 1.4),
and later defaults differ.
"""

from __future__ import annotations

import numpy as np
from sklearn.cluster import MiniBatchKMeans  # type: ignore[import-untyped]
from sklearn.metrics import v_measure_score  # type: ignore[import-untyped]

from embedgate.datasets.tasks import ClusteringDataset
from embedgate.tasks._common import (
    Embed,
    TaskScores,
    embed_distinct,
    freeze_summary,
    ordered,
    single_threaded,
    spawn_seeds,
)

__all__ = ["evaluate_clustering"]


def evaluate_clustering(
    dataset: ClusteringDataset,
    embed: Embed,
    *,
    seed: int,
    batch_size: int = 500,
    n_init: int = 3,
) -> TaskScores:
    """Score a model on a clustering dataset: V-measure of seeded mini-batch k-means runs.

    Args:
        dataset: labelled texts; ``dataset.n_runs`` runs are made.
        embed: texts -> one row per text; called once with every distinct text.
        seed: derives each run's k-means seed.
        batch_size: mini-batch size (MTEB: 500).
        n_init: k-means initializations per run, the best kept (MTEB's runs: 3).

    Returns:
        ``per_item``: ``"v_measure"`` per run (``"run/0"``, ...). ``summary``:
        ``"v_measure_std"`` over runs, ``"clusters"`` (k), ``"texts"``.
    """
    vectors, index = embed_distinct(embed, [t.text for t in dataset.texts])
    x = vectors[index]
    labels = [t.label for t in dataset.texts]
    k = len(dataset.labels)
    scores = []
    with single_threaded():
        for run_seed in spawn_seeds(seed, dataset.n_runs):
            model = MiniBatchKMeans(
                n_clusters=k, batch_size=batch_size, n_init=n_init, random_state=run_seed
            )
            assignment = model.fit_predict(x)
            scores.append(v_measure_score(labels, assignment))
    return TaskScores(
        per_item={"v_measure": ordered(dataset.item_ids, scores)},
        summary=freeze_summary(
            {"v_measure_std": np.std(scores), "clusters": k, "texts": len(dataset.texts)}
        ),
    )
