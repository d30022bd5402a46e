"""Golden-set lint of every configured retrieval dataset: known defects found, no new errors.

A dataset's verdicts are only as good as the dataset. This test lints each one with the
suite's baseline model through the suite's embedding cache (the same model identity and roles
the evaluation uses, so the near-duplicate and topic checks embed nothing new once the suite
has run), and:

- asserts that the defects the shared datasets are known to have are found
  (``../shared/datasets/README.md``);
- fails on any error finding that is not a known defect, so a golden set that breaks (a
  duplicated document judged apart, a query with no relevant document) stops the suite.

Each report is written to ``<cache folder>/lint/<dataset>.md`` and printed with ``-s``.
"""

from __future__ import annotations

from typing import Any

import pytest

from embedgate.cli.golden_lint import cached_embed, token_counter
from embedgate.config import DatasetSpec, SuiteConfig
from embedgate.datasets import RetrievalDataset
from embedgate.datasets.lint import LintReport, TokenLimit, lint
from embedgate.models import Embedder, Role
from embedgate.suite import SuiteStore

#: ``{dataset: {check: ids that must be among the finding's ids}}``. SciFact's known defect
#: (112 of its 300 test claims cite abstracts without annotated evidence, as BEIR has it) is
#: not visible in the BEIR files, whose qrels list cited abstracts at grade 1 without the
#: evidence annotations; its unjudged claims (the train split's) are counted below.
KNOWN_DEFECTS: dict[str, dict[str, set[str]]] = {
    "cranfield": {"empty-document": {"471", "995"}},
    "cisi": {"duplicate-document": {"1440", "1447"}},
}
#: ``{dataset: {check: count}}``: findings whose count is the known figure.
KNOWN_COUNTS: dict[str, dict[str, int]] = {
    "cisi": {"unjudged-query": 112 - 76},
    "scifact": {"unjudged-query": 1109 - 300},
}
#: Error findings that are known defects, not regressions of the golden set.
KNOWN_ERRORS: dict[str, set[str]] = {"cisi": {"duplicate-document"}}


def _lint(store: SuiteStore, config: SuiteConfig, dataset: RetrievalDataset) -> LintReport:
    kwargs: dict[str, Any] = {}
    results = []
    if config.baseline:
        model = store.model(config.baseline)
        if isinstance(model, Embedder):
            kwargs["embed_documents"] = cached_embed(model, store.cache, Role.DOCUMENT)
            kwargs["embed_queries"] = cached_embed(model, store.cache, Role.QUERY)
            if model.info.max_tokens:
                kwargs["token_limits"] = [
                    TokenLimit(config.baseline, model.info.max_tokens, token_counter(model))
                ]
        results.append(store.evaluation(config.baseline, dataset.name))
    return lint(dataset, results=results, **kwargs)


def test_golden_set_lint_finds_the_known_defects_and_no_new_errors(
    embedgate_dataset: DatasetSpec, embedgate_store: SuiteStore, embedgate_config: SuiteConfig
) -> None:
    if getattr(embedgate_dataset, "task", "retrieval") != "retrieval":
        pytest.skip(f"{embedgate_dataset.name} is not a retrieval dataset")
    dataset = embedgate_store.dataset(embedgate_dataset.name)
    assert isinstance(dataset, RetrievalDataset)
    report = _lint(embedgate_store, embedgate_config, dataset)
    out = embedgate_config.cache.parent / "lint" / f"{dataset.name}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report.to_markdown(), encoding="utf-8")
    print(report.to_text())

    found = report.by_check()
    for check, ids in KNOWN_DEFECTS.get(dataset.name, {}).items():
        assert check in found, f"{dataset.name}: known defect {check} not found; see {out}"
        reported = {i for f in found[check] for i in f.ids}
        assert ids <= reported, f"{dataset.name}: {check} misses {sorted(ids - reported)}"
    for check, count in KNOWN_COUNTS.get(dataset.name, {}).items():
        assert [f.count for f in found.get(check, [])] == [count], (dataset.name, check)

    unexpected = [
        f
        for f in report.findings
        if f.severity == "error" and f.check not in KNOWN_ERRORS.get(dataset.name, set())
    ]
    if unexpected:
        pytest.fail(
            f"golden set {dataset.name} has lint errors (report: {out}):\n"
            + "\n".join(f"- {f.check}: {f.message}" for f in unexpected),
            pytrace=False,
        )
