"""The golden-set lint: each check fails on a dataset built to fail it, and a clean set passes."""

from __future__ import annotations

import json
import math
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats as sps

from embedgate.datasets import Document, Query, RetrievalDataset
from embedgate.datasets.lint import (
    CHECKS,
    Finding,
    LintOptions,
    LintReport,
    TokenLimit,
    _similar_pairs,
    bm25_top1,
    detect_languages,
    document_clusters,
    find_unknown_ids,
    lint,
    lint_folder,
    query_form,
    word_count,
)
from embedgate.errors import DatasetError

# ---------------------------------------------------------------------------------------------
# A clean little help centre: distinct documents, paraphrased queries, one relevant each.

CLEAN_DOCS = {
    "d1": "Refunds are paid back to the original card within fourteen days of the request.",
    "d2": "Invoices are emailed on the first working day of every month as a PDF file.",
    "d3": "Reset a forgotten password from the sign in page with the link we email you.",
    "d4": "Guests can view shared projects but cannot edit tasks or see billing details.",
    "d5": "Export every task of a project as a spreadsheet from the project settings menu.",
    "d6": "The mobile app keeps working offline and syncs changes once you reconnect.",
}
CLEAN_QUERIES = {
    "q1": "can I get my money back",
    "q2": "when does the monthly bill arrive",
    "q3": "I cannot remember how to log in",
    "q4": "what may visitors do in a workspace",
    "q5": "download tasks to Excel",
    "q6": "use the phone without internet",
}


def dataset(
    docs: Mapping[str, str] = CLEAN_DOCS,
    queries: Mapping[str, str] | None = None,
    qrels: Mapping[str, Mapping[str, int]] | None = None,
    *,
    languages: Mapping[str, str] | None = None,
    name: str = "toy",
) -> RetrievalDataset:
    queries = CLEAN_QUERIES if queries is None else queries
    if qrels is None:
        qrels = {q: {f"d{q[1:]}": 2} for q in queries}
    languages = languages or {}
    return RetrievalDataset(
        name,
        None,
        "test",
        tuple(Document(d, "", t) for d, t in docs.items()),
        tuple(Query(q, t, languages.get(q)) for q, t in queries.items()),
        qrels,
    )


def bag_of_words(texts: Sequence[str]) -> np.ndarray:
    """A deterministic fake embedder: hashed word counts (same words, same vector)."""
    out = np.zeros((len(texts), 512), dtype=np.float32)
    for i, text in enumerate(texts):
        for word in text.lower().split():
            out[i, zlib.crc32(word.strip(".,?!").encode()) % 512] += 1.0
    return out


def nobody_first(ds: RetrievalDataset) -> dict[str, str | None]:
    return dict.fromkeys(ds.query_ids)


def quiet(**overrides: Any) -> dict[str, Any]:
    """Keyword arguments that run every check with fakes (no BM25, no model, no identifier)."""
    kwargs: dict[str, Any] = {
        "embed_documents": bag_of_words,
        "embed_queries": bag_of_words,
        "lexical_top1": nobody_first,
        "detect_language": lambda texts: [("en", 1.0)] * len(texts),
        "options": LintOptions(min_queries=1),
    }
    kwargs.update(overrides)
    return kwargs


def only(report: LintReport, check: str) -> list[Finding]:
    return [f for f in report.findings if f.check == check]


def flagged(report: LintReport) -> set[str]:
    return {f.check for f in report.findings if f.severity != "info"}


# ---------------------------------------------------------------------------------------------


def test_a_clean_set_passes_every_check_even_failing_on_warnings() -> None:
    report = lint(dataset(), **quiet())
    assert flagged(report) == set()
    assert report.exit_status("warning") == 0
    assert report.exit_status("error") == 0
    # Every check ran; only adequacy, which needs results, is listed as not checked.
    assert [note.split(":")[0] for note in report.notes] == ["adequacy"]


def test_empty_document_is_a_warning_naming_it() -> None:
    docs = {**CLEAN_DOCS, "d7": "   "}
    (finding,) = only(lint(dataset(docs), **quiet()), "empty-document")
    assert finding.severity == "warning"
    assert finding.ids == ("d7",)
    assert "'d7'" in finding.message


