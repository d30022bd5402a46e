"""The dataset values: what a model sees, what can and cannot change after loading."""

from __future__ import annotations

import dataclasses

import pytest

from embedgate.datasets import (
    DatasetWarning,
    Document,
    EmbedgateDatasetWarning,
    Query,
    RetrievalDataset,
)
from embedgate.errors import DatasetError


def toy_dataset(**changes: object) -> RetrievalDataset:
    fields: dict[str, object] = {
        "name": "toy",
        "path": None,
        "split": "test",
        "corpus": (Document("d1", "Refunds", "Money back."), Document("d2", "", "Invoices.")),
        "queries": (Query("q1", "refund?"), Query("q2", "invoice?", "en", {"topic": "billing"})),
        "qrels": {"q1": {"d1": 2, "d2": 0}, "q2": {"d2": 0}},
    }
    fields.update(changes)
    return RetrievalDataset(**fields)  # type: ignore[arg-type]


def test_full_text_joins_title_and_text_with_one_space():
    assert Document("d1", "Refunds", "Money back.").full_text == "Refunds Money back."


def test_full_text_without_title_is_the_text():
    assert Document("d1", "", " Money back.").full_text == " Money back."


def test_full_text_of_title_only_is_the_title():
    assert Document("d1", "Refunds", "").full_text == "Refunds"


def test_documents_and_queries_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        Document("d1", "", "x").text = "y"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Query("q1", "x").text = "y"  # type: ignore[misc]


def test_query_tags_are_a_read_only_copy():
    tags = {"topic": "billing"}
    q = Query("q1", "x", "en", tags)
    tags["topic"] = "changed"
    assert q.tags == {"topic": "billing"}
    with pytest.raises(TypeError):
        q.tags["topic"] = "x"  # type: ignore[index]


def test_queries_compare_by_value_and_hash_despite_tags():
    a = Query("q1", "x", "de", {"k": "v"})
    assert a == Query("q1", "x", "de", {"k": "v"})
    assert a != Query("q1", "x", "de", {"k": "w"})
    assert hash(a) == hash(Query("q1", "x", "de", {"k": "v"}))


def test_qrels_are_read_only():
    ds = toy_dataset()
    with pytest.raises(TypeError):
        ds.qrels["q1"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        ds.qrels["q1"]["d1"] = 0  # type: ignore[index]


def test_qrels_are_copied_from_the_input():
    qrels = {"q1": {"d1": 2}, "q2": {"d2": 1}}
    ds = toy_dataset(qrels=qrels)
    qrels["q1"]["d1"] = 0
    assert ds.qrels["q1"]["d1"] == 2


def test_helpers_follow_corpus_and_query_order():
    ds = toy_dataset()
    assert ds.doc_ids == ("d1", "d2")
    assert ds.doc_texts == ("Refunds Money back.", "Invoices.")
    assert ds.query_ids == ("q1", "q2")
    assert ds.query_texts == ("refund?", "invoice?")
    assert ds.doc_index("d2") == 1
    assert ds.document("d1").title == "Refunds"


def test_n_relevant_counts_only_positive_grades():
    ds = toy_dataset()
    assert ds.n_relevant("q1") == 1
    assert ds.n_relevant("q2") == 0
    assert ds.relevant("q1") == {"d1": 2}
    assert ds.n_judgements == 3


def test_qrels_dict_is_a_plain_mutable_copy():
    ds = toy_dataset()
    d = ds.qrels_dict()
    assert d == {"q1": {"d1": 2, "d2": 0}, "q2": {"d2": 0}}
    assert type(d) is dict
    assert type(d["q1"]) is dict
    d["q1"]["d1"] = 9
    assert ds.qrels["q1"]["d1"] == 2


def test_repr_is_short_and_names_the_counts():
    r = repr(toy_dataset())
    assert r.startswith("RetrievalDataset(name='toy', split='test', docs=2, queries=2, qrels=3, ")
    assert "Money back" not in r


def test_fingerprint_is_full_sha256_and_short_is_16_hex():
    ds = toy_dataset()
    assert len(ds.fingerprint) == 64
    assert ds.short_fingerprint == ds.fingerprint[:16]
    int(ds.fingerprint, 16)


def test_datasets_with_same_name_split_and_content_are_equal():
    assert toy_dataset() == toy_dataset()
    assert hash(toy_dataset()) == hash(toy_dataset())
    assert toy_dataset() != toy_dataset(name="other")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"qrels": {"q1": {"d1": 1}}}, "a query but not judged: ['q2']"),
        ({"qrels": {"q1": {"d1": 1}, "q2": {"d9": 1}}}, "doc id 'd9', which is not in the corpus"),
        ({"qrels": {"q1": {"d1": -1}, "q2": {"d2": 1}}}, "is not an integer >= 0"),
        ({"corpus": (Document("d1", "", "a"), Document("d1", "", "b"))}, "document ids repeat"),
        ({"queries": (Query("q1", "a"), Query("q1", "b"))}, "query ids repeat"),
    ],
)
def test_inconsistent_datasets_cannot_be_built(changes, message):
    with pytest.raises(DatasetError) as info:
        toy_dataset(**changes)
    assert message in str(info.value)


def test_warning_reads_as_file_line_message_and_code(tmp_path):
    w = DatasetWarning(
        "empty-document", "2 documents are empty.", tmp_path / "corpus.jsonl", 471, 2
    )
    assert str(w) == f"{tmp_path}/corpus.jsonl line 471: 2 documents are empty. [empty-document]"


def test_warning_emits_through_the_warnings_module():
    w = DatasetWarning("unjudged-query", "809 queries are not judged.", None, None, 809)
    with pytest.warns(EmbedgateDatasetWarning, match="809 queries are not judged"):
        w.emit()
