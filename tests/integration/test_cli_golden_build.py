"""``embedgate golden build`` and ``export`` end to end, through the loopback chat server.

The sample documents in fixtures/sample_docs go through the real OpenAI (and Gemini) SDK to
the loopback server, whose replies are deterministic; the result is reviewed by editing
review.jsonl as a person would, exported, loaded, and finally run through a copy of the
reference suite in benchmarks/ with pytest in a subprocess.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from embedgate.cli import main
from embedgate.datasets import load_dataset
from embedgate.testing import LoopbackServer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DOCS = REPO / "fixtures" / "sample_docs"
OPENAI_KEY = "sk-planted-BUILD-7781"
GEMINI_KEY = "AIza-planted-BUILD-2290"
PASSAGES = 18  # the sample documents at 48 tokens a passage, 8 of overlap


@pytest.fixture
def server() -> Iterator[LoopbackServer]:
    with LoopbackServer(openai_key=OPENAI_KEY, gemini_key=GEMINI_KEY) as srv:
        yield srv


def build_args(server: LoopbackServer, out: Path, *extra: str) -> list[str]:
    return [
        "golden",
        "build",
        str(SAMPLE_DOCS),
        "--out",
        str(out),
        "--base-url",
        server.openai_base_url,
        "--languages",
        "en,de,es",
        "--passage-tokens",
        "48",
        "--overlap",
        "8",
        *extra,
    ]


def review_lines(folder: Path) -> list[dict[str, Any]]:
    text = (folder / "review.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines()]


def edit_review(folder: Path, change: Callable[[dict[str, Any]], None]) -> None:
    lines = review_lines(folder)
    for obj in lines:
        change(obj)
    text = "".join(json.dumps(o, ensure_ascii=False) + "\n" for o in lines)
    (folder / "review.jsonl").write_text(text, encoding="utf-8")


def accept_pending(obj: dict[str, Any]) -> None:
    if obj["status"] == "pending":
        obj["status"] = "accepted"
        obj["reason"] = "checked by hand"


def no_key_anywhere(key: str, folder: Path, *texts: str) -> None:
    blob = "\n".join(texts)
    assert key not in blob
    for path in folder.rglob("*"):
        if path.is_file():
            assert key.encode() not in path.read_bytes(), path


def test_build_review_export_and_load(
    server: LoopbackServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    out = tmp_path / "quillpad"
    server.inject("rate_limit", retry_after=0)  # one 429 on the way, retried
    assert main(build_args(server, out, "--reference", "bm25", "--k", "1")) == 0
    built = capsys.readouterr()
    assert len(server.chat_prompts) == PASSAGES
    assert "wrote" in built.out
    lines = review_lines(out)
    statuses = {o["status"] for o in lines}
    assert statuses == {"accepted", "pending", "rejected"}
    assert any(o["reason"].startswith("copies the passage") for o in lines)
    # The reviewer accepts the pending queries and rejects the first accepted one.
    first = next(o["id"] for o in lines if o["status"] == "accepted")

    def review(obj: dict[str, Any]) -> None:
        accept_pending(obj)
        if obj["id"] == first:
            obj["status"], obj["reason"] = "rejected", "ambiguous"

    pending = sum(o["status"] == "pending" for o in lines)
    edit_review(out, review)
    expected = [o["id"] for o in review_lines(out) if o["status"] == "accepted"]

    assert main(["golden", "export", str(out)]) == 0
    exported = capsys.readouterr()
    dataset = load_dataset(out)
    assert list(dataset.query_ids) == expected
    assert len(dataset.corpus) == PASSAGES
    assert {q.language for q in dataset.queries} == {"en", "de", "es"}
    assert f"fingerprint {dataset.fingerprint[:12]}" in exported.out
    card = (out / "DATASET.md").read_text(encoding="utf-8")
    assert f"| statuses changed by a reviewer | {pending + 1} |" in card
    assert f"| accepted (queries) | {len(expected)} |" in card
    assert dataset.fingerprint in card
    assert "| reference retriever | bm25 |" in card
    assert "| reference top k | 1 |" in card
    no_key_anywhere(OPENAI_KEY, out, built.out, built.err, exported.out, exported.err)


def test_an_interrupted_build_resumes_without_asking_again(
    server: LoopbackServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    out = tmp_path / "quillpad"
    server.inject("status", status=400, at=5)  # a refused request stops the build at passage 6
    assert main(build_args(server, out, "--reference", "none")) == 2
    stopped = capsys.readouterr()
    assert "embedgate: error: openai gpt-4o-mini" in stopped.err
    assert "HTTP 400" in stopped.err
    first = server.chat_prompts
    assert len(first) == 5
    sidecar = (out / "candidates.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(sidecar) == 1 + 5  # the header and one line per answered passage

    server.reset()
    assert main(build_args(server, out, "--reference", "none")) == 0
    second = server.chat_prompts
    assert len(second) == PASSAGES - 5
    assert set(first).isdisjoint(second)
    answered = {o["passage"] for o in review_lines(out)}
    assert len(answered) == PASSAGES

    # Everything is answered now: building again needs no key and sends nothing.
    monkeypatch.delenv("OPENAI_API_KEY")
    server.reset()
    assert main(build_args(server, out, "--reference", "none")) == 0
    assert server.request_count == 0


def test_without_a_key_the_build_stops_cleanly_naming_the_variable(
    server: LoopbackServer, tmp_path: Path
) -> None:
    out = tmp_path / "quillpad"
    # The copy runs as a session of its own: no keys, and none of this session's pytest
    # variables (under xdist, PYTEST_XDIST_WORKER would make syrupy act as a worker and keep
    # its report to itself).
    env = {
        k: v for k, v in os.environ.items() if "API_KEY" not in k and not k.startswith("PYTEST_")
    }
    done = subprocess.run(
        [sys.executable, "-m", "embedgate.cli", *build_args(server, out)],
        capture_output=True,
        text=True,
        env={**env, "HF_HUB_OFFLINE": "1"},
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "embedgate: error: openai gpt-4o-mini: no API key; set $OPENAI_API_KEY" in done.stderr
    assert "Traceback" not in done.stderr
    assert server.request_count == 0
    assert not (out / "review.jsonl").exists()


def test_gemini_builds_through_generate_content_and_names_its_variables(
    server: LoopbackServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [
        "golden",
        "build",
        str(SAMPLE_DOCS),
        "--out",
        str(tmp_path / "g"),
        "--llm",
        "gemini:gemini-test",
        "--base-url",
        server.gemini_base_url,
        "--reference",
        "none",
        "--per-passage",
        "2",
    ]
    assert main(args) == 2
    assert "set $GOOGLE_API_KEY or $GEMINI_API_KEY" in capsys.readouterr().err
    monkeypatch.setenv("GEMINI_API_KEY", GEMINI_KEY)
    server.inject("unavailable")
    assert main(args) == 0
    captured = capsys.readouterr()
    assert {r.path.rsplit(":", 1)[-1] for r in server.requests} == {"generateContent"}
    assert len(server.chat_prompts) == 6  # one passage per sample document at 160 tokens
    assert all(o["status"] in ("pending", "rejected") for o in review_lines(tmp_path / "g"))
    no_key_anywhere(GEMINI_KEY, tmp_path / "g", captured.out, captured.err)


SUITE_CONFIG = """\
[tool.embedgate]
baseline = "minilm"
metrics = ["ndcg@10", "recall@10", "recall@100", "mrr@10", "map@100"]
k = 100
cache = "{cache}"
seed = 20261127

