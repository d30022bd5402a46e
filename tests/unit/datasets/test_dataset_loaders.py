"""Loading both layouts: what comes out, which layout is picked, which warnings are kept."""

from __future__ import annotations

import pytest

from embedgate.datasets import (
    default_name,
    detect_layout,
    load_beir,
    load_dataset,
    load_golden,
)
from embedgate.errors import DatasetError


def codes(ds):
    return [w.code for w in ds.warnings]


# --- BEIR -------------------------------------------------------------------------------


def test_beir_folder_loads_corpus_queries_and_graded_qrels(make_beir):
    ds = load_beir(make_beir())
    assert ds.name == "toy"
    assert ds.split == "test"
    assert ds.doc_ids == ("d1", "d2", "d3")
    assert ds.document("d1").full_text == "Refunds Money back within 14 days."
    assert ds.document("d3").title == ""
    assert ds.query_ids == ("q1", "q2", "q3")
    assert ds.qrels == {"q1": {"d1": 2}, "q2": {"d2": 1, "d1": 0}, "q3": {"d3": 1}}
    assert ds.warnings == ()


def test_only_judged_queries_are_evaluated_in_file_order(make_beir, toy):
    qrels = ["query-id\tcorpus-id\tscore", "q3\td3\t1", "q1\td1\t1"]
    ds = load_beir(make_beir(qrels=qrels))
    assert ds.query_ids == ("q1", "q3")
    [w] = ds.warnings
    assert w.code == "unjudged-query"
    assert w.count == 1
    assert w.line == 2
    assert w.path is not None
    assert w.path.name == "queries.jsonl"
    assert "1 of 3 queries have no judgements in qrels/test.tsv and are not evaluated: 'q2'" in (
        w.message
    )


def test_many_unjudged_queries_make_one_warning_with_a_count(make_beir):
    queries = [{"_id": f"q{i}", "text": f"query {i}"} for i in range(1, 501)]
    ds = load_beir(make_beir(queries=queries))
    [w] = ds.warnings
    assert w.code == "unjudged-query"
    assert w.count == 497
    assert "'q4', 'q5', 'q6', 'q7', 'q8' and 492 more" in w.message


def test_a_second_split_is_read_from_its_own_file(make_beir):
    root = make_beir()
    (root / "qrels" / "train.tsv").write_text("query-id\tcorpus-id\tscore\nq2\td3\t1\n")
    ds = load_beir(root, split="train")
    assert ds.split == "train"
    assert ds.qrels == {"q2": {"d3": 1}}


def test_query_whose_grades_are_all_zero_is_kept_and_warned(make_beir):
    qrels = ["query-id\tcorpus-id\tscore", "q1\td1\t1", "q2\td2\t0", "q3\td3\t1"]
    ds = load_beir(make_beir(qrels=qrels))
    assert "q2" in ds.query_ids
    [w] = ds.warnings
    assert w.code == "query-without-relevant"
    assert w.line == 3
    assert "1 judged query has no relevant document (every grade is 0): 'q2'" in w.message


def test_empty_documents_are_kept_and_warned(make_beir, toy):
    toy["corpus"] += [{"_id": "e1", "title": "", "text": ""}, {"_id": "e2", "text": "  "}]
    ds = load_beir(make_beir(corpus=toy["corpus"]))
    assert "e1" in ds.doc_ids
    [w] = ds.warnings
    assert (w.code, w.count, w.line) == ("empty-document", 2, 4)
    assert "2 documents have no title and no text: 'e1', 'e2'" in w.message


def test_documents_with_the_same_title_and_text_are_warned(make_beir, toy):
    toy["corpus"].append({"_id": "d9", "title": "Refunds", "text": "Money back within 14 days."})
    ds = load_beir(make_beir(corpus=toy["corpus"]))
    [w] = ds.warnings
    assert (w.code, w.count, w.line) == ("duplicate-text", 1, 4)
    assert "'d9' (same as 'd1')" in w.message


def test_duplicate_text_compares_what_the_model_sees(make_beir, toy):
    # title "a b" + text "c" and title "a" + text "b c" give the same input text.
    corpus = [{"_id": "x", "title": "a b", "text": "c"}, {"_id": "y", "title": "a", "text": "b c"}]
    ds = load_beir(
        make_beir(corpus=corpus, queries=[toy["queries"][0]], qrels=[toy["qrels"][0], "q1\tx\t1"])
    )
    assert codes(ds) == ["duplicate-text"]


def test_repeated_identical_judgement_is_warned_not_refused(make_beir, toy):
    toy["qrels"].append("q1\td1\t2")
    ds = load_beir(make_beir(qrels=toy["qrels"]))
    [w] = ds.warnings
    assert (w.code, w.line) == ("duplicate-judgement", 6)
    assert "'q1'/'d1' (line 2)" in w.message
    assert ds.qrels["q1"] == {"d1": 2}


def test_repeated_query_texts_are_warned(make_beir, toy):
    toy["queries"][2]["text"] = toy["queries"][0]["text"]
    ds = load_beir(make_beir(queries=toy["queries"]))
    [w] = ds.warnings
    assert (w.code, w.line) == ("duplicate-query-text", 3)
    assert "'q3' (same as 'q1')" in w.message


