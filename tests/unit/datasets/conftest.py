"""Builders that write small dataset folders into ``tmp_path``, line by line as given."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

Line = str | dict[str, Any]

CORPUS = [
    {"_id": "d1", "title": "Refunds", "text": "Money back within 14 days."},
    {"_id": "d2", "title": "", "text": "Invoices are sent monthly."},
    {"_id": "d3", "text": "Passwords can be reset from the login page."},
]
QUERIES = [
    {"_id": "q1", "text": "Can I get my money back?"},
    {"_id": "q2", "text": "When do invoices arrive?"},
    {"_id": "q3", "text": "I forgot my password"},
]
QRELS = ["query-id\tcorpus-id\tscore", "q1\td1\t2", "q2\td2\t1", "q2\td1\t0", "q3\td3\t1"]
GOLDEN = [
    {
        "id": "q1",
        "text": "Can I get my money back?",
        "relevant": {"d1": 2, "d2": 0},
        "lang": "en",
        "tags": {"topic": "billing", "kind": "paraphrase"},
    },
    {"id": "q2", "text": "Wann kommen Rechnungen?", "relevant": {"d2": 1}, "lang": "de"},
]


def write_lines(path: Path, lines: Iterable[Line]) -> Path:
    """Write each line as given (a dict becomes compact JSON), ``\\n`` after each."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(
        (json.dumps(x, ensure_ascii=False) if isinstance(x, dict) else x) + "\n" for x in lines
    )
    path.write_text(text, encoding="utf-8")
    return path


BeirFactory = Callable[..., Path]


@pytest.fixture
def make_beir(tmp_path: Path) -> BeirFactory:
    """``make_beir(corpus=..., queries=..., qrels=..., split="test")`` -> a BEIR folder."""

    def make(
        corpus: Iterable[Line] = CORPUS,
        queries: Iterable[Line] = QUERIES,
        qrels: Iterable[Line] = QRELS,
        split: str = "test",
        folder: str = "toy",
    ) -> Path:
        root = tmp_path / folder
        write_lines(root / "corpus.jsonl", corpus)
        write_lines(root / "queries.jsonl", queries)
        write_lines(root / "qrels" / f"{split}.tsv", qrels)
        return root

    return make


@pytest.fixture
def make_golden(tmp_path: Path) -> BeirFactory:
    """``make_golden(corpus=..., golden=...)`` -> a golden-format folder."""

    def make(
        corpus: Iterable[Line] = CORPUS, golden: Iterable[Line] = GOLDEN, folder: str = "faq"
    ) -> Path:
        root = tmp_path / folder
        write_lines(root / "corpus.jsonl", corpus)
        write_lines(root / "golden.jsonl", golden)
        return root

    return make


@pytest.fixture
def toy() -> dict[str, list[Any]]:
    """Fresh copies of the default lines, to edit in a test: corpus, queries, qrels, golden."""
    return json.loads(
        json.dumps({"corpus": CORPUS, "queries": QUERIES, "qrels": QRELS, "golden": GOLDEN})
    )
