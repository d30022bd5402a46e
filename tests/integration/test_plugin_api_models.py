"""API models in the suite, through the real SDKs against the loopback server.

A team seeds the cache once with keys; CI then runs without keys from the cache; with neither,
the API cases are skipped with the variable to set. No key ever reaches an output.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from embedgate.testing import LoopbackServer

pytest_plugins = ["pytester"]

OPENAI_KEY = "sk-planted-SECRET-openai-123"
GEMINI_KEY = "AIza-planted-SECRET-gemini-456"

CONFIG = """
[tool.embedgate]
baseline = "bm25"
metrics = ["ndcg@10"]
k = 10
cache = "{cache}"

[tool.embedgate.models.bm25]
spec = "bm25"

[tool.embedgate.models.small]
spec = "openai:text-embedding-3-small"
base_url = "{openai}"
dimensions = 64

[tool.embedgate.models.gemini]
spec = "gemini:gemini-embedding-001"
base_url = "{gemini}"
output_dimensionality = 64

[tool.embedgate.datasets.tiny]
path = "tiny"

[tool.embedgate.compare]
known_failures = ["*"]
"""

TESTS = """
def test_case(embedgate_case, embedgate_evaluation):
    assert embedgate_evaluation.query_ids

def test_table(embedgate_dataset, embedgate_store, embedgate_config, table_snapshot):
    from embedgate.report.tables import dataset_table
    evaluations = embedgate_store.evaluations(embedgate_dataset.name)
    table = dataset_table(embedgate_dataset.name, evaluations, embedgate_config.metrics)
    assert table == table_snapshot
"""


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(openai_key=OPENAI_KEY, gemini_key=GEMINI_KEY) as running:
        yield running


@pytest.fixture
def suite(pytester: pytest.Pytester, server: LoopbackServer) -> pytest.Pytester:
    folder = pytester.path / "tiny"
    folder.mkdir()
    docs = ["reset your password", "refund an annual plan", "export invoices as pdf"]
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": f"d{i}", "text": t}) + "\n" for i, t in enumerate(docs))
    )
    queries = ["forgot my password", "money back for a yearly plan", "download invoices"]
    (folder / "golden.jsonl").write_text(
        "".join(
            json.dumps({"id": f"q{i}", "text": t, "relevant": {f"d{i}": 2}}) + "\n"
            for i, t in enumerate(queries)
        )
    )
    write_config(pytester, server, "cache.sqlite")
    pytester.makepyfile(test_api=TESTS)
    return pytester


def write_config(pytester: pytest.Pytester, server: LoopbackServer, cache: str) -> None:
    (pytester.path / "pyproject.toml").write_text(
        CONFIG.format(cache=cache, openai=server.openai_base_url, gemini=server.gemini_base_url)
    )


def every_output(pytester: pytest.Pytester, *results: pytest.RunResult) -> bytes:
    blobs = [str(r.stdout).encode() + str(r.stderr).encode() for r in results]
    for path in pytester.path.rglob("*"):
        if path.is_file():
            blobs.append(path.read_bytes())
    return b"\n".join(blobs)


def test_api_models_run_with_keys_then_from_the_cache_without_them(
    suite: pytest.Pytester, server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    seeded = suite.runpytest("-k", "test_case", "-v")
    seeded.assert_outcomes(passed=3)
    sent = server.request_count
    assert sent >= 4  # documents and queries, for each of the two providers

    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.delenv("GEMINI_API_KEY")
    cached = suite.runpytest("-k", "test_case or test_table", "--snapshot-update")
    cached.assert_outcomes(passed=4)
    assert server.request_count == sent  # everything came from the cache
    table = (suite.path / "__snapshots__" / "test_api" / "test_table[tiny].md").read_text()
    assert "| small  |" in table
    assert "| gemini |" in table

    results = json.loads((suite.path / "results" / "tiny" / "small" / "results.json").read_text())
    assert results["cache"]["documents"]["embedded"] == 0

    output = every_output(suite, seeded, cached)
    assert OPENAI_KEY.encode() not in output
    assert GEMINI_KEY.encode() not in output


def test_api_models_without_keys_or_cache_are_skipped_naming_the_variable(
    suite: pytest.Pytester, server: LoopbackServer
) -> None:
    result = suite.runpytest("-k", "test_case", "-rs")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines(["*model small:*OPENAI_API_KEY*", "*model gemini:*_API_KEY*"])
    assert server.request_count == 0
