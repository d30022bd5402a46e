"""Classification evaluator: MTEB's undersampled logistic regression, checked with sklearn."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.neighbors import KNeighborsClassifier
from threadpoolctl import threadpool_limits

from embedgate.datasets import ClassificationDataset, LabelledText, load_task_dataset
from embedgate.tasks import evaluate_classification
from embedgate.tasks.classification import undersample

#: MTEB's published accuracy of sentence-transformers/all-MiniLM-L6-v2 on Banking77Classification
#: (embeddings-benchmark/results, Banking77Classification.json, mteb 1.12.75; the mean of 10
#: undersampled experiments, which ranged from 0.789 to 0.813).
MTEB_MINILM_BANKING77_ACCURACY = 0.8004220779220779


def _blobs(n_labels: int, per_label: int, spread: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_labels, 12)) * 3
    return {
        f"{label}-{i}": centres[label] + spread * rng.normal(size=12)
        for label in range(n_labels)
        for i in range(per_label)
    }


def _dataset(table: dict[str, np.ndarray], test_every: int = 3) -> ClassificationDataset:
    train, test = [], []
    for i, text in enumerate(table):
        item = LabelledText(str(i), text, "label-" + text.split("-")[0])
        (test if i % test_every == 0 else train).append(item)
    return ClassificationDataset("blobs", tuple(train), tuple(test))


def test_undersampling_keeps_at_most_n_per_label_and_is_seeded() -> None:
    labels = ["a"] * 20 + ["b"] * 5 + ["c"] * 2
    state = np.random.get_state()
    first = undersample(labels, samples_per_label=4, n_experiments=5, seed=7)
    assert np.random.get_state()[1].tolist() == state[1].tolist()  # global state untouched
    again = undersample(labels, samples_per_label=4, n_experiments=5, seed=7)
    other = undersample(labels, samples_per_label=4, n_experiments=5, seed=8)
    assert [a.tolist() for a in first] == [a.tolist() for a in again]
    assert [a.tolist() for a in first] != [a.tolist() for a in other]
    for sample in first:
        assert Counter(labels[i] for i in sample) == {"a": 4, "b": 4, "c": 2}
        assert len(set(sample.tolist())) == len(sample)
    assert len({tuple(a.tolist()) for a in first}) > 1  # experiments differ


def test_scores_equal_sklearn_fitted_on_the_same_samples(counting_embed) -> None:
    table = _blobs(n_labels=5, per_label=30, spread=2.5, seed=0)
    ds = _dataset(table)
    embed = counting_embed(table, dim=12)
    scores = evaluate_classification(ds, embed, seed=11, n_experiments=4, samples_per_label=6)

    samples = undersample(
        [t.label for t in ds.train], samples_per_label=6, n_experiments=4, seed=11
    )
    x_test = np.stack([table[t.text] for t in ds.test])
    y_test = [t.label for t in ds.test]
    accuracies, f1s, knn_accuracies = [], [], []
    for sample in samples:
        x = np.stack([table[ds.train[i].text] for i in sample])
        y = [ds.train[i].label for i in sample]
        pred = LogisticRegression(max_iter=100).fit(x, y).predict(x_test)
        accuracies.append(accuracy_score(y_test, pred))
        f1s.append(f1_score(y_test, pred, average="macro"))
        knn = KNeighborsClassifier(n_neighbors=3, metric="cosine").fit(x, y)
        knn_accuracies.append(accuracy_score(y_test, knn.predict(x_test)))
    assert scores.mean("accuracy") == pytest.approx(np.mean(accuracies), abs=1e-12)
    assert scores.summary["macro_f1"] == pytest.approx(np.mean(f1s), abs=1e-12)
    assert scores.mean("knn_accuracy") == pytest.approx(np.mean(knn_accuracies), abs=1e-12)
    assert scores.summary["accuracy_std"] == pytest.approx(np.std(accuracies), abs=1e-12)
    assert 0.3 < scores.mean("accuracy") < 1.0  # noisy enough that the check means something
    # A text's score is its share of correct experiments.
    assert set(scores.per_item["accuracy"].values()) <= {k / 4 for k in range(5)}
    assert list(scores.per_item["accuracy"]) == list(ds.item_ids)


def test_separable_labels_are_all_found_and_texts_are_embedded_once_per_set(
    counting_embed,
) -> None:
    table = _blobs(n_labels=4, per_label=20, spread=0.01, seed=1)
    ds = _dataset(table)
    embed = counting_embed(table, dim=12)
    scores = evaluate_classification(ds, embed, seed=0)
    assert scores.means == {"accuracy": 1.0, "knn_accuracy": 1.0}
    assert len(embed.calls) == 2  # the sampled training texts, then the evaluated texts
    assert all(len(set(call)) == len(call) for call in embed.calls)
    assert set(embed.calls[1]) == {t.text for t in ds.test}


def test_without_undersampling_one_classifier_is_trained_on_every_text(counting_embed) -> None:
    table = _blobs(n_labels=3, per_label=12, spread=1.0, seed=2)
    ds = _dataset(table)
    embed = counting_embed(table, dim=12)
    scores = evaluate_classification(ds, embed, seed=0, samples_per_label=None)
    assert scores.summary["experiments"] == 1
    assert scores.summary["train_texts"] == len(ds.train)
    assert set(embed.calls[0]) == {t.text for t in ds.train}


def test_minilm_on_banking77_matches_sklearn_and_the_published_mteb_accuracy(
    shared_datasets: Path, minilm_embed
) -> None:
    ds = load_task_dataset(shared_datasets / "banking77", "classification")
    scores = evaluate_classification(ds, minilm_embed, seed=20261127)

    samples = undersample(
        [t.label for t in ds.train], samples_per_label=8, n_experiments=10, seed=20261127
    )
    x_test = minilm_embed([t.text for t in ds.test])
    y_test = [t.label for t in ds.test]
    accuracies = []
    with threadpool_limits(limits=1):  # small fits: threads only wait on a busy machine
        for sample in samples:
            x = minilm_embed([ds.train[i].text for i in sample])
            y = [ds.train[i].label for i in sample]
            pred = LogisticRegression(max_iter=100).fit(x, y).predict(x_test)
            accuracies.append(accuracy_score(y_test, pred))
    assert scores.mean("accuracy") == pytest.approx(np.mean(accuracies), abs=1e-12)
    # Same model, data and protocol; only the random samples differ from MTEB's, whose ten
    # experiments spread from 0.789 to 0.813.
    assert scores.mean("accuracy") == pytest.approx(MTEB_MINILM_BANKING77_ACCURACY, abs=0.015)
