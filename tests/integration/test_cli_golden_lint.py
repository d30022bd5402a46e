"""``embedgate golden lint`` and ``golden split`` end to end, with the real packaged MiniLM."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from embedgate.cli import main
from embedgate.datasets import load_dataset

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "support_faq"
MINILM = "minilm=st:all-MiniLM-L6-v2?batch_size=32"


def cached_vectors(cache: Path) -> int:
    with sqlite3.connect(cache) as conn:
        return int(conn.execute("SELECT count(*) FROM vectors").fetchone()[0])


def lint_json(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, dict[str, Any]]:
    status = main(["golden", "lint", *map(str, args), "--format", "json"])
    return status, json.loads(capsys.readouterr().out)


def test_lint_of_the_fixture_set_embeds_through_the_cache_shared_with_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = tmp_path / "cache.sqlite"
    status, report = lint_json(capsys, FIXTURE, "--model", MINILM, "--cache", cache)
    assert status == 0
    assert report["dataset"]["name"] == "support_faq"
    assert report["counts"] == {"documents": 179, "queries": 216, "judgements": 628}
    checks = {f["check"] for f in report["findings"]}
    assert {"lexical-overlap", "topic-coverage"} <= checks
    assert report["diversity"]["topics"]["clusters"] >= 2
    assert report["diversity"]["stated_query_languages"] == {
        "en": 140,
        "de": 32,
        "es": 32,
        "fr": 12,
    }
    stored = cached_vectors(cache)
    assert stored == 179 + 216  # every distinct document and query, once

    # `embedgate run` with the same model finds every vector the lint stored, and back.
    assert main(["run", "--dataset", str(FIXTURE), "--model", MINILM, "--out", str(tmp_path / "r"),
                 "--cache", str(cache)]) == 0  # fmt: skip
    capsys.readouterr()
    assert cached_vectors(cache) == stored

    # With results, the adequacy check states the minimum detectable effect.
    status, report = lint_json(
        capsys, FIXTURE, "--model", MINILM, "--cache", cache, "--results", tmp_path / "r"
    )
    adequacy = [f for f in report["findings"] if f["check"] == "adequacy"]
    assert adequacy
    assert "minilm" in adequacy[0]["message"]
    assert "216 queries" in adequacy[0]["message"]
    assert cached_vectors(cache) == stored


def test_fail_on_warning_turns_a_warning_into_exit_status_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The token counts need the model's tokenizer, not its embeddings.
    status, report = lint_json(
        capsys, FIXTURE, "--model", MINILM, "--no-embeddings", "--fail-on", "warning"
    )
    warnings = [f for f in report["findings"] if f["severity"] == "warning"]
    assert warnings  # d169 is 258 MiniLM tokens, over the 256-token window
    assert any(f["check"] == "too-long" and "d169" in f["ids"] for f in warnings)
    assert status == 1
    assert lint_json(capsys, FIXTURE, "--model", MINILM, "--no-embeddings")[0] == 0


def test_a_broken_folder_is_exit_status_1_naming_every_unknown_id(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "broken"
    shutil.copytree(FIXTURE, folder)
    lines = (folder / "golden.jsonl").read_text("utf-8").splitlines()
    first = json.loads(lines[0])
    first["relevant"]["d999"] = 1
    lines[0] = json.dumps(first)
    (folder / "golden.jsonl").write_text("\n".join(lines) + "\n", "utf-8")
    status, report = lint_json(capsys, folder, "--no-embeddings")
    assert status == 1
    unknown = next(f for f in report["findings"] if f["check"] == "unknown-id")
    assert unknown["ids"] == ["golden.jsonl line 1: doc id 'd999'"]


def test_a_missing_folder_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["golden", "lint", str(tmp_path / "nope"), "--no-embeddings"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_markdown_report_to_a_file_without_embeddings_notes_what_was_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no [tool.embedgate] here: the default model is MiniLM
    out = tmp_path / "lint.md"
    status = main(
        ["golden", "lint", str(FIXTURE), "--no-embeddings", "--format", "md", "--out", str(out)]
    )
    assert status == 0
    text = out.read_text("utf-8")
    assert text.startswith("# golden lint: support_faq")
    assert "near-duplicate-document, topic-coverage: no document embeddings" in text
    assert "--no-embeddings was given" in text
    assert not (tmp_path / ".embedgate" / "cache.sqlite").exists()  # nothing embedded


def test_split_writes_a_stratified_beir_folder_that_loads_per_split(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "split"
    args = ["golden", "split", str(FIXTURE), "--out", str(out), "--dev", "0.3", "--seed", "7"]
    assert main([*args, "--no-embeddings"]) == 0
    table = capsys.readouterr().out
    assert "en|billing" in table
    dev, test = load_dataset(out, split="dev"), load_dataset(out, split="test")
    whole = load_dataset(FIXTURE)
    assert len(dev.queries) == round(0.3 * 216)
    assert set(dev.query_ids).isdisjoint(test.query_ids)
    assert {**dev.qrels_dict(), **test.qrels_dict()} == whole.qrels_dict()
    # Seeded: the same command gives the same split.
    again = tmp_path / "again"
    assert main([*args[:3], "--out", str(again), *args[5:], "--no-embeddings"]) == 0
    assert load_dataset(again, split="dev").query_ids == dev.query_ids


def test_split_without_tags_stratifies_by_detected_language_and_document_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    whole = load_dataset(FIXTURE)
    beir = tmp_path / "beir"
    (beir / "qrels").mkdir(parents=True)
    shutil.copy(FIXTURE / "corpus.jsonl", beir / "corpus.jsonl")
    rows = [json.dumps({"_id": q.id, "text": q.text}) for q in whole.queries]  # no lang, no tags
    (beir / "queries.jsonl").write_text("\n".join(rows) + "\n", "utf-8")
    qrels = ["query-id\tcorpus-id\tscore"]
    qrels += [f"{q}\t{d}\t{g}" for q, docs in whole.qrels.items() for d, g in docs.items()]
    (beir / "qrels" / "test.tsv").write_text("\n".join(qrels) + "\n", "utf-8")
    out = tmp_path / "split"
    args = ["golden", "split", str(beir), "--out", str(out), "--seed", "3", "--topics", "4"]
    assert main([*args, "--model", MINILM, "--cache", str(tmp_path / "c.sqlite")]) == 0
    strata = json.loads((out / "split.json").read_text("utf-8"))["strata"]
    assert {s.split("|")[1] for s in strata} <= {"c0", "c1", "c2", "c3"}
    assert len({s.split("|")[1] for s in strata}) == 4
    assert {"en", "de", "es", "fr"} <= {s.split("|")[0] for s in strata}
    assert len(load_dataset(out, split="dev").queries) == round(0.3 * 216)