def test_short_queries_warn_and_short_documents_inform() -> None:
    docs = {**CLEAN_DOCS, "d7": "See above."}
    queries = {**CLEAN_QUERIES, "q7": "ok"}
    qrels = {**{q: {f"d{q[1:]}": 2} for q in CLEAN_QUERIES}, "q7": {"d1": 1}}
    findings = only(lint(dataset(docs, queries, qrels), **quiet()), "short-text")
    by_severity = {f.severity: f for f in findings}
    assert by_severity["warning"].ids == ("q7",)
    assert by_severity["info"].ids == ("d7",)
    assert "'q7'" in by_severity["warning"].message


def test_duplicate_documents_warn_and_error_when_graded_apart() -> None:
    # Two copies no query judges: a warning.
    extra = "Tags group tasks across projects and can be renamed by any member of the team."
    docs = {**CLEAN_DOCS, "d7": extra, "d8": extra.upper() + "  "}
    (warning,) = only(lint(dataset(docs), **quiet()), "duplicate-document")
    assert (warning.severity, warning.ids) == ("warning", ("d8",))
    assert "d7=d8" in warning.message

    # A copy of a relevant document that is not judged relevant too: the score is chance.
    docs = {**CLEAN_DOCS, "d7": CLEAN_DOCS["d1"]}
    (error,) = only(lint(dataset(docs), **quiet()), "duplicate-document")
    assert error.severity == "error"
    assert "'q1' (d1=2, d7=0)" in error.message
    qrels = {q: {f"d{q[1:]}": 2} for q in CLEAN_QUERIES}
    qrels["q1"] = {"d1": 2, "d7": 2}
    (graded_alike,) = only(lint(dataset(docs, qrels=qrels), **quiet()), "duplicate-document")
    assert graded_alike.severity == "warning"


def test_near_duplicate_documents_are_found_above_the_threshold_only() -> None:
    docs = {**CLEAN_DOCS, "d7": CLEAN_DOCS["d2"].replace("PDF", "pdf attachment")}
    report = lint(dataset(docs), **quiet())
    (finding,) = only(report, "near-duplicate-document")
    assert finding.severity == "warning"
    assert finding.ids == ("d2~d7",)
    cos = float(_cosine(bag_of_words([docs["d2"]]), bag_of_words([docs["d7"]])))
    assert f"{cos:.3f}" in finding.examples[0]
    # The threshold is configurable: above this pair's cosine, nothing is near.
    stricter = lint(dataset(docs), **quiet(options=LintOptions(near_duplicate=cos + 0.01)))
    assert only(stricter, "near-duplicate-document") == []


def test_exact_duplicates_are_not_reported_again_as_near_duplicates() -> None:
    docs = {**CLEAN_DOCS, "d7": CLEAN_DOCS["d3"]}
    report = lint(dataset(docs), **quiet())
    assert only(report, "duplicate-document")
    assert only(report, "near-duplicate-document") == []


def test_duplicate_queries_warn_naming_both() -> None:
    queries = {**CLEAN_QUERIES, "q7": "Can I get my money back?"}
    qrels = {**{q: {f"d{q[1:]}": 2} for q in CLEAN_QUERIES}, "q7": {"d1": 2}}
    (finding,) = only(lint(dataset(queries=queries, qrels=qrels), **quiet()), "duplicate-query")
    assert finding.ids == ("q7",)
    assert "q1=q7" in finding.message


def test_near_duplicate_queries_warn() -> None:
    queries = {**CLEAN_QUERIES, "q7": "can I get all my money back"}
    qrels = {**{q: {f"d{q[1:]}": 2} for q in CLEAN_QUERIES}, "q7": {"d1": 2}}
    # Bag-of-words cosine of the pair: 6 / sqrt(6 * 7) = 0.926.
    loose = quiet(options=LintOptions(near_duplicate=0.9, min_queries=1))
    (finding,) = only(lint(dataset(queries=queries, qrels=qrels), **loose), "near-duplicate-query")
    assert finding.ids == ("q1~q7",)
    assert (
        only(lint(dataset(queries=queries, qrels=qrels), **quiet()), "near-duplicate-query") == []
    )


