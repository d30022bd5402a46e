"""Classification: how well a simple classifier on the embeddings predicts each text's label.

The protocol is MTEB's ``AbsTaskClassification`` with its logistic-regression evaluator
(Muennighoff et al., 2023, "MTEB: Massive Text Embedding Benchmark", EACL), so the accuracy
compares with the leaderboard's:

- ``n_experiments`` = 10 experiments. Each undersamples the training split to at most
  ``samples_per_label`` = 8 texts per label: the training indices are shuffled (the shuffle
  carries over from one experiment to the next, as MTEB's does) and the first 8 of each label
  in that order are kept.
- A `sklearn.linear_model.LogisticRegression` (lbfgs, ``C=1``) with ``max_iter=100`` is fitted
  on their embeddings and predicts every evaluated text.
- Accuracy (main) and macro-F1 are averaged over the experiments.

Per-item scores: a text's ``"accuracy"`` is the share of experiments that classified it
correctly, so the mean over texts is exactly the mean accuracy over experiments.
``"knn_accuracy"`` is the same for a k-nearest-neighbour classifier (``k`` = 3, cosine
distance; MTEB's kNN method) fitted on the same samples. Macro-F1 (the unweighted mean of
per-label F1; Sokolova and Lapalme, 2009) is not a mean over texts and goes in the summary.

Deviations from MTEB, and why:

- MTEB's kNN reports the better of cosine and Euclidean distance per experiment; a maximum
  over variants does not decompose over texts, so only cosine is used.
- Hitting ``max_iter`` is expected with 100 iterations (MTEB keeps that budget); the
  `ConvergenceWarning` is silenced and the number of such fits is in the summary.
- Randomness comes from ``seed`` alone (a `numpy.random.Generator`), never from global state,
  so the same seed gives the same samples on every machine, but not MTEB's exact samples.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.metrics import f1_score  # type: ignore[import-untyped]
from sklearn.neighbors import KNeighborsClassifier  # type: ignore[import-untyped]

from embedgate.datasets.tasks import ClassificationDataset
from embedgate.errors import StatsError
from embedgate.tasks._common import (
    Embed,
    TaskScores,
    embed_distinct,
    freeze_summary,
    ordered,
    single_threaded,
)

__all__ = ["evaluate_classification", "undersample"]


def undersample(
    labels: Sequence[str],
    *,
    samples_per_label: int | None,
    n_experiments: int,
    seed: int,
) -> list[npt.NDArray[np.intp]]:
    """The training indices of each experiment, as MTEB's ``_undersample_data`` picks them.

    Args:
        labels: the label of each training text, in order.
        samples_per_label: keep at most this many texts per label; ``None`` keeps all (then
            one experiment is enough, and one is returned).
        n_experiments: how many experiments.
        seed: seeds the shuffles.

    Returns:
        One index array per experiment, in the shuffled order.

    Example:
        >>> [a.tolist() for a in undersample(["a", "a", "b"], samples_per_label=1,
        ...                                  n_experiments=2, seed=0)]
        [[2, 0], [1, 2]]
    """
    if samples_per_label is None:
        return [np.arange(len(labels), dtype=np.intp)]
    if samples_per_label < 1 or n_experiments < 1:
        raise StatsError("samples_per_label and n_experiments must be >= 1.")
    rng = np.random.default_rng(seed)
    order = np.arange(len(labels), dtype=np.intp)
    out = []
    for _ in range(n_experiments):
        rng.shuffle(order)
        taken: dict[str, int] = {}
        keep = []
        for i in order.tolist():
            label = labels[i]
            if taken.get(label, 0) < samples_per_label:
                taken[label] = taken.get(label, 0) + 1
                keep.append(i)
        out.append(np.array(keep, dtype=np.intp))
    return out


def evaluate_classification(
    dataset: ClassificationDataset,
    embed: Embed,
    *,
    seed: int,
    n_experiments: int = 10,
    samples_per_label: int | None = 8,
    max_iter: int = 100,
    k: int = 3,
) -> TaskScores:
    """Score a model on a classification dataset with MTEB's protocol (see the module docstring).

    Args:
        dataset: training and evaluated labelled texts.
        embed: texts -> one row per text; called once for the sampled training texts and
            once for the evaluated texts, each distinct text once.
        seed: seeds the undersampling and the classifiers.
        n_experiments: undersampled experiments averaged (MTEB: 10).
        samples_per_label: training texts kept per label in each experiment (MTEB: 8);
            ``None`` trains on the whole split, once.
        max_iter: the logistic regression's iteration budget (MTEB: 100).
        k: neighbours of the kNN classifier (MTEB: 3).

    Returns:
        ``per_item``: ``"accuracy"`` (main) and ``"knn_accuracy"``, each text's share of
        correct experiments. ``summary``: ``"macro_f1"``, ``"knn_macro_f1"`` (means over
        experiments), ``"accuracy_std"`` (population std of the experiments' accuracies),
        ``"experiments"``, ``"train_texts"`` (mean per experiment), ``"unconverged_fits"``.
    """
    train_labels = [t.label for t in dataset.train]
    samples = undersample(
        train_labels,
        samples_per_label=samples_per_label,
        n_experiments=n_experiments,
        seed=seed,
    )
    used = sorted({int(i) for s in samples for i in s})
    train_vectors, train_index = embed_distinct(embed, [dataset.train[i].text for i in used])
    row_of = dict(zip(used, train_index.tolist(), strict=True))
    test_vectors, test_index = embed_distinct(embed, [t.text for t in dataset.test])
    x_test = test_vectors[test_index]
    y_test = np.array([t.label for t in dataset.test], dtype=object)
    y_train_all = np.array(train_labels, dtype=object)

    rng = np.random.default_rng(seed)
    correct = np.zeros(len(dataset.test), dtype=np.float64)
    knn_correct = np.zeros(len(dataset.test), dtype=np.float64)
    accuracies, f1s, knn_f1s = [], [], []
    unconverged = 0
    with single_threaded():
        for sample in samples:
            x_train = train_vectors[[row_of[int(i)] for i in sample]]
            y_train = y_train_all[sample]
            clf = LogisticRegression(max_iter=max_iter, random_state=int(rng.integers(2**31)))
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                clf.fit(x_train, y_train)
            unconverged += int(np.max(clf.n_iter_) >= max_iter)
            pred = clf.predict(x_test)
            hit = pred == y_test
            correct += hit
            accuracies.append(float(hit.mean()))
            f1s.append(f1_score(y_test, pred, average="macro"))
            knn = KNeighborsClassifier(n_neighbors=min(k, len(sample)), metric="cosine")
            knn.fit(x_train, y_train)
            knn_pred = knn.predict(x_test)
            knn_correct += knn_pred == y_test
            knn_f1s.append(f1_score(y_test, knn_pred, average="macro"))
    runs = len(samples)
    ids = dataset.item_ids
    return TaskScores(
        per_item={
            "accuracy": ordered(ids, correct / runs),
            "knn_accuracy": ordered(ids, knn_correct / runs),
        },
        summary=freeze_summary(
            {
                "macro_f1": np.mean(f1s),
                "knn_macro_f1": np.mean(knn_f1s),
                "accuracy_std": np.std(accuracies),
                "experiments": runs,
                "train_texts": np.mean([len(s) for s in samples]),
                "unconverged_fits": unconverged,
            }
        ),
    )
