"""The pytest plugin end to end, through pytester, on a small golden set and real BM25 models."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

CORPUS = [
    ("d1", "Reset your password", "Open Settings, choose Security and click Reset password."),
    ("d2", "Delete your account", "Account deletion removes every project after 30 days."),
    ("d3", "Refund an annual plan", "Annual plans are refunded pro rata within 14 days."),
    ("d4", "Export invoices", "Billing lets you download every invoice as a PDF file."),
    ("d5", "Two-factor login", "Turn on two-factor authentication with an authenticator app."),
]
QUERIES = [
    ("q1", "how do I reset my password", {"d1": 2, "d5": 1}),
    ("q2", "delete account", {"d2": 2}),
    ("q3", "refund for annual plan", {"d3": 2}),
    ("q4", "download invoice pdf", {"d4": 2}),
    ("q5", "authenticator app two-factor", {"d5": 2, "d1": 0}),
    # Only a stemmer matches "passwords resetting" to "Reset your password".
    ("q6", "passwords resetting", {"d1": 2}),
]

CONFIG = """
[tool.embedgate]
baseline = "bm25"
metrics = ["ndcg@10", "recall@10"]
k = 10
cache = ".embedgate/cache.sqlite"

[tool.embedgate.models.bm25]
spec = "bm25"

[tool.embedgate.models.bm25-plain]
spec = "bm25"
stemmer = "{stemmer}"

[tool.embedgate.datasets.tiny]
path = "tiny"

[tool.embedgate.datasets.elsewhere]
path = "does-not-exist"
required = false
{extra}
"""

TESTS = """
from embedgate.suite import threshold_failure
import pytest

def test_case(embedgate_case, embedgate_evaluation):
    assert embedgate_evaluation.model == embedgate_case.model.name

def test_thresholds(embedgate_case, embedgate_evaluation, embedgate_store, embedgate_config):
    rules = embedgate_config.thresholds_for(embedgate_case.model.name, embedgate_case.dataset.name)
    dataset = embedgate_store.dataset(embedgate_case.dataset.name)
    failures = [m for r in rules if (m := threshold_failure(embedgate_evaluation, r, dataset))]
    if failures:
        pytest.fail("\\n".join(failures), pytrace=False)

def test_table(embedgate_dataset, embedgate_store, embedgate_config, table_snapshot):
    from embedgate.report.tables import dataset_table
    evaluations = embedgate_store.evaluations(embedgate_dataset.name)
    table = dataset_table(embedgate_dataset.name, evaluations, embedgate_config.metrics)
    assert table == table_snapshot
