"""STS evaluator: per-pair contributions whose means are scipy's Spearman and Pearson."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy.stats import pearsonr, spearmanr
from sklearn.metrics.pairwise import paired_cosine_distances

from embedgate.datasets import STSDataset, STSPair, load_task_dataset
from embedgate.tasks import evaluate_sts, evaluate_task
from embedgate.tasks.sts import correlation_contributions

#: MTEB's published cosine Spearman of sentence-transformers/all-MiniLM-L6-v2 on STSBenchmark
#: test (embeddings-benchmark/results, STSBenchmark.json, mteb 1.12.75).
MTEB_MINILM_STSB_SPEARMAN = 0.8203247283076371


def _random_dataset(n: int, seed: int) -> STSDataset:
    rng = np.random.default_rng(seed)
    scores = rng.integers(0, 6, size=n).astype(float)  # integer gold: many ties
    return STSDataset(
        "synthetic",
        tuple(STSPair(f"p{i}", f"left {i}", f"right {i % 7}", s) for i, s in enumerate(scores)),
    )


def test_means_equal_scipy_spearman_and_pearson_of_cosines(counting_embed) -> None:
    ds = _random_dataset(60, seed=3)
    embed = counting_embed(dim=8)
    scores = evaluate_sts(ds, embed, seed=0)

    left = embed([p.sentence1 for p in ds.pairs])
    right = embed([p.sentence2 for p in ds.pairs])
    cosines = 1 - paired_cosine_distances(left, right)  # as MTEB's STSEvaluator
    gold = [p.score for p in ds.pairs]
    assert scores.mean("spearman") == pytest.approx(spearmanr(gold, cosines)[0], abs=1e-9)
    assert scores.mean("pearson") == pytest.approx(pearsonr(gold, cosines)[0], abs=1e-6)
    assert list(scores.per_item["spearman"]) == list(ds.item_ids)


def test_each_distinct_sentence_is_embedded_once_in_one_call(counting_embed) -> None:
    ds = _random_dataset(30, seed=1)
    embed = counting_embed()
    evaluate_sts(ds, embed, seed=0)
    assert len(embed.calls) == 1
    texts = embed.calls[0]
    assert sorted(texts) == sorted({s for p in ds.pairs for s in (p.sentence1, p.sentence2)})


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(-3, 3), st.floats(-1e3, 1e3, allow_nan=False)),
        min_size=3,
        max_size=40,
    )
)
def test_contributions_average_to_the_coefficients(rows: list[tuple[int, float]]) -> None:
    x = np.array([float(a) for a, _ in rows])
    y = np.array([b for _, b in rows])
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        assert np.all(correlation_contributions(x, y) == 0)
        return
    # Spreads at rounding-noise scale are scored as constant; compare where scipy is exact.
    assume(np.ptp(y) > 1e-6 * max(1.0, np.abs(y).max()))
    from scipy.stats import rankdata

    pearson = correlation_contributions(x, y).mean()
    spearman = correlation_contributions(rankdata(x), rankdata(y)).mean()
    assert pearson == pytest.approx(pearsonr(x, y)[0], abs=1e-9)
    assert spearman == pytest.approx(spearmanr(x, y)[0], abs=1e-9)


def test_a_model_with_one_similarity_for_every_pair_scores_zero_not_nan(counting_embed) -> None:
    ds = _random_dataset(10, seed=2)
    constant = counting_embed(
        {s: [1.0, 0.0] for p in ds.pairs for s in (p.sentence1, p.sentence2)}, dim=2
    )
    scores = evaluate_sts(ds, constant, seed=0)
    assert scores.means == {"spearman": 0.0, "pearson": 0.0}


def test_an_ordering_like_the_gold_scores_one_and_its_reverse_minus_one(counting_embed) -> None:
    gold = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    ds = STSDataset("toy", tuple(STSPair(str(i), "a", f"b{i}", g) for i, g in enumerate(gold)))
    angle = {f"b{i}": [np.cos(1.5 - 0.3 * g), np.sin(1.5 - 0.3 * g)] for i, g in enumerate(gold)}
    good = counting_embed({"a": [1.0, 0.0], **angle}, dim=2)
    reversed_angle = {f"b{i}": [np.cos(0.3 * g), np.sin(0.3 * g)] for i, g in enumerate(gold)}
    bad = counting_embed({"a": [1.0, 0.0], **reversed_angle}, dim=2)
    good_scores = evaluate_task(ds, good, seed=0)
    bad_scores = evaluate_task(ds, bad, seed=0)
    assert good_scores.mean("spearman") == pytest.approx(1.0)
    assert bad_scores.mean("spearman") == pytest.approx(-1.0)
    assert all(v > 0 for v in good_scores.per_item["spearman"].values() if v)


def test_minilm_on_stsb_english_test_matches_scipy_and_the_published_mteb_score(
    shared_datasets: Path, minilm_embed
) -> None:
    ds = load_task_dataset(shared_datasets / "stsb-multi-mt" / "en", "sts")
    assert len(ds.pairs) == 1379
    scores = evaluate_sts(ds, minilm_embed, seed=0)

    left = minilm_embed([p.sentence1 for p in ds.pairs])
    right = minilm_embed([p.sentence2 for p in ds.pairs])
    cosines = 1 - paired_cosine_distances(left, right)
    gold = [p.score for p in ds.pairs]
    assert scores.mean("spearman") == pytest.approx(spearmanr(gold, cosines)[0], abs=1e-9)
    assert scores.mean("pearson") == pytest.approx(pearsonr(gold, cosines)[0], abs=1e-6)
    # Same model, same pairs, same protocol: only float noise separates us from MTEB.
    assert scores.mean("spearman") == pytest.approx(MTEB_MINILM_STSB_SPEARMAN, abs=2e-3)
