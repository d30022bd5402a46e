"""Clustering evaluator: seeded mini-batch k-means runs scored by V-measure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import entropy
from sklearn.cluster import MiniBatchKMeans
from threadpoolctl import threadpool_limits

from embedgate.datasets import ClusteringDataset, LabelledText, load_task_dataset
from embedgate.tasks import evaluate_clustering
from embedgate.tasks._common import spawn_seeds


def v_measure_by_hand(labels: list[str], clusters: np.ndarray) -> float:
    """Rosenberg and Hirschberg (2007): harmonic mean of homogeneity and completeness."""
    classes = {c: i for i, c in enumerate(sorted(set(labels)))}
    table = np.zeros((len(classes), int(clusters.max()) + 1))
    for label, cluster in zip(labels, clusters, strict=True):
        table[classes[label], cluster] += 1
    n = table.sum()
    h_c, h_k = entropy(table.sum(axis=1)), entropy(table.sum(axis=0))
    joint = entropy(table.ravel())
    h_c_given_k, h_k_given_c = joint - h_k, joint - h_c  # conditional entropies
    homogeneity = 1.0 if h_c == 0 else 1 - h_c_given_k / h_c
    completeness = 1.0 if h_k == 0 else 1 - h_k_given_c / h_k
    assert n > 0
    if homogeneity + completeness == 0:
        return 0.0
    return 2 * homogeneity * completeness / (homogeneity + completeness)


def _blobs(n_labels: int, per_label: int, spread: float, seed: int, n_runs: int = 10):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_labels, 8)) * 3
    table = {
        f"t{label}-{i}": centres[label] + spread * rng.normal(size=8)
        for label in range(n_labels)
        for i in range(per_label)
    }
    texts = tuple(LabelledText(str(i), t, t.split("-")[0]) for i, t in enumerate(table))
    return ClusteringDataset("blobs", texts, n_runs=n_runs), table


def test_each_run_is_the_v_measure_of_kmeans_with_its_seed(counting_embed) -> None:
    ds, table = _blobs(n_labels=6, per_label=25, spread=2.0, seed=0, n_runs=4)
    scores = evaluate_clustering(ds, counting_embed(table, dim=8), seed=5)

    x = np.stack([table[t.text] for t in ds.texts])
    labels = [t.label for t in ds.texts]
    expected = []
    with threadpool_limits(limits=1):
        for run_seed in spawn_seeds(5, 4):
            km = MiniBatchKMeans(n_clusters=6, batch_size=500, n_init=3, random_state=run_seed)
            expected.append(v_measure_by_hand(labels, km.fit_predict(x)))
    assert list(scores.per_item["v_measure"]) == ["run/0", "run/1", "run/2", "run/3"]
    assert list(scores.per_item["v_measure"].values()) == pytest.approx(expected, abs=1e-9)
    assert scores.mean("v_measure") == pytest.approx(np.mean(expected), abs=1e-9)
    assert scores.summary["v_measure_std"] == pytest.approx(np.std(expected), abs=1e-9)
    assert 0.2 < scores.mean("v_measure") < 1.0  # overlapping blobs: a real, imperfect score


def test_well_separated_labels_score_one_on_every_run(counting_embed) -> None:
    ds, table = _blobs(n_labels=3, per_label=20, spread=0.01, seed=1)
    embed = counting_embed(table, dim=8)
    scores = evaluate_clustering(ds, embed, seed=0)
    assert list(scores.per_item["v_measure"].values()) == pytest.approx([1.0] * 10)
    assert scores.summary["v_measure_std"] == pytest.approx(0.0, abs=1e-12)
    assert scores.summary["clusters"] == 3
    assert len(embed.calls) == 1


def test_the_same_seed_gives_the_same_runs_and_the_seed_matters(counting_embed) -> None:
    ds, table = _blobs(n_labels=8, per_label=15, spread=3.0, seed=2, n_runs=6)
    first = evaluate_clustering(ds, counting_embed(table, dim=8), seed=1)
    again = evaluate_clustering(ds, counting_embed(table, dim=8), seed=1)
    other = evaluate_clustering(ds, counting_embed(table, dim=8), seed=2)
    assert first.per_item == again.per_item
    assert first.per_item != other.per_item


def test_minilm_on_banking77_test_matches_a_hand_computed_v_measure(
    shared_datasets: Path, minilm_embed
) -> None:
    ds = load_task_dataset(shared_datasets / "banking77", "clustering")
    assert isinstance(ds, ClusteringDataset)
    scores = evaluate_clustering(ds, minilm_embed, seed=20261127)

    x = minilm_embed([t.text for t in ds.texts])
    labels = [t.label for t in ds.texts]
    first_seed = spawn_seeds(20261127, ds.n_runs)[0]
    with threadpool_limits(limits=1):
        km = MiniBatchKMeans(n_clusters=77, batch_size=500, n_init=3, random_state=first_seed)
        expected = v_measure_by_hand(labels, km.fit_predict(x))
    assert scores.per_item["v_measure"]["run/0"] == pytest.approx(expected, abs=1e-9)
    assert 0.6 < scores.mean("v_measure") < 0.95
    assert scores.summary["v_measure_std"] < 0.05
