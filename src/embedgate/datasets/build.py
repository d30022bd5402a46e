"""Build a golden dataset from a folder of documents with an LLM, then export what people accepted.

The flow (``embedgate golden build`` and ``embedgate golden export`` are thin wrappers)::

    DOCS_DIR --read--> documents --split--> passages --generate (LLM)--> candidates
        --filter (duplicates, copies, language, reference retrieval)--> review.jsonl
        --a person edits statuses--> export --> corpus.jsonl, queries.jsonl, qrels/test.tsv,
                                                DATASET.md

**Reading.** ``.md``/``.markdown`` (front matter dropped, markup stripped, the first ``#``
heading is the title), ``.txt`` (the first line is the title when a blank line follows it)
and ``.html``/``.htm`` (stdlib `html.parser`; scripts and styles dropped, ``<title>`` or the
first ``<h1>`` is the title) and ``.pdf`` (pypdf, from the ``golden`` extra: its text layer,
page by page; the document's title metadata, else the file name, is the title; a scanned PDF
with no text layer is skipped with the reason). Text files must be UTF-8.

**Splitting.** Passages are windows of ``passage_tokens`` tokens that overlap by ``overlap``
tokens; each keeps its document id, its index in the document and its character and token
positions, and its text is the exact slice of the document between its first and last token.
The tokenizer is `tokenize`: words (runs of letters and digits, with inner apostrophes), each
CJK character, and each punctuation mark are one token. Why not a model's subword tokenizer:
the corpus must not depend on which model is evaluated later (that is the point of a golden
set), the split must be the same on every machine without a download, and character offsets
must map back to the source. Subword tokenizers cut English into about 1.3 pieces per word, so
the default of 160 tokens keeps a passage within the 256-piece window of MiniLM-sized models.

**Generation.** An injected ``generate(prompt, system=...) -> text`` callable (the CLI passes a
chat adapter from `embedgate.models.chat`; this package never imports `embedgate.models`) is
asked for ``per_passage`` queries per passage in varied forms, difficulties and the requested
languages, as JSON. Every reply is paid for, so each passage's candidates are appended to
``candidates.jsonl`` (flushed and synced) as soon as they arrive; a rerun after an interruption
reads them back and asks only for the passages not yet answered. A reply that is not the JSON
asked for is retried once, then recorded as a failure (not asked again unless
``retry_failed``).

**Filtering.** In order, a candidate is rejected when it is empty, in a language that was not
asked for, copies the passage (``copy_ngram`` words in a row, or the whole query of four or
more words, taken from it), or repeats an earlier candidate (case, accents, spacing and
punctuation ignored). A reference retriever (injected: the CLI uses MiniLM through the
embedding cache) then ranks every passage for the rest: a query whose source passage is in its
top ``k`` is ``accepted`` by the builder, any other is left ``pending`` for a person. Every
decision has a reason; a person may overturn any of them in ``review.jsonl``.

**Review file.** ``review.jsonl``, one candidate a line::

    {"id": "q0001", "status": "pending", "reason": "review: ...", "text": "...", "lang": "en",
     "relevant": {"billing-refunds-p1": 2}, "passage": "billing-refunds-p1",
     "form": "question", "difficulty": "easy", "auto_status": "pending",
     "passage_text": "..."}

A person edits ``status`` (``pending``, ``accepted``, ``rejected``), ``reason``, ``text`` and
``relevant`` (more passages, other grades); ``auto_status`` keeps the builder's verdict so the
card can count what people changed, and ``passage_text`` is there to read (edits to it are
ignored). `export` takes the accepted items.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final, Literal, Protocol

from embedgate._optional import import_optional
from embedgate.datasets._io import (
    check_id,
    check_unknown_keys,
    iter_json_objects,
    json_kind,
    plural,
    require_file,
)
from embedgate.datasets.loaders import load_dataset
from embedgate.datasets.types import RetrievalDataset
from embedgate.errors import DatasetError, MissingDependency

__all__ = [
    "PROMPT_VERSION",
    "STATUSES",
    "TOKENIZER",
    "BuildResult",
    "BuildSettings",
    "Candidate",
    "ExportResult",
    "Generate",
    "Passage",
    "ReplyRecord",
    "Retrieve",
    "ReviewItem",
    "SourceDocument",
    "build",
    "build_prompt",
    "collect_candidates",
    "export",
    "lint_summary",
    "longest_common_run",
    "parse_reply",
    "read_documents",
    "read_review",
    "review_candidates",
    "split_passages",
    "tokenize",
    "write_review",
]

Status = Literal["pending", "accepted", "rejected"]
STATUSES: Final = ("pending", "accepted", "rejected")
TOKENIZER: Final = "embedgate-words/1"
PROMPT_VERSION: Final = "embedgate-golden-prompt/1"
CANDIDATES_SCHEMA: Final = "embedgate.golden-candidates/1"
BUILD_SCHEMA: Final = "embedgate.golden-build/1"

PASSAGES_FILE: Final = "passages.jsonl"
CANDIDATES_FILE: Final = "candidates.jsonl"
REVIEW_FILE: Final = "review.jsonl"
BUILD_FILE: Final = "build.json"

_FORMATS: Final[Mapping[str, str]] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
    ".text": "text",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
}
_CJK: Final = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN: Final = re.compile(
    rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+(?:['\u2019](?:(?![{_CJK}])[^\W_])+)*|[^\w\s]|_"
)
_WORD: Final = re.compile(rf"[{_CJK}]|(?:(?![{_CJK}])[^\W_])+")
_REVIEW_KEYS: Final = (
    "id",
    "status",
    "reason",
    "text",
    "lang",
    "relevant",
    "passage",
    "form",
    "difficulty",
    "auto_status",
    "passage_text",
)
_REVIEW_EXAMPLE: Final = (
    '{"id": "q0001", "status": "accepted", "reason": "", "text": "how do refunds work?", '
    '"relevant": {"billing-refunds-p1": 2}}'
)


class Generate(Protocol):
    """One LLM call: ``generate(prompt, system=...) -> reply text`` (a chat adapter's method)."""

    def __call__(self, prompt: str, *, system: str | None = None) -> str: ...


class Retrieve(Protocol):
    """Ranks the passages for each query: ``retrieve(texts, k)`` -> top-k passage ids per text."""

    def __call__(self, texts: Sequence[str], k: int) -> Sequence[Sequence[str]]: ...


#: Called with one line of progress for a person to read (the CLI prints it on stderr).
Progress = Callable[[str], None]


# -- documents --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SourceDocument:
    """One document read from the folder.

    Attributes:
        id: a slug of the relative path without its suffix (``billing/refunds.md`` ->
            ``billing-refunds``), unique in the folder.
        path: the path relative to the folder, with ``/``.
        title: the document's title (heading, ``<title>``, or the file name).
        text: the plain text passages are cut from.
        format: ``markdown``, ``text``, ``html`` or ``pdf``.
        sha256: the hash of the file's bytes, for the card.
    """

    id: str
    path: str
    title: str
    text: str
    format: str
    sha256: str


def read_documents(folder: Path | str) -> tuple[list[SourceDocument], list[tuple[str, str]]]:
    """Every readable document under ``folder`` (recursively, in path order) and what was skipped.

    Returns:
        ``(documents, skipped)``; ``skipped`` holds ``(relative path, why)`` for files of
        other types, and PDFs without a text layer (or without pypdf installed). Hidden files
        and folders are ignored.

    Raises:
        DatasetError: the folder does not exist, holds no readable document, a file is not
            UTF-8, or two files map to the same document id.
    """
    root = Path(folder)
    if not root.is_dir():
        what = (
            "is a file; pass the folder that holds the documents"
            if root.exists()
            else ("does not exist")
        )
        raise DatasetError(f"documents folder {what}.", path=root)
    documents: list[SourceDocument] = []
    skipped: list[tuple[str, str]] = []
    owners: dict[str, str] = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in path.relative_to(root).parts):
            continue
        fmt = _FORMATS.get(path.suffix.lower())
        if fmt is None:
            why = (
                f"{path.suffix or 'no suffix'} is not a document type embedgate reads "
                "(.md, .txt, .html, .pdf)"
            )
            skipped.append((rel, why))
            continue
        raw = path.read_bytes()
        if fmt == "pdf":
            try:
                title, text = _read_pdf(path)
            except (MissingDependency, ValueError) as exc:
                skipped.append((rel, str(exc)))
                continue
        else:
            try:
                source = raw.decode("utf-8").removeprefix("\ufeff")
            except UnicodeDecodeError as exc:
                raise DatasetError(
                    f"is not UTF-8 text (byte {exc.start}). Save it as UTF-8 and build again.",
                    path=path,
                ) from None
            title, text = _PARSERS[fmt](source)
        doc_id = _slug(rel)
        if doc_id in owners:
            raise DatasetError(
                f"gives document id {doc_id!r}, as {owners[doc_id]} does. Rename one of them.",
                path=path,
            )
        owners[doc_id] = rel
        documents.append(
            SourceDocument(
                id=doc_id,
                path=rel,
                title=title or _title_from_name(path),
                text=text,
                format=fmt,
                sha256=hashlib.sha256(raw).hexdigest(),
            )
        )
    if not documents:
        seen = f" Skipped: {'; '.join(f'{p} ({w})' for p, w in skipped[:3])}." if skipped else ""
        raise DatasetError(
            "holds no document to build from: looked for .md, .markdown, .txt, .html, .htm and "
            f".pdf files.{seen}",
            path=root,
        )
    return documents, skipped


