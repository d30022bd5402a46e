"""Datasets for the task types beyond retrieval: STS, classification, clustering, bitext, reranking.

Each task has a frozen dataset type and a loader; `load_task_dataset` is the one entry point.
Every file is JSON Lines (UTF-8, one object a line, blank lines ignored), read with the same
helpers and the same error style as the retrieval loaders (`embedgate.datasets.loaders`):
errors name the file, the line and the value, and say how to fix it.

The layouts::

    sts/                      {"id": 0, "sentence1": "A girl is styling her hair.",
    ├── test.jsonl             "sentence2": "A girl is brushing her hair.", "score": 2.5}
    └── dev.jsonl

    classification/           {"text": "How do I locate my card?", "label": "card_arrival"}
    ├── train.jsonl           (clustering reads the same lines: by default the test split of
    └── test.jsonl             a classification folder, or any single file)

    bitext/                   {"id": 17, "src": "Wie spät ist es?", "tgt": "What time is it?"}
    ├── deu-eng.jsonl         (the pair of languages is the file's name; all files together
    └── fra-eng.jsonl          form one dataset, item ids "deu-eng/17")

    reranking/                {"id": "q1", "query": "reset password",
    └── test.jsonl             "positive": ["Passwords are reset from the login page."],
                               "negative": ["Invoices are sent monthly.", "..."]}

STS, clustering and reranking also load from a single ``.jsonl`` file; classification needs
its folder (a train and an evaluated split). Rules every loader shares:

- ``id`` is optional (``_id`` is accepted too). Without it an item's id is its 0-based
  position among the file's items, so the shared sets (``"id": <row index>``) and files
  without ids read alike. Ids are strings; JSON integers are written in decimal; an id may
  not repeat within a file.
- Texts must be non-empty strings. Labels are strings; JSON integers are accepted and read
  in decimal (``7`` is the label ``"7"``). Gold scores are finite numbers.
- Other fields (``label_id``, ``split`` in the shared Banking77 files) are ignored, but a
  missing required field names the nearest field present, so ``labl`` is caught as a typo.
- Oddities real data has (a test text also in train, repeated pairs, candidate lists without
  a positive) are collected on the dataset's ``warnings`` as strings of the form
  ``"<file> line <n>: <message> [<code>]"``, one per kind and file. Loaders never call
  `warnings.warn`; front ends decide.

Each dataset has ``name``, ``task``, ``split``, ``path``, ``warnings``, ``item_ids`` (the ids
its evaluator keys per-item scores by, in a stable order) and ``fingerprint``: the sha256 of
the content that decides a score, written as netstrings (as `fingerprint_content` does for
retrieval) in item order, because the seeded sampling of classification and clustering follows
that order. Two datasets are equal when task, name, split and fingerprint agree.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal, TypeAlias

from embedgate.datasets._io import (
    WarningLog,
    find_id,
    get_str,
    iter_json_objects,
    json_kind,
    plural,
    require_file,
    some,
)
from embedgate.datasets.loaders import default_name
from embedgate.errors import DatasetError

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Iterable, Mapping

    from embedgate.datasets.types import DatasetWarningCode

__all__ = [
    "TASKS",
    "BitextDataset",
    "BitextPair",
    "ClassificationDataset",
    "ClusteringDataset",
    "LabelledText",
    "RerankingDataset",
    "RerankingQuery",
    "STSDataset",
    "STSPair",
    "TaskDataset",
    "TaskName",
    "load_bitext",
    "load_classification",
    "load_clustering",
    "load_reranking",
    "load_sts",
    "load_task_dataset",
]

TaskName = Literal["sts", "classification", "clustering", "bitext", "reranking"]
"""The task types this module loads (retrieval lives in `embedgate.datasets.loaders`)."""

TASKS: tuple[TaskName, ...] = ("sts", "classification", "clustering", "bitext", "reranking")

_FINGERPRINT_VERSION = "embedgate-task-fingerprint/1"
_LANGUAGE_PAIR = re.compile(
    r"[A-Za-z]{2,8}(?:[_][A-Za-z0-9]{2,8})?-[A-Za-z]{2,8}(?:[_][A-Za-z0-9]{2,8})?"
)

_STS_EXAMPLE = (
    '{"id": "p1", "sentence1": "A man plays a guitar.", "sentence2": "A man plays music.", '
    '"score": 3.8}'
)
_LABELLED_EXAMPLE = '{"text": "How do I locate my card?", "label": "card_arrival"}'
_BITEXT_EXAMPLE = '{"id": 17, "src": "Wie spät ist es?", "tgt": "What time is it?"}'
_RERANK_EXAMPLE = (
    '{"id": "q1", "query": "reset password", "positive": ["Use the login page."], '
    '"negative": ["Invoices are monthly."]}'
)


# --------------------------------------------------------------------------------------------
# Items


@dataclass(frozen=True, slots=True)
class STSPair:
    """One sentence pair with its gold similarity (STS-B uses 0 to 5)."""

    id: str
    sentence1: str
    sentence2: str
    score: float


@dataclass(frozen=True, slots=True)
class LabelledText:
    """One text with its class label (classification and clustering)."""

    id: str
    text: str
    label: str


@dataclass(frozen=True, slots=True)
class BitextPair:
    """One translation pair; ``language`` is the file's pair of languages (``"deu-eng"``).

    ``id`` is unique in the dataset (``"deu-eng/17"``); ``local_id`` is the id in its file.
    """

    id: str
    local_id: str
    language: str
    source: str
    target: str


@dataclass(frozen=True, slots=True)
class RerankingQuery:
    """One query with the candidates to order: relevant ones and irrelevant ones."""

    id: str
    query: str
    positive: tuple[str, ...]
    negative: tuple[str, ...]

    @property
    def candidates(self) -> tuple[str, ...]:
        """Positives then negatives: the order relevance flags are given in."""
        return self.positive + self.negative


# --------------------------------------------------------------------------------------------
# Datasets


class _Hasher:
    """Netstring serializer over sha256: no choice of text makes two contents hash alike."""

    def __init__(self, task: str) -> None:
        self._h = hashlib.sha256()
        self._h.update(f"{_FINGERPRINT_VERSION} {task}\n".encode())

    def put(self, *fields: str) -> None:
        for f in fields:
            b = f.encode("utf-8", "surrogatepass")
            self._h.update(b"%d:%b," % (len(b), b))
        self._h.update(b"\n")

    def hexdigest(self) -> str:
        return self._h.hexdigest()


class _TaskDatasetBase:
    """Equality, hashing and the short fingerprint every task dataset shares."""

    __slots__ = ()
    task: ClassVar[TaskName]
    name: str
    split: str
    fingerprint: str

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _TaskDatasetBase):
            return NotImplemented
        return (self.task, self.name, self.split, self.fingerprint) == (
            other.task,
            other.name,
            other.split,
            other.fingerprint,
        )

    def __hash__(self) -> int:
        return hash((self.task, self.name, self.split, self.fingerprint))

    @property
    def short_fingerprint(self) -> str:
        """The first 16 hex digits of `fingerprint`, for tables and snapshot names."""
        return self.fingerprint[:16]


def _unique_ids(ids: Iterable[str], what: str, name: str) -> None:
    seen: set[str] = set()
    for i in ids:
        if i in seen:
            raise DatasetError(f"dataset {name!r}: {what} id {i!r} repeats. Make ids unique.")
        seen.add(i)


@dataclass(frozen=True, slots=True, eq=False)
class STSDataset(_TaskDatasetBase):
    """Sentence pairs with gold similarity scores (semantic textual similarity).

    Attributes:
        name: short name for ids and tables (``"stsb-multi-mt-en"``).
        pairs: the pairs in file order.
        path: the file it was read from, ``None`` when built in memory.
        split: ``"test"``, ``"dev"``, ...
        warnings: what the loader found odd but accepted.
        fingerprint: sha256 over (id, sentence1, sentence2, score) of every pair, in order.

    Raises:
        DatasetError: fewer than two pairs, ids that repeat, or gold scores that are all equal
            (a correlation with a constant is undefined).
    """

    task: ClassVar[Literal["sts"]] = "sts"
    name: str
    pairs: tuple[STSPair, ...] = field(repr=False)
    path: Path | None = None
    split: str = "test"
    warnings: tuple[str, ...] = field(default=(), repr=False)
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pairs", tuple(self.pairs))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        if len(self.pairs) < 2:
            raise DatasetError(
                f"dataset {self.name!r}: {plural(len(self.pairs), 'pair')}; a correlation needs "
                "at least two. Add pairs."
            )
        _unique_ids((p.id for p in self.pairs), "pair", self.name)
        if len({p.score for p in self.pairs}) == 1:
            raise DatasetError(
                f"dataset {self.name!r}: every gold score is {self.pairs[0].score!r}, so no "
                "correlation can be computed. Score the pairs on a scale (STS-B uses 0 to 5)."
            )
        h = _Hasher(self.task)
        for p in self.pairs:
            h.put(p.id, p.sentence1, p.sentence2, repr(float(p.score)))
        object.__setattr__(self, "fingerprint", h.hexdigest())

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Pair ids in file order."""
        return tuple(p.id for p in self.pairs)


