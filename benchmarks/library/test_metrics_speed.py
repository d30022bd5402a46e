"""Speed of per-query metrics: ``embedgate.metrics.evaluate`` against pytrec_eval and ranx.

One run of 10,000 queries x 100 results over a 100,000-document corpus, graded qrels (grades
0-3, about 7 judged documents a query, half of them retrieved), four metrics: nDCG@10,
Recall@100, MRR@10 and MAP@100. Each library returns per-query scores. Two situations:

*One run, from scratch* (the qrels are a plain dict, nothing prepared):

- ``test_embedgate``: ``evaluate(run, qrels_dict, ...)`` on a `Run` (what search returns);
- ``test_pytrec_eval``: ``RelevanceEvaluator(qrels, measures).evaluate(run_dict)``;
- ``test_ranx_dicts``: ``ranx.evaluate(qrels_dict, run_dict, ...)``, numba warmed up.

*Another run against qrels prepared once* (every model of a suite on one dataset):

- ``test_embedgate_compiled``: ``evaluate(run, CompiledQrels(...), ...)`` for a run over the
  corpus id table the compiled qrels have seen (runs over one corpus share its id tuple);
- ``test_embedgate_compiled_new_table``: the same, but each round's run carries a new copy of
  the id tuple, so the table is scanned every time;
- ``test_pytrec_eval_prebuilt``: ``evaluator.evaluate(run_dict)`` on an evaluator built once;
- ``test_ranx_prebuilt``: ``ranx.evaluate(Qrels, Run, ...)`` on objects built once, its
  fastest path, numba warmed up.

All four sit in one pytest-benchmark group, so the table prints each time with its ratio to the
fastest in brackets. Run::

    python -m pytest benchmarks/library/test_metrics_speed.py -p no:randomly \\
        --benchmark-columns=min,median,mean,rounds --benchmark-sort=min

``test_libraries_agree_on_the_benchmark_run`` checks that the four do the same work: equal
per-query values (pytrec_eval within 1e-9; its ``recip_rank`` has no cutoff, so MRR@10 is
compared where the first relevant document is in the top 10).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from embedgate.metrics import CompiledQrels, evaluate
from embedgate.retrieval.run import Run

pytrec_eval = pytest.importorskip("pytrec_eval")
ranx = pytest.importorskip("ranx")

# ranx's numba kernels warn once, when first compiled in a fresh environment, about a cast
# inside ranx ("unsafe cast from uint64 to int64"); it is ranx's, not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:unsafe cast from uint64 to int64:Warning")

N_QUERIES, DEPTH, N_DOCS = 10_000, 100, 100_000
GROUP = f"metrics: {N_QUERIES:,} queries x {DEPTH} results, 4 metrics"
ROUNDS = 7
METRICS = ("ndcg@10", "recall@100", "mrr@10", "map@100")
TREC_MEASURES = {"ndcg_cut.10", "recall.100", "recip_rank", "map_cut.100"}

Qrels = dict[str, dict[str, int]]


class Case:
    """The benchmark run in every library's input format."""

    def __init__(self, seed: int = 20261127) -> None:
        rng = np.random.default_rng(seed)
        self.doc_ids = tuple(f"doc{i:07d}" for i in range(N_DOCS))
        query_ids = tuple(f"q{i:05d}" for i in range(N_QUERIES))
        # Distinct documents per row: a random start plus increasing steps below N_DOCS.
        steps = rng.integers(1, N_DOCS // DEPTH, size=(N_QUERIES, DEPTH))
        start = rng.integers(0, N_DOCS, size=(N_QUERIES, 1))
        indices = (start + np.cumsum(steps, axis=1)) % N_DOCS
        # Scores fall by at least 0.5 a rank, so no two tie, even in float32 (as trec_eval
        # compares them): every library ranks every row in the same order.
        ranks = np.arange(DEPTH, dtype=np.float64)
        scores = (DEPTH - ranks) + 0.5 * rng.random((N_QUERIES, DEPTH))
        self.run = Run(query_ids, self.doc_ids, indices.astype(np.int64), scores)
        # About 7 judged documents per query, grades 0-3, half of them retrieved. The ids are
        # new string objects, as they are when qrels and corpus come from different files.
        self.qrels: Qrels = {}
        for row, qid in enumerate(query_ids):
            n = int(rng.integers(1, 15))
            judged = [*rng.choice(indices[row], n // 2, replace=False)]
            judged += [*rng.integers(0, N_DOCS, n - n // 2)]
            self.qrels[qid] = {f"doc{int(j):07d}": int(rng.integers(0, 4)) for j in judged}
        self.run_dict = self.run.to_dict()


@pytest.fixture(scope="module")
def case() -> Case:
    return Case()


def timed(benchmark: Any, function: Callable[[], object]) -> object:
    benchmark.group = GROUP
    return benchmark.pedantic(function, rounds=ROUNDS, iterations=1, warmup_rounds=1)


def test_embedgate(benchmark: Any, case: Case) -> None:
    timed(benchmark, lambda: evaluate(case.run, case.qrels, METRICS))


def test_embedgate_compiled(benchmark: Any, case: Case) -> None:
    compiled = CompiledQrels(case.qrels)
    timed(benchmark, lambda: evaluate(case.run, compiled, METRICS))


def test_embedgate_compiled_new_table(benchmark: Any, case: Case) -> None:
    compiled = CompiledQrels(case.qrels)
    run = case.run

    def new_table() -> tuple[tuple[Run], dict[str, Any]]:
        # tuple(a_tuple) would return the same object; the point is a new one.
        fresh_ids = tuple(list(run.doc_ids))  # noqa: C414
        copy = Run(run.query_ids, fresh_ids, run.indices, run.scores)
        return (copy,), {}

    benchmark.group = GROUP
    benchmark.pedantic(
        lambda r: evaluate(r, compiled, METRICS),
        setup=new_table,
        rounds=ROUNDS,
        iterations=1,
        warmup_rounds=1,
    )


def test_pytrec_eval(benchmark: Any, case: Case) -> None:
    timed(
        benchmark,
        lambda: pytrec_eval.RelevanceEvaluator(case.qrels, TREC_MEASURES).evaluate(case.run_dict),
    )


def test_pytrec_eval_prebuilt(benchmark: Any, case: Case) -> None:
    evaluator = pytrec_eval.RelevanceEvaluator(case.qrels, TREC_MEASURES)
    timed(benchmark, lambda: evaluator.evaluate(case.run_dict))


def test_ranx_dicts(benchmark: Any, case: Case) -> None:
    ranx.evaluate(case.qrels, case.run_dict, list(METRICS), return_mean=False)  # numba warm-up
    timed(
        benchmark,
        lambda: ranx.evaluate(case.qrels, case.run_dict, list(METRICS), return_mean=False),
    )


def test_ranx_prebuilt(benchmark: Any, case: Case) -> None:
    qrels, run = ranx.Qrels(case.qrels), ranx.Run(case.run_dict)
    ranx.evaluate(qrels, run, list(METRICS), return_mean=False)  # numba warm-up
    timed(
        benchmark,
        lambda: ranx.evaluate(
            qrels, run, list(METRICS), return_mean=False, save_results_in_run=False
        ),
    )


def test_libraries_agree_on_the_benchmark_run(case: Case) -> None:
    ours = evaluate(case.run, case.qrels, METRICS)
    queries = list(case.qrels)
    compiled = evaluate(case.run, CompiledQrels(case.qrels), METRICS)
    assert all(np.array_equal(ours[key], compiled[key]) for key in METRICS)

    reference = pytrec_eval.RelevanceEvaluator(case.qrels, TREC_MEASURES).evaluate(case.run_dict)
    for key, measure in [
        ("ndcg@10", "ndcg_cut_10"),
        ("recall@100", "recall_100"),
        ("map@100", "map_cut_100"),
    ]:
        expected = [reference[q][measure] for q in queries]
        np.testing.assert_allclose(ours[key], expected, rtol=0, atol=1e-9, err_msg=key)
    rr = np.array([reference[q]["recip_rank"] for q in queries])
    np.testing.assert_allclose(ours["mrr@10"], np.where(rr >= 1 / 10, rr, 0.0), atol=1e-9)

    theirs = ranx.evaluate(case.qrels, case.run_dict, list(METRICS), return_mean=False)
    for key in METRICS:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=0, atol=1e-6, err_msg=key)