def _slug(rel: str) -> str:
    stem = rel.rsplit(".", 1)[0] if "." in rel.rsplit("/", 1)[-1] else rel
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", stem.replace("/", "-")).strip("-")
    return slug or "doc"


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize()


def _clean_lines(lines: Iterable[str]) -> str:
    out: list[str] = []
    for line in lines:
        flat = re.sub(r"[ \t\u00a0]+", " ", line).strip()
        if flat or (out and out[-1]):
            out.append(flat)
    return "\n".join(out).strip()


_MD_LINK: Final = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS: Final = re.compile(r"(\*\*|__|`+|~~)")
_MD_ITALIC: Final = re.compile(r"(?<!\w)[*_]([^*_\n]+)[*_](?!\w)")
_MD_LIST: Final = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_MD_HEADING: Final = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def _parse_markdown(source: str) -> tuple[str, str]:
    lines = source.replace("\r\n", "\n").split("\n")
    if lines and lines[0].strip() == "---":
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
        if end is not None:
            lines = lines[end + 1 :]
    title = ""
    body: list[str] = []
    for line in lines:
        if line.strip().startswith("```") or line.strip().startswith("~~~"):
            continue
        heading = _MD_HEADING.match(line)
        if heading:
            text = heading.group(2)
            if not title and len(heading.group(1)) == 1:
                title = _inline_markdown(text)
                continue
            line = text
        line = _MD_LIST.sub("", line)
        body.append(_inline_markdown(line))
    return title, _clean_lines(body)


def _inline_markdown(text: str) -> str:
    text = _MD_EMPHASIS.sub("", _MD_LINK.sub(r"\1", text))
    return _MD_ITALIC.sub(r"\1", text)


def _read_pdf(path: Path) -> tuple[str, str]:
    """A PDF's title metadata and its text layer, pages separated by blank lines.

    Raises:
        MissingDependency: pypdf is not installed.
        ValueError: the file is not a readable PDF, or has no text layer; the message says why.
    """
    pypdf = import_optional("pypdf", "golden")
    try:
        reader = pypdf.PdfReader(path)
        pages = [page.extract_text() or "" for page in reader.pages]
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except pypdf.errors.PyPdfError as exc:
        raise ValueError(f"not a readable PDF ({exc}); re-export it") from None
    text = _clean_lines("\n\n".join(pages).replace("\r\n", "\n").split("\n"))
    if not text:
        raise ValueError("the PDF has no text layer (a scan?); OCR it first")
    return title, text


def _parse_text(source: str) -> tuple[str, str]:
    lines = source.replace("\r\n", "\n").split("\n")
    first = lines[0].strip() if lines else ""
    if first and len(lines) > 1 and not lines[1].strip() and len(first) <= 120:
        return first, _clean_lines(lines[2:])
    return "", _clean_lines(lines)