def test_texts_longer_than_a_models_window_are_named_with_their_token_counts() -> None:
    def count(texts: Sequence[str]) -> list[int]:
        return [len(t.split()) + 2 for t in texts]  # words plus [CLS] and [SEP]

    report = lint(dataset(), token_limits=[TokenLimit("tiny", 16, count)], **quiet())
    (finding,) = only(report, "too-long")
    expected = sorted(
        (d for d, t in CLEAN_DOCS.items() if len(t.split()) + 2 > 16),
        key=lambda d: -len(CLEAN_DOCS[d].split()),
    )
    assert expected
    assert set(finding.ids) == set(expected)
    assert "tiny's 16 tokens" in finding.message
    # Without a tokenizer the count is estimated, and the report says so.
    estimated = only(lint(dataset(), token_limits=[TokenLimit("tiny", 16)], **quiet()), "too-long")
    assert estimated
    assert "estimated" in estimated[0].message
    assert (
        only(lint(dataset(), token_limits=[TokenLimit("big", 512, count)], **quiet()), "too-long")
        == []
    )


def test_unjudged_queries_come_from_the_loader_once(make_beir: Any) -> None:
    folder = make_beir(
        queries=[*_beir_queries(), {"_id": "q9", "text": "never judged"}],
        corpus=_beir_corpus(),
        qrels=_beir_qrels(),
    )
    _, report = lint_folder(folder, **quiet())
    (finding,) = only(report, "unjudged-query")
    assert finding.severity == "warning"
    assert finding.count == 1
    assert "'q9'" in finding.message


def test_repeated_judgement_lines_are_reported_as_info(make_beir: Any) -> None:
    qrels = [*_beir_qrels(), "q1\td1\t2"]
    folder = make_beir(corpus=_beir_corpus(), queries=_beir_queries(), qrels=qrels)
    _, report = lint_folder(folder, **quiet())
    (finding,) = only(report, "duplicate-judgement")
    assert finding.severity == "info"
    assert "'q1'/'d1'" in finding.message


def test_loader_warnings_that_the_lint_computes_are_not_repeated(make_beir: Any) -> None:
    corpus = [*_beir_corpus(), {"_id": "d7", "text": ""}, {"_id": "d8", "text": CLEAN_DOCS["d1"]}]
    folder = make_beir(corpus=corpus, queries=_beir_queries(), qrels=_beir_qrels())
    ds, report = lint_folder(folder, **quiet())
    assert ds is not None
    assert {w.code for w in ds.warnings} >= {"empty-document", "duplicate-text"}
    assert len(only(report, "empty-document")) == 1
    assert len(only(report, "duplicate-document")) == 1


def test_queries_without_a_relevant_document_are_errors() -> None:
    qrels = {q: {f"d{q[1:]}": 2} for q in CLEAN_QUERIES}
    qrels["q4"] = {"d4": 0}
    report = lint(dataset(qrels=qrels), **quiet())
    (finding,) = only(report, "no-relevant")
    assert (finding.severity, finding.ids) == ("error", ("q4",))
    assert report.exit_status("error") == 1


def test_a_query_copied_from_its_relevant_document_is_leakage() -> None:
    queries = {**CLEAN_QUERIES, "q3": "reset a forgotten password from the sign-in page"}
    (finding,) = only(lint(dataset(queries=queries), **quiet()), "leakage")
    assert finding.ids == ("q3",)
    assert "q3 in d3" in finding.examples[0]
    # A short keyword query inside its answer is what keyword queries do: not leakage.
    keyword = {**CLEAN_QUERIES, "q3": "forgotten password"}
    assert only(lint(dataset(queries=keyword), **quiet()), "leakage") == []


def test_word_overlap_share_warns_when_bm25_answers_nearly_everything() -> None:
    ds = dataset()

    def always_right(d: RetrievalDataset) -> dict[str, str | None]:
        return {q: next(iter(d.relevant(q))) for q in d.query_ids}

    (easy,) = only(lint(ds, **quiet(lexical_top1=always_right)), "lexical-overlap")
    assert easy.severity == "warning"
    assert "6 of 6 queries (100%)" in easy.message
    (hard,) = only(lint(ds, **quiet()), "lexical-overlap")
    assert hard.severity == "info"
    assert "0 of 6" in hard.message