def test_queries_may_carry_lang_and_tags_and_ignore_other_fields(make_beir, toy):
    toy["queries"][0].update(lang="en", tags={"topic": "billing"}, metadata={"x": 1})
    toy["corpus"][0]["metadata"] = {"url": "https://example.org"}
    ds = load_beir(make_beir(corpus=toy["corpus"], queries=toy["queries"]))
    assert ds.queries[0].language == "en"
    assert ds.queries[0].tags == {"topic": "billing"}
    assert ds.queries[1].language is None


def test_id_is_accepted_as_an_alias_of_underscore_id(make_beir, toy):
    for row in toy["corpus"]:
        row["id"] = row.pop("_id")
    ds = load_beir(make_beir(corpus=toy["corpus"]))
    assert ds.doc_ids == ("d1", "d2", "d3")


def test_loaders_never_emit_python_warnings(make_beir, toy, recwarn):
    toy["corpus"].append({"_id": "e", "text": ""})
    ds = load_beir(make_beir(corpus=toy["corpus"]))
    assert codes(ds) == ["empty-document"]
    assert len(recwarn) == 0


# --- golden -----------------------------------------------------------------------------


def test_golden_folder_loads_queries_with_language_tags_and_grades(make_golden):
    ds = load_golden(make_golden())
    assert ds.name == "faq"
    assert ds.split == "test"
    assert ds.query_ids == ("q1", "q2")
    q1, q2 = ds.queries
    assert (q1.language, dict(q1.tags)) == ("en", {"topic": "billing", "kind": "paraphrase"})
    assert (q2.language, dict(q2.tags)) == ("de", {})
    assert ds.qrels == {"q1": {"d1": 2, "d2": 0}, "q2": {"d2": 1}}
    assert ds.warnings == ()


def test_golden_query_with_empty_relevant_is_skipped_and_warned(make_golden, toy):
    toy["golden"].insert(1, {"id": "draft", "text": "not judged yet", "relevant": {}})
    ds = load_golden(make_golden(golden=toy["golden"]))
    assert ds.query_ids == ("q1", "q2")
    [w] = ds.warnings
    assert (w.code, w.line, w.count) == ("unjudged-query", 2, 1)
    assert "1 of 3 queries have an empty \"relevant\" and are not evaluated: 'draft'" in w.message


def test_golden_query_judged_only_not_relevant_is_warned(make_golden, toy):
    toy["golden"][1]["relevant"] = {"d1": 0, "d3": 0}
    ds = load_golden(make_golden(golden=toy["golden"]))
    assert ds.n_relevant("q2") == 0
    [w] = ds.warnings
    assert (w.code, w.line) == ("query-without-relevant", 2)


def test_golden_accepts_underscore_id_and_larger_grades(make_golden):
    golden = [{"_id": "q1", "text": "refund", "relevant": {"d1": 3}}]
    ds = load_golden(make_golden(golden=golden))
    assert ds.qrels == {"q1": {"d1": 3}}


# --- layout and name --------------------------------------------------------------------


def test_layout_is_detected_from_the_files(make_beir, make_golden):
    assert detect_layout(make_beir()) == "beir"
    assert detect_layout(make_golden()) == "golden"
    assert load_dataset(make_golden()).qrels["q2"] == {"d2": 1}
    assert load_dataset(make_beir()).n_judgements == 4


def test_a_folder_with_both_layouts_is_refused(make_beir):
    root = make_beir()
    (root / "golden.jsonl").write_text("")
    with pytest.raises(DatasetError, match=r"holds both golden.jsonl .* and qrels/ .* Keep one"):
        load_dataset(root)


def test_a_folder_without_a_dataset_says_what_was_looked_for(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "corpus.jsonl").write_text("")
    with pytest.raises(DatasetError) as info:
        load_dataset(tmp_path)
    message = str(info.value)
    assert message.startswith(f"{tmp_path}: no dataset found: looked for golden.jsonl")
    assert "corpus.jsonl with a qrels/ folder (BEIR layout" in message
    assert "The folder holds: corpus.jsonl, notes.txt." in message


def test_a_parent_of_datasets_points_at_its_sub_folders(make_beir, tmp_path):
    make_beir(folder="multi/de")
    make_beir(folder="multi/en")
    with pytest.raises(DatasetError, match=r"Its sub-folders de, en hold datasets: pass one"):
        load_dataset(tmp_path / "multi")


def test_a_file_path_is_refused_with_a_hint(make_golden):
    with pytest.raises(DatasetError, match="is a file; pass the folder that holds it"):
        load_dataset(make_golden() / "golden.jsonl")


@pytest.mark.parametrize(
    ("folder", "name"),
    [
        ("data/scifact", "scifact"),
        ("data/xquad-retrieval/en", "xquad-retrieval-en"),
        ("data/faq/pt-BR", "faq-pt-BR"),
        ("data/faq/zh_Hans", "faq-zh_Hans"),
        ("data/faq/dev", "dev"),
        ("data/faq/english", "english"),
    ],
)
def test_default_name_puts_the_parent_before_a_language_folder(folder, name):
    assert default_name(folder) == name


def test_name_can_be_given(make_beir):
    assert load_dataset(make_beir(), name="support").name == "support"