class _HTMLText(HTMLParser):
    _BLOCKS: Final = frozenset(
        {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "footer"}
        | {"h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p"}
        | {"pre", "section", "table", "td", "th", "tr", "ul"}
    )
    _SKIP: Final = frozenset({"script", "style", "noscript", "template", "svg"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title = ""
        self.h1 = ""
        self._skip = 0
        self._in_title = False
        self._in_h1 = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._SKIP:
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif tag == "h1" and not self.h1:
            self._in_h1 = True
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        elif tag == "title":
            self._in_title = False
        elif tag == "h1":
            self._in_h1 = False
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._in_title:
            self.title += data
            return
        if self._in_h1:
            self.h1 += data
        self.parts.append(data)


def _parse_html(source: str) -> tuple[str, str]:
    parser = _HTMLText()
    parser.feed(source)
    parser.close()
    title = " ".join((parser.title or parser.h1).split())
    text = _clean_lines("".join(parser.parts).split("\n"))
    if title and text.startswith(title):
        # The <h1> repeats the title; the passage text need not start with it.
        text = text[len(title) :].lstrip()
    return title, text


_PARSERS: Final[Mapping[str, Callable[[str], tuple[str, str]]]] = {
    "markdown": _parse_markdown,
    "text": _parse_text,
    "html": _parse_html,
}


# -- passages ---------------------------------------------------------------------------------


def tokenize(text: str) -> list[tuple[int, int]]:
    """The ``(start, end)`` character spans of ``text``'s tokens.

    A token is a word (letters and digits, with inner apostrophes: ``don't``), one CJK
    character, or one punctuation mark; whitespace separates and is never a token.

    Example:
        >>> [("Don't panic, 42 times!"[a:b]) for a, b in tokenize("Don't panic, 42 times!")]
        ["Don't", 'panic', ',', '42', 'times', '!']
    """
    return [m.span() for m in _TOKEN.finditer(text)]


def _words(text: str) -> list[str]:
    """Lower-cased word tokens without punctuation: what the copy and duplicate checks see."""
    return [w.casefold() for w in _WORD.findall(text)]


@dataclass(frozen=True, slots=True)
class Passage:
    """One window of a document; the unit queries are generated for and judged against.

    Attributes:
        id: ``{document id}-p{index + 1}``.
        doc_id: the document's id; ``source`` is its relative path.
        index: 0-based position of the passage in its document.
        title: the document's title (a model sees ``title + " " + text``).
        text: the exact slice ``document.text[start_char:end_char]``.
        start_char, end_char: the slice in the document's text.
        start_token, end_token: the window in the document's tokens (end exclusive).
    """

    id: str
    doc_id: str
    source: str
    index: int
    title: str
    text: str
    start_char: int
    end_char: int
    start_token: int
    end_token: int

    def to_dict(self) -> dict[str, Any]:
        return {"_id": self.id, **{k: v for k, v in asdict(self).items() if k != "id"}}


def split_passages(
    document: SourceDocument, *, passage_tokens: int = 160, overlap: int = 32
) -> list[Passage]:
    """Cut ``document`` into windows of ``passage_tokens`` tokens overlapping by ``overlap``.

    Windows start at token ``0, step, 2*step, ...`` with ``step = passage_tokens - overlap``;
    the last one ends at the last token, so no tail passage is shorter than ``overlap + 1``
    tokens unless the whole document is. A document without tokens gives no passage.

    Raises:
        DatasetError: ``passage_tokens < 1`` or ``overlap`` not in ``[0, passage_tokens)``.

    Example:
        >>> doc = SourceDocument("d", "d.txt", "T", "a b c d e f g", "text", "")
        >>> [(p.text, p.start_token, p.end_token) for p in split_passages(doc,
        ...     passage_tokens=4, overlap=1)]
        [('a b c d', 0, 4), ('d e f g', 3, 7)]
    """
    if (
        isinstance(passage_tokens, bool)
        or not isinstance(passage_tokens, int)
        or passage_tokens < 1
    ):
        raise DatasetError(f"passage_tokens must be a whole number >= 1, got {passage_tokens!r}.")
    if (
        isinstance(overlap, bool)
        or not isinstance(overlap, int)
        or not 0 <= overlap < passage_tokens
    ):
        raise DatasetError(
            f"overlap must be a whole number from 0 to passage_tokens - 1 ({passage_tokens - 1}), "
            f"got {overlap!r}."
        )
    spans = tokenize(document.text)
    step = passage_tokens - overlap
    passages: list[Passage] = []
    start = 0
    while start < len(spans):
        end = min(start + passage_tokens, len(spans))
        a, b = spans[start][0], spans[end - 1][1]
        passages.append(
            Passage(
                id=f"{document.id}-p{len(passages) + 1}",
                doc_id=document.id,
                source=document.path,
                index=len(passages),
                title=document.title,
                text=document.text[a:b],
                start_char=a,
                end_char=b,
                start_token=start,
                end_token=end,
            )
        )
        if end == len(spans):
            break
        start += step
    return passages


# -- generation -------------------------------------------------------------------------------

SYSTEM_PROMPT: Final = (
    "You write the search queries that real users type to find a passage in a collection of "
    "documents. You reply with one JSON object and nothing else."
)

_PROMPT: Final = """\
Write {n} search queries that the passage below answers.
Languages: {languages}
Spread the queries over these languages; write each query entirely in its language.
Vary the form: questions, short keyword strings, and statements of a problem a user has.
Vary the difficulty: easy (uses the passage's own words), medium (paraphrases them), hard \
(needs understanding; shares few words with the passage).
Each query must be answerable from this passage alone. Do not copy phrases from the passage.
Reply with a JSON object of this shape:
{{"queries": [{{"text": "...", "lang": "en", "form": "question", "difficulty": "easy"}}]}}
where form is question, keywords or problem, and difficulty is easy, medium or hard.

Document title: {title}
Passage:
<<<
{text}
>>>
"""


def build_prompt(passage: Passage, *, per_passage: int, languages: Sequence[str]) -> str:
    """The user prompt for one passage (`SYSTEM_PROMPT` goes with it as the system message)."""
    return _PROMPT.format(
        n=per_passage, languages=", ".join(languages), title=passage.title, text=passage.text
    )


@dataclass(frozen=True, slots=True)
class Candidate:
    """One generated query, as the LLM wrote it."""

    text: str
    lang: str
    form: str = ""
    difficulty: str = ""


class ReplyError(ValueError):
    """A reply that is not the JSON the prompt asked for (internal; retried, then recorded)."""


_FENCE: Final = re.compile(r"^```[A-Za-z]*\s*\n?(.*?)\n?```\s*$", re.S)


def parse_reply(text: str, *, default_lang: str) -> list[Candidate]:
    """The candidates in a reply: ``{"queries": [...]}`` (or a bare list), code fences allowed.

    Each item is an object with a string ``text`` (``lang``, ``form`` and ``difficulty``
    optional; ``lang`` defaults to ``default_lang``) or a plain string.

    Raises:
        ReplyError: not JSON, not that shape, or no query in it; the message says which.

    Example:
        >>> parse_reply('```json\\n{"queries": [{"text": "refund?", "lang": "en"}]}\\n```',
        ...             default_lang="en")
        [Candidate(text='refund?', lang='en', form='', difficulty='')]
    """
    body = text.strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        data = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ReplyError(f"the reply is not JSON ({exc.msg} at column {exc.colno})") from None
    items = data.get("queries") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ReplyError(f'the reply has no "queries" list (found {json_kind(data)})')
    out: list[Candidate] = []
    for n, item in enumerate(items, 1):
        if isinstance(item, str):
            out.append(Candidate(item.strip(), default_lang))
            continue
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            raise ReplyError(f'query {n} of the reply is not an object with a "text" string')
        out.append(
            Candidate(
                text=item["text"].strip(),
                lang=str(item.get("lang") or default_lang).strip(),
                form=str(item.get("form") or "").strip(),
                difficulty=str(item.get("difficulty") or "").strip(),
            )
        )
    if not out:
        raise ReplyError("the reply holds no query")
    return out


@dataclass(frozen=True, slots=True)
class ReplyRecord:
    """What one passage's LLM calls gave: its candidates, or why none were usable."""

    passage: str
    passage_sha: str
    candidates: tuple[Candidate, ...]
    error: str | None = None
    raw: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "kind": "reply",
            "passage": self.passage,
            "passage_sha": self.passage_sha,
            "candidates": [asdict(c) for c in self.candidates],
        }
        if self.error is not None:
            out["error"] = self.error
            out["raw"] = self.raw
        return out


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _generation_settings(llm: str, per_passage: int, languages: Sequence[str]) -> dict[str, Any]:
    return {
        "llm": llm,
        "prompt": PROMPT_VERSION,
        "per_passage": per_passage,
        "languages": list(languages),
    }


def _read_candidates(
    path: Path, settings: Mapping[str, Any]
) -> tuple[dict[str, ReplyRecord], bool]:
    """The replies already paid for, and whether the file needs its last line dropped."""
    if not path.exists():
        return {}, False
    lines = path.read_text(encoding="utf-8").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    records: dict[str, ReplyRecord] = {}
    broken_tail = False
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            if n == len(lines):
                broken_tail = True  # a build killed while writing: that reply is asked again
                break
            raise DatasetError(
                "is not valid JSON. This file holds the LLM's replies as the build wrote them; "
                "delete the line (its passage is asked again) or the file (all are).",
                path=path,
                line=n,
            ) from None
        if not isinstance(obj, dict):
            raise DatasetError("expected a JSON object.", path=path, line=n)
        if obj.get("kind") == "header":
            old = obj.get("settings")
            if old != dict(settings):
                raise DatasetError(
                    f"was generated with other settings ({json.dumps(old)}; now "
                    f"{json.dumps(dict(settings))}). Build with the same --llm, --per-passage and "
                    "--languages to resume, or into another --out folder to start afresh.",
                    path=path,
                    line=n,
                )
            continue
        try:
            record = ReplyRecord(
                passage=str(obj["passage"]),
                passage_sha=str(obj["passage_sha"]),
                candidates=tuple(Candidate(**c) for c in obj["candidates"]),
                error=obj.get("error"),
                raw=obj.get("raw"),
            )
        except (KeyError, TypeError) as exc:
            raise DatasetError(
                f"is not a reply record ({exc}). Delete the line; its passage is asked again.",
                path=path,
                line=n,
            ) from None
        records[record.passage] = record
    return records, broken_tail


def _append_line(handle: Any, obj: Mapping[str, Any]) -> None:
    handle.write(json.dumps(obj, ensure_ascii=False) + "\n")
    handle.flush()
    os.fsync(handle.fileno())


def collect_candidates(
    passages: Sequence[Passage],
    generate: Generate,
    path: Path,
    *,
    llm: str,
    per_passage: int = 4,
    languages: Sequence[str] = ("en",),
    retry_failed: bool = False,
    parse_retries: int = 1,
    progress: Progress | None = None,
) -> dict[str, ReplyRecord]:
    """Ask ``generate`` for each passage not answered in ``path`` yet; append each reply there.

    Args:
        passages: every passage of the build.
        generate: ``generate(prompt, system=...) -> text``.
        path: the ``candidates.jsonl`` sidecar (created with a header line when absent).
        llm: the model's label, recorded in the header (a different model does not resume).
        per_passage: queries asked for per passage.
        languages: language tags the queries are to be written in.
        retry_failed: ask again for passages whose earlier replies were unusable.
        parse_retries: extra requests for a passage whose reply is not the JSON asked for.
        progress: told about each passage.

    Returns:
        ``{passage id: ReplyRecord}`` for every passage.

    Raises:
        DatasetError: the sidecar was made with other settings, or is damaged.
        Exception: whatever ``generate`` raises (no key, a provider failure) after the
            replies so far are on disk.
    """
    if not languages:
        raise DatasetError("languages is empty; name at least one, e.g. ('en',).")
    settings = _generation_settings(llm, per_passage, languages)
    records, broken_tail = _read_candidates(path, settings)
    if broken_tail:
        kept = path.read_text(encoding="utf-8").split("\n")
        kept = [line for line in kept if line.strip()][:-1]
        tmp = path.with_suffix(".tmp")
        tmp.write_text("".join(line + "\n" for line in kept), encoding="utf-8")
        tmp.replace(path)
    fresh = not path.exists() or path.stat().st_size == 0
    todo = [
        p
        for p in passages
        if (r := records.get(p.id)) is None
        or r.passage_sha != _sha(p.text)
        or (retry_failed and r.error is not None)
    ]
    if progress is not None:
        progress(
            f"{len(passages) - len(todo)} of {plural(len(passages), 'passage')} already answered "
            f"in {path.name}; asking {llm} for {len(todo)}"
        )
    if not todo:
        return {p.id: records[p.id] for p in passages}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as handle:
        if fresh:
            _append_line(
                handle, {"kind": "header", "schema": CANDIDATES_SCHEMA, "settings": settings}
            )
        for n, passage in enumerate(todo, 1):
            prompt = build_prompt(passage, per_passage=per_passage, languages=languages)
            error: str | None = None
            raw: str | None = None
            candidates: list[Candidate] = []
            for _attempt in range(parse_retries + 1):
                raw = generate(prompt, system=SYSTEM_PROMPT)
                try:
                    candidates = parse_reply(raw, default_lang=languages[0])
                except ReplyError as exc:
                    error = str(exc)
                    continue
                error, raw = None, None
                break
            record = ReplyRecord(passage.id, _sha(passage.text), tuple(candidates), error, raw)
            _append_line(handle, record.to_dict())
            records[passage.id] = record
            if progress is not None:
                said = (
                    f"unusable reply ({error})" if error else plural(len(candidates), "candidate")
                )
                progress(f"passage {n}/{len(todo)} {passage.id}: {said}")
    return {p.id: records[p.id] for p in passages}


# -- filters and review -----------------------------------------------------------------------


@dataclass(slots=True)
class ReviewItem:
    """One candidate query in the review file."""

    id: str
    status: Status
    reason: str
    text: str
    lang: str
    relevant: dict[str, int]
    passage: str
    form: str = ""
    difficulty: str = ""
    auto_status: str = ""
    passage_text: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in _REVIEW_KEYS}


