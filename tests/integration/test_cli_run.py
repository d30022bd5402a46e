"""``embedgate run`` end to end on the fixture golden set, with the real packaged MiniLM."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from embedgate.cli import main
from embedgate.datasets import load_dataset
from embedgate.evaluation import read_results
from embedgate.retrieval import Run

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "support_faq"
MINILM = "minilm=st:all-MiniLM-L6-v2?batch_size=16"


def run_cli(*args: str | Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "embedgate.cli", "run", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def cached_vectors(cache: Path) -> int:
    if not cache.exists():
        return 0
    with sqlite3.connect(cache) as conn:
        try:
            return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0


def test_run_writes_results_and_a_trec_file_then_a_rerun_embeds_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = [
        "run",
        "--dataset",
        str(FIXTURE),
        "--model",
        MINILM,
        "--model",
        "bm25",
        "--out",
        str(tmp_path / "out"),
        "--cache",
        str(tmp_path / "cache.sqlite"),
    ]
    assert main(args) == 0
    first = capsys.readouterr()
    assert "| minilm |" in first.out
    assert "| bm25   |" in first.out
    assert "minilm: embedding document 179/179" in first.err

    results = read_results(tmp_path / "out" / "minilm")
    dataset = load_dataset(FIXTURE)
    assert results.fingerprint == dataset.fingerprint
    assert results.query_ids == dataset.query_ids
    assert results.cache["documents"]["embedded"] == len(dataset.corpus)
    run = Run.read_trec(tmp_path / "out" / "minilm" / "run.trec")
    assert run.query_ids == dataset.query_ids
    assert run.depth == 100

    assert main(args) == 0
    capsys.readouterr()
    again = read_results(tmp_path / "out" / "minilm")
    assert again.embedded() == 0
    assert again.cache["documents"]["hits"] == len(dataset.corpus)
    assert again.means == results.means


def test_a_run_killed_half_way_resumes_embedding_only_what_is_missing(tmp_path: Path) -> None:
    cache = tmp_path / "cache.sqlite"
    out = tmp_path / "out"
    proc = run_cli("--dataset", FIXTURE, "--model", MINILM, "--out", out, "--cache", cache)
    deadline = time.monotonic() + 300
    while cached_vectors(cache) < 48 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.communicate()
    kept = cached_vectors(cache)
    assert 48 <= kept < 179, f"expected the kill to land half way, cache held {kept}"
    assert not (out / "minilm" / "results.json").exists()

    resumed = run_cli("--dataset", FIXTURE, "--model", MINILM, "--out", out, "--cache", cache)
    _, err = resumed.communicate(timeout=600)
    assert resumed.returncode == 0, err
    results = json.loads((out / "minilm" / "results.json").read_text())
    assert results["cache"]["documents"] == {
        "hits": kept,
        "misses": 179 - kept,
        "embedded": 179 - kept,
    }


def test_a_malformed_dataset_exits_2_with_the_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "corpus.jsonl").write_text('{"_id": "d1", "text": "a"}\n{"_id": "d2", "text": }\n')
    (tmp_path / "golden.jsonl").write_text('{"id": "q1", "text": "a", "relevant": {"d1": 2}}\n')
    code = main(
        ["run", "--dataset", str(tmp_path), "--model", "bm25", "--out", str(tmp_path / "o")]
    )
    assert code == 2
    err = capsys.readouterr().err
    assert "corpus.jsonl line 2" in err
    assert err.startswith("embedgate: error: ")


def test_two_models_with_one_name_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            "--dataset",
            str(FIXTURE),
            "--model",
            "bm25",
            "--model",
            "bm25?k1=1.2",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 2
    assert "two models are named bm25" in capsys.readouterr().err


def test_api_models_run_through_the_loopback_server_then_from_the_cache_without_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from embedgate.testing import LoopbackServer

    with LoopbackServer(openai_key="sk-cli-planted", gemini_key="AIza-cli-planted") as server:
        args = [
            "run", "--dataset", str(FIXTURE), "--out", str(tmp_path / "out"),
            "--cache", str(tmp_path / "cache.sqlite"),
            "--model", f"small=openai:text-embedding-3-small?base_url={server.openai_base_url}"
            "&dimensions=64&price_per_million=0.02",
            "--model", f"gemini=gemini:gemini-embedding-001?base_url={server.gemini_base_url}"
            "&output_dimensionality=64",
        ]  # fmt: skip
        monkeypatch.setenv("OPENAI_API_KEY", "sk-cli-planted")
        monkeypatch.setenv("GEMINI_API_KEY", "AIza-cli-planted")
        assert main(args) == 0
        sent = server.request_count
        first = read_results(tmp_path / "out" / "small")
        assert first.usage["requests"] >= 2
        assert first.usage["estimated_cost_usd"] > 0
        assert first.usage["cache_saved_texts"] == first.usage["cache_saved_tokens"] == 0
        gemini_means = read_results(tmp_path / "out" / "gemini").means

        monkeypatch.delenv("OPENAI_API_KEY")
        monkeypatch.delenv("GEMINI_API_KEY")
        assert main(args) == 0
        assert server.request_count == sent
    out = capsys.readouterr()
    # What the cache saved, priced independently: every distinct text of each role, counted
    # in UTF-8 bytes (the adapters' stated upper bound on tokens) at the given price.
    dataset = load_dataset(FIXTURE)
    distinct = [set(dataset.doc_texts), set(dataset.query_texts)]
    assert "the cache saved ~$" in out.err
    saved = read_results(tmp_path / "out" / "small").usage
    assert saved["requests"] == 0
    assert saved["cache_saved_texts"] == sum(map(len, distinct))
    assert saved["cache_saved_tokens"] == sum(len(t.encode()) for s in distinct for t in s)
    assert saved["cache_saved_tokens_counted_as"] == "utf8-bytes"
    assert saved["cache_saved_cost_usd"] == pytest.approx(saved["cache_saved_tokens"] * 0.02e-6)
    again = read_results(tmp_path / "out" / "gemini")
    assert again.embedded() == 0
    assert again.means == gemini_means
    blob = out.out + out.err + "".join(p.read_text() for p in (tmp_path / "out").rglob("*.json"))
    assert "planted" not in blob
