"""Bitext mining: can each sentence's translation be found by nearest-neighbour search?

For each language pair, every source sentence is matched to its most cosine-similar target
among all targets of that language pair, and every target to its most similar source
(Artetxe and Schwenk, 2019, "Massively Multilingual Sentence Embeddings for Zero-Shot
Cross-Lingual Transfer and Beyond", TACL, evaluate Tatoeba both ways and average the error
rates; MTEB's ``BitextMiningEvaluator`` searches one way).

Per-pair ``"accuracy"`` combines the two directions as their mean: 1 when the pair is found
both ways, 0.5 when one way only, 0 when neither. Its mean over pairs is the mean of the two
directional accuracies (both are in the summary too). A match counts when the gold
sentence's similarity ties with the best: identical texts get identical vectors (each
distinct text is embedded once), so a target that occurs twice is found through either copy
(the loader warns about such copies).

The summary also holds, for each language pair, ``"accuracy/<pair>"`` and ``"f1/<pair>"``,
and ``"f1"``, their mean over language pairs. F1 is MTEB's main bitext score: source to
target, every gold target is a class of support 1 and the prediction is the found target,
so F1 = ``sklearn.metrics.f1_score(gold, predicted, average="weighted", zero_division=0)``
= the mean over gold targets ``j`` of ``2 TP_j / (2 TP_j + FP_j + FN_j)``: a target that
attracts wrong matches lowers it, which accuracy does not see. It is not a mean over pairs,
so it stays in the summary; ``accuracy`` is the tested score (see `MAIN_METRICS`).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from embedgate.datasets.tasks import BitextDataset
from embedgate.tasks._common import (
    Embed,
    FloatArray,
    TaskScores,
    embed_distinct,
    freeze_summary,
    l2_normalize,
    ordered,
)

__all__ = ["evaluate_bitext", "mining_f1"]

IntArray = npt.NDArray[np.intp]


def mining_f1(predicted: IntArray) -> float:
    """MTEB's bitext F1 when query ``i``'s gold answer is ``i`` and it found ``predicted[i]``.

    Equals ``f1_score(range(n), predicted, average="weighted", zero_division=0)``.

    Example:
        >>> import numpy as np
        >>> round(mining_f1(np.array([0, 0, 2])), 4)  # query 1 wrongly finds target 0
        0.5556
    """
    n = len(predicted)
    tp = (predicted == np.arange(n)).astype(np.float64)
    attracted = np.bincount(predicted, minlength=n).astype(np.float64)
    fp = attracted - tp
    fn = 1.0 - tp
    return float(np.mean(2 * tp / (2 * tp + fp + fn)))


def _one_way(
    queries: FloatArray, candidates: FloatArray, gold: IntArray
) -> tuple[npt.NDArray[np.bool_], IntArray]:
    """Whether each query's gold candidate ties with its best, and the candidate found."""
    sims = queries @ candidates.T
    best = sims.argmax(axis=1)
    rows = np.arange(len(gold))
    found = sims[rows, gold] >= sims[rows, best]
    return found, np.where(found, gold, best)


def evaluate_bitext(dataset: BitextDataset, embed: Embed, *, seed: int = 0) -> TaskScores:
    """Score a model on translation pairs: nearest-neighbour matching both ways.

    Args:
        dataset: the pairs; each language pair is mined among its own pairs.
        embed: texts -> one row per text; called once with every distinct source text and
            once with every distinct target text.
        seed: unused (the search is exact); accepted so every task has one signature.

    Returns:
        ``per_item``: ``"accuracy"`` per pair (mean of the two directions). ``summary``:
        ``"accuracy_src_to_tgt"``, ``"accuracy_tgt_to_src"``, ``"f1"`` (mean over language
        pairs), and ``"accuracy/<pair>"``, ``"f1/<pair>"`` for each language pair.
    """
    del seed
    src_vectors, src_index = embed_distinct(embed, [p.source for p in dataset.pairs])
    tgt_vectors, tgt_index = embed_distinct(embed, [p.target for p in dataset.pairs])
    src_unit, tgt_unit = l2_normalize(src_vectors), l2_normalize(tgt_vectors)
    languages = np.array([p.language for p in dataset.pairs], dtype=object)

    forward = np.zeros(len(dataset.pairs), dtype=np.float64)
    backward = np.zeros(len(dataset.pairs), dtype=np.float64)
    summary: dict[str, float] = {}
    f1s = []
    for language in dataset.languages:
        rows = np.flatnonzero(languages == language)
        # Columns are the distinct texts of this language pair, so copies share a column.
        tgt_cols, tgt_gold = np.unique(tgt_index[rows], return_inverse=True)
        src_cols, src_gold = np.unique(src_index[rows], return_inverse=True)
        fwd, found_col = _one_way(src_unit[src_index[rows]], tgt_unit[tgt_cols], tgt_gold)
        bwd, _ = _one_way(tgt_unit[tgt_index[rows]], src_unit[src_cols], src_gold)
        forward[rows] = fwd
        backward[rows] = bwd
        # F1 is over pair positions: a found column maps to its gold pair when it is that
        # pair's own target text, else to the first pair whose target is that text.
        first_pair_of_col = np.full(len(tgt_cols), -1, dtype=np.intp)
        for position in range(len(rows) - 1, -1, -1):
            first_pair_of_col[tgt_gold[position]] = position
        predicted = np.where(fwd, np.arange(len(rows)), first_pair_of_col[found_col])
        f1 = mining_f1(predicted)
        f1s.append(f1)
        summary[f"accuracy/{language}"] = float((fwd.mean() + bwd.mean()) / 2)
        summary[f"f1/{language}"] = f1
    accuracy = (forward + backward) / 2
    summary = {
        "accuracy_src_to_tgt": float(forward.mean()),
        "accuracy_tgt_to_src": float(backward.mean()),
        "f1": float(np.mean(f1s)),
        **summary,
    }
    return TaskScores(
        per_item={"accuracy": ordered(dataset.item_ids, accuracy)},
        summary=freeze_summary(summary),
    )