def longest_common_run(query: Sequence[str], passage: Sequence[str]) -> tuple[int, int]:
    """``(length, start in query)`` of the longest run of consecutive words the two share.

    Example:
        >>> longest_common_run("a b c x".split(), "z a b c d".split())
        (3, 0)
    """
    best = (0, 0)
    previous = [0] * (len(passage) + 1)
    for i, q in enumerate(query, 1):
        current = [0] * (len(passage) + 1)
        for j, p in enumerate(passage, 1):
            if q == p:
                current[j] = previous[j - 1] + 1
                if current[j] > best[0]:
                    best = (current[j], i - current[j])
        previous = current
    return best


def _language_asked(lang: str, wanted: set[str]) -> bool:
    """``en-US`` counts as ``en`` when ``en`` was asked for; ``en`` is not ``en-US``."""
    tag = lang.casefold().replace("_", "-")
    return tag in wanted or tag.split("-", 1)[0] in wanted


def _duplicate_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(c for c in folded if not unicodedata.combining(c))
    return " ".join(_words(stripped))


def review_candidates(
    passages: Sequence[Passage],
    replies: Mapping[str, ReplyRecord],
    *,
    retrieve: Retrieve | None = None,
    reference: str = "the reference model",
    k: int = 5,
    languages: Sequence[str] | None = None,
    copy_ngram: int = 6,
) -> list[ReviewItem]:
    """Filter every candidate and give it a status and a reason (see the module docstring).

    Args:
        passages: the passages, in build order (query ids follow it).
        replies: ``{passage id: ReplyRecord}``.
        retrieve: the reference retriever over the passages; ``None`` leaves every candidate
            that passes the text filters ``pending``.
        reference: the retriever's name, for reasons.
        k: the reference must rank the source passage within its top ``k``.
        languages: the languages asked for; ``None`` accepts any.
        copy_ngram: this many passage words in a row in a query make it a copy.

    Returns:
        One `ReviewItem` per candidate, ids ``q0001``... in passage and reply order.
    """
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise DatasetError(f"k must be a whole number >= 1, got {k!r}.")
    if isinstance(copy_ngram, bool) or not isinstance(copy_ngram, int) or copy_ngram < 2:
        raise DatasetError(f"copy_ngram must be a whole number >= 2, got {copy_ngram!r}.")
    wanted = {lang.casefold().replace("_", "-") for lang in languages} if languages else None
    items: list[ReviewItem] = []
    seen: dict[str, str] = {}
    survivors: list[ReviewItem] = []
    for passage in passages:
        record = replies.get(passage.id)
        if record is None:
            continue
        passage_words = _words(passage.text)
        for c in record.candidates:
            item = ReviewItem(
                id=f"q{len(items) + 1:04d}",
                status="rejected",
                reason="",
                text=c.text,
                lang=c.lang,
                relevant={passage.id: 2},
                passage=passage.id,
                form=c.form,
                difficulty=c.difficulty,
                passage_text=passage.text,
            )
            items.append(item)
            words = _words(c.text)
            key = _duplicate_key(c.text)
            run, at = longest_common_run(words, passage_words)
            if not words:
                item.reason = "empty: the query has no words"
            elif wanted is not None and not _language_asked(c.lang, wanted):
                item.reason = f"language {c.lang!r} was not asked for ({', '.join(sorted(wanted))})"
            elif run >= copy_ngram or (len(words) >= 4 and run == len(words)):
                copied = " ".join(words[at : at + run])
                item.reason = f"copies the passage: {run} words in a row ({copied!r})"
            elif key in seen:
                item.reason = f"duplicate of {seen[key]}"
            else:
                survivors.append(item)
            seen.setdefault(key, item.id)
    if survivors and retrieve is not None:
        rankings = retrieve([s.text for s in survivors], k)
        if len(rankings) != len(survivors):
            raise DatasetError(
                f"the reference retriever returned {len(rankings)} rankings for "
                f"{len(survivors)} queries."
            )
        for item, ranked in zip(survivors, rankings, strict=True):
            top = list(ranked)[:k]
            if item.passage in top:
                item.status = "accepted"
                item.reason = (
                    f"auto: {reference} ranks the source passage {top.index(item.passage) + 1} "
                    f"of its top {k}"
                )
            else:
                item.status = "pending"
                item.reason = (
                    f"review: {reference} does not rank the source passage in its top {k}; "
                    "accept if the passage answers the query, else reject"
                )
    else:
        for item in survivors:
            item.status = "pending"
            item.reason = "review: no reference retrieval check was run"
    for item in items:
        item.auto_status = item.status
    return items


