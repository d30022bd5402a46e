"""Task types beyond retrieval in the suite: which cases exist, which rules apply, what is judged.

Through pytester, with the packaged all-MiniLM-L6-v2 (twice: plain, and with a prompt that
changes its vectors) and BM25, on a small STS set and a small retrieval set.
"""

from __future__ import annotations

import json

import pytest

from embedgate.evaluation import read_results

pytest_plugins = ["pytester"]

PAIRS = [
    ("A man is playing a guitar.", "A person plays the guitar.", 4.6),
    ("A woman is slicing an onion.", "Someone is cutting an onion.", 4.2),
    ("A dog runs across the field.", "A dog is running on the grass.", 3.8),
    ("The stock market fell sharply today.", "Shares dropped a lot on Monday.", 3.1),
    ("A child is reading a book.", "A kid is riding a bike.", 1.2),
    ("Two men are playing chess.", "A cat sleeps on the sofa.", 0.1),
    ("The train arrives at noon.", "The train comes at twelve o'clock.", 4.8),
    ("She bought a new car.", "He sold his old bicycle.", 0.8),
    ("A plane is taking off.", "An airplane departs from the runway.", 4.4),
    ("The soup is too salty.", "The weather is cold today.", 0.0),
    ("A band plays music on stage.", "Musicians perform at a concert.", 3.9),
    ("Rain is falling on the roof.", "It is raining outside.", 3.6),
]

CONFIG = """
[tool.embedgate]
baseline = "minilm"
metrics = ["ndcg@10"]
k = 10
cache = ".embedgate/cache.sqlite"

[tool.embedgate.models.minilm]
spec = "st:all-MiniLM-L6-v2"

[tool.embedgate.models.prompted]
spec = "st:all-MiniLM-L6-v2"
query_prompt = "sentence: "

[tool.embedgate.models.bm25]
spec = "bm25"

[tool.embedgate.datasets.faq]
path = "faq"

[tool.embedgate.datasets.pairs]
path = "pairs"
task = "sts"

[tool.embedgate.compare]
margin = 0.5

[[tool.embedgate.thresholds]]
metric = "ndcg@10"
min = 0.1

[[tool.embedgate.thresholds]]
metric = "spearman"
min = {spearman_min}
"""

TESTS = """
import pytest
from embedgate.suite import threshold_failure

def test_case(embedgate_case, embedgate_evaluation):
    assert embedgate_evaluation.task == embedgate_case.dataset.task

@pytest.mark.embedgate_tasks("retrieval")
def test_retrieval_only(embedgate_case):
    pass

def test_thresholds(embedgate_case, embedgate_evaluation, embedgate_store, embedgate_config):
    rules = embedgate_config.thresholds_for(embedgate_case.model.name, embedgate_case.dataset.name)
    print("RULES", embedgate_case.id, ",".join(sorted(r.metric for r in rules)))
    dataset = embedgate_store.dataset(embedgate_case.dataset.name)
    failures = [m for r in rules if (m := threshold_failure(embedgate_evaluation, r, dataset))]
    if failures:
        pytest.fail("\\n".join(failures), pytrace=False)

def test_swap(embedgate_candidate, embedgate_store):
    key = (embedgate_candidate.model.name, embedgate_candidate.dataset.name)
    verdict = embedgate_store.swaps()[key].verdict
    print("VERDICT", embedgate_candidate.id, verdict.metric, verdict.n)
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    faq = pytester.path / "faq"
    faq.mkdir()
    docs = [("d1", "Reset your password in Settings."), ("d2", "Refunds take 14 days.")]
    (faq / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": "", "text": t}) + "\n" for i, t in docs)
    )
    queries = [("q1", "forgot password", {"d1": 1}), ("q2", "money back", {"d2": 1})]
    (faq / "golden.jsonl").write_text(
        "".join(json.dumps({"id": i, "text": t, "relevant": r}) + "\n" for i, t, r in queries)
    )
    pairs = pytester.path / "pairs"
    pairs.mkdir()
    (pairs / "test.jsonl").write_text(
        "".join(
            json.dumps({"id": n, "sentence1": a, "sentence2": b, "score": s}) + "\n"
            for n, (a, b, s) in enumerate(PAIRS)
        )
    )
    (pytester.path / "pyproject.toml").write_text(CONFIG.format(spearman_min=0.5))
    pytester.makepyfile(test_suite=TESTS)
    return pytester


def test_lexical_models_get_retrieval_cases_only_and_tests_can_ask_for_a_task(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest_subprocess("-v", "-k", "test_case or test_retrieval_only")
    result.stdout.fnmatch_lines(
        [
            "embedgate: datasets faq, pairs [[]sts[]]",
            "*test_case[[]minilm-faq[]] PASSED*",
            "*test_case[[]prompted-faq[]] PASSED*",
            "*test_case[[]bm25-faq[]] PASSED*",
            "*test_case[[]minilm-pairs[]] PASSED*",
            "*test_case[[]prompted-pairs[]] PASSED*",
            "*test_retrieval_only[[]minilm-faq[]] PASSED*",
            "*test_retrieval_only[[]prompted-faq[]] PASSED*",
            "*test_retrieval_only[[]bm25-faq[]] PASSED*",
        ]
    )
    assert "bm25-pairs" not in result.stdout.str()
    assert "test_retrieval_only[minilm-pairs]" not in result.stdout.str()
    result.assert_outcomes(passed=8)
    stored = read_results(suite.path / ".embedgate" / "results" / "pairs" / "minilm")
    assert stored.task == "sts"
    assert stored.main_metric == "spearman"
    assert set(stored.per_query) == {"spearman", "pearson"}


def test_thresholds_apply_to_the_metrics_a_task_computes(suite: pytest.Pytester) -> None:
    (suite.path / "pyproject.toml").write_text(CONFIG.format(spearman_min=0.999))
    result = suite.runpytest_subprocess(
        "-s", "-k", "test_thresholds", "--embedgate-model", "minilm"
    )
    result.stdout.fnmatch_lines(
        [
            "*RULES minilm-faq ndcg@10",
            "*RULES minilm-pairs spearman",
            "*minilm on pairs: Spearman = 0.* is below its threshold 0.9990*n = 12 items*",
            "*Lowest-scoring items (Spearman):*",
        ]
    )
    result.assert_outcomes(passed=1, failed=1)


def test_swaps_on_other_tasks_are_judged_on_their_main_metric(suite: pytest.Pytester) -> None:
    result = suite.runpytest_subprocess("-s", "-k", "test_swap")
    result.stdout.fnmatch_lines(
        [
            "*VERDICT prompted-faq nDCG@10 2",
            "*VERDICT bm25-faq nDCG@10 2",
            "*VERDICT prompted-pairs Spearman 12",
        ]
    )
    assert "bm25-pairs" not in result.stdout.str()
    result.assert_outcomes(passed=3)