[tool.embedgate.models.minilm]
spec = "st:all-MiniLM-L6-v2"

[tool.embedgate.models.bm25]
spec = "bm25"

[tool.embedgate.datasets.quillpad]
path = "{dataset}"

[[tool.embedgate.thresholds]]
metric = "ndcg@10"
min = 0.25

[tool.embedgate.compare]
metric = "ndcg@10"
margin = 0.02
alpha = 0.05
test = "randomization"
"""

# The repository's own pytest settings that make a suite strict, for the copied suite.
SUITE_INI = """\
[pytest]
addopts = --strict-markers -ra -p no:cacheprovider
xfail_strict = true
filterwarnings =
    error
    ignore::pytest_benchmark.logger.PytestBenchmarkWarning
"""


def test_the_reference_suite_accepts_the_exported_dataset(
    server: LoopbackServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Build with the default reference (MiniLM), accept what is pending, export, then run a
    copy of benchmarks/ on the dataset twice: once writing its snapshots, once checking them.

    The copy leaves out the snapshots of the repository's datasets (this dataset has none yet)
    and benchmarks/library (timings of the library itself, which read no dataset).
    """
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    cache = tmp_path / "cache.sqlite"
    dataset = tmp_path / "quillpad"
    assert main(build_args(server, dataset, "--cache", str(cache))) == 0
    edit_review(dataset, accept_pending)
    assert main(["golden", "export", str(dataset)]) == 0
    capsys.readouterr()

    suite = tmp_path / "suite"
    shutil.copytree(
        REPO / "benchmarks",
        suite / "benchmarks",
        ignore=shutil.ignore_patterns("__snapshots__", "library", "__pycache__"),
    )
    (suite / "embedgate.toml").write_text(
        SUITE_CONFIG.format(cache=cache.as_posix(), dataset=dataset.as_posix()), encoding="utf-8"
    )
    (suite / "pytest.ini").write_text(SUITE_INI, encoding="utf-8")
    # The copy runs as a session of its own: no keys, and none of this session's pytest
    # variables (under xdist, PYTEST_XDIST_WORKER would make syrupy act as a worker and keep
    # its report to itself).
    env = {
        k: v for k, v in os.environ.items() if "API_KEY" not in k and not k.startswith("PYTEST_")
    }
    env["HF_HUB_OFFLINE"] = "1"

    def pytest_run(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pytest", "benchmarks", "--benchmark-disable", *extra],
            cwd=suite,
            capture_output=True,
            text=True,
            env=env,
            timeout=600,
            check=False,
        )

    first = pytest_run("--snapshot-update")
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert "snapshots generated" in first.stdout
    table = (
        suite / "benchmarks" / "__snapshots__" / "test_tables" / "test_dataset_table[quillpad].md"
    )
    assert "quillpad" in table.read_text(encoding="utf-8")
    second = pytest_run()
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
    assert "snapshots passed" in second.stdout
    assert " failed" not in second.stdout
    assert " skipped" not in second.stdout.splitlines()[-1]