def test_bm25_top1_finds_the_document_sharing_the_query_words() -> None:
    pytest.importorskip("bm25s")
    queries = {"q1": "refunds original card", "q2": "mobile app offline"}
    ds = dataset(queries=queries, qrels={"q1": {"d1": 2}, "q2": {"d2": 2}})
    assert bm25_top1(ds) == {"q1": "d1", "q2": "d6"}
    (finding,) = only(lint(ds, **quiet(lexical_top1=bm25_top1)), "lexical-overlap")
    assert finding.ids == ("q1",)


def test_queries_reaching_few_document_clusters_warn_and_name_the_missed_cluster() -> None:
    docs = {f"a{i}": f"invoice billing payment refund card number {i}" for i in range(6)}
    docs |= {f"b{i}": f"mountain river forest hiking trail map {i}" for i in range(6)}
    queries = {"q1": "refund to my card", "q2": "billing question"}
    qrels = {"q1": {"a0": 2}, "q2": {"a1": 2}}
    report = lint(
        dataset(docs, queries, qrels),
        **quiet(options=LintOptions(topic_clusters=2, min_topic_coverage=0.6, min_queries=1)),
    )
    (finding,) = only(report, "topic-coverage")
    assert finding.severity == "warning"
    assert "1 of 2 document clusters" in finding.message
    assert "b0" in finding.examples[0]
    assert report.diversity["topics"]["share"] == 0.5


def test_document_clusters_are_seeded_and_follow_the_embeddings() -> None:
    docs = {f"a{i}": f"invoice billing payment refund {i}" for i in range(5)}
    docs |= {f"b{i}": f"mountain river forest hiking {i}" for i in range(5)}
    ds = dataset(docs, {"q1": "x"}, {"q1": {"a0": 1}})
    vectors = bag_of_words(ds.doc_texts)
    first = document_clusters(ds, vectors, k=2, seed=3)
    assert first == document_clusters(ds, vectors, k=2, seed=3)
    assert len({first[f"a{i}"] for i in range(5)}) == 1
    assert len({first[f"b{i}"] for i in range(5)}) == 1
    assert first["a0"] != first["b0"]


def test_a_stated_language_the_identifier_reads_otherwise_is_reported() -> None:
    report = lint(
        dataset(languages={"q3": "de", "q1": "en"}),
        **quiet(detect_language=lambda texts: [("en", 0.99)] * len(texts)),
    )
    (finding,) = only(report, "language-mismatch")
    assert finding.ids == ("q3",)
    assert report.diversity["stated_query_languages"] == {"none": 4, "de": 1, "en": 1}


def test_languages_are_identified_offline_with_py3langid() -> None:
    pytest.importorskip("py3langid")
    texts = [
        "Wie kann ich mein Passwort zurücksetzen, wenn ich es vergessen habe?",
        "¿Cómo puedo cambiar el correo electrónico de mi cuenta?",
        "How do I download last month's invoice?",
        "",
    ]
    assert [lang for lang, _ in detect_languages(texts)] == ["de", "es", "en", "und"]


def test_few_queries_are_inadequate_without_results() -> None:
    report = lint(dataset(), **quiet(options=LintOptions(min_queries=30)))
    (finding,) = only(report, "adequacy")
    assert finding.severity == "warning"
    assert "only 6 evaluated queries" in finding.message


@dataclass(frozen=True)
class FakeResult:
    model: str
    fingerprint: str
    per_query: Mapping[str, Mapping[str, float]] = field(default_factory=dict)