@dataclass(frozen=True, slots=True, eq=False)
class ClassificationDataset(_TaskDatasetBase):
    """Labelled texts in a training split and an evaluated split.

    Attributes:
        name: short name (``"banking77"``).
        train: the texts a classifier is fitted on, in file order.
        test: the evaluated texts (split ``split``), in file order.
        path: the folder it was read from.
        split: the evaluated split (``"test"``).
        warnings: what the loader found odd but accepted.
        fingerprint: sha256 over every (id, text, label) of train, then of test.

    Raises:
        DatasetError: an empty split, fewer than two labels in train, or repeated ids.
    """

    task: ClassVar[Literal["classification"]] = "classification"
    name: str
    train: tuple[LabelledText, ...] = field(repr=False)
    test: tuple[LabelledText, ...] = field(repr=False)
    path: Path | None = None
    split: str = "test"
    warnings: tuple[str, ...] = field(default=(), repr=False)
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "train", tuple(self.train))
        object.__setattr__(self, "test", tuple(self.test))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        if not self.test:
            raise DatasetError(f"dataset {self.name!r}: no text to evaluate. Add test texts.")
        if len({t.label for t in self.train}) < 2:
            raise DatasetError(
                f"dataset {self.name!r}: the training split needs texts of at least two labels "
                f"to fit a classifier; it has {plural(len(self.train), 'text')} of "
                f"{plural(len({t.label for t in self.train}), 'label')}."
            )
        _unique_ids((t.id for t in self.train), "train text", self.name)
        _unique_ids((t.id for t in self.test), "test text", self.name)
        h = _Hasher(self.task)
        for part, items in (("train", self.train), ("test", self.test)):
            for t in items:
                h.put(part, t.id, t.text, t.label)
        object.__setattr__(self, "fingerprint", h.hexdigest())

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Evaluated (test) text ids in file order."""
        return tuple(t.id for t in self.test)

    @property
    def labels(self) -> tuple[str, ...]:
        """Every label of train and test, sorted (code-point order)."""
        return tuple(sorted({t.label for t in self.train} | {t.label for t in self.test}))


@dataclass(frozen=True, slots=True, eq=False)
class ClusteringDataset(_TaskDatasetBase):
    """Labelled texts to cluster, and how many seeded clustering runs score them.

    A clustering is scored as a whole (V-measure), so the items that per-item scores are
    keyed by are the seeded runs, ``"run/0"`` to ``"run/<n_runs - 1>"``: the mean over runs
    is the score, and two models are paired run by run.

    Attributes:
        name: short name (``"banking77"``).
        texts: the texts with their gold labels, in file order.
        path: the file it was read from.
        split: the split it was read from (``"test"``).
        n_runs: seeded k-means runs (10, as MTEB's bootstrap count).
        warnings: what the loader found odd but accepted.
        fingerprint: sha256 over every (id, text, label) in order, and ``n_runs``.

    Raises:
        DatasetError: fewer than two labels, fewer texts than labels, ``n_runs < 1`` or
            repeated ids.
    """

    task: ClassVar[Literal["clustering"]] = "clustering"
    name: str
    texts: tuple[LabelledText, ...] = field(repr=False)
    path: Path | None = None
    split: str = "test"
    n_runs: int = 10
    warnings: tuple[str, ...] = field(default=(), repr=False)
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "texts", tuple(self.texts))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        n_labels = len({t.label for t in self.texts})
        if n_labels < 2:
            raise DatasetError(
                f"dataset {self.name!r}: clustering needs texts of at least two labels; found "
                f"{plural(n_labels, 'label')} in {plural(len(self.texts), 'text')}."
            )
        if len(self.texts) <= n_labels:
            raise DatasetError(
                f"dataset {self.name!r}: {plural(len(self.texts), 'text')} for "
                f"{n_labels} labels; k-means with k = {n_labels} needs more texts than labels."
            )
        if type(self.n_runs) is not int or self.n_runs < 1:
            raise DatasetError(f"dataset {self.name!r}: n_runs must be an integer >= 1.")
        _unique_ids((t.id for t in self.texts), "text", self.name)
        h = _Hasher(self.task)
        h.put("n_runs", str(self.n_runs))
        for t in self.texts:
            h.put(t.id, t.text, t.label)
        object.__setattr__(self, "fingerprint", h.hexdigest())

    @property
    def item_ids(self) -> tuple[str, ...]:
        """``("run/0", ..., "run/<n_runs - 1>")``."""
        return tuple(f"run/{i}" for i in range(self.n_runs))

    @property
    def labels(self) -> tuple[str, ...]:
        """The distinct labels, sorted; k-means runs with ``k = len(labels)``."""
        return tuple(sorted({t.label for t in self.texts}))


@dataclass(frozen=True, slots=True, eq=False)
class BitextDataset(_TaskDatasetBase):
    """Translation pairs, one or several language pairs; each is mined within its own pairs.

    Attributes:
        name: short name (``"tatoeba-bitext"``).
        pairs: every pair, grouped by language pair in file-name order, then file order.
        path: the folder or file it was read from.
        split: always ``"test"``.
        warnings: what the loader found odd but accepted.
        fingerprint: sha256 over every (id, language, source, target), in order.

    Raises:
        DatasetError: a language pair with fewer than two pairs (nothing to mine among), or
            repeated ids.
    """

    task: ClassVar[Literal["bitext"]] = "bitext"
    name: str
    pairs: tuple[BitextPair, ...] = field(repr=False)
    path: Path | None = None
    split: str = "test"
    warnings: tuple[str, ...] = field(default=(), repr=False)
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "pairs", tuple(self.pairs))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        if not self.pairs:
            raise DatasetError(f"dataset {self.name!r}: no translation pair. Add pairs.")
        _unique_ids((p.id for p in self.pairs), "pair", self.name)
        for language, n in Counter(p.language for p in self.pairs).items():
            if n < 2:
                raise DatasetError(
                    f"dataset {self.name!r}: language pair {language!r} has one pair; mining "
                    "needs at least two to choose among. Add pairs or drop the file."
                )
        h = _Hasher(self.task)
        for p in self.pairs:
            h.put(p.id, p.language, p.source, p.target)
        object.__setattr__(self, "fingerprint", h.hexdigest())

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Pair ids (``"deu-eng/17"``) in dataset order."""
        return tuple(p.id for p in self.pairs)

    @property
    def languages(self) -> tuple[str, ...]:
        """The language pairs in dataset order (``("deu-eng", "fra-eng")``)."""
        return tuple(dict.fromkeys(p.language for p in self.pairs))


@dataclass(frozen=True, slots=True, eq=False)
class RerankingDataset(_TaskDatasetBase):
    """Queries, each with candidates to order: positives (relevant) and negatives.

    Attributes:
        name: short name.
        queries: the evaluated queries in file order (each has a positive and a negative).
        path: the file it was read from.
        split: ``"test"``, ``"dev"``, ...
        warnings: what the loader found odd but accepted (dropped queries among them).
        fingerprint: sha256 over every query's id, text, positives and negatives, in order.

    Raises:
        DatasetError: no query, a query without a positive or without a negative, or
            repeated ids.
    """

    task: ClassVar[Literal["reranking"]] = "reranking"
    name: str
    queries: tuple[RerankingQuery, ...] = field(repr=False)
    path: Path | None = None
    split: str = "test"
    warnings: tuple[str, ...] = field(default=(), repr=False)
    fingerprint: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "queries", tuple(self.queries))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        if not self.queries:
            raise DatasetError(f"dataset {self.name!r}: no query to evaluate. Add queries.")
        _unique_ids((q.id for q in self.queries), "query", self.name)
        h = _Hasher(self.task)
        for q in self.queries:
            if not q.positive or not q.negative:
                raise DatasetError(
                    f"dataset {self.name!r}: query {q.id!r} needs at least one positive and "
                    "one negative candidate to be ranked."
                )
            h.put("q", q.id, q.query)
            h.put("+", *q.positive)
            h.put("-", *q.negative)
        object.__setattr__(self, "fingerprint", h.hexdigest())

    @property
    def item_ids(self) -> tuple[str, ...]:
        """Query ids in file order."""
        return tuple(q.id for q in self.queries)


