"""Every shared retrieval set loads with the counts and defects its PROVENANCE.md states."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from embedgate.datasets import load_dataset
from embedgate.errors import DatasetError

if TYPE_CHECKING:
    from pathlib import Path

# folder, split -> docs, evaluated queries, judgements, warning codes (in order)
EXPECTED = {
    ("scifact", "test"): (5183, 300, 339, ["unjudged-query"]),
    ("scifact", "train"): (5183, 809, 919, ["unjudged-query", "duplicate-query-text"]),
    ("cisi", "test"): (1460, 76, 3114, ["duplicate-text", "unjudged-query"]),
    ("cranfield", "test"): (1400, 225, 1612, ["empty-document"]),
    ("xquad-retrieval/de", "test"): (240, 1190, 1190, ["duplicate-query-text"]),
    ("xquad-retrieval/en", "test"): (240, 1190, 1190, ["duplicate-query-text"]),
    ("xquad-retrieval/es", "test"): (240, 1190, 1190, ["duplicate-query-text"]),
    ("xquad-retrieval/zh", "test"): (240, 1190, 1190, ["duplicate-query-text"]),
}


def load(root: Path, folder: str, split: str = "test"):
    path = root / folder
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    return load_dataset(path, split=split)


def warning(ds, code):
    [w] = [w for w in ds.warnings if w.code == code]
    return w


@pytest.mark.parametrize(("folder", "split"), list(EXPECTED), ids=[f"{f}-{s}" for f, s in EXPECTED])
def test_shared_dataset_loads_with_published_counts(shared_datasets, folder, split):
    ds = load(shared_datasets, folder, split)
    n_docs, n_queries, n_qrels, codes = EXPECTED[folder, split]
    assert (len(ds.corpus), len(ds.queries), ds.n_judgements) == (n_docs, n_queries, n_qrels)
    assert [w.code for w in ds.warnings] == codes
    assert ds.name == folder.replace("/", "-")
    assert len(ds.fingerprint) == 64


def test_scifact_loads_well_under_a_second(shared_datasets):
    path = shared_datasets / "scifact"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        load_dataset(path)
        best = min(best, time.perf_counter() - start)
    assert best < 1.0, f"loading scifact took {best:.2f} s"


def test_scifact_reports_809_unjudged_queries_as_one_warning(shared_datasets):
    ds = load(shared_datasets, "scifact")
    w = warning(ds, "unjudged-query")
    assert w.count == 809
    assert w.message.startswith("809 of 1109 queries have no judgements in qrels/test.tsv")


def test_scifact_documents_show_title_then_text(shared_datasets):
    ds = load(shared_datasets, "scifact")
    doc = ds.document("4983")
    assert doc.title.startswith("Microstructural development of human newborn")
    assert doc.full_text == f"{doc.title} {doc.text}"
    assert ds.doc_texts[ds.doc_index("4983")] == doc.full_text


def test_scifact_test_queries_keep_file_order(shared_datasets):
    ds = load(shared_datasets, "scifact")
    assert ds.query_ids[:3] == ("1", "3", "5")
    assert ds.qrels["1"] == {"31715818": 1}


def test_scifact_has_no_dev_split_and_says_which_exist(shared_datasets):
    path = shared_datasets / "scifact"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    with pytest.raises(DatasetError, match=r"Splits here: test, train; pass one of them"):
        load_dataset(path, split="dev")


def test_cranfield_empty_documents_471_and_995_are_warned(shared_datasets):
    ds = load(shared_datasets, "cranfield")
    w = warning(ds, "empty-document")
    assert (w.count, w.line) == (2, 471)
    assert "'471', '995'" in w.message
    assert ds.document("995").full_text == ""
    assert ds.qrels["125"]["995"] == 1


def test_cisi_duplicate_documents_are_warned(shared_datasets):
    ds = load(shared_datasets, "cisi")
    w = warning(ds, "duplicate-text")
    assert w.count == 2
    assert "'1440' (same as '234')" in w.message
    assert "'1447' (same as '1084')" in w.message


def test_cisi_evaluates_its_76_judged_queries_of_112(shared_datasets):
    ds = load(shared_datasets, "cisi")
    w = warning(ds, "unjudged-query")
    assert (len(ds.queries), w.count) == (76, 36)


@pytest.mark.parametrize(("lang", "repeats"), [("en", 3), ("de", 8), ("zh", 9)])
def test_xquad_repeated_questions_match_provenance(shared_datasets, lang, repeats):
    ds = load(shared_datasets, f"xquad-retrieval/{lang}")
    assert warning(ds, "duplicate-query-text").count == repeats


def test_xquad_languages_share_ids_but_not_fingerprints(shared_datasets):
    en = load(shared_datasets, "xquad-retrieval/en")
    de = load(shared_datasets, "xquad-retrieval/de")
    assert en.doc_ids == de.doc_ids
    assert en.query_ids == de.query_ids
    assert en.fingerprint != de.fingerprint


def test_fingerprint_is_stable_across_loads(shared_datasets):
    assert load(shared_datasets, "cisi").fingerprint == load(shared_datasets, "cisi").fingerprint


def test_non_retrieval_shared_folder_is_refused_with_what_it_holds(shared_datasets):
    path = shared_datasets / "banking77"
    if not path.is_dir():
        pytest.skip(f"{path} is absent")
    with pytest.raises(DatasetError, match=r"no dataset found: .* holds: .*test\.jsonl"):
        load_dataset(path)
