"""Quality gates: every configured model clears its thresholds on every configured dataset.

The thresholds live in ``[[tool.embedgate.thresholds]]`` in pyproject.toml; the most specific
rule for a (model, dataset, metric) wins. A failure reads like a reviewer's comment: the value,
the threshold, the shortfall and the queries that lost most against the baseline.
"""

from __future__ import annotations

import pytest

from embedgate.config import SuiteConfig
from embedgate.evaluation import Evaluation
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


def test_every_judged_query_is_scored(
    embedgate_case: Case, embedgate_evaluation: Evaluation, embedgate_store: SuiteStore
) -> None:
    dataset = embedgate_store.dataset(embedgate_case.dataset.name)
    assert embedgate_evaluation.query_ids == dataset.query_ids
    assert embedgate_evaluation.fingerprint == dataset.fingerprint