TaskDataset: TypeAlias = (
    STSDataset | ClassificationDataset | ClusteringDataset | BitextDataset | RerankingDataset
)
"""Any dataset `load_task_dataset` returns; ``dataset.task`` tells which."""


# --------------------------------------------------------------------------------------------
# Field readers


def _item_id(obj: Mapping[str, Any], position: int, path: Path, line: int) -> str:
    """The line's ``id`` (or ``_id``), else its 0-based position among the file's items."""
    found = find_id(obj, "id", path, line, null_is_absent=True)
    return str(position) if found is None else found


def _text(obj: Mapping[str, Any], key: str, path: Path, line: int, example: str) -> str:
    value = get_str(obj, key, path, line, required=True, example=example)
    if not value.strip():
        raise DatasetError(
            f"{json.dumps(key)} is empty. Write the text or drop the line.", path=path, line=line
        )
    return value


def _label(obj: Mapping[str, Any], path: Path, line: int) -> str:
    if "label" not in obj:
        close = difflib.get_close_matches("label", [k for k in obj if isinstance(k, str)], n=1)
        typo = f' (found "{close[0]}": a typo?)' if close else ""
        raise DatasetError(
            f'missing required field "label"{typo}. Add it, e.g. {_LABELLED_EXAMPLE}.',
            path=path,
            line=line,
        )
    value = obj["label"]
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise DatasetError(
            f'"label" must be a non-empty string (or an integer), found {json_kind(value)}. '
            'Write the class name, e.g. "label": "card_arrival".',
            path=path,
            line=line,
        )
    return value


