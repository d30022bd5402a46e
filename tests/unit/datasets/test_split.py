"""The dev/test split: stratified, seeded, disjoint, and loadable with its qrels intact."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from embedgate.datasets import (
    Document,
    Query,
    RetrievalDataset,
    load_dataset,
    query_strata,
    split_queries,
    write_split,
)
from embedgate.errors import DatasetError

LANGS = ["en"] * 60 + ["de"] * 25 + ["es"] * 10 + ["fr"] * 5
TOPICS = ["billing", "account", "projects"]


def golden_set() -> RetrievalDataset:
    docs = tuple(Document(f"d{i}", f"title {i}", f"text of document {i}") for i in range(20))
    queries = tuple(
        Query(f"q{i:03d}", f"query {i}", LANGS[i], {"topic": TOPICS[i % 3]})
        for i in range(len(LANGS))
    )
    qrels = {q.id: {f"d{i % 20}": 2, f"d{(i + 1) % 20}": 0} for i, q in enumerate(queries)}
    return RetrievalDataset("faq", None, "test", docs, queries, qrels)


def test_every_stratum_keeps_its_share_in_dev_to_within_one_query() -> None:
    ds = golden_set()
    split = split_queries(ds, dev=0.3, seed=11)
    assert len(split.dev) == round(0.3 * len(ds.queries))
    sizes = Counter(split.strata.values())
    for stratum, cell in split.table().items():
        assert cell["dev"] + cell["test"] == sizes[stratum]
        assert abs(cell["dev"] - 0.3 * sizes[stratum]) < 1, stratum
    # The margins too: each language's dev share is close to 0.3.
    dev = set(split.dev)
    for lang, n in Counter(LANGS).items():
        in_dev = sum(1 for q in ds.queries if q.language == lang and q.id in dev)
        assert abs(in_dev - 0.3 * n) <= 2, lang


def test_the_same_seed_gives_the_same_split_and_another_seed_another() -> None:
    ds = golden_set()
    first = split_queries(ds, dev=0.3, seed=5)
    assert split_queries(ds, dev=0.3, seed=5) == first
    assert split_queries(ds, dev=0.3, seed=6).dev != first.dev


def test_file_order_does_not_change_the_split() -> None:
    ds = golden_set()
    reordered = RetrievalDataset(
        "faq", None, "test", ds.corpus, tuple(reversed(ds.queries)), ds.qrels_dict()
    )
    assert set(split_queries(reordered, seed=2).dev) == set(split_queries(ds, seed=2).dev)


def test_no_query_is_in_both_halves_and_none_is_lost() -> None:
    ds = golden_set()
    split = split_queries(ds, dev=0.25, seed=0)
    assert not set(split.dev) & set(split.test)
    assert sorted(split.dev + split.test) == sorted(ds.query_ids)


def test_strata_default_to_stated_language_and_topic_tag() -> None:
    ds = golden_set()
    strata = query_strata(ds)
    assert strata["q000"] == "en|billing"
    assert strata["q099"] == "fr|billing"
    unlabelled = RetrievalDataset(
        "x", None, "test", ds.corpus, (Query("q1", "a"),), {"q1": {"d1": 1}}
    )
    assert query_strata(unlabelled, languages={"q1": "de"}, topics={"q1": "c4"}) == {"q1": "de|c4"}


def test_the_written_split_loads_with_qrels_intact(tmp_path: Path) -> None:
    ds = golden_set()
    split = split_queries(ds, dev=0.3, seed=1)
    out = write_split(ds, split, tmp_path / "faq-split")
    dev = load_dataset(out, split="dev")
    test = load_dataset(out, split="test")
    assert dev.query_ids == split.dev
    assert test.query_ids == split.test
    merged = {**dev.qrels_dict(), **test.qrels_dict()}
    assert merged == ds.qrels_dict()  # grade-0 judgements included
    assert [d.full_text for d in dev.corpus] == [d.full_text for d in ds.corpus]
    assert dev.queries[0].language == ds.queries[ds.query_ids.index(dev.query_ids[0])].language
    assert dict(dev.queries[0].tags) == dict(ds.queries[ds.query_ids.index(dev.query_ids[0])].tags)
    manifest = json.loads((out / "split.json").read_text("utf-8"))
    assert manifest["source"]["fingerprint"] == ds.fingerprint
    assert (manifest["dev"], manifest["test"], manifest["seed"]) == (30, 70, 1)


def test_writing_refuses_a_folder_that_holds_files(tmp_path: Path) -> None:
    ds = golden_set()
    (tmp_path / "old.txt").write_text("keep me")
    with pytest.raises(DatasetError, match="not an empty folder"):
        write_split(ds, split_queries(ds), tmp_path)


@pytest.mark.parametrize("share", [0.0, 1.0, -0.2, 0.001])
def test_a_share_that_empties_a_half_is_refused(share: float) -> None:
    with pytest.raises(DatasetError, match="dev"):
        split_queries(golden_set(), dev=share)


def test_strata_missing_a_query_are_refused() -> None:
    with pytest.raises(DatasetError, match="q001"):
        split_queries(golden_set(), strata={"q000": "en"})
