"""Load a retrieval dataset from a folder, in the BEIR layout or the golden format.

Two layouts are read. `load_dataset` tells them apart by the files in the folder.

**The golden format** is the one to write by hand: a folder with two JSON Lines files
(UTF-8, one JSON object a line, blank lines ignored)::

    support_faq/
    ├── corpus.jsonl    {"_id": "d1", "title": "Refunds", "text": "Money back within 14 days."}
    └── golden.jsonl    {"id": "q1", "text": "Can I get my money back?",
                         "relevant": {"d1": 2, "d7": 1},
                         "lang": "en", "tags": {"topic": "billing", "kind": "paraphrase"}}

``corpus.jsonl``, one document a line:

- ``_id`` (required; ``id`` is accepted as an alias): a string, unique in the file.
- ``text`` (required): a string; an empty one is allowed and reported as a warning.
- ``title`` (optional): a string or null. A model sees ``title + " " + text`` (how BEIR and
  MTEB feed titled corpora). Other fields (BEIR's ``metadata``) are ignored.

``golden.jsonl``, one query a line, in the order reports list them:

- ``id`` (required; ``_id`` is accepted as an alias): a string, unique in the file.
- ``text`` (required): the query, a non-empty string.
- ``relevant`` (required): an object mapping doc ids of ``corpus.jsonl`` to integer grades:
  ``2`` = answers the query, ``1`` = related, ``0`` = judged not relevant (kept, so a lint can
  tell "judged, not relevant" from "never looked at"). Larger grades are allowed for finer
  scales; negative ones are not. A query whose ``relevant`` is ``{}`` is not evaluated (a
  warning says so), which lets you draft queries before judging them.
- ``lang`` (optional): a language tag such as ``"de"``; reports can slice by it.
- ``tags`` (optional): an object of string labels (``{"topic": "billing"}``) to slice by.

No other field is accepted in ``golden.jsonl``, so a typo (``relevent``) is an error, not a
silently unjudged query. A golden set has no splits: it is always split ``"test"``.

**The BEIR layout**: ``corpus.jsonl`` as above, ``queries.jsonl`` (``_id``, ``text``; optional
``lang`` and ``tags`` as in golden.jsonl; other fields ignored) and ``qrels/<split>.tsv``,
tab-separated with the header ``query-id	corpus-id	score`` and one integer grade per
(query, document) pair. Only the queries judged in the split are evaluated, in the order of
``queries.jsonl``.

Decisions every loader shares:

- Ids are strings. A JSON integer id (``{"_id": 12}``) is accepted and read as ``"12"``, as
  hand-written files often have them; floats, booleans and null are refused. An id may not
  be empty or carry surrounding whitespace, tabs or line breaks. Fields of the qrels TSV are
  stripped of surrounding spaces.
- Grades are integers ``>= 0``; ``> 0`` is relevant. ``1.0``, ``true`` and ``-1`` are refused
  (negative grades are read differently by trec_eval, pytrec_eval and ranx).
- A judgement that repeats an earlier one with the same grade is a warning; with another
  grade it is an error.
- Line ends may be ``\\n`` or ``\\r\\n``; a UTF-8 byte-order mark is skipped.
- Oddities real data has (empty documents, repeated texts, unjudged queries, queries without
  a relevant document) are collected on `RetrievalDataset.warnings`, one per kind and file
  with a count. Loaders never call `warnings.warn`; front ends do, via `DatasetWarning.emit`.
- The default name is the folder's name; when that is a language code (two letters, with an
  optional region or script: ``en``, ``pt-BR``, ``zh_Hans``) the parent's name is put in
  front, so ``xquad-retrieval/en`` is ``"xquad-retrieval-en"``. Pass ``name=`` to choose.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from embedgate.datasets._io import (
    WarningLog,
    check_id,
    check_unknown_keys,
    get_id,
    get_language,
    get_str,
    get_tags,
    iter_json_objects,
    iter_lines,
    json_kind,
    plural,
    require_file,
    some,
)
from embedgate.datasets.types import DatasetWarning, Document, Query, RetrievalDataset
from embedgate.errors import DatasetError

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["Layout", "default_name", "detect_layout", "load_beir", "load_dataset", "load_golden"]

Layout = Literal["beir", "golden"]

QRELS_HEADER = ("query-id", "corpus-id", "score")
GOLDEN_KEYS = ("id", "_id", "text", "relevant", "lang", "tags")

_DOC_EXAMPLE = '{"_id": "d1", "title": "Refunds", "text": "Money back within 14 days."}'
_QUERY_EXAMPLE = '{"_id": "q1", "text": "Can I get my money back?"}'
_GOLDEN_EXAMPLE = '{"id": "q1", "text": "Can I get my money back?", "relevant": {"d1": 2}}'
_GRADES = "2 = answers the query, 1 = related, 0 = judged not relevant"
_INTEGER = re.compile(r"-?[0-9]+")
_LANGUAGE_DIR = re.compile(r"[a-z]{2}([-_][A-Za-z0-9]{2,8})?")

PathLike = str | os.PathLike[str]


def default_name(folder: PathLike) -> str:
    """The name a dataset gets when none is given.

    Example:
        >>> default_name("datasets/scifact"), default_name("datasets/xquad-retrieval/en")
        ('scifact', 'xquad-retrieval-en')
    """
    p = Path(folder).absolute()
    if _LANGUAGE_DIR.fullmatch(p.name) and p.parent.name:
        return f"{p.parent.name}-{p.name}"
    return p.name


def detect_layout(folder: PathLike) -> Layout:
    """Which layout a dataset folder holds: ``"golden"`` or ``"beir"``.

    Raises:
        DatasetError: the folder does not exist, holds both layouts, or neither. The message
            lists what was looked for and what is there.
    """
    p = Path(folder)
    if not p.is_dir():
        what = "is a file; pass the folder that holds it" if p.exists() else "does not exist"
        raise DatasetError(f"dataset folder {what}.", path=p)
    has_golden = (p / "golden.jsonl").is_file()
    has_beir = (p / "corpus.jsonl").is_file() and (p / "qrels").is_dir()
    if has_golden and has_beir:
        raise DatasetError(
            "holds both golden.jsonl (golden format) and qrels/ (BEIR layout), so which "
            "judgements count is ambiguous. Keep one of the two, or move one to its own folder.",
            path=p,
        )
    if has_golden:
        return "golden"
    if has_beir:
        return "beir"
    found = sorted(c.name + ("/" if c.is_dir() else "") for c in p.iterdir())
    nested = [c.rstrip("/") for c in found if c.endswith("/") and _is_dataset(p / c)]
    hint = (
        f" Its sub-folders {', '.join(nested)} hold datasets: pass one of them." if nested else ""
    )
    raise DatasetError(
        "no dataset found: looked for golden.jsonl (golden format: corpus.jsonl + golden.jsonl) "
        "and for corpus.jsonl with a qrels/ folder (BEIR layout: corpus.jsonl, queries.jsonl, "
        f"qrels/<split>.tsv). The folder holds: {some(found, 12) or 'nothing'}.{hint}",
        path=p,
    )


def _is_dataset(p: Path) -> bool:
    return (p / "golden.jsonl").is_file() or (
        (p / "corpus.jsonl").is_file() and (p / "qrels").is_dir()
    )


def load_dataset(path: PathLike, split: str = "test", name: str | None = None) -> RetrievalDataset:
    """Load a retrieval dataset folder in whichever layout it holds.

    Args:
        path: the dataset folder.
        split: the qrels split of a BEIR folder (``qrels/<split>.tsv``); a golden folder has
            only ``"test"``.
        name: the dataset's name; by default from the folder (see `default_name`).

    Returns:
        The dataset, with the oddities found in ``.warnings``.

    Raises:
        DatasetError: the folder holds no dataset, or a file in it is malformed. The message
            names the file, the line and the value, and says how to fix it.

    Example:
        >>> ds = load_dataset("../shared/datasets/scifact")
        >>> len(ds.corpus), len(ds.queries), ds.n_judgements
        (5183, 300, 339)
        >>> [w.code for w in ds.warnings]
        ['unjudged-query']
    """
    if detect_layout(path) == "golden":
        return load_golden(path, split=split, name=name)
    return load_beir(path, split=split, name=name)


def load_beir(path: PathLike, split: str = "test", name: str | None = None) -> RetrievalDataset:
    """Load a folder in the BEIR layout: corpus.jsonl, queries.jsonl, qrels/<split>.tsv.

    Args:
        path: the dataset folder.
        split: which ``qrels/<split>.tsv`` holds the judgements.
        name: the dataset's name; by default from the folder (see `default_name`).

    Returns:
        The corpus in file order, the queries judged in ``split`` in the order of
        queries.jsonl, their qrels and the warnings.

    Raises:
        DatasetError: a missing file or split, or a malformed line (see the module docstring).
    """
    folder = Path(path)
    if not folder.is_dir():
        detect_layout(folder)  # raises with the reason
    corpus_path = folder / "corpus.jsonl"
    queries_path = folder / "queries.jsonl"
    qrels_path = folder / "qrels" / f"{split}.tsv"
    require_file(corpus_path, "A BEIR folder needs corpus.jsonl, one document a line")
    require_file(queries_path, "A BEIR folder needs queries.jsonl, one query a line")
    _require_split(qrels_path, split)

    log = WarningLog()
    corpus, doc_lines = _read_corpus(corpus_path, log)
    queries: list[Query] = []
    query_lines: dict[str, int] = {}
    for n, obj in iter_json_objects(queries_path, _QUERY_EXAMPLE):
        qid = get_id(obj, "query id", queries_path, n, _QUERY_EXAMPLE)
        _check_unique(qid, "query id", query_lines, queries_path, n)
        text = get_str(obj, "text", queries_path, n, required=True, example=_QUERY_EXAMPLE)
        lang = get_language(obj, queries_path, n)
        tags = get_tags(obj, queries_path, n)
        queries.append(Query(qid, text, lang, tags))
    if not queries:
        raise DatasetError(
            f"holds no queries. Add one JSON object a line, e.g. {_QUERY_EXAMPLE}.",
            path=queries_path,
        )

    qrels, judged_lines = _read_qrels(qrels_path, query_lines, doc_lines, log)
    evaluated = [q for q in queries if q.id in qrels]
    for q in queries:
        if q.id not in qrels:
            log.add("unjudged-query", queries_path, query_lines[q.id], repr(q.id))
    n_queries = len(queries)
    for q in evaluated:
        _check_query_text(q, queries_path, query_lines[q.id])
    _note_evaluated(evaluated, query_lines, judged_lines, qrels, queries_path, qrels_path, log)
    return RetrievalDataset(
        name=name or default_name(folder),
        path=folder,
        split=split,
        corpus=tuple(corpus),
        queries=tuple(evaluated),
        qrels=qrels,
        warnings=_fold(log, qrels_path, n_queries),
    )


def load_golden(path: PathLike, split: str = "test", name: str | None = None) -> RetrievalDataset:
    """Load a folder in the golden format: corpus.jsonl and golden.jsonl.

    Args:
        path: the dataset folder.
        split: must be ``"test"``: a golden set has no other split.
        name: the dataset's name; by default from the folder (see `default_name`).

    Returns:
        The corpus in file order, the judged queries in file order, their qrels and warnings.

    Raises:
        DatasetError: a missing file, another split, or a malformed line (see the module
            docstring).
    """
    folder = Path(path)
    if not folder.is_dir():
        detect_layout(folder)  # raises with the reason
    corpus_path = folder / "corpus.jsonl"
    golden_path = folder / "golden.jsonl"
    if split != "test":
        raise DatasetError(
            f"a golden set has no split {split!r}: golden.jsonl is always split 'test'. Leave "
            "split at its default, or use the BEIR layout (qrels/<split>.tsv) for several splits.",
            path=golden_path,
        )
    require_file(golden_path, "A golden set needs golden.jsonl, one judged query a line")
    require_file(corpus_path, "A golden set needs corpus.jsonl next to golden.jsonl")

    log = WarningLog()
    corpus, doc_lines = _read_corpus(corpus_path, log)
    queries: list[Query] = []
    query_lines: dict[str, int] = {}
    qrels: dict[str, dict[str, int]] = {}
    n_queries = 0
    for n, obj in iter_json_objects(golden_path, _GOLDEN_EXAMPLE):
        qid = get_id(obj, "query id", golden_path, n, _GOLDEN_EXAMPLE)
        check_unknown_keys(obj, GOLDEN_KEYS, golden_path, n)
        _check_unique(qid, "query id", query_lines, golden_path, n)
        text = get_str(obj, "text", golden_path, n, required=True, example=_GOLDEN_EXAMPLE)
        query = Query(qid, text, get_language(obj, golden_path, n), get_tags(obj, golden_path, n))
        relevant = _golden_relevant(obj, doc_lines, golden_path, n)
        n_queries += 1
        if not relevant:
            log.add("unjudged-query", golden_path, n, repr(qid))
            continue
        _check_query_text(query, golden_path, n)
        queries.append(query)
        qrels[qid] = relevant
    if n_queries == 0:
        raise DatasetError(
            f"holds no queries. Add one judged query a line, e.g. {_GOLDEN_EXAMPLE}.",
            path=golden_path,
        )
    if not queries:
        raise DatasetError(
            f'no query has a judgement: every "relevant" is empty. Judge at least one '
            f"document per query ({_GRADES}).",
            path=golden_path,
        )
    _note_evaluated(queries, query_lines, query_lines, qrels, golden_path, golden_path, log)
    return RetrievalDataset(
        name=name or default_name(folder),
        path=folder,
        split=split,
        corpus=tuple(corpus),
        queries=tuple(queries),
        qrels=qrels,
        warnings=_fold(log, golden_path, n_queries),
    )


def _require_split(qrels_path: Path, split: str) -> None:
    if qrels_path.is_file():
        return
    qrels_dir = qrels_path.parent
    if not qrels_dir.is_dir():
        raise DatasetError(
            f"no qrels/ folder, so split {split!r} has no judgements. Put them in "
            f"qrels/{split}.tsv (header query-id<TAB>corpus-id<TAB>score).",
            path=qrels_dir.parent,
        )
    splits = sorted(p.stem for p in qrels_dir.glob("*.tsv") if p.is_file())
    there = (
        f"Splits here: {', '.join(splits)}; pass one of them as split."
        if splits
        else "qrels/ holds no .tsv file."
    )
    raise DatasetError(f"no qrels for split {split!r}: file not found. {there}", path=qrels_path)


def _check_unique(key: str, what: str, seen: dict[str, int], path: Path, line: int) -> None:
    first = seen.setdefault(key, line)
    if first != line:
        raise DatasetError(
            f"{what} {key!r} already appeared on line {first}. Ids must be unique: drop the "
            "copy or give it another id.",
            path=path,
            line=line,
        )


def _check_query_text(query: Query, path: Path, line: int) -> None:
    if not query.text.strip():
        raise DatasetError(
            f"query {query.id!r} is judged but its text is empty. Write the query or drop it.",
            path=path,
            line=line,
        )


def _read_corpus(path: Path, log: WarningLog) -> tuple[list[Document], dict[str, int]]:
    corpus: list[Document] = []
    lines: dict[str, int] = {}
    first_by_text: dict[str, str] = {}
    for n, obj in iter_json_objects(path, _DOC_EXAMPLE):
        doc_id = get_id(obj, "doc id", path, n, _DOC_EXAMPLE)
        _check_unique(doc_id, "doc id", lines, path, n)
        title = get_str(obj, "title", path, n, required=False, example=_DOC_EXAMPLE)
        text = get_str(obj, "text", path, n, required=True, example=_DOC_EXAMPLE)
        doc = Document(doc_id, title, text)
        corpus.append(doc)
        full = doc.full_text
        if not full.strip():
            log.add("empty-document", path, n, repr(doc_id))
            continue
        earlier = first_by_text.setdefault(full, doc_id)
        if earlier != doc_id:
            log.add("duplicate-text", path, n, f"{doc_id!r} (same as {earlier!r})")
    if not corpus:
        raise DatasetError(
            f"holds no documents. Add one JSON object a line, e.g. {_DOC_EXAMPLE}.", path=path
        )
    return corpus, lines


def _parse_grade(value: object, path: Path, line: int, where: str, *, cell: bool) -> int:
    """An integer grade >= 0 from a TSV cell (``cell=True``) or a JSON value."""
    grade: int | None = None
    if cell and isinstance(value, str) and _INTEGER.fullmatch(value):
        grade = int(value)
    elif not cell and isinstance(value, int) and not isinstance(value, bool):
        grade = value
    if grade is None:
        shown = repr(value) if cell else json_kind(value)
        unquote = f" without quotes: {value}" if isinstance(value, str) and not cell else ""
        raise DatasetError(
            f"{where} {shown} is not an integer. Use a whole number{unquote} ({_GRADES}).",
            path=path,
            line=line,
        )
    if grade < 0:
        raise DatasetError(
            f"{where} {grade} is negative. Use 0 for judged not relevant ({_GRADES}), or drop "
            "the judgement.",
            path=path,
            line=line,
        )
    return grade


def _read_qrels(
    path: Path,
    query_lines: Mapping[str, int],
    doc_lines: Mapping[str, int],
    log: WarningLog,
) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """The judgements of one qrels file, and the first line each query is judged on."""
    qrels: dict[str, dict[str, int]] = {}
    first_line: dict[str, int] = {}
    judged_on: dict[tuple[str, str], int] = {}
    header_seen = False
    expected = "\t".join(QRELS_HEADER)
    for n, text in iter_lines(path):
        cells = [c.strip() for c in text.split("\t")]
        if not header_seen:
            header_seen = True
            if tuple(cells) == QRELS_HEADER:
                continue
            if len(cells) == 3 and _INTEGER.fullmatch(cells[2]):
                raise DatasetError(
                    f"missing header: the first line must be {expected!r}, found the "
                    f"judgement {text!r}. Add the header as line 1.",
                    path=path,
                    line=n,
                )
            raise DatasetError(
                f"unexpected header {text!r}; expected {expected!r} (three tab-separated "
                "column names). Fix the first line.",
                path=path,
                line=n,
            )
        if len(cells) != 3:
            raise DatasetError(
                f"expected 3 tab-separated columns (query-id, corpus-id, score), found "
                f"{len(cells)}: {text!r}.{_columns_hint(text)}",
                path=path,
                line=n,
            )
        qid = check_id(cells[0], "query id", path, n)
        doc_id = check_id(cells[1], "doc id", path, n)
        grade = _parse_grade(cells[2], path, n, "score", cell=True)
        if qid not in query_lines:
            raise DatasetError(
                f"query id {qid!r} is not in queries.jsonl. Fix the id or drop the line.",
                path=path,
                line=n,
            )
        if doc_id not in doc_lines:
            raise DatasetError(
                f"doc id {doc_id!r} is not in corpus.jsonl. Fix the id or drop the line.",
                path=path,
                line=n,
            )
        first = judged_on.setdefault((qid, doc_id), n)
        if first != n:
            earlier = qrels[qid][doc_id]
            if earlier != grade:
                raise DatasetError(
                    f"query {qid!r} and doc {doc_id!r} were judged {earlier} on line {first}; "
                    f"this line says {grade}. Keep one of the two lines.",
                    path=path,
                    line=n,
                )
            log.add("duplicate-judgement", path, n, f"{qid!r}/{doc_id!r} (line {first})")
            continue
        qrels.setdefault(qid, {})[doc_id] = grade
        first_line.setdefault(qid, n)
    if not header_seen:
        raise DatasetError(
            f"is empty. Write the header {expected!r} and one judgement a line.", path=path
        )
    if not qrels:
        raise DatasetError(
            "holds a header but no judgements. Add one line per (query, document) pair.",
            path=path,
        )
    return qrels, first_line


def _columns_hint(text: str) -> str:
    words = text.split()
    if len(words) == 3:
        return " The columns look separated by spaces: use tabs."
    if len(words) == 4:
        return (
            " It looks like a TREC qrels line (query-id, iteration, doc-id, score): drop the "
            "second column and separate the rest with tabs."
        )
    return " Write query-id<TAB>corpus-id<TAB>score."


def _golden_relevant(
    obj: Mapping[str, Any], doc_lines: Mapping[str, int], path: Path, line: int
) -> dict[str, int]:
    if "relevant" not in obj:
        raise DatasetError(
            f'missing required field "relevant", the judged documents. Add it, e.g. '
            f'"relevant": {{"d1": 2, "d7": 1}} ({_GRADES}).',
            path=path,
            line=line,
        )
    value = obj["relevant"]
    if not isinstance(value, dict):
        raise DatasetError(
            f'"relevant" must be an object of doc ids to grades, e.g. {{"d1": 2, "d7": 1}} '
            f"({_GRADES}); found {json_kind(value)}.",
            path=path,
            line=line,
        )
    relevant: dict[str, int] = {}
    for doc_id, grade in value.items():
        check_id(doc_id, '"relevant" doc id', path, line)
        relevant[doc_id] = _parse_grade(
            grade, path, line, f"grade of doc {doc_id!r} is", cell=False
        )
        if doc_id not in doc_lines:
            raise DatasetError(
                f'"relevant" names doc id {doc_id!r}, which is not in corpus.jsonl. Fix the id '
                'or remove it from "relevant".',
                path=path,
                line=line,
            )
    return relevant


def _note_evaluated(
    queries: list[Query],
    query_lines: Mapping[str, int],
    judged_lines: Mapping[str, int],
    qrels: Mapping[str, Mapping[str, int]],
    queries_path: Path,
    qrels_path: Path,
    log: WarningLog,
) -> None:
    first_by_text: dict[str, str] = {}
    for q in queries:
        if not any(g > 0 for g in qrels[q.id].values()):
            log.add("query-without-relevant", qrels_path, judged_lines[q.id], repr(q.id))
        earlier = first_by_text.setdefault(q.text, q.id)
        if earlier != q.id:
            log.add(
                "duplicate-query-text",
                queries_path,
                query_lines[q.id],
                f"{q.id!r} (same as {earlier!r})",
            )


def _fold(log: WarningLog, qrels_path: Path, n_queries: int) -> tuple[DatasetWarning, ...]:
    if qrels_path.parent.name == "qrels":
        unjudged = f"have no judgements in qrels/{qrels_path.name} and are not evaluated"
    else:
        unjudged = 'have an empty "relevant" and are not evaluated'
    return log.fold(
        {
            "empty-document": lambda n, ids: (
                f"{plural(n, 'document has', 'documents have')} no title and no text: "
                f"{ids}. They stay in the corpus (a model embeds an empty string); fill them "
                "in or drop them if that is not intended."
            ),
            "duplicate-text": lambda n, pairs: (
                f"{plural(n, 'document repeats', 'documents repeat')} the title and text of "
                f"an earlier one: {pairs}. A model cannot tell them apart; drop "
                "the copies or judge them alike."
            ),
            "unjudged-query": lambda n, ids: f"{n} of {n_queries} queries {unjudged}: {ids}.",
            "query-without-relevant": lambda n, ids: (
                f"{plural(n, 'judged query has', 'judged queries have')} no relevant document "
                f"(every grade is 0): {ids}. No ranking can find a relevant document for "
                "them; add one or drop the query."
            ),
            "duplicate-query-text": lambda n, pairs: (
                f"{plural(n, 'evaluated query repeats', 'evaluated queries repeat')} the text "
                f"of an earlier one: {pairs}. Check that the copies are meant."
            ),
            "duplicate-judgement": lambda n, pairs: (
                f"{plural(n, 'judgement line repeats', 'judgement lines repeat')} an earlier "
                f"line with the same grade: {pairs}. The repeats are ignored; drop them."
            ),
        }
    )