def test_adequacy_reports_the_minimum_detectable_effect_of_two_results() -> None:
    rng = np.random.default_rng(7)
    n = 200
    queries = {f"q{i}": f"question number {i}" for i in range(n)}
    docs = {f"d{i}": f"answer text number {i} with enough words" for i in range(n)}
    ds = dataset(docs, queries, {f"q{i}": {f"d{i}": 1} for i in range(n)})
    a = rng.uniform(0, 1, n)
    b = np.clip(a + rng.normal(0, 0.3, n), 0, 1)
    results = [
        FakeResult("base", ds.fingerprint, {"ndcg@10": dict(zip(ds.query_ids, a, strict=True))}),
        FakeResult("cand", ds.fingerprint, {"ndcg@10": dict(zip(ds.query_ids, b, strict=True))}),
        FakeResult("stale", "0" * 64, {"ndcg@10": {}}),
    ]
    report = lint(ds, results=results, **quiet(embed_documents=None, embed_queries=None))
    findings = only(report, "adequacy")
    stale = [f for f in findings if "stale" in f.message]
    assert stale
    assert stale[0].severity == "warning"
    (pair,) = [f for f in findings if "base vs cand" in f.message]
    # Independent check: at the reported effect, scipy's noncentral t gives 80% power.
    sd = float(np.std(b - a, ddof=1))
    assert f"{sd:.3f}" in pair.message
    mde = float(pair.message.split("detect a true ndcg@10 difference of +")[1][:5])
    crit = sps.t.ppf(0.95, n - 1)
    power = sps.nct.sf(crit, n - 1, mde * math.sqrt(n) / sd)
    assert power == pytest.approx(0.8, abs=0.01)
    assert pair.severity == ("warning" if mde > 0.02 else "info")
    assert "needs about" in pair.message


def test_a_folder_whose_qrels_name_unknown_ids_lists_them_all(make_beir: Any) -> None:
    qrels = [*_beir_qrels(), "q1\tD404\t1", "q2\tD405\t1", "q77\td1\t1"]
    folder = make_beir(corpus=_beir_corpus(), queries=_beir_queries(), qrels=qrels)
    ds, report = lint_folder(folder)
    assert ds is None
    checks = {f.check: f for f in report.findings}
    assert checks["load-error"].severity == "error"
    assert "D404" in checks["load-error"].message
    unknown = checks["unknown-id"]
    assert unknown.severity == "error"
    assert unknown.count == 3
    assert "doc id 'D405'" in unknown.message
    assert "query id 'q77'" in unknown.message
    assert report.exit_status() == 1


def test_unknown_ids_of_a_golden_folder(make_golden: Any) -> None:
    golden = [{"id": "q1", "text": "refund", "relevant": {"d1": 2, "nope": 1}}]
    folder = make_golden(golden=golden)
    assert find_unknown_ids(folder) == ["golden.jsonl line 1: doc id 'nope'"]


