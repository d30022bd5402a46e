"""The typed values a retrieval dataset is made of.

A `RetrievalDataset` is read-only once built: its corpus and queries are tuples, its qrels are
read-only mappings, and its fingerprint is computed from the content in ``__post_init__``, so
it can never disagree with what the dataset holds.
"""

from __future__ import annotations

import hashlib
import warnings as _warnings
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

from embedgate.errors import DatasetError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

__all__ = [
    "DatasetWarning",
    "DatasetWarningCode",
    "Document",
    "EmbedgateDatasetWarning",
    "Query",
    "RetrievalDataset",
    "fingerprint_content",
]

DatasetWarningCode = Literal[
    "empty-document",
    "duplicate-text",
    "duplicate-query-text",
    "unjudged-query",
    "query-without-relevant",
    "duplicate-judgement",
]
"""The closed set of things a loader reports without refusing the dataset."""

# Bump when the serialization below changes, so old and new fingerprints never collide.
_FINGERPRINT_VERSION = "embedgate-retrieval-fingerprint/1"


class EmbedgateDatasetWarning(UserWarning):
    """The `warnings` category front ends use to show a `DatasetWarning`."""


@dataclass(frozen=True, slots=True)
class Document:
    """One corpus entry.

    Attributes:
        id: the document id, unique in its corpus.
        title: the title, ``""`` when there is none.
        text: the body text; may be empty (the loader warns).

    Example:
        >>> Document("d1", "Refunds", "Money back within 14 days.").full_text
        'Refunds Money back within 14 days.'
    """

    id: str
    title: str
    text: str

    @property
    def full_text(self) -> str:
        """What a model is given: ``title + " " + text``, or just the text without a title.

        This is how BEIR and MTEB feed titled corpora such as SciFact to a model.
        """
        if self.title:
            return f"{self.title} {self.text}".strip()
        return self.text


@dataclass(frozen=True, slots=True)
class Query:
    """One query.

    Attributes:
        id: the query id, unique in its file.
        text: the query text.
        language: a language tag such as ``"de"`` when the dataset states one, else ``None``.
        tags: free-form labels (``{"topic": "billing"}``) that reports can slice scores by;
            stored as a read-only mapping and left out of the hash.
    """

    id: str
    text: str
    language: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not isinstance(self.tags, MappingProxyType):
            object.__setattr__(self, "tags", MappingProxyType(dict(self.tags)))


@dataclass(frozen=True, slots=True)
class DatasetWarning:
    """Something odd in a dataset that does not stop it from being used.

    One warning stands for every occurrence of its kind in one file: ``count`` says how many,
    ``line`` points at the first, and ``message`` names a few of the ids concerned.

    Attributes:
        code: what kind of oddity (see `DatasetWarningCode`).
        message: what was found, which ids, and what to do if it is not intended.
        path: the file it was found in.
        line: the 1-based line of the first occurrence, when there is one.
        count: how many occurrences this warning stands for.
    """

    code: DatasetWarningCode
    message: str
    path: Path | None
    line: int | None = None
    count: int = 1

    def __str__(self) -> str:
        where = ""
        if self.path is not None:
            where = str(self.path)
            if self.line is not None:
                where += f" line {self.line}"
            where += ": "
        return f"{where}{self.message} [{self.code}]"

    def emit(self, stacklevel: int = 2) -> None:
        """Show this warning through `warnings.warn` as an `EmbedgateDatasetWarning`.

        Loaders never call this themselves; front ends (the CLI, the pytest plugin) decide.
        """
        _warnings.warn(str(self), EmbedgateDatasetWarning, stacklevel=stacklevel + 1)


def _freeze_qrels(qrels: Mapping[str, Mapping[str, int]]) -> Mapping[str, Mapping[str, int]]:
    return MappingProxyType({qid: MappingProxyType(dict(docs)) for qid, docs in qrels.items()})


def fingerprint_content(
    corpus: Iterable[Document],
    queries: Iterable[Query],
    qrels: Mapping[str, Mapping[str, int]],
) -> str:
    """The sha256 (64 hex digits) of the content that decides every score.

    The hash covers, each sorted by id (code-point order, the same on every machine): the
    documents' id, title and text; the queries' id and text; every judgement (query id,
    doc id, grade). Each field is written as a netstring (``<byte length>:<UTF-8 bytes>,``),
    so no choice of text can make two different datasets serialize alike; a version line
    comes first. Not covered: file layout, line order, formatting, the dataset's name, path
    and split, query languages and tags (they slice reports but do not change a score).

    Example:
        >>> docs, queries = [Document("d1", "", "x")], [Query("q1", "y")]
        >>> fingerprint_content(docs, queries, {"q1": {"d1": 1}})[:16]
        'd9b4d5e7664fa757'
    """
    h = hashlib.sha256()
    h.update(_FINGERPRINT_VERSION.encode())
    h.update(b"\n")

    def put(*fields: str) -> None:
        for f in fields:
            b = f.encode("utf-8", "surrogatepass")
            h.update(b"%d:%b," % (len(b), b))
        h.update(b"\n")

    for d in sorted(corpus, key=lambda d: d.id):
        put("d", d.id, d.title, d.text)
    for q in sorted(queries, key=lambda q: q.id):
        put("q", q.id, q.text)
    for qid in sorted(qrels):
        for doc_id, grade in sorted(qrels[qid].items()):
            put("r", qid, doc_id, str(grade))
    return h.hexdigest()


