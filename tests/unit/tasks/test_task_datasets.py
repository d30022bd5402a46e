"""Task dataset loaders: each refusal names file, line and value; oddities become warnings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from embedgate.datasets import (
    BitextDataset,
    ClassificationDataset,
    ClusteringDataset,
    LabelledText,
    RerankingDataset,
    STSDataset,
    STSPair,
    load_task_dataset,
)
from embedgate.errors import DatasetError

STS = {"sentence1": "A man plays a guitar.", "sentence2": "A man plays music.", "score": 3.8}
STS2 = {"sentence1": "A cat sleeps.", "sentence2": "A car drives.", "score": 0.4}
TEXT_A = {"text": "Where is my card?", "label": "card_arrival"}
TEXT_B = {"text": "My card does not work.", "label": "card_not_working"}
BITEXT = {"src": "Wie spät ist es?", "tgt": "What time is it?"}
BITEXT2 = {"src": "Ich bin müde.", "tgt": "I am tired."}
RERANK = {"query": "reset password", "positive": ["Use the login page."], "negative": ["Bills."]}

Rows = list[dict[str, Any] | str]


def _sts(rows: Rows) -> dict[str, Rows]:
    return {"test.jsonl": rows}


def _clf(train: Rows, test: Rows) -> dict[str, Rows]:
    return {"train.jsonl": train, "test.jsonl": test}


# (task, files, line, fragments of the message): every way a loader refuses a dataset.
REFUSALS: list[tuple[str, dict[str, Rows], int | None, tuple[str, ...]]] = [
    ("sts", _sts([STS, {**STS2, "score": "3.2"}]), 2, ('"score" must be a finite number', "'3.2'")),
    ("sts", _sts([STS, {**STS2, "score": True}]), 2, ('"score" must be a finite number', "true")),
    ("sts", _sts([STS, '{"sentence1": "a", "sentence2": "b", "score": NaN}']), 2, ("finite",)),
    (
        "sts",
        _sts([{k: v for k, v in STS.items() if k != "score"} | {"scor": 1}]),
        1,
        ('missing required field "score"', '"scor": a typo?'),
    ),
    ("sts", _sts([{**STS, "sentence2": ""}]), 1, ('"sentence2" is empty',)),
    ("sts", _sts([{**STS, "sentence1": 7}]), 1, ('"sentence1" must be a string', "number 7")),
    ("sts", _sts([{**STS, "sentenc2": "x"} | {"sentence2": None}]), 1, ("sentence2",)),
    (
        "sts",
        _sts([{**STS, "id": "a"}, {**STS2, "id": "a"}]),
        2,
        ("'a' already appeared on line 1",),
    ),
    ("sts", _sts([{**STS, "id": 1.5}]), 1, ("must be a string", "1.5")),
    ("sts", _sts([{**STS, "id": " a"}]), 1, ("surrounding whitespace",)),
    ("sts", _sts([{**STS, "id": "a", "_id": "b"}]), 1, ("disagree",)),
    ("sts", _sts([STS]), None, ("1 pair; a correlation needs at least two",)),
    ("sts", _sts([STS, {**STS2, "score": 3.8}]), None, ("every gold score is 3.8",)),
    ("sts", _sts(["[1, 2]"]), 1, ("expected a JSON object",)),
    ("sts", _sts(['{"sentence1": "a",']), 1, ("not valid JSON",)),
    ("sts", _sts([]), None, ("holds no items",)),
    (
        "sts",
        {"dev.jsonl": [STS, STS2]},
        None,
        ("no test.jsonl for split 'test'", "Splits here: dev"),
    ),
    (
        "classification",
        _clf([TEXT_A, {**TEXT_B, "label": None}], [TEXT_A]),
        2,
        ('"label" must be a non-empty string', "null"),
    ),
    (
        "classification",
        _clf([TEXT_A, {"text": "x", "lable": "y"}], [TEXT_A]),
        2,
        ('missing required field "label"', '"lable": a typo?'),
    ),
    ("classification", _clf([TEXT_A, {**TEXT_B, "label": 1.5}], [TEXT_A]), 2, ("1.5",)),
    (
        "classification",
        _clf([TEXT_A, {"label": "x"}], [TEXT_A]),
        2,
        ('missing required field "text"',),
    ),
    (
        "classification",
        _clf([TEXT_A, {**TEXT_A, "text": "Other"}], [TEXT_A]),
        None,
        ("at least two labels",),
    ),
    ("classification", {"test.jsonl": [TEXT_A]}, None, ("needs train.jsonl",)),
    ("classification", _clf([TEXT_A, TEXT_B], []), None, ("holds no items",)),
    ("clustering", _sts([TEXT_A, {**TEXT_A, "text": "Card?"}]), None, ("at least two labels",)),
    ("clustering", _sts([TEXT_A, TEXT_B]), None, ("2 texts for 2 labels",)),
    ("bitext", {"deu-eng.jsonl": [BITEXT]}, None, ("'deu-eng' has one pair",)),
    ("bitext", {"deu-eng.jsonl": [BITEXT, {**BITEXT2, "tgt": " "}]}, 2, ('"tgt" is empty',)),
    (
        "bitext",
        {"deu-eng.jsonl": [BITEXT, {"src": "x", "target": "y"}]},
        2,
        ('missing required field "tgt"',),
    ),
    ("bitext", {"notes.jsonl": [BITEXT, BITEXT2]}, None, ("no bitext file found", "notes.jsonl")),
    ("reranking", _sts([{**RERANK, "query": ["a", "b"]}]), 1, ('"query" is a list',)),
    (
        "reranking",
        _sts([{**RERANK, "positive": "Use the login page."}]),
        1,
        ('"positive" must be a list of texts',),
    ),
    (
        "reranking",
        _sts([{**RERANK, "negative": ["ok", 3]}]),
        1,
        ('"negative"[1] must be a non-empty',),
    ),
    (
        "reranking",
        _sts([{k: v for k, v in RERANK.items() if k != "negative"}]),
        1,
        ('missing required field "negative"',),
    ),
    ("reranking", _sts([{**RERANK, "positive": []}]), None, ("no query has both",)),
]


@pytest.mark.parametrize(
    ("task", "files", "line", "fragments"),
    REFUSALS,
    ids=[f"{r[0]}-{'-'.join(r[3][0].split()[:4])}-{i}" for i, r in enumerate(REFUSALS)],
)
def test_a_malformed_dataset_is_refused_with_file_line_and_value(
    tmp_path: Path, jsonl, task: str, files: dict[str, Rows], line: int | None, fragments
) -> None:
    for name, rows in files.items():
        jsonl(tmp_path / "ds" / name, rows)
    if not files:
        (tmp_path / "ds").mkdir()
    with pytest.raises(DatasetError) as info:
        load_task_dataset(tmp_path / "ds", task)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message
    assert info.value.line == line
    if line is not None:
        assert f"line {line}:" in message
        assert info.value.path is not None
        assert info.value.path.parent == tmp_path / "ds"


@pytest.mark.parametrize(
    ("task", "split", "fragment"),
    [
        ("classification", "train", "split 'train' is what the classifier is fitted on"),
        ("bitext", "dev", "a bitext dataset has no split 'dev'"),
        ("retrieval", "test", "unknown task 'retrieval'"),
        ("cluster", "test", "Did you mean 'clustering'?"),
    ],
)
def test_a_wrong_task_or_split_is_refused_with_the_fix(
    tmp_path: Path, jsonl, task: str, split: str, fragment: str
) -> None:
    jsonl(tmp_path / "ds" / "train.jsonl", [TEXT_A, TEXT_B])
    jsonl(tmp_path / "ds" / "test.jsonl", [TEXT_A])
    with pytest.raises(DatasetError, match=fragment.replace("?", r"\?")):
        load_task_dataset(tmp_path / "ds", task, split=split)


def test_missing_paths_and_a_classification_file_are_refused(tmp_path: Path, jsonl) -> None:
    for task in ("sts", "bitext", "reranking", "clustering", "classification"):
        with pytest.raises(DatasetError, match=r"not found|folder"):
            load_task_dataset(tmp_path / "nowhere", task)
    file = jsonl(tmp_path / "test.jsonl", [TEXT_A, TEXT_B])
    with pytest.raises(DatasetError, match="a classification dataset is a folder"):
        load_task_dataset(file, "classification")


def test_non_utf8_bytes_are_refused_with_the_byte_and_line(tmp_path: Path, jsonl) -> None:
    path = jsonl(tmp_path / "test.jsonl", [STS])
    path.write_bytes(
        path.read_bytes() + b'{"sentence1": "caf\xe9", "sentence2": "x", "score": 1}\n'
    )
    with pytest.raises(DatasetError, match=r"line 2: byte 0xe9"):
        load_task_dataset(path, "sts")


def test_oddities_are_warnings_that_name_the_file_line_and_items(tmp_path: Path, jsonl) -> None:
    sts = load_task_dataset(jsonl(tmp_path / "s" / "test.jsonl", [STS, STS2, STS]), "sts")
    assert sts.warnings == (
        f"{tmp_path / 's' / 'test.jsonl'} line 3: 1 pair repeats the sentences of an earlier "
        "one: '2' (same as '0'). Each copy counts in the correlation; drop copies if not "
        "intended. [duplicate-pair]",
    )
    jsonl(tmp_path / "c" / "train.jsonl", [TEXT_A, TEXT_B, {**TEXT_A, "label": "other"}])
    jsonl(tmp_path / "c" / "test.jsonl", [{"text": "New?", "label": "new"}, TEXT_B])
    clf = load_task_dataset(tmp_path / "c", "classification")
    codes = [w.rsplit("[", 1)[1] for w in clf.warnings]
    assert codes == ["conflicting-label]", "label-not-in-train]", "test-in-train]"]
    assert "train.jsonl line 3" in clf.warnings[0]
    assert "test.jsonl line 1" in clf.warnings[1]
    assert "'new'" in clf.warnings[1]
    assert "test.jsonl line 2" in clf.warnings[2]
    assert "'1'" in clf.warnings[2]

    jsonl(tmp_path / "b" / "deu-eng.jsonl", [BITEXT, {**BITEXT2, "tgt": BITEXT["tgt"]}])
    bitext = load_task_dataset(tmp_path / "b", "bitext")
    assert len(bitext.warnings) == 1
    assert bitext.warnings[0].endswith("[duplicate-target]")

    rows = [
        {**RERANK, "id": "ok"},
        {**RERANK, "id": "nopos", "positive": []},
        {**RERANK, "id": "noneg", "negative": []},
        {**RERANK, "id": "both", "negative": RERANK["positive"]},
    ]
    rerank = load_task_dataset(jsonl(tmp_path / "r.jsonl", rows), "reranking")
    assert rerank.item_ids == ("ok", "both")
    assert [w.rsplit("[", 1)[1] for w in rerank.warnings] == [
        "query-without-positive]",
        "query-without-negative]",
        "candidate-both-ways]",
    ]


def test_ids_default_to_the_position_and_bitext_ids_carry_the_language_pair(
    tmp_path: Path, jsonl
) -> None:
    sts = load_task_dataset(jsonl(tmp_path / "pairs.jsonl", ["", STS, "", STS2]), "sts")
    assert isinstance(sts, STSDataset)
    assert sts.item_ids == ("0", "1")
    assert sts.name == "pairs"
    jsonl(tmp_path / "tatoeba" / "fra-eng.jsonl", [BITEXT, {**BITEXT2, "id": 9}])
    jsonl(tmp_path / "tatoeba" / "deu-eng.jsonl", [BITEXT, BITEXT2])
    jsonl(tmp_path / "tatoeba" / "README.jsonl", ["not data"])
    bitext = load_task_dataset(tmp_path / "tatoeba", "bitext")
    assert isinstance(bitext, BitextDataset)
    assert bitext.item_ids == ("deu-eng/0", "deu-eng/1", "fra-eng/0", "fra-eng/9")
    assert bitext.languages == ("deu-eng", "fra-eng")
    assert bitext.name == "tatoeba"


def test_fingerprints_follow_the_content_and_equality_follows_the_fingerprint() -> None:
    pairs = (STSPair("a", "x", "y", 1.0), STSPair("b", "x", "z", 2.0))
    one = STSDataset("s", pairs)
    assert one == STSDataset("s", pairs, path=Path("elsewhere"))
    assert hash(one) == hash(STSDataset("s", pairs))
    changed = STSDataset("s", (pairs[0], STSPair("b", "x", "z", 2.5)))
    assert changed.fingerprint != one.fingerprint
    assert changed != one
    assert len(one.fingerprint) == 64
    assert one.short_fingerprint == one.fingerprint[:16]

    texts = (LabelledText("0", "a", "x"), LabelledText("1", "b", "y"), LabelledText("2", "c", "x"))
    clusters = ClusteringDataset("c", texts)
    assert clusters.item_ids == tuple(f"run/{i}" for i in range(10))
    assert ClusteringDataset("c", texts, n_runs=3).fingerprint != clusters.fingerprint
    clf = ClassificationDataset("c", texts, texts[:1])
    assert (
        clf.fingerprint != ClassificationDataset("c", texts[:1] + texts[1:], texts[1:2]).fingerprint
    )
    # Tasks never compare equal to one another, even with a shared name.
    assert clf != clusters
    with pytest.raises(DatasetError, match="n_runs"):
        ClusteringDataset("c", texts, n_runs=0)


@pytest.mark.parametrize(
    ("relative", "task", "expected"),
    [
        ("stsb-multi-mt/en", "sts", {"name": "stsb-multi-mt-en", "items": 1379}),
        ("stsb-multi-mt/de", "sts", {"name": "stsb-multi-mt-de", "items": 1379}),
        ("banking77", "classification", {"name": "banking77", "items": 3080}),
        ("banking77", "clustering", {"name": "banking77", "items": 10}),
        ("tatoeba-bitext", "bitext", {"name": "tatoeba-bitext", "items": 20000}),
    ],
)
def test_the_shared_datasets_load(
    shared_datasets: Path, relative: str, task: str, expected: dict[str, Any]
) -> None:
    ds = load_task_dataset(shared_datasets / relative, task)
    assert ds.task == task
    assert ds.name == expected["name"]
    assert len(ds.item_ids) == expected["items"]
    again = load_task_dataset(shared_datasets / relative, task)
    assert again.fingerprint == ds.fingerprint


def test_banking77_dev_split_is_refused_with_the_splits_there(shared_datasets: Path) -> None:
    with pytest.raises(DatasetError, match="Splits here: test, train"):
        load_task_dataset(shared_datasets / "banking77", "classification", split="dev")
    clf = load_task_dataset(shared_datasets / "banking77", "classification")
    assert isinstance(clf, ClassificationDataset)
    assert (len(clf.train), len(clf.labels)) == (10003, 77)


def test_reranking_loads_from_a_folder_split(tmp_path: Path, jsonl) -> None:
    jsonl(tmp_path / "rerank" / "dev.jsonl", [RERANK, {**RERANK, "id": "q9"}])
    ds = load_task_dataset(tmp_path / "rerank", "reranking", split="dev")
    assert isinstance(ds, RerankingDataset)
    assert (ds.item_ids, ds.split, ds.name) == (("0", "q9"), "dev", "rerank")