"""


@pytest.fixture
def suite(pytester: pytest.Pytester) -> pytest.Pytester:
    folder = pytester.path / "tiny"
    folder.mkdir()
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in CORPUS)
    )
    (folder / "golden.jsonl").write_text(
        "".join(json.dumps({"id": i, "text": t, "relevant": r}) + "\n" for i, t, r in QUERIES)
    )
    write_config(pytester)
    pytester.makepyfile(test_suite=TESTS)
    return pytester


def write_config(pytester: pytest.Pytester, *, stemmer: str = "english", extra: str = "") -> None:
    (pytester.path / "pyproject.toml").write_text(CONFIG.format(stemmer=stemmer, extra=extra))


def test_cases_get_model_dataset_ids_and_absent_datasets_skip_with_a_reason(
    suite: pytest.Pytester,
) -> None:
    result = suite.runpytest("-v", "-k", "test_case", "-rs")
    result.stdout.fnmatch_lines(
        [
            "*test_case[[]bm25-tiny[]] PASSED*",
            "*test_case[[]bm25-plain-tiny[]] PASSED*",
            "*test_case[[]bm25-elsewhere[]] SKIPPED*",
            "*dataset elsewhere is absent at *does-not-exist (required = false)*",
        ]
    )
    result.assert_outcomes(passed=2, skipped=2)


def test_the_header_names_models_datasets_cache_and_seed(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-k", "test_case")
    result.stdout.fnmatch_lines(
        [
            "embedgate: models bm25 (baseline), bm25-plain",
            "embedgate: datasets tiny, elsewhere (absent: *)",
            "embedgate: cache *cache.sqlite, seed 0, k 10, metrics ndcg@10, recall@10",
        ]
    )


def test_selection_options_run_only_the_named_model_and_dataset(suite: pytest.Pytester) -> None:
    result = suite.runpytest(
        "-v", "-k", "test_case", "--embedgate-model", "bm25-plain", "--embedgate-dataset", "tiny"
    )
    result.stdout.fnmatch_lines(
        [
            "*test_case[[]bm25-plain-tiny[]] PASSED*",
            "## Leaderboard",  # without the baseline's results: no marks, and no error
        ]
    )
    assert "▲/▼" not in result.stdout.str()
    result.assert_outcomes(passed=1)


def test_selecting_an_unknown_model_is_a_usage_error(suite: pytest.Pytester) -> None:
    result = suite.runpytest("--embedgate-model", "nope")
    result.stderr.fnmatch_lines(["*no model named 'nope'; configured: bm25, bm25-plain.*"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_a_threshold_above_the_measured_value_fails_that_case_only_with_a_review_message(
    suite: pytest.Pytester,
) -> None:
    write_config(
        suite,
        extra='[[tool.embedgate.thresholds]]\nmetric = "ndcg@10"\nmin = 1.01\n'
        'model = "bm25-plain"\n'
        '[[tool.embedgate.thresholds]]\nmetric = "ndcg@10"\nmin = 0.1\n',
    )
    result = suite.runpytest("-k", "test_thresholds", "--embedgate-dataset", "tiny")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_thresholds[[]bm25-plain-tiny[]] _*",
            "bm25-plain on tiny: nDCG@10 = 0.9600 is below its threshold 1.0100 "
            "(short by 0.0500; n = 6 queries).",
            "Lowest-scoring queries (nDCG@10):",
            "  q1: 0.7602  'how do I reset my password'",
            "  q2: 1.0000  'delete account'",
        ]
    )


def test_snapshots_are_written_then_held_then_updated_after_a_swap(suite: pytest.Pytester) -> None:
    first = suite.runpytest("-k", "test_table", "--snapshot-update")
    first.assert_outcomes(passed=1, skipped=1)
    snap = suite.path / "__snapshots__" / "test_suite" / "test_table[tiny].md"
    written = snap.read_text()
    assert "| bm25       |" in written
    assert "| bm25-plain |" in written
    assert "6 queries, 5 documents, fingerprint" in written

    suite.runpytest("-k", "test_table").assert_outcomes(passed=1, skipped=1)
    assert snap.read_text() == written

    write_config(suite, stemmer="none")  # the swap: bm25-plain loses its stemmer, q6 its answer
    swapped = suite.runpytest("-k", "test_table")
    swapped.assert_outcomes(failed=1, skipped=1)
    swapped.stdout.fnmatch_lines(["*- | bm25-plain |*", "*+ | bm25-plain |*"])
    suite.runpytest("-k", "test_table", "--snapshot-update").assert_outcomes(passed=1, skipped=1)
    assert snap.read_text() != written


def test_the_terminal_summary_prints_the_results_table(suite: pytest.Pytester) -> None:
    result = suite.runpytest("-k", "test_case")
    result.stdout.fnmatch_lines(
        [
            "*embedgate results*",
            "## tiny (test)",
            "| model      | nDCG@10 | Recall@10 |",
            "| bm25       |*",
            "| bm25-plain |*",
        ]
    )


def test_a_model_whose_extra_is_missing_is_skipped_with_the_install_hint(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_config(suite, extra='[tool.embedgate.models.minilm]\nspec = "st:all-MiniLM-L6-v2"\n')
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    result = suite.runpytest_inprocess("-k", "test_case and tiny", "-rs")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(["*model minilm: *pip install 'embedgate[[]local[]]'*"])


def test_a_bad_configuration_names_the_key_and_the_fix(suite: pytest.Pytester) -> None:
    write_config(suite, extra='[[tool.embedgate.thresholds]]\nmetric = "ndgc@10"\nmin = 0.5\n')
    result = suite.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*[[][[]tool.embedgate.thresholds[]][]] #1: unknown metric 'ndgc@10'; supported: *ndcg@k*"]
    )


def test_results_files_are_written_per_case(suite: pytest.Pytester) -> None:
    suite.runpytest("-k", "test_case").assert_outcomes(passed=2, skipped=2)
    results = Path(suite.path / ".embedgate" / "results" / "tiny" / "bm25" / "results.json")
    data = json.loads(results.read_text())
    assert data["schema"] == "embedgate.results/1"
    assert set(data["metrics"]) == {"ndcg@10", "recall@10"}
    assert (results.parent / "run.trec").is_file()
