"""embedgate.metrics against pytrec_eval (trec_eval 9.0.8): random runs, real runs, TREC files.

Every metric must equal trec_eval per query within 1e-9. trec_eval only reports queries
that are both judged and retrieved; every other judged query must score 0 here (``-c``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from embedgate.metrics import (
    CompiledQrels,
    MetricSpec,
    evaluate,
    parse_metric,
    supported_metrics,
)
from embedgate.retrieval.run import Run

if TYPE_CHECKING:
    import numpy.typing as npt

pytrec_eval = pytest.importorskip("pytrec_eval")

Qrels = dict[str, dict[str, int]]
TOLERANCE = 1e-9
CUTOFFS = (1, 2, 3, 5, 10, 20)


def specs_at(cutoffs: tuple[int, ...]) -> list[MetricSpec]:
    forms = supported_metrics()
    cut = [
        parse_metric(f.replace("@k", f"@{k}")) for f in forms if f.endswith("@k") for k in cutoffs
    ]
    return cut + [parse_metric(f) for f in forms if not f.endswith("@k")]


def trec_eval_scores(
    run: Mapping[str, Mapping[str, float]], qrels: Qrels, specs: list[MetricSpec]
) -> dict[str, dict[str, float]]:
    """pytrec_eval's per-query values for ``specs``, keyed by query then by our spec key.

    MRR@k is trec_eval's ``recip_rank`` (which has no cutoff) when the first relevant rank
    ``1 / recip_rank`` is within k, and 0 otherwise; so it needs no run cut here.
    """
    measures: set[str] = set()
    for spec in specs:
        measure = spec.trec_eval_measure
        base, _, k = measure.rpartition("_")
        measures.add(f"{base}.{k}" if k.isdigit() else measure)
    # trec_eval misbehaves on a query with no judgement of grade >= 0: with an empty qrels
    # dict it reads an uninitialized grade, with only negative grades it reuses the previous
    # query's relevance levels (form_res_rels.c); either can loop for minutes. Such a query has
    # no relevant document, so it scores 0, which is what we check for it.
    judged = {qid: docs for qid, docs in qrels.items() if any(g >= 0 for g in docs.values())}
    evaluator = pytrec_eval.RelevanceEvaluator(judged, measures)
    run = {qid: dict(docs) for qid, docs in run.items() if docs}
    out: dict[str, dict[str, float]] = {}
    for qid, values in evaluator.evaluate(run).items():
        row = out.setdefault(qid, {})
        for spec in specs:
            value = values[spec.trec_eval_measure]
            if spec.name == "mrr" and spec.k is not None and value > 0:
                value = value if round(1 / value) <= spec.k else 0.0
            row[spec.key] = value
    return out


def assert_conforms(run: Run, qrels: Qrels, specs: list[MetricSpec]) -> int:
    """Compare every query and metric; return how many query values trec_eval reported."""
    ours = evaluate(run, qrels, specs)
    compiled = evaluate(run, CompiledQrels(qrels), specs)
    assert all(np.array_equal(ours[key], compiled[key]) for key in ours)
    reference = trec_eval_scores(run.to_dict(), qrels, specs)
    assert set(reference) <= set(qrels)
    for row, qid in enumerate(qrels):
        for spec in specs:
            expected = reference.get(qid, {}).get(spec.key, 0.0)
            got = float(ours[spec.key][row])
            assert got == pytest.approx(expected, abs=TOLERANCE), (qid, spec.key)
    return len(reference)


# --- random runs (hypothesis) ----------------------------------------------------------------

# Short ids from a small alphabet collide often in prefix and order; the non-ASCII letters
# check that Python's code point order is trec_eval's strcmp byte order on UTF-8.
DOC_ID = st.text(alphabet="aAbB019_-.éß中", min_size=1, max_size=3)
# A handful of values, so that most rows have long runs of tied scores. All are float32
# values: trec_eval ranks by C float (see test_scores_equal_in_float32_tie_as_in_trec_eval).
SCORE = st.sampled_from([0.0, -0.0, 0.25, 0.5, 1.0, 1.0 + 2**-20, -1.0, 1e30]) | st.floats(
    -10, 10, width=32
)
GRADE = st.sampled_from([-1, 0, 0, 1, 1, 2, 3])


@st.composite
def run_and_qrels(draw: st.DrawFn) -> tuple[Run, Qrels]:
    pool = draw(st.lists(DOC_ID, min_size=1, max_size=25, unique=True))
    results: dict[str, dict[str, float]] = {}
    qrels: Qrels = {}
    for i in range(draw(st.integers(1, 6))):
        qid = f"q{i}"
        if draw(st.integers(0, 4)):  # most queries are in the run, some are not
            docs = draw(st.lists(st.sampled_from(pool), max_size=15, unique=True))
            results[qid] = {doc: draw(SCORE) for doc in docs}
        if draw(st.integers(0, 4)):  # most are judged; some judged ones have no relevant doc
            judged = draw(st.lists(st.sampled_from(pool), max_size=10, unique=True))
            qrels[qid] = {doc: draw(GRADE) for doc in judged}
    return Run.from_dict(results), qrels


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=run_and_qrels())
def test_every_metric_equals_trec_eval_on_random_runs_with_ties(case: tuple[Run, Qrels]) -> None:
    run, qrels = case
    assert_conforms(run, qrels, specs_at(CUTOFFS))


@settings(max_examples=200, deadline=None)
@given(ranking=st.dictionaries(DOC_ID, st.sampled_from([0.0, 0.5, 1.0]), min_size=1, max_size=12))
def test_run_rows_rank_documents_exactly_as_trec_eval_does(ranking: dict[str, float]) -> None:
    # Recover trec_eval's full ranking: judge one document at a time as the only relevant one;
    # its recip_rank is 1 / (its rank in trec_eval's order).
    docs = list(ranking)
    qrels = {f"q{i}": {doc: 1} for i, doc in enumerate(docs)}
    evaluator = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"})
    values = evaluator.evaluate(dict.fromkeys(qrels, ranking))
    trec_rank = {doc: round(1 / values[f"q{i}"]["recip_rank"]) for i, doc in enumerate(docs)}
    trec_order = sorted(docs, key=trec_rank.__getitem__)

    run = Run.from_dict({"q": ranking})
    assert [doc for doc, _ in run.ranked(0)] == trec_order


# trec_eval stores run scores as C float (trec_format.h TEXT_RESULTS.sim): float64 scores
# equal in float32 tie and rank by doc id, descending; `trec_order` does the same.
@pytest.mark.parametrize(
    ("higher", "lower"),
    [(1.0 + 2**-40, 1.0), (0.1000000001, 0.1), (1e-212, 0.0), (1e300, 1e299)],
)
def test_scores_equal_in_float32_tie_as_in_trec_eval(higher: float, lower: float) -> None:
    ranking = {"a": higher, "b": lower}  # tied in float32, so "b" ranks first
    values = pytrec_eval.RelevanceEvaluator({"q": {"a": 1}}, {"recip_rank"}).evaluate(
        {"q": ranking}
    )
    assert values["q"]["recip_rank"] == 0.5
    assert [doc for doc, _ in Run.from_dict({"q": ranking}).ranked(0)] == ["b", "a"]


def test_metrics_accept_rows_tied_in_float32_in_trec_eval_order() -> None:
    # A row ordered as trec_eval orders it: "b" before "a", tied at float32 precision.
    run = Run(("q",), ("a", "b"), np.array([[1, 0]]), np.array([[1.0, 1.0 + 2**-40]]))
    assert evaluate(run, {"q": {"a": 1}}, ["mrr"])["mrr"].tolist() == [0.5]


# --- real runs on the shared datasets --------------------------------------------------------

TOKEN = re.compile(r"\w+")


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def read_qrels(path: Path, *, columns: tuple[int, int, int] = (0, 1, 2)) -> Qrels:
    qrels: Qrels = {}
    with path.open(encoding="utf-8") as fh:
        next(fh)  # header
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            q, d, g = (parts[c] for c in columns)
            qrels.setdefault(q, {})[d] = int(g)
    return qrels


def tfidf_run(folder: Path, depth: int = 100) -> Run:
    """A deterministic word-overlap TF-IDF run: cosine over ``\\w+`` tokens, top ``depth``.

    Scores are rounded to 3 decimals so ties are common, zero scores fill short lists, and
    rows are cut and ordered by (score desc, doc id desc): trec_eval's order.
    """
    corpus = list(read_jsonl(folder / "corpus.jsonl"))
    queries = list(read_jsonl(folder / "queries.jsonl"))
    doc_ids = tuple(str(d["_id"]) for d in corpus)
    vocab: dict[str, int] = {}

    def matrix(texts: list[str]) -> scipy.sparse.csr_array:
        rows, cols = [], []
        for row, text in enumerate(texts):
            for token in TOKEN.findall(text.lower()):
                rows.append(row)
                cols.append(vocab.setdefault(token, len(vocab)))
        data = np.ones(len(rows))
        shape = (len(texts), len(vocab) + 1)
        return scipy.sparse.csr_array((data, (rows, cols)), shape=shape)

    docs = matrix([f"{d.get('title', '')} {d['text']}" for d in corpus])
    qs = matrix([str(q["text"]) for q in queries])
    width = len(vocab) + 1
    docs.resize((docs.shape[0], width))
    df = np.bincount(docs.indices, minlength=width)
    idf = np.log((1 + docs.shape[0]) / (1 + df)) + 1.0

    def normalized(m: scipy.sparse.csr_array) -> scipy.sparse.csr_array:
        weighted = scipy.sparse.csr_array(m.multiply(idf[None, :]))
        norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1))).ravel()
        return scipy.sparse.csr_array(
            scipy.sparse.diags_array(1 / np.maximum(norms, 1e-12)) @ weighted
        )

    scores = np.round((normalized(qs) @ normalized(docs).T).toarray(), 3)
    id_rank = np.argsort(np.argsort(np.array(doc_ids, dtype=object), kind="stable"))
    depth = min(depth, len(doc_ids))
    indices = np.empty((len(queries), depth), dtype=np.int64)
    for row in range(len(queries)):
        indices[row] = np.lexsort((-id_rank, -scores[row]))[:depth]
    top: npt.NDArray[np.float64] = np.take_along_axis(scores, indices, axis=1)
    return Run(tuple(str(q["_id"]) for q in queries), doc_ids, indices, top, name="tfidf")


def cranfield_graded(folder: Path) -> Qrels:
    """Graded Cranfield qrels from ``extra/cranqrel_codes.tsv``, Cleverdon's reading.

    ``cranqrel.readme`` quotes Cleverdon: code 1 = complete answer ... 4 = minimum interest,
    so grade = 5 - code (4..1); code -1 is kept as grade -1, a judged non-relevant document
    with a negative grade, which trec_eval must treat as not relevant and gain 0.
    """
    codes = read_qrels(folder / "extra" / "cranqrel_codes.tsv")
    return {q: {d: (5 - c if c > 0 else c) for d, c in docs.items()} for q, docs in codes.items()}


REAL = {
    "scifact": ("scifact", "qrels/test.tsv"),
    "cisi": ("cisi", "qrels/test.tsv"),
    "cranfield": ("cranfield", "qrels/test.tsv"),
    "cranfield-graded": ("cranfield", None),
    "xquad-en": ("xquad-retrieval/en", "qrels/test.tsv"),
}


@pytest.fixture(scope="module", params=sorted(REAL))
def real_case(request: pytest.FixtureRequest, shared_datasets: Path) -> tuple[Run, Qrels]:
    folder_name, qrels_file = REAL[request.param]
    folder = shared_datasets / folder_name
    if not (folder / "corpus.jsonl").is_file():
        pytest.skip(f"{folder} has no corpus.jsonl")
    qrels = cranfield_graded(folder) if qrels_file is None else read_qrels(folder / qrels_file)
    return tfidf_run(folder), qrels


def test_every_metric_equals_trec_eval_on_real_runs(real_case: tuple[Run, Qrels]) -> None:
    run, qrels = real_case
    reported = assert_conforms(run, qrels, specs_at((1, 3, 5, 10, 20, 100, 1000)))
    assert reported > 0


def test_real_runs_are_built_in_the_order_run_from_dict_gives(
    real_case: tuple[Run, Qrels],
) -> None:
    run, _ = real_case
    rebuilt = Run.from_dict(run.to_dict())
    differ = [q for r, q in enumerate(run.query_ids) if rebuilt.ranked(r) != run.ranked(r)]
    assert differ == []


def test_real_runs_have_many_ties(real_case: tuple[Run, Qrels]) -> None:
    run, _ = real_case
    tied = (run.scores[:, 1:] == run.scores[:, :-1]).mean()
    assert tied > 0.1


def test_trec_file_round_trip_scores_the_same_as_trec_eval_on_the_file(
    real_case: tuple[Run, Qrels], tmp_path: Path
) -> None:
    run, qrels = real_case
    path = run.write_trec(tmp_path / "run.trec")
    from_file: dict[str, dict[str, float]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        qid, _, doc, _, score, _ = line.split()
        from_file.setdefault(qid, {})[doc] = float(score)
    specs = specs_at((1, 10, 100))
    reference = trec_eval_scores(from_file, qrels, specs)
    ours = evaluate(run, qrels, specs)
    read_back = evaluate(Run.read_trec(path), qrels, specs)
    for spec in specs:
        assert np.array_equal(read_back[spec.key], ours[spec.key]), spec.key
        expected = [reference.get(q, {}).get(spec.key, 0.0) for q in qrels]
        np.testing.assert_allclose(ours[spec.key], expected, rtol=0, atol=TOLERANCE)
