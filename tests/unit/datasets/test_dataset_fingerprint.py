"""The fingerprint follows the content that decides scores, and nothing else."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from embedgate.datasets import Document, Query, fingerprint_content, load_beir, load_golden

# Pinned so a change to the serialization (which would silently orphan every stored result)
# shows up as a failing test; bump _FINGERPRINT_VERSION when it is intended.
TOY_FINGERPRINT = "d9b4d5e7664fa757"


def test_fingerprint_of_a_known_dataset_is_pinned():
    fp = fingerprint_content([Document("d1", "", "x")], [Query("q1", "y")], {"q1": {"d1": 1}})
    assert fp[:16] == TOY_FINGERPRINT
    assert len(fp) == 64


def test_line_order_does_not_change_the_fingerprint(make_beir, toy):
    before = load_beir(make_beir(folder="a")).fingerprint
    rng = random.Random(7)
    corpus, queries, judgements = toy["corpus"], toy["queries"], toy["qrels"][1:]
    for lines in (corpus, queries, judgements):
        rng.shuffle(lines)
    after = load_beir(
        make_beir(corpus=corpus, queries=queries, qrels=[toy["qrels"][0], *judgements], folder="b")
    )
    assert after.fingerprint == before


def test_file_formatting_does_not_change_the_fingerprint(make_beir, toy):
    before = load_beir(make_beir(folder="a")).fingerprint
    pretty = [f'{{ "text" : "{q["text"]}",  "_id":"{q["_id"]}" }}' for q in toy["queries"]]
    qrels = [toy["qrels"][0], *(line.replace("\t", " \t ") for line in toy["qrels"][1:]), ""]
    after = load_beir(make_beir(queries=pretty, qrels=qrels, folder="b")).fingerprint
    assert after == before


def test_name_and_path_do_not_change_the_fingerprint(make_beir):
    a = load_beir(make_beir(folder="a"), name="one")
    b = load_beir(make_beir(folder="b"), name="two")
    assert a.fingerprint == b.fingerprint


def test_one_changed_document_text_changes_the_fingerprint(make_beir, toy):
    before = load_beir(make_beir(folder="a")).fingerprint
    toy["corpus"][2]["text"] += "!"
    assert load_beir(make_beir(corpus=toy["corpus"], folder="b")).fingerprint != before


def test_one_changed_title_changes_the_fingerprint(make_beir, toy):
    before = load_beir(make_beir(folder="a")).fingerprint
    toy["corpus"][0]["title"] = "Refund"
    assert load_beir(make_beir(corpus=toy["corpus"], folder="b")).fingerprint != before


def test_one_changed_query_text_changes_the_fingerprint(make_beir, toy):
    before = load_beir(make_beir(folder="a")).fingerprint
    toy["queries"][1]["text"] = "When do invoices arrive ?"
    assert load_beir(make_beir(queries=toy["queries"], folder="b")).fingerprint != before


def test_one_changed_grade_changes_the_fingerprint(make_beir, toy):
    before = load_beir(make_beir(folder="a")).fingerprint
    toy["qrels"][1] = "q1\td1\t1"
    assert load_beir(make_beir(qrels=toy["qrels"], folder="b")).fingerprint != before


def test_a_zero_grade_judgement_changes_the_fingerprint(make_beir, toy):
    before = load_beir(make_beir(folder="a")).fingerprint
    toy["qrels"].append("q3\td1\t0")
    assert load_beir(make_beir(qrels=toy["qrels"], folder="b")).fingerprint != before


def test_moving_words_between_title_and_text_changes_the_fingerprint():
    q, qrels = [Query("q", "x")], {"q": {"d": 1}}
    a = fingerprint_content([Document("d", "a b", "c")], q, qrels)
    b = fingerprint_content([Document("d", "a", "b c")], q, qrels)
    assert a != b


def test_unjudged_queries_do_not_change_the_fingerprint(make_beir, toy):
    before = load_beir(make_beir(folder="a")).fingerprint
    toy["queries"].append({"_id": "q9", "text": "never judged"})
    assert load_beir(make_beir(queries=toy["queries"], folder="b")).fingerprint == before


def test_golden_and_beir_with_the_same_content_share_a_fingerprint(make_beir, make_golden, toy):
    golden = [
        {"id": "q1", "text": "Can I get my money back?", "relevant": {"d1": 2}, "lang": "en"},
        {"id": "q2", "text": "When do invoices arrive?", "relevant": {"d2": 1, "d1": 0}},
        {"id": "q3", "text": "I forgot my password", "relevant": {"d3": 1}, "tags": {"k": "v"}},
    ]
    assert load_golden(make_golden(golden=golden)).fingerprint == load_beir(make_beir()).fingerprint


ids = st.text(st.characters(codec="utf-8", exclude_characters="\t\n\r"), min_size=1, max_size=4)
texts = st.text(st.characters(codec="utf-8"), max_size=8)


@given(
    docs=st.dictionaries(ids, st.tuples(texts, texts), min_size=1, max_size=6),
    queries=st.dictionaries(ids, texts, max_size=4),
    seed=st.integers(0, 2**32),
)
def test_fingerprint_ignores_the_order_of_every_input(docs, queries, seed):
    corpus = [Document(i, t, x) for i, (t, x) in docs.items()]
    qs = [Query(i, t) for i, t in queries.items()]
    doc_ids = list(docs)
    qrels = {q.id: {d: n % 3 for n, d in enumerate(doc_ids)} for q in qs}
    rng = random.Random(seed)
    shuffled_corpus, shuffled_queries = corpus[:], qs[:]
    rng.shuffle(shuffled_corpus)
    rng.shuffle(shuffled_queries)
    shuffled_qrels = {q: dict(reversed(list(j.items()))) for q, j in reversed(list(qrels.items()))}
    assert fingerprint_content(corpus, qs, qrels) == fingerprint_content(
        shuffled_corpus, shuffled_queries, shuffled_qrels
    )