def write_review(path: Path, items: Sequence[ReviewItem]) -> str:
    """Write ``items`` one JSON object a line (atomically); return the file's sha256."""
    text = "".join(json.dumps(i.to_dict(), ensure_ascii=False) + "\n" for i in items)
    _write_atomic(path, text)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def read_review(path: Path, passage_ids: Iterable[str]) -> list[ReviewItem]:
    """Read and check a review file a person has edited.

    Raises:
        DatasetError: naming the file and line: not JSON, an unknown field (with the nearest
            known one), a missing ``id``/``status``/``text``/``relevant``, a status outside
            `STATUSES`, an id that repeats, a grade that is not an integer >= 0, a passage id
            that is not in ``passages.jsonl``, or an accepted item without a relevant passage.
    """
    require_file(path, "It is written by `embedgate golden build`")
    known = set(passage_ids)
    items: list[ReviewItem] = []
    lines: dict[str, int] = {}
    for n, obj in iter_json_objects(path, _REVIEW_EXAMPLE):
        check_unknown_keys(obj, _REVIEW_KEYS, path, n)
        for key in ("id", "status", "text", "relevant"):
            if key not in obj:
                raise DatasetError(
                    f'missing "{key}". Each line needs id, status, text and relevant, e.g. '
                    f"{_REVIEW_EXAMPLE}.",
                    path=path,
                    line=n,
                )
        qid = check_id(obj["id"], "query id", path, n)
        if qid in lines:
            raise DatasetError(
                f"id {qid!r} repeats line {lines[qid]}. Give each item its own id.",
                path=path,
                line=n,
            )
        lines[qid] = n
        status = obj["status"]
        if status not in STATUSES:
            raise DatasetError(
                f'"status" is {json_kind(status)}; use one of "pending", "accepted", "rejected".',
                path=path,
                line=n,
            )
        text = obj["text"]
        if not isinstance(text, str) or (status == "accepted" and not text.strip()):
            raise DatasetError(
                f'"text" must be the query, a non-empty string; found {json_kind(text)}.',
                path=path,
                line=n,
            )
        relevant = obj["relevant"]
        if not isinstance(relevant, dict):
            raise DatasetError(
                f'"relevant" must map passage ids to grades, e.g. {{"billing-refunds-p1": 2}}; '
                f"found {json_kind(relevant)}.",
                path=path,
                line=n,
            )
        for pid, grade in relevant.items():
            if pid not in known:
                raise DatasetError(
                    f'passage {pid!r} in "relevant" is not in {PASSAGES_FILE}. Use an id '
                    f"from that file (e.g. {next(iter(sorted(known)), 'none')!r}).",
                    path=path,
                    line=n,
                )
            if type(grade) is not int or grade < 0:
                raise DatasetError(
                    f"grade of {pid!r} is {json_kind(grade)}; use an integer: 2 = answers the "
                    "query, 1 = related, 0 = judged not relevant.",
                    path=path,
                    line=n,
                )
        if status == "accepted" and not any(g > 0 for g in relevant.values()):
            raise DatasetError(
                f'item {qid!r} is accepted but no passage in "relevant" has a grade above 0. '
                "Grade its answer 2, or reject the item.",
                path=path,
                line=n,
            )
        extras = {}
        for key in ("reason", "lang", "passage", "form", "difficulty", "auto_status"):
            value = obj.get(key, "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise DatasetError(
                    f'"{key}" must be a string, found {json_kind(value)}.', path=path, line=n
                )
            extras[key] = value
        items.append(
            ReviewItem(
                id=qid,
                status=status,
                text=text.strip(),
                relevant=dict(relevant),
                passage_text=str(obj.get("passage_text") or ""),
                **extras,
            )
        )
    return items