def test_a_folder_without_a_dataset_is_bad_input_not_a_finding(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no dataset found"):
        lint_folder(tmp_path)


# -- building blocks ---------------------------------------------------------------------------


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float((a @ b.T).item() / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.mark.parametrize("budget", [64, 4096, 2**20])
def test_blocked_similar_pairs_equal_the_full_matrix(budget: int) -> None:
    sklearn_pairwise = pytest.importorskip("sklearn.metrics.pairwise")
    rng = np.random.default_rng(0)
    base = rng.normal(size=(30, 8)).astype(np.float32)
    x = np.vstack([base, base[:10] + rng.normal(scale=0.05, size=(10, 8)).astype(np.float32)])
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    full = sklearn_pairwise.cosine_similarity(x)
    expected = {(i, j) for i in range(len(x)) for j in range(i + 1, len(x)) if full[i, j] >= 0.95}
    got = _similar_pairs(x, 0.95, budget)
    assert {(i, j) for i, j, _ in got} == expected
    assert len(expected) >= 10
    for i, j, s in got:
        assert s == pytest.approx(full[i, j], abs=1e-5)


@pytest.mark.parametrize(
    ("text", "form"),
    [
        ("how do I delete a project", "question"),
        ("Wie exportiere ich Rechnungen", "question"),
        ("¿Puedo pagar con transferencia", "question"),
        ("如何重置密码", "question"),
        ("refund annual plan", "keyword"),
        ("my invoice shows the wrong VAT number", "statement"),
        ("Neutrophil extracellular traps are released by neutrophils.", "statement"),
    ],
)
def test_query_forms(text: str, form: str) -> None:
    assert query_form(text) == form


def test_word_count_counts_each_cjk_character() -> None:
    assert word_count("Passwort zurücksetzen (2FA)") == 3
    assert word_count("重置密码") == 4
    assert word_count("") == 0


def test_report_renders_as_text_markdown_and_json_with_the_same_findings() -> None:
    docs = {**CLEAN_DOCS, "d7": ""}
    report = lint(dataset(docs), **quiet())
    doc = json.loads(json.dumps(report.to_dict()))
    assert doc["schema"] == "embedgate.lint/1"
    assert doc["summary"]["empty-document"] == {"warning": 1}
    assert [f["check"] for f in doc["findings"]] == [f.check for f in report.findings]
    md = report.to_markdown()
    assert "| warning | `empty-document` | 1 |" in md
    assert "## Diversity" in md
    text = report.to_text()
    assert "WARNING empty-document (1)" in text
    assert "query forms:" in text
    assert report.exit_status("warning") == 1
    assert report.exit_status("error") == 0
    with pytest.raises(DatasetError, match="fail_on"):
        report.exit_status("info")  # type: ignore[arg-type]


def test_findings_come_in_check_order() -> None:
    docs = {**CLEAN_DOCS, "d7": "", "d8": CLEAN_DOCS["d1"]}
    qrels = {q: {f"d{q[1:]}": 2} for q in CLEAN_QUERIES}
    qrels["q2"] = {"d2": 0}
    report = lint(dataset(docs, qrels=qrels), **quiet())
    order = [CHECKS.index(f.check) for f in report.findings]
    assert order == sorted(order)


def test_skipped_checks_are_noted() -> None:
    report = lint(
        dataset(),
        embed_documents=None,
        embed_queries=None,
        lexical_top1=None,
        detect_language=None,
        options=LintOptions(min_queries=1),
    )
    notes = " ".join(report.notes)
    for check in ("near-duplicate-document", "near-duplicate-query", "lexical-overlap"):
        assert check in notes


def test_options_are_validated() -> None:
    with pytest.raises(DatasetError, match="near_duplicate"):
        LintOptions(near_duplicate=1.5)
    with pytest.raises(DatasetError, match="target_effect"):
        LintOptions(target_effect=0.0)
    with pytest.raises(DatasetError, match="topic_clusters"):
        LintOptions(topic_clusters=1)


def test_an_embedder_returning_the_wrong_shape_is_an_error() -> None:
    with pytest.raises(DatasetError, match="one vector"):
        lint(dataset(), **quiet(embed_documents=lambda texts: np.zeros((1, 3), np.float32)))


# -- BEIR lines built from the clean set --------------------------------------------------------


def _beir_corpus() -> list[dict[str, str]]:
    return [{"_id": d, "title": "", "text": t} for d, t in CLEAN_DOCS.items()]


def _beir_queries() -> list[dict[str, str]]:
    return [{"_id": q, "text": t} for q, t in CLEAN_QUERIES.items()]


def _beir_qrels() -> list[str]:
    return ["query-id\tcorpus-id\tscore", *(f"{q}\td{q[1:]}\t2" for q in CLEAN_QUERIES)]


def test_a_missing_optional_library_skips_its_check_with_a_note() -> None:
    from embedgate.errors import MissingDependency

    def missing(_: Any) -> Any:
        raise MissingDependency("the 'py3langid' package is not installed")

    report = lint(dataset(), **quiet(detect_language=missing, lexical_top1=missing))
    notes = " ".join(report.notes)
    assert "languages, language-mismatch: the 'py3langid' package is not installed" in notes
    assert "lexical-overlap: the 'py3langid'" in notes
    assert "query_languages" not in report.diversity


def test_a_model_that_sees_every_text_alike_is_suspected_not_the_set() -> None:
    def blind(texts: Sequence[str]) -> np.ndarray:
        return np.ones((len(texts), 4), dtype=np.float32)

    (finding,) = only(lint(dataset(), **quiet(embed_queries=blind)), "near-duplicate-query")
    assert finding.count == 15  # all 6 * 5 / 2 pairs
    assert "cannot tell these texts apart" in finding.message