@dataclass(frozen=True, slots=True, eq=False)
class RetrievalDataset:
    """A corpus, the queries that are evaluated, and their graded judgements.

    Attributes:
        name: a short name used in test ids and tables (``"scifact"``).
        path: the folder it was loaded from, ``None`` when built in memory.
        split: the qrels split (``"test"``).
        corpus: every document, in file order.
        queries: the evaluated queries (those judged in this split), in file order.
        qrels: ``{query_id: {doc_id: grade}}``, read-only; grade > 0 is relevant, 0 is judged
            not relevant. Its keys are exactly the ids in ``queries``.
        warnings: what the loader found odd but accepted.
        fingerprint: sha256 of the content (see `fingerprint_content`), computed here.

    Two datasets are equal (and hash alike) when name, split and fingerprint agree; path and
    warnings do not count.

    Raises:
        DatasetError: when queries and qrels disagree, an id repeats, or a judgement names a
            document that is not in the corpus.

    Example:
        >>> ds = RetrievalDataset("toy", None, "test", (Document("d1", "", "a"),),
        ...                       (Query("q1", "b"),), {"q1": {"d1": 2}})
        >>> ds.n_relevant("q1"), ds.short_fingerprint
        (1, 'f111723eb5309cae')
    """

    name: str
    path: Path | None
    split: str
    corpus: tuple[Document, ...] = field(repr=False)
    queries: tuple[Query, ...] = field(repr=False)
    qrels: Mapping[str, Mapping[str, int]] = field(repr=False)
    warnings: tuple[DatasetWarning, ...] = field(default=(), repr=False)
    fingerprint: str = field(init=False)
    _doc_index: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "corpus", tuple(self.corpus))
        object.__setattr__(self, "queries", tuple(self.queries))
        object.__setattr__(self, "warnings", tuple(self.warnings))
        object.__setattr__(self, "qrels", _freeze_qrels(self.qrels))
        index = {d.id: i for i, d in enumerate(self.corpus)}
        if len(index) != len(self.corpus):
            raise DatasetError(f"dataset {self.name!r}: document ids repeat. Make them unique.")
        object.__setattr__(self, "_doc_index", MappingProxyType(index))
        qids = [q.id for q in self.queries]
        if len(set(qids)) != len(qids):
            raise DatasetError(f"dataset {self.name!r}: query ids repeat. Make them unique.")
        if set(qids) != set(self.qrels):
            extra = sorted(set(self.qrels) - set(qids))[:5]
            missing = sorted(set(qids) - set(self.qrels))[:5]
            raise DatasetError(
                f"dataset {self.name!r}: queries and qrels must name the same query ids "
                f"(judged but not a query: {extra}; a query but not judged: {missing})."
            )
        for qid, docs in self.qrels.items():
            for doc_id, grade in docs.items():
                if doc_id not in index:
                    raise DatasetError(
                        f"dataset {self.name!r}: query {qid!r} judges doc id {doc_id!r}, "
                        "which is not in the corpus."
                    )
                if type(grade) is not int or grade < 0:
                    raise DatasetError(
                        f"dataset {self.name!r}: grade {grade!r} of ({qid!r}, {doc_id!r}) "
                        "is not an integer >= 0."
                    )
        object.__setattr__(
            self, "fingerprint", fingerprint_content(self.corpus, self.queries, self.qrels)
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RetrievalDataset):
            return NotImplemented
        return (self.name, self.split, self.fingerprint) == (
            other.name,
            other.split,
            other.fingerprint,
        )

    def __hash__(self) -> int:
        return hash((self.name, self.split, self.fingerprint))

    def __repr__(self) -> str:
        return (
            f"RetrievalDataset(name={self.name!r}, split={self.split!r}, "
            f"docs={len(self.corpus)}, queries={len(self.queries)}, "
            f"qrels={self.n_judgements}, fingerprint={self.short_fingerprint!r})"
        )

    @property
    def short_fingerprint(self) -> str:
        """The first 16 hex digits of `fingerprint`, for tables and snapshot names."""
        return self.fingerprint[:16]

    @property
    def doc_ids(self) -> tuple[str, ...]:
        """Document ids in corpus order."""
        return tuple(d.id for d in self.corpus)

    @property
    def doc_texts(self) -> tuple[str, ...]:
        """What a model embeds for each document (`Document.full_text`), in corpus order."""
        return tuple(d.full_text for d in self.corpus)

    @property
    def query_ids(self) -> tuple[str, ...]:
        """Evaluated query ids in file order."""
        return tuple(q.id for q in self.queries)

    @property
    def query_texts(self) -> tuple[str, ...]:
        """Evaluated query texts in file order."""
        return tuple(q.text for q in self.queries)

    @property
    def n_judgements(self) -> int:
        """How many (query, document) judgements the split holds, grade 0 included."""
        return sum(len(docs) for docs in self.qrels.values())

    def doc_index(self, doc_id: str) -> int:
        """The position of ``doc_id`` in `corpus` (and in `doc_ids`); `KeyError` if absent."""
        return self._doc_index[doc_id]

    def document(self, doc_id: str) -> Document:
        """The document with id ``doc_id``; `KeyError` if absent."""
        return self.corpus[self._doc_index[doc_id]]

    def relevant(self, query_id: str) -> Mapping[str, int]:
        """``{doc_id: grade}`` of the documents judged relevant (grade > 0) for a query."""
        return {d: g for d, g in self.qrels[query_id].items() if g > 0}

    def n_relevant(self, query_id: str) -> int:
        """How many documents are judged relevant (grade > 0) for a query."""
        return sum(1 for g in self.qrels[query_id].values() if g > 0)

    def qrels_dict(self) -> dict[str, dict[str, int]]:
        """The qrels as plain, mutable dicts (a copy), the shape pytrec_eval and ranx take."""
        return {qid: dict(docs) for qid, docs in self.qrels.items()}