def _score(obj: Mapping[str, Any], path: Path, line: int) -> float:
    if "score" not in obj:
        close = difflib.get_close_matches("score", [k for k in obj if isinstance(k, str)], n=1)
        typo = f' (found "{close[0]}": a typo?)' if close else ""
        raise DatasetError(
            f'missing required field "score", the gold similarity{typo}. Add it, e.g. '
            f"{_STS_EXAMPLE}.",
            path=path,
            line=line,
        )
    value = obj["score"]
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise DatasetError(
            f'"score" must be a finite number such as 3.8, found {json_kind(value)}. '
            "Write the gold similarity as a JSON number, without quotes.",
            path=path,
            line=line,
        )
    return float(value)


def _text_list(obj: Mapping[str, Any], key: str, path: Path, line: int) -> tuple[str, ...]:
    if key not in obj:
        raise DatasetError(
            f"missing required field {json.dumps(key)}, a list of candidate texts (it may be "
            f"empty). Add it, e.g. {_RERANK_EXAMPLE}.",
            path=path,
            line=line,
        )
    value = obj[key]
    if not isinstance(value, list):
        raise DatasetError(
            f"{json.dumps(key)} must be a list of texts, found {json_kind(value)}. Write it as "
            f'{json.dumps(key)}: ["first text", "second text"].',
            path=path,
            line=line,
        )
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item.strip():
            raise DatasetError(
                f"{json.dumps(key)}[{i}] must be a non-empty string, found {json_kind(item)}. "
                "Fix the candidate or remove it from the list.",
                path=path,
                line=line,
            )
    return tuple(value)