# -- the build --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BuildSettings:
    """Everything that decides what a build writes.

    Attributes:
        passage_tokens, overlap: the window (see `split_passages`).
        per_passage: queries asked for per passage.
        languages: language tags the queries are to be written in; the first is the default.
        llm: the chat model's label (``openai gpt-4o-mini``), for the sidecar and the card.
        llm_settings: its identity (endpoint, temperature; never a key), for the card.
        reference: the reference retriever's name, ``""`` when none is used.
        k: the reference must rank a query's passage within its top ``k``.
        copy_ngram: see `review_candidates`.
        retry_failed: ask again for passages whose replies were unusable.
    """

    passage_tokens: int = 160
    overlap: int = 32
    per_passage: int = 4
    languages: tuple[str, ...] = ("en",)
    llm: str = ""
    llm_settings: Mapping[str, Any] = field(default_factory=dict)
    reference: str = ""
    k: int = 5
    copy_ngram: int = 6
    retry_failed: bool = False

    def __post_init__(self) -> None:
        if not self.languages or any(
            not isinstance(lang, str)
            or not re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*", lang)
            for lang in self.languages
        ):
            raise DatasetError(
                f"languages must be language tags such as en, de, pt-BR; got {self.languages!r}."
            )
        if (
            isinstance(self.per_passage, bool)
            or not isinstance(self.per_passage, int)
            or not (1 <= self.per_passage <= 20)
        ):
            raise DatasetError(
                f"per_passage must be a whole number from 1 to 20, got {self.per_passage!r}."
            )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["languages"] = list(self.languages)
        out["llm_settings"] = dict(self.llm_settings)
        out["tokenizer"] = TOKENIZER
        out["prompt"] = PROMPT_VERSION
        return out


@dataclass(frozen=True, slots=True)
class BuildResult:
    """What `build` wrote, with counts for the summary line.

    Attributes:
        folder: the build folder.
        documents, passages: how many were read and cut.
        answered: passages with a usable reply (from this run or an earlier one).
        candidates: candidate queries in the review file.
        statuses: candidates per status.
        failed_replies: passages whose replies were unusable.
        skipped: ``(relative path, why)`` of files not read.
    """

    folder: Path
    documents: int
    passages: int
    answered: int
    candidates: int
    statuses: Mapping[str, int]
    failed_replies: int
    skipped: tuple[tuple[str, str], ...]


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def _read_json(path: Path) -> dict[str, Any]:
    require_file(path, "It is written by `embedgate golden build`")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(
            f"is not valid JSON ({exc.msg}, line {exc.lineno}). Build again to rewrite it.",
            path=path,
        ) from None
    if not isinstance(data, dict):
        raise DatasetError("expected a JSON object. Build again to rewrite it.", path=path)
    return data


