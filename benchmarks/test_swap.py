"""Swap gates: every candidate is not worse than the baseline by more than the stated margin.

One family per session: every candidate against the baseline on every available dataset, on
``[tool.embedgate.compare] metric`` for retrieval and on each other task type's main metric
(Spearman for STS, accuracy for classification, ...), Holm-corrected together. A failure
prints the verdict as a sentence (test, n, the difference with its interval, raw and adjusted
p, alpha), what the golden set can detect, and the items that lost most. Swaps known to fail
are listed in ``known_failures`` and run as strict xfails.
"""

from __future__ import annotations

import pytest

from embedgate.config import SuiteConfig
from embedgate.metrics import metric_key
from embedgate.suite import Case, SuiteStore, lost_most


def test_candidate_is_not_worse_than_the_baseline(
    embedgate_candidate: Case, embedgate_store: SuiteStore, embedgate_config: SuiteConfig
) -> None:
    model, dataset = embedgate_candidate.model.name, embedgate_candidate.dataset.name
    swaps = embedgate_store.swaps()
    baseline = embedgate_config.baseline
    assert baseline is not None
    if (model, dataset) not in swaps:
        for name in (model, baseline):
            if (name, dataset) in embedgate_store.unavailable:
                pytest.skip(f"model {name}: {embedgate_store.unavailable[(name, dataset)]}")
    swap = swaps[(model, dataset)]
    if swap.verdict.passed:
        return
    lines = [
        swap.verdict.sentence(),
        swap.power.sentence(),
        *lost_most(
            embedgate_store.evaluation(model, dataset),
            metric_key(swap.verdict.metric or embedgate_config.compare.metric),
            embedgate_store.dataset(dataset),
            embedgate_store.evaluation(baseline, dataset),
        ),
    ]
    pytest.fail("\n".join(lines), pytrace=False)
