"""BM25 over bm25s: hand-checked scores, trec_eval tie order, determinism, SciFact baseline."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from typing import TYPE_CHECKING

import numpy as np
import pytest

from embedgate.errors import MissingDependency
from embedgate.retrieval.lexical import BM25Retriever

if TYPE_CHECKING:
    from pathlib import Path

pytest.importorskip("bm25s", reason="bm25s is the 'local' extra: pip install 'embedgate[local]'")

PLAIN = BM25Retriever(stemmer=None, stopwords=None)  # no analysis: scores are checkable by hand

DOCS = ["apple banana", "apple apple cherry", "banana cherry date"]
DOC_IDS = ["d1", "d2", "d3"]


def lucene_bm25(tf: int, dl: int, df: int, n: int, avgdl: float, k1: float, b: float) -> float:
    idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
    return idf * tf / (tf + k1 * (1 - b + b * dl / avgdl))


def test_bm25_scores_a_tiny_corpus_as_lucene_bm25_by_hand() -> None:
    run = PLAIN.search(DOCS, DOC_IDS, ["apple"], ["q"], k=10)

    avgdl = 8 / 3
    want = [lucene_bm25(2, 3, 2, 3, avgdl, 0.9, 0.4), lucene_bm25(1, 2, 2, 3, avgdl, 0.9, 0.4)]
    assert [doc for doc, _ in run.ranked(0)] == ["d2", "d1"]
    assert [score for _, score in run.ranked(0)] == pytest.approx(want, rel=1e-6)


def test_scores_of_several_query_terms_add_up() -> None:
    run = PLAIN.search(DOCS, DOC_IDS, ["date banana"], ["q"], k=10)

    avgdl = 8 / 3
    want_d3 = lucene_bm25(1, 3, 1, 3, avgdl, 0.9, 0.4) + lucene_bm25(1, 3, 2, 3, avgdl, 0.9, 0.4)
    want_d1 = lucene_bm25(1, 2, 2, 3, avgdl, 0.9, 0.4)
    assert [doc for doc, _ in run.ranked(0)] == ["d3", "d1"]
    assert [score for _, score in run.ranked(0)] == pytest.approx([want_d3, want_d1], rel=1e-6)


def test_documents_sharing_no_term_with_the_query_are_not_retrieved() -> None:
    run = PLAIN.search(DOCS, DOC_IDS, ["banana"], ["q"], k=3)

    assert [doc for doc, _ in run.ranked(0)] == ["d1", "d3"]
    assert run.indices[0].tolist()[2] == -1
    assert run.scores[0, 2] == -np.inf


def test_a_query_with_no_known_term_retrieves_nothing() -> None:
    run = PLAIN.search(DOCS, DOC_IDS, ["zebra", ""], ["q1", "q2"], k=2)

    assert run.to_dict() == {"q1": {}, "q2": {}}
    assert run.depth == 2


def test_tied_scores_rank_by_larger_doc_id_also_at_the_kth_place() -> None:
    docs = ["same words here"] * 5 + ["other"]
    ids = ["b", "e", "a", "d", "c", "f"]

    run = PLAIN.search(docs, ids, ["words"], ["q"], k=3)

    assert [doc for doc, _ in run.ranked(0)] == ["e", "d", "c"]


def test_tied_ids_compare_as_strings_not_numbers() -> None:
    run = PLAIN.search(["xx yy", "xx yy", "xx"], ["10", "9", "2"], ["yy"], ["q"], k=5)

    assert [doc for doc, _ in run.ranked(0)] == ["9", "10"]


def test_k_larger_than_the_corpus_gives_a_run_as_deep_as_the_corpus() -> None:
    run = PLAIN.search(DOCS, DOC_IDS, ["apple"], ["q"], k=1000)

    assert run.depth == 3


def test_porter_stemming_matches_inflections_and_can_be_turned_off() -> None:
    docs = ["the cat sleeps", "dogs running"]

    stemmed = BM25Retriever().search(docs, ["a", "b"], ["cats run"], ["q"], k=5)
    plain = PLAIN.search(docs, ["a", "b"], ["cats run"], ["q"], k=5)

    assert sorted(stemmed.to_dict()["q"]) == ["a", "b"]
    assert plain.to_dict() == {"q": {}}


def test_english_stop_words_are_not_searched() -> None:
    docs = ["the cat", "the dog", "a bird"]

    run = BM25Retriever().search(docs, ["a", "b", "c"], ["the"], ["q"], k=5)

    assert run.to_dict() == {"q": {}}


def test_stopwords_may_be_a_list_of_words() -> None:
    retriever = BM25Retriever(stemmer=None, stopwords=["banana"])

    run = retriever.search(DOCS, DOC_IDS, ["banana"], ["q"], k=5)

    assert retriever.stopwords == ("banana",)
    assert run.to_dict() == {"q": {}}


def test_run_carries_ids_and_name() -> None:
    run = PLAIN.search(DOCS, DOC_IDS, ["apple", "date"], ["q1", "q2"], k=2, name="bm25-plain")

    assert run.name == "bm25-plain"
    assert run.query_ids == ("q1", "q2")
    assert run.doc_ids == ("d1", "d2", "d3")


_DETERMINISM_SCRIPT = """
import json, sys
from embedgate.retrieval.lexical import BM25Retriever
docs, ids, queries = json.loads(sys.stdin.read())
qids = [str(i) for i in range(len(queries))]
run = BM25Retriever(stemmer="english").search(docs, ids, queries, qids, k=20)
print(json.dumps({"i": run.indices.tolist(), "s": run.scores.tolist()}))
"""


def test_search_gives_identical_runs_across_processes_and_hash_seeds() -> None:
    # bm25s builds its stemmed vocabulary from a set, whose order follows the string hash seed.
    rng = np.random.default_rng(0)
    words = ["running", "runner", "runs", "cat", "cats", "dog", "dogs", "bird", "fly", "flies"]
    docs = [" ".join(rng.choice(words, size=int(rng.integers(1, 12)))) for _ in range(200)]
    ids = [f"d{i}" for i in range(200)]
    queries = [" ".join(rng.choice(words, size=3)) for _ in range(30)]
    payload = json.dumps([docs, ids, queries])

    outputs = []
    for seed in ("0", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-c", _DETERMINISM_SCRIPT],
            input=payload,
            capture_output=True,
            text=True,
            env=env,
            check=True,
            timeout=120,
        )
        outputs.append(json.loads(proc.stdout))

    assert outputs[0] == outputs[1]
    in_process = BM25Retriever(stemmer="english").search(
        docs, ids, queries, [str(i) for i in range(30)], k=20
    )
    assert in_process.indices.tolist() == outputs[0]["i"]
    assert in_process.scores.tolist() == outputs[0]["s"]


def test_identity_names_every_parameter_as_json() -> None:
    identity = BM25Retriever(k1=1.2, b=0.75, stemmer="english", stopwords=["x"]).identity()

    assert json.loads(json.dumps(identity)) == identity
    assert identity["k1"] == 1.2
    assert identity["b"] == 0.75
    assert identity["method"] == "lucene"
    assert identity["stemmer"] == "english"
    assert identity["stopwords"] == ["x"]
    assert identity["bm25s_version"]


def test_retrievers_with_equal_parameters_are_equal_and_hashable() -> None:
    assert BM25Retriever(k1=1.2) == BM25Retriever(k1=1.2)
    assert len({BM25Retriever(), BM25Retriever(), BM25Retriever(b=0.75)}) == 2


# --- errors ------------------------------------------------------------------------------


def test_text_and_id_counts_must_match() -> None:
    with pytest.raises(ValueError, match="2 doc_ids for 3 doc_texts"):
        PLAIN.search(DOCS, ["d1", "d2"], ["apple"], ["q"], k=1)
    with pytest.raises(ValueError, match="2 query_ids for 1 query_texts"):
        PLAIN.search(DOCS, DOC_IDS, ["apple"], ["q", "r"], k=1)


def test_repeated_doc_ids_are_named() -> None:
    with pytest.raises(ValueError, match="doc_ids repeats 'd1'"):
        PLAIN.search(DOCS, ["d1", "d2", "d1"], ["apple"], ["q"], k=1)


@pytest.mark.parametrize("k", [0, -1, True, 1.5])
def test_k_must_be_a_positive_integer(k: object) -> None:
    with pytest.raises(ValueError, match="k must be a positive integer"):
        PLAIN.search(DOCS, DOC_IDS, ["apple"], ["q"], k=k)  # type: ignore[arg-type]


def test_an_empty_corpus_is_an_error() -> None:
    with pytest.raises(ValueError, match="doc_texts is empty"):
        PLAIN.search([], [], ["apple"], ["q"], k=1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k1": -0.1}, "k1 must be >= 0"),
        ({"b": 1.5}, r"b must be in \[0, 1\]"),
        ({"method": "okapi"}, "method 'okapi' is not one of lucene"),
    ],
)
def test_bad_parameters_are_rejected_on_construction(
    kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BM25Retriever(**kwargs)  # type: ignore[arg-type]


def test_an_unknown_stemmer_lists_the_known_ones() -> None:
    pytest.importorskip("Stemmer")
    with pytest.raises(ValueError, match=r"stemmer 'klingon' is unknown.*porter"):
        BM25Retriever(stemmer="klingon").search(DOCS, DOC_IDS, ["apple"], ["q"], k=1)


@pytest.mark.parametrize("module", ["bm25s", "Stemmer"])
def test_a_missing_package_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, module: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes the import raise ImportError

    with pytest.raises(MissingDependency, match=r"pip install 'embedgate\[local\]'"):
        BM25Retriever().search(DOCS, DOC_IDS, ["apple"], ["q"], k=1)


# --- the BEIR baseline ---------------------------------------------------------------------


def read_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_default_bm25_on_scifact_is_within_001_of_the_beir_paper(shared_datasets: Path) -> None:
    pytrec_eval = pytest.importorskip("pytrec_eval")
    root = shared_datasets / "scifact"
    if not root.is_dir():
        pytest.skip(f"SciFact not found at {root}")
    corpus = [json.loads(line) for line in read_lines(root / "corpus.jsonl")]
    queries = {q["_id"]: q["text"] for q in map(json.loads, read_lines(root / "queries.jsonl"))}
    qrels: dict[str, dict[str, int]] = {}
    for line in read_lines(root / "qrels" / "test.tsv")[1:]:
        qid, did, rel = line.split("\t")
        qrels.setdefault(qid, {})[did] = int(rel)
    qids = sorted(qrels)

    run = BM25Retriever().search(
        [f"{d.get('title', '')} {d['text']}" for d in corpus],
        [d["_id"] for d in corpus],
        [queries[q] for q in qids],
        qids,
        k=100,
    )

    per_query = pytrec_eval.RelevanceEvaluator(qrels, {"ndcg_cut.10"}).evaluate(run.to_dict())
    ndcg10 = float(np.mean([m["ndcg_cut_10"] for m in per_query.values()]))
    # BEIR (Thakur et al., 2021), Table 2: Elasticsearch BM25 on SciFact, nDCG@10 = 0.665.
    assert ndcg10 == pytest.approx(0.665, abs=0.01)
