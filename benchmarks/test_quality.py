"""Quality gates: every configured model clears its thresholds on every configured dataset.

The thresholds live in ``[[tool.embedgate.thresholds]]`` in pyproject.toml; the most specific
rule for a (model, dataset, metric) wins. A failure reads like a reviewer's comment: the value,
the threshold, the shortfall and the queries that lost most against the baseline.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from embedgate.config import SuiteConfig
from embedgate.datasets import RetrievalDataset
from embedgate.evaluation import Evaluation
from embedgate.metrics import parse_metric
from embedgate.retrieval import Run
from embedgate.suite import Case, SuiteStore, threshold_failure


def test_model_clears_its_thresholds(
    embedgate_case: Case,
    embedgate_evaluation: Evaluation,
    embedgate_store: SuiteStore,
    embedgate_config: SuiteConfig,
) -> None:
    rules = embedgate_config.thresholds_for(embedgate_case.model.name, embedgate_case.dataset.name)
    if not rules:
        pytest.skip(f"no threshold configured for {embedgate_case.id}")
    baseline = None
    if embedgate_config.baseline and embedgate_config.baseline != embedgate_case.model.name:
        baseline = embedgate_store.evaluation(
            embedgate_config.baseline, embedgate_case.dataset.name
        )
    dataset = embedgate_store.dataset(embedgate_case.dataset.name)
    failures = [
        message
        for rule in rules
        if (message := threshold_failure(embedgate_evaluation, rule, dataset, baseline=baseline))
    ]
    if failures:
        pytest.fail("\n\n".join(failures), pytrace=False)


def test_every_judged_query_or_item_is_scored(
    embedgate_case: Case, embedgate_evaluation: Evaluation, embedgate_store: SuiteStore
) -> None:
    dataset = embedgate_store.dataset(embedgate_case.dataset.name)
    items = dataset.query_ids if isinstance(dataset, RetrievalDataset) else dataset.item_ids
    assert embedgate_evaluation.query_ids == items
    assert embedgate_evaluation.fingerprint == dataset.fingerprint


@pytest.mark.embedgate_tasks("retrieval")
def test_per_query_scores_equal_trec_eval_on_the_run_file(
    embedgate_case: Case,
    embedgate_evaluation: Evaluation,
    embedgate_store: SuiteStore,
    tmp_path: Path,
) -> None:
    """Every per-query score equals pytrec_eval's on the TREC run file, to 1e-9."""
    pytrec_eval = pytest.importorskip("pytrec_eval")
    assert embedgate_evaluation.run is not None
    run = Run.read_trec(embedgate_evaluation.run.write_trec(tmp_path / "run.trec"))
    dataset = embedgate_store.dataset(embedgate_case.dataset.name)
    assert isinstance(dataset, RetrievalDataset)
    qrels = dataset.qrels_dict()
    specs = [parse_metric(m) for m in embedgate_evaluation.metrics]
    measures = {spec.trec_eval_measure for spec in specs}
    trec = pytrec_eval.RelevanceEvaluator(qrels, measures).evaluate(run.to_dict())
    for spec in specs:
        ours = embedgate_evaluation.per_query[spec.key]
        if spec.name == "mrr":  # trec_eval's recip_rank has no cutoff: compare on the cut run
            cut = {q: dict(list(docs.items())[: spec.k]) for q, docs in run.to_dict().items()}
            theirs = pytrec_eval.RelevanceEvaluator(qrels, {"recip_rank"}).evaluate(cut)
        else:
            theirs = trec
        for qid, score in ours.items():
            expected = theirs.get(qid, {}).get(spec.trec_eval_measure, 0.0)
            assert score == pytest.approx(expected, abs=1e-9), (qid, spec.key)