class _Ids:
    """Tracks ids of one file, raising on a repeat with both lines named."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._first: dict[str, int] = {}

    def add(self, item_id: str, line: int) -> None:
        first = self._first.setdefault(item_id, line)
        if first != line:
            raise DatasetError(
                f"id {item_id!r} already appeared on line {first}. Ids must be unique: drop the "
                "copy or give it another id (lines without an id get their position).",
                path=self._path,
                line=line,
            )


def _require_items(count: int, path: Path, example: str) -> None:
    if count == 0:
        raise DatasetError(
            f"holds no items. Add one JSON object a line, e.g. {example}.", path=path
        )


def _messages(
    extra: Mapping[str, Callable[[int, str], str]],
) -> Mapping[DatasetWarningCode, Callable[[int, str], str]]:
    # WarningLog is typed for the retrieval codes; task codes are plain strings here.
    return extra  # type: ignore[return-value]


def _fold(log: WarningLog, messages: Mapping[str, Callable[[int, str], str]]) -> tuple[str, ...]:
    return tuple(str(w) for w in log.fold(_messages(messages)))


def _add(log: WarningLog, code: str, path: Path, line: int | None, item: str) -> None:
    log.add(code, path, line, item)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------------
# File readers


def _read_sts(path: Path, log: WarningLog) -> list[STSPair]:
    pairs: list[STSPair] = []
    ids = _Ids(path)
    first_line: dict[tuple[str, str], tuple[int, str]] = {}
    for n, obj in iter_json_objects(path, _STS_EXAMPLE):
        pid = _item_id(obj, len(pairs), path, n)
        ids.add(pid, n)
        s1 = _text(obj, "sentence1", path, n, _STS_EXAMPLE)
        s2 = _text(obj, "sentence2", path, n, _STS_EXAMPLE)
        score = _score(obj, path, n)
        earlier = first_line.setdefault((s1, s2), (n, pid))
        if earlier[0] != n:
            _add(log, "duplicate-pair", path, n, f"{pid!r} (same as {earlier[1]!r})")
        pairs.append(STSPair(pid, s1, s2, score))
    _require_items(len(pairs), path, _STS_EXAMPLE)
    return pairs


def _read_labelled(path: Path, log: WarningLog) -> tuple[list[LabelledText], dict[str, int]]:
    items: list[LabelledText] = []
    lines: dict[str, int] = {}
    ids = _Ids(path)
    first_label: dict[str, tuple[str, str]] = {}
    for n, obj in iter_json_objects(path, _LABELLED_EXAMPLE):
        tid = _item_id(obj, len(items), path, n)
        ids.add(tid, n)
        text = _text(obj, "text", path, n, _LABELLED_EXAMPLE)
        label = _label(obj, path, n)
        earlier = first_label.setdefault(text, (tid, label))
        if earlier[0] != tid and earlier[1] != label:
            _add(
                log,
                "conflicting-label",
                path,
                n,
                f"{tid!r} {label!r} vs {earlier[0]!r} {earlier[1]!r}",
            )
        items.append(LabelledText(tid, text, label))
        lines[tid] = n
    _require_items(len(items), path, _LABELLED_EXAMPLE)
    return items, lines


def _read_bitext(path: Path, language: str, log: WarningLog) -> list[BitextPair]:
    pairs: list[BitextPair] = []
    ids = _Ids(path)
    first_target: dict[str, str] = {}
    for n, obj in iter_json_objects(path, _BITEXT_EXAMPLE):
        local = _item_id(obj, len(pairs), path, n)
        ids.add(local, n)
        source = _text(obj, "src", path, n, _BITEXT_EXAMPLE)
        target = _text(obj, "tgt", path, n, _BITEXT_EXAMPLE)
        earlier = first_target.setdefault(target, local)
        if earlier != local:
            _add(log, "duplicate-target", path, n, f"{local!r} (same as {earlier!r})")
        pairs.append(BitextPair(f"{language}/{local}", local, language, source, target))
    _require_items(len(pairs), path, _BITEXT_EXAMPLE)
    return pairs


def _read_reranking(path: Path, log: WarningLog) -> list[RerankingQuery]:
    queries: list[RerankingQuery] = []
    ids = _Ids(path)
    position = 0
    for n, obj in iter_json_objects(path, _RERANK_EXAMPLE):
        qid = _item_id(obj, position, path, n)
        position += 1
        ids.add(qid, n)
        if isinstance(obj.get("query"), list):
            raise DatasetError(
                '"query" is a list; MTEB allows several query texts, embedgate takes one. '
                "Write one query a line (or join the texts).",
                path=path,
                line=n,
            )
        query = _text(obj, "query", path, n, _RERANK_EXAMPLE)
        positive = _text_list(obj, "positive", path, n)
        negative = _text_list(obj, "negative", path, n)
        if not positive or not negative:
            code = "query-without-positive" if not positive else "query-without-negative"
            _add(log, code, path, n, repr(qid))
            continue
        if set(positive) & set(negative):
            _add(log, "candidate-both-ways", path, n, repr(qid))
        queries.append(RerankingQuery(qid, query, positive, negative))
    _require_items(position, path, _RERANK_EXAMPLE)
    if not queries:
        raise DatasetError(
            'no query has both a "positive" and a "negative" candidate, so nothing can be '
            "ranked. Give each query at least one of each.",
            path=path,
        )
    return queries


# --------------------------------------------------------------------------------------------
# Loaders

_SPLIT_FILES = ("test", "dev", "validation", "train")


def _name_for(path: Path, name: str | None) -> str:
    if name:
        return name
    if path.is_file():
        if path.stem in _SPLIT_FILES:
            return default_name(path.parent)
        return path.stem
    return default_name(path)


def _split_file(path: Path, split: str, what: str) -> Path:
    """``path`` itself when it is a file, else ``<path>/<split>.jsonl``."""
    if path.is_file():
        return path
    if not path.exists():
        raise DatasetError(f"{what} dataset not found: no such file or folder.", path=path)
    file = path / f"{split}.jsonl"
    if not file.is_file():
        splits = sorted(p.stem for p in path.glob("*.jsonl") if p.is_file())
        there = (
            f"Splits here: {', '.join(splits)}; pass one of them as split."
            if splits
            else "The folder holds no .jsonl file."
        )
        raise DatasetError(
            f"no {split}.jsonl for split {split!r} of this {what} dataset. {there}", path=path
        )
    return file


def _fold_labelled(log: WarningLog) -> tuple[str, ...]:
    return _fold(
        log,
        {
            "conflicting-label": lambda n, items: (
                f"{plural(n, 'text repeats', 'texts repeat')} an earlier text with another "
                f"label: {items}. A classifier cannot be right on both; fix one label."
            ),
            "test-in-train": lambda n, items: (
                f"{plural(n, 'evaluated text is', 'evaluated texts are')} also in train.jsonl "
                f"(exact match): {items}. They are easy points; drop them from one split if "
                "that is not intended."
            ),
            "label-not-in-train": lambda n, items: (
                f"{plural(n, 'evaluated text has a label', 'evaluated texts have labels')} that "
                f"train.jsonl never shows: {items}. No classifier can predict them; add "
                "training texts for those labels."
            ),
        },
    )


def load_sts(
    path: str | os.PathLike[str], *, split: str = "test", name: str | None = None
) -> STSDataset:
    """Load an STS dataset: a folder with ``<split>.jsonl`` or a single ``.jsonl`` file.

    Each line holds ``sentence1``, ``sentence2`` (non-empty strings), ``score`` (a finite
    number) and optionally ``id``.

    Example:
        >>> ds = load_sts("../shared/datasets/stsb-multi-mt/en")
        >>> ds.name, len(ds.pairs), ds.warnings[0].endswith("[duplicate-pair]")
        ('stsb-multi-mt-en', 1379, True)

    Raises:
        DatasetError: a missing file or split, or a malformed line.
    """
    p = Path(path)
    file = _split_file(p, split, "STS")
    log = WarningLog()
    pairs = _read_sts(file, log)
    warnings = _fold(
        log,
        {
            "duplicate-pair": lambda n, items: (
                f"{plural(n, 'pair repeats', 'pairs repeat')} the sentences of an earlier one: "
                f"{items}. Each copy counts in the correlation; drop copies if not intended."
            )
        },
    )
    return STSDataset(_name_for(p, name), tuple(pairs), p, split, warnings)


def load_classification(
    path: str | os.PathLike[str], *, split: str = "test", name: str | None = None
) -> ClassificationDataset:
    """Load a classification folder: ``train.jsonl`` plus the evaluated ``<split>.jsonl``.

    Each line holds ``text`` and ``label``, and optionally ``id``.

    Example:
        >>> ds = load_classification("../shared/datasets/banking77")
        >>> len(ds.train), len(ds.test), len(ds.labels)
        (10003, 3080, 77)

    Raises:
        DatasetError: ``path`` is not a folder, a file is missing, ``split`` is ``"train"``,
            or a line is malformed.
    """
    p = Path(path)
    if not p.is_dir():
        raise DatasetError(
            "a classification dataset is a folder holding train.jsonl and test.jsonl (text, "
            "label); pass the folder." + (" This is a file." if p.exists() else ""),
            path=p,
        )
    if split == "train":
        raise DatasetError(
            "split 'train' is what the classifier is fitted on; evaluate another split "
            "(test.jsonl or dev.jsonl).",
            path=p,
        )
    train_path = p / "train.jsonl"
    require_file(train_path, "A classification folder needs train.jsonl, one labelled text a line")
    test_path = _split_file(p, split, "classification")
    log = WarningLog()
    train, _ = _read_labelled(train_path, log)
    test, test_lines = _read_labelled(test_path, log)
    train_texts = {t.text for t in train}
    train_labels = {t.label for t in train}
    for t in test:
        if t.text in train_texts:
            _add(log, "test-in-train", test_path, test_lines[t.id], repr(t.id))
        if t.label not in train_labels:
            _add(log, "label-not-in-train", test_path, test_lines[t.id], f"{t.id!r} {t.label!r}")
    return ClassificationDataset(
        _name_for(p, name), tuple(train), tuple(test), p, split, _fold_labelled(log)
    )


def load_clustering(
    path: str | os.PathLike[str],
    *,
    split: str = "test",
    name: str | None = None,
    n_runs: int = 10,
) -> ClusteringDataset:
    """Load labelled texts to cluster: ``<split>.jsonl`` of a folder, or a single file.

    A classification folder serves as it is (its test split, by default).

    Raises:
        DatasetError: a missing file or split, a malformed line, or fewer than two labels.
    """
    p = Path(path)
    file = _split_file(p, split, "clustering")
    log = WarningLog()
    texts, _ = _read_labelled(file, log)
    return ClusteringDataset(
        _name_for(p, name), tuple(texts), p, split, n_runs, _fold_labelled(log)
    )


def load_bitext(
    path: str | os.PathLike[str], *, split: str = "test", name: str | None = None
) -> BitextDataset:
    """Load translation pairs: a folder of ``<src>-<tgt>.jsonl`` files, or one such file.

    Each line holds ``src`` and ``tgt`` (non-empty strings) and optionally ``id``. The files
    of a folder are read in name order and together form one dataset; each pair's id is
    ``"<src>-<tgt>/<id>"``. A single file whose name is not a language pair is read with its
    stem as the language pair.

    Example:
        >>> ds = load_bitext("../shared/datasets/tatoeba-bitext")
        >>> len(ds.languages), ds.item_ids[0]
        (20, 'ara-eng/0')

    Raises:
        DatasetError: no such folder or file, a folder without language-pair files, a split
            other than ``"test"``, or a malformed line.
    """
    p = Path(path)
    if split != "test":
        raise DatasetError(
            f"a bitext dataset has no split {split!r}: its files are always split 'test'. "
            "Leave split at its default.",
            path=p,
        )
    if p.is_file():
        files = [p]
    elif p.is_dir():
        files = sorted(f for f in p.glob("*.jsonl") if _LANGUAGE_PAIR.fullmatch(f.stem))
        if not files:
            found = sorted(c.name for c in p.iterdir())
            raise DatasetError(
                "no bitext file found: looked for <src>-<tgt>.jsonl files such as "
                f"deu-eng.jsonl. The folder holds: {some(found, 12) or 'nothing'}.",
                path=p,
            )
    else:
        raise DatasetError("bitext dataset not found: no such file or folder.", path=p)
    log = WarningLog()
    pairs: list[BitextPair] = []
    for f in files:
        pairs.extend(_read_bitext(f, f.stem, log))
    warnings = _fold(
        log,
        {
            "duplicate-target": lambda n, items: (
                f"{plural(n, 'target repeats', 'targets repeat')} an earlier target text: "
                f"{items}. A model cannot tell the copies apart, so finding any copy of the "
                "gold text counts as correct."
            )
        },
    )
    return BitextDataset(_name_for(p, name), tuple(pairs), p, split, warnings)


def load_reranking(
    path: str | os.PathLike[str], *, split: str = "test", name: str | None = None
) -> RerankingDataset:
    """Load a reranking set (MTEB's layout): ``<split>.jsonl`` of a folder, or a single file.

    Each line holds ``query`` (a string), ``positive`` and ``negative`` (lists of candidate
    texts) and optionally ``id``. As MTEB does, a query without a positive or without a
    negative is not evaluated (a warning names it): with no positive every ranking scores 0,
    with no negative every ranking scores 1, and neither says anything about the model.

    Raises:
        DatasetError: a missing file or split, a malformed line, or no query left to rank.
    """
    p = Path(path)
    file = _split_file(p, split, "reranking")
    log = WarningLog()
    queries = _read_reranking(file, log)
    warnings = _fold(
        log,
        {
            "query-without-positive": lambda n, ids: (
                f'{plural(n, "query has", "queries have")} an empty "positive" list and '
                f"{'is' if n == 1 else 'are'} not evaluated: {ids}."
            ),
            "query-without-negative": lambda n, ids: (
                f'{plural(n, "query has", "queries have")} an empty "negative" list and '
                f"{'is' if n == 1 else 'are'} not evaluated: {ids}."
            ),
            "candidate-both-ways": lambda n, ids: (
                f"{plural(n, 'query lists', 'queries list')} a text as both positive and "
                f"negative: {ids}. Its copies tie, so a ranking cannot be fully right; fix "
                "the lists."
            ),
        },
    )
    return RerankingDataset(_name_for(p, name), tuple(queries), p, split, warnings)


_LOADERS: Mapping[TaskName, Callable[..., TaskDataset]] = {
    "sts": load_sts,
    "classification": load_classification,
    "clustering": load_clustering,
    "bitext": load_bitext,
    "reranking": load_reranking,
}


def load_task_dataset(
    path: str | os.PathLike[str], task: str, *, split: str = "test", name: str | None = None
) -> TaskDataset:
    """Load a dataset of one task type (see the module docstring for each layout).

    Args:
        path: the dataset folder or file.
        task: ``"sts"``, ``"classification"``, ``"clustering"``, ``"bitext"`` or
            ``"reranking"``.
        split: the evaluated split (``<split>.jsonl``); a single file is read as it is.
        name: the dataset's name; by default from the folder (see `default_name`) or, for a
            file, its stem (its folder's name when the stem is a split such as ``test``).

    Returns:
        The dataset, with the oddities found in ``.warnings``.

    Raises:
        DatasetError: an unknown task, or anything the task's loader refuses. Messages name
            the file, the line and the value, and say how to fix it.

    Example:
        >>> ds = load_task_dataset("../shared/datasets/banking77", "clustering")
        >>> ds.task, len(ds.texts), len(ds.labels), ds.item_ids[:2]
        ('clustering', 3080, 77, ('run/0', 'run/1'))
    """
    try:
        loader = _LOADERS[task]  # type: ignore[index]
    except KeyError:
        close = difflib.get_close_matches(str(task), TASKS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        raise DatasetError(
            f"unknown task {task!r}.{hint} Supported: {', '.join(TASKS)} (retrieval datasets "
            "load with load_dataset)."
        ) from None
    return loader(path, split=split, name=name)