def build(
    docs_dir: Path | str,
    out_dir: Path | str,
    *,
    generate: Generate,
    settings: BuildSettings,
    make_retriever: Callable[[Sequence[Passage]], Retrieve] | None = None,
    overwrite_review: bool = False,
    progress: Progress | None = None,
) -> BuildResult:
    """Read, split, generate (resuming), filter, and write the review file.

    Writes into ``out_dir``: ``passages.jsonl``, ``candidates.jsonl`` (the paid replies,
    appended as they arrive), ``review.jsonl`` and ``build.json`` (settings, sources, counts).

    Args:
        docs_dir: the folder of documents.
        out_dir: the build folder (later also the exported dataset).
        generate: the LLM call (see `collect_candidates`).
        settings: see `BuildSettings`.
        make_retriever: builds the reference retriever over the passages; called once, after
            generation, only when some candidate needs the check.
        overwrite_review: replace a review file that a person has edited since the last build.
        progress: told what happens, one line at a time.

    Raises:
        DatasetError: bad documents or settings, a damaged sidecar, or an edited review file
            without ``overwrite_review``.
        Exception: what ``generate`` or the retriever raise; replies so far are kept.
    """
    docs_dir, out = Path(docs_dir), Path(out_dir)
    say = progress or (lambda _line: None)
    documents, skipped = read_documents(docs_dir)
    passages = [
        p
        for d in documents
        for p in split_passages(d, passage_tokens=settings.passage_tokens, overlap=settings.overlap)
    ]
    if not passages:
        raise DatasetError("the documents hold no text to cut into passages.", path=docs_dir)
    say(f"{plural(len(documents), 'document')} -> {plural(len(passages), 'passage')}")
    for rel, why in skipped:
        say(f"skipped {rel}: {why}")
    review_path = out / REVIEW_FILE
    build_path = out / BUILD_FILE
    if review_path.exists() and not overwrite_review:
        written = _read_json(build_path).get("review_sha256") if build_path.exists() else None
        now = hashlib.sha256(review_path.read_bytes()).hexdigest()
        if written != now:
            raise DatasetError(
                "has been edited since the build wrote it, and building again would replace "
                "the edits. Export it first (embedgate golden export), move it away, or pass "
                "--overwrite-review.",
                path=review_path,
            )
    out.mkdir(parents=True, exist_ok=True)
    _write_atomic(
        out / PASSAGES_FILE,
        "".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in passages),
    )
    replies = collect_candidates(
        passages,
        generate,
        out / CANDIDATES_FILE,
        llm=settings.llm,
        per_passage=settings.per_passage,
        languages=settings.languages,
        retry_failed=settings.retry_failed,
        progress=say,
    )
    retriever = None
    if make_retriever is not None and any(r.candidates for r in replies.values()):
        say(f"checking candidates with {settings.reference or 'the reference retriever'}")
        retriever = make_retriever(passages)
    items = review_candidates(
        passages,
        replies,
        retrieve=retriever,
        reference=settings.reference or "the reference retriever",
        k=settings.k,
        languages=settings.languages,
        copy_ngram=settings.copy_ngram,
    )
    review_sha = write_review(review_path, items)
    statuses: Counter[str] = Counter(i.status for i in items)
    failed = sum(1 for r in replies.values() if r.error is not None)
    record = {
        "schema": BUILD_SCHEMA,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "docs_dir": str(docs_dir),
        "settings": settings.to_dict(),
        "sources": [
            {
                "path": d.path,
                "id": d.id,
                "format": d.format,
                "sha256": d.sha256,
                "passages": sum(1 for p in passages if p.doc_id == d.id),
            }
            for d in documents
        ],
        "skipped": [{"path": p, "why": w} for p, w in skipped],
        "counts": {
            "documents": len(documents),
            "passages": len(passages),
            "candidates": len(items),
            "failed_replies": failed,
            **{s: statuses.get(s, 0) for s in STATUSES},
        },
        "reasons": dict(Counter(_reason_kind(i.reason) for i in items if i.status == "rejected")),
        "review_sha256": review_sha,
    }
    _write_atomic(build_path, json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    say(
        f"{plural(len(items), 'candidate')}: {statuses.get('accepted', 0)} accepted, "
        f"{statuses.get('pending', 0)} pending, {statuses.get('rejected', 0)} rejected; "
        f"review {review_path}"
    )
    if failed:
        say(f"{plural(failed, 'passage')} got unusable replies; --retry-failed asks again")
    return BuildResult(
        folder=out,
        documents=len(documents),
        passages=len(passages),
        answered=sum(1 for r in replies.values() if r.error is None),
        candidates=len(items),
        statuses=dict(statuses),
        failed_replies=failed,
        skipped=tuple(skipped),
    )


def _reason_kind(reason: str) -> str:
    return reason.split(":", 1)[0].split(" of ", 1)[0].strip() or "by a reviewer"


# -- export -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ExportResult:
    """The exported dataset and what the card says."""

    folder: Path
    dataset: RetrievalDataset
    card: str


def _read_passages(path: Path) -> list[dict[str, Any]]:
    require_file(path, "It is written by `embedgate golden build`")
    rows = []
    for n, obj in iter_json_objects(path, '{"_id": "doc-p1", "title": "", "text": "..."}'):
        if not isinstance(obj.get("_id"), str) or not isinstance(obj.get("text"), str):
            raise DatasetError(
                'needs "_id" and "text" strings. Build again to rewrite the file.',
                path=path,
                line=n,
            )
        rows.append(obj)
    return rows


def lint_summary(dataset: RetrievalDataset) -> str:
    """The golden-set lint's markdown report, run without any model (`embedgate.datasets.lint`).

    This is the card's hook: the lint is called with no embedding callables, so only the checks
    that need no model run (their notes say which were skipped).
    """
    from embedgate.datasets.lint import lint

    return lint(dataset).to_markdown()


def export(
    build_dir: Path | str,
    out_dir: Path | str | None = None,
    *,
    name: str | None = None,
    lint: Callable[[RetrievalDataset], str] | None = lint_summary,
) -> ExportResult:
    """Turn the accepted items of a build's review file into a BEIR dataset with a card.

    Writes ``corpus.jsonl`` (every passage: unjudged ones are the distractors a real search
    faces), ``queries.jsonl`` (accepted items; ``lang`` and ``tags`` form, difficulty,
    source), ``qrels/test.tsv`` and ``DATASET.md``, then loads the folder back to check it and
    to take its fingerprint.

    Args:
        build_dir: the folder `build` wrote.
        out_dir: where to write; default ``build_dir`` itself.
        name: the dataset's name in the card; default the folder's.
        lint: ``dataset -> markdown`` for the card's lint section; ``None`` leaves it out.

    Raises:
        DatasetError: a missing or damaged build file, a review-file error (file and line), or
            no accepted item.
    """
    src = Path(build_dir)
    out = Path(out_dir) if out_dir is not None else src
    record = _read_json(src / BUILD_FILE)
    passages = _read_passages(src / PASSAGES_FILE)
    items = read_review(src / REVIEW_FILE, [p["_id"] for p in passages])
    accepted = [i for i in items if i.status == "accepted"]
    if not accepted:
        counts = Counter(i.status for i in items)
        raise DatasetError(
            f"holds no accepted item ({counts.get('pending', 0)} pending, "
            f'{counts.get("rejected", 0)} rejected). Set "status" to "accepted" on the '
            "queries to keep, then export again.",
            path=src / REVIEW_FILE,
        )
    out.mkdir(parents=True, exist_ok=True)
    corpus = "".join(
        json.dumps(
            {
                "_id": p["_id"],
                "title": p.get("title") or "",
                "text": p["text"],
                "metadata": {
                    "source": p.get("source"),
                    "start_char": p.get("start_char"),
                    "end_char": p.get("end_char"),
                },
            },
            ensure_ascii=False,
        )
        + "\n"
        for p in passages
    )
    queries = "".join(
        json.dumps(
            {
                "_id": i.id,
                "text": i.text,
                **({"lang": i.lang} if i.lang else {}),
                "tags": {
                    k: v
                    for k, v in (
                        ("form", i.form),
                        ("difficulty", i.difficulty),
                        ("passage", i.passage),
                        ("decided_by", "builder" if i.status == i.auto_status else "reviewer"),
                    )
                    if v
                },
            },
            ensure_ascii=False,
        )
        + "\n"
        for i in accepted
    )
    qrels = "query-id\tcorpus-id\tscore\n" + "".join(
        f"{i.id}\t{pid}\t{grade}\n" for i in accepted for pid, grade in i.relevant.items()
    )
    _write_atomic(out / "corpus.jsonl", corpus)
    _write_atomic(out / "queries.jsonl", queries)
    _write_atomic(out / "qrels" / "test.tsv", qrels)
    dataset = load_dataset(out, name=name)
    lint_text = lint(dataset) if lint is not None else None
    card = _card(dataset, record, items, lint_text)
    _write_atomic(out / "DATASET.md", card)
    return ExportResult(out, dataset, card)


def _demote(markdown: str) -> str:
    """``markdown`` with every heading two levels down, to nest under the card's section."""
    return "\n".join(
        f"##{line}" if line.startswith("#") else line for line in markdown.strip().splitlines()
    )


def _table(rows: Sequence[Sequence[Any]], header: Sequence[str]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return lines


def _card(
    dataset: RetrievalDataset,
    record: Mapping[str, Any],
    items: Sequence[ReviewItem],
    lint_text: str | None,
) -> str:
    settings = record.get("settings", {})
    accepted = [i for i in items if i.status == "accepted"]
    statuses = Counter(i.status for i in items)
    changed = sum(1 for i in items if i.auto_status and i.status != i.auto_status)
    languages = Counter(i.lang or "unstated" for i in accepted)
    forms = Counter(i.form or "unstated" for i in accepted)
    reasons = Counter(_reason_kind(i.reason) for i in items if i.status == "rejected")
    lines = [
        f"# {dataset.name}: a golden dataset built with embedgate",
        "",
        f"Built from {plural(len(record.get('sources', [])), 'document')} by "
        f"`embedgate golden build`: an LLM ({settings.get('llm') or 'unnamed'}) wrote candidate "
        "queries for each passage, filters and a reference retriever sorted them, and people "
        "reviewed `review.jsonl`. Only accepted items are in the dataset.",
        "",
        f"Fingerprint: `{dataset.fingerprint}`",
        "",
        "## Counts",
        "",
        *_table(
            [
                ("documents", len(record.get("sources", []))),
                ("passages (corpus)", len(dataset.corpus)),
                ("candidates generated", len(items)),
                ("accepted (queries)", statuses.get("accepted", 0)),
                ("pending (left out)", statuses.get("pending", 0)),
                ("rejected", statuses.get("rejected", 0)),
                ("statuses changed by a reviewer", changed),
                ("judgements (qrels)", dataset.n_judgements),
                (
                    "passages with unusable LLM replies",
                    record.get("counts", {}).get("failed_replies", 0),
                ),
            ],
            ("what", "count"),
        ),
        "",
        "Rejections by reason: "
        + (", ".join(f"{k} {v}" for k, v in sorted(reasons.items())) or "none")
        + ".",
        "",
        "## Languages and forms of the accepted queries",
        "",
        *_table(sorted(languages.items()), ("language", "queries")),
        "",
        *_table(sorted(forms.items()), ("form", "queries")),
        "",
        "## Sources",
        "",
        *_table(
            [
                (
                    f"`{s.get('path')}`",
                    s.get("format"),
                    s.get("passages"),
                    str(s.get("sha256"))[:16],
                )
                for s in record.get("sources", [])
            ],
            ("file", "format", "passages", "sha256 (first 16)"),
        ),
        "",
    ]
    if record.get("skipped"):
        lines += [
            "Skipped: "
            + "; ".join(f"`{s.get('path')}` ({s.get('why')})" for s in record["skipped"])
            + ".",
            "",
        ]
    llm_settings = settings.get("llm_settings") or {}
    lines += [
        "## Generation settings",
        "",
        *_table(
            [
                ("LLM", settings.get("llm")),
                *((f"LLM {k}", v) for k, v in sorted(llm_settings.items())),
                ("prompt", settings.get("prompt")),
                ("queries asked per passage", settings.get("per_passage")),
                ("languages asked for", ", ".join(settings.get("languages", []))),
                ("passage size (tokens)", settings.get("passage_tokens")),
                ("overlap (tokens)", settings.get("overlap")),
                ("tokenizer", settings.get("tokenizer")),
                ("copy filter (words in a row)", settings.get("copy_ngram")),
                ("reference retriever", settings.get("reference") or "none"),
                ("reference top k", settings.get("k")),
            ],
            ("setting", "value"),
        ),
        "",
        "## Lint",
        "",
        _demote(lint_text) if lint_text else "Not run.",
        "",
    ]
    return "\n".join(lines)
