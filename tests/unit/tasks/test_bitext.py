"""Bitext mining: nearest neighbours both ways, checked by brute force and sklearn's F1."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import accuracy_score, f1_score
from sklearn.metrics.pairwise import cosine_similarity

from embedgate.datasets import BitextDataset, BitextPair, load_task_dataset
from embedgate.tasks import evaluate_bitext
from embedgate.tasks.bitext import mining_f1

#: MTEB's published Tatoeba fra-eng scores of sentence-transformers/all-MiniLM-L6-v2
#: (embeddings-benchmark/results, Tatoeba.json, mteb 1.12.75): one direction, fra -> eng.
MTEB_MINILM_TATOEBA_FRA = {"accuracy": 0.086, "f1": 0.08172449236978181}


def _pairs(language: str, n: int) -> list[BitextPair]:
    return [
        BitextPair(
            f"{language}/{i}", str(i), language, f"{language} src {i}", f"{language} tgt {i}"
        )
        for i in range(n)
    ]


def _noisy_table(pairs: list[BitextPair], noise: float, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    table = {}
    for p in pairs:
        meaning = rng.normal(size=6)
        table[p.source] = meaning + noise * rng.normal(size=6)
        table[p.target] = meaning + noise * rng.normal(size=6)
    return table


def test_scores_equal_brute_force_search_and_sklearn_f1(counting_embed) -> None:
    pairs = _pairs("deu-eng", 40) + _pairs("fra-eng", 25)
    table = _noisy_table(pairs, noise=0.9, seed=0)
    ds = BitextDataset("toy", tuple(pairs))
    embed = counting_embed(table, dim=6)
    scores = evaluate_bitext(ds, embed, seed=0)

    expected_accuracy = {}
    for language in ("deu-eng", "fra-eng"):
        mine = [p for p in pairs if p.language == language]
        sims = cosine_similarity([table[p.source] for p in mine], [table[p.target] for p in mine])
        forward = sims.argmax(axis=1)
        backward = sims.argmax(axis=0)
        gold = np.arange(len(mine))
        assert scores.summary[f"f1/{language}"] == pytest.approx(
            f1_score(gold, forward, average="weighted", zero_division=0), abs=1e-12
        )
        both = (accuracy_score(gold, forward) + accuracy_score(gold, backward)) / 2
        assert scores.summary[f"accuracy/{language}"] == pytest.approx(both, abs=1e-12)
        for p, f, b in zip(mine, forward == gold, backward == gold, strict=True):
            expected_accuracy[p.id] = (float(f) + float(b)) / 2
    assert dict(scores.per_item["accuracy"]) == pytest.approx(expected_accuracy)
    assert 0.2 < scores.mean("accuracy") < 0.9  # noisy enough that mistakes happen
    assert list(scores.per_item["accuracy"]) == list(ds.item_ids)
    assert len(embed.calls) == 2  # every source, then every target


def test_each_language_pair_is_mined_among_its_own_pairs_only(counting_embed) -> None:
    deu, fra = _pairs("deu-eng", 2), _pairs("fra-eng", 2)
    # Every German source is closest to a French target: a search across files would fail.
    table = {
        deu[0].source: [1, 0, 0],
        deu[1].source: [0, 1, 0],
        deu[0].target: [0.8, 0, 0.6],
        deu[1].target: [0, 0.8, 0.6],
        fra[0].source: [0, 0, 1],
        fra[1].source: [0, 0.1, 1],
        fra[0].target: [1, 0, 0.01],
        fra[1].target: [0, 1, 0.01],
    }
    scores = evaluate_bitext(BitextDataset("toy", tuple(deu + fra)), counting_embed(table, 3))
    assert scores.per_item["accuracy"]["deu-eng/0"] == 1.0
    assert scores.per_item["accuracy"]["deu-eng/1"] == 1.0


def test_a_target_written_twice_is_found_through_either_copy(counting_embed) -> None:
    pairs = [
        BitextPair("x/0", "0", "x", "Hallo!", "Hello!"),
        BitextPair("x/1", "1", "x", "Servus!", "Hello!"),
        BitextPair("x/2", "2", "x", "Tschüss", "Bye"),
    ]
    table = {
        "Hallo!": [1, 0],
        "Servus!": [0.9, 0.1],
        "Hello!": [1, 0.05],
        "Tschüss": [0, 1],
        "Bye": [0.1, 1],
    }
    scores = evaluate_bitext(BitextDataset("toy", tuple(pairs)), counting_embed(table, 2))
    assert scores.summary["accuracy_src_to_tgt"] == 1.0
    assert scores.summary["f1"] == 1.0
    # Backwards, both copies of "Hello!" find "Hallo!": one of the two is wrong.
    assert scores.summary["accuracy_tgt_to_src"] == pytest.approx(2 / 3)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 9), min_size=1, max_size=10).map(np.array))
def test_mining_f1_is_sklearns_weighted_f1(predicted: np.ndarray) -> None:
    predicted = np.minimum(predicted, len(predicted) - 1)
    gold = np.arange(len(predicted))
    expected = f1_score(gold, predicted, average="weighted", zero_division=0)
    assert mining_f1(predicted) == pytest.approx(expected, abs=1e-12)


def test_minilm_on_tatoeba_fra_eng_matches_the_published_mteb_scores(
    shared_datasets: Path, minilm_embed
) -> None:
    ds = load_task_dataset(shared_datasets / "tatoeba-bitext" / "fra-eng.jsonl", "bitext")
    scores = evaluate_bitext(ds, minilm_embed, seed=0)
    sources = minilm_embed([p.source for p in ds.pairs])
    targets = minilm_embed([p.target for p in ds.pairs])
    forward = cosine_similarity(sources, targets).argmax(axis=1)
    gold = np.arange(len(ds.pairs))
    assert scores.summary["accuracy_src_to_tgt"] == pytest.approx(
        accuracy_score(gold, forward), abs=2e-3
    )
    assert scores.summary["f1"] == pytest.approx(MTEB_MINILM_TATOEBA_FRA["f1"], abs=5e-3)
    assert scores.summary["accuracy_src_to_tgt"] == pytest.approx(
        MTEB_MINILM_TATOEBA_FRA["accuracy"], abs=5e-3
    )
