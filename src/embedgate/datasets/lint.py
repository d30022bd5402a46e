"""The golden-set lint: is a dataset clean, diverse and big enough to trust its verdicts?

A bad golden set makes every later verdict worthless, and its defects (duplicate documents,
leaked queries, unjudged items) are usually found only after the numbers were trusted. `lint`
runs every check on a loaded `RetrievalDataset` and returns one `LintReport`: findings with a
severity, the diversity distributions, and an exit status a CI job can use.

Checks (ids as they appear in reports; severities as set here):

==========================  ========  ==========================================================
check                       severity  finds
==========================  ========  ==========================================================
``load-error``              error     the folder cannot be loaded (`lint_folder` only)
``unknown-id``              error     qrels naming a query or document that does not exist
``empty-document``          warning   documents with no title and no text
``short-text``              warning   queries under ``min_query_chars``; documents under
                                      ``min_document_words`` words (info)
``duplicate-document``      warning   documents with the same text (case and spacing ignored);
                                      error when a query grades the copies differently
``near-duplicate-document`` warning   document pairs with cosine >= ``near_duplicate``
``duplicate-query``         warning   queries with the same text
``near-duplicate-query``    warning   query pairs with cosine >= ``near_duplicate``
``too-long``                warning   texts longer than a model's max tokens (truncated)
``unjudged-query``          warning   queries without judgements in this split (read from the
                                      loader's warnings: they are not in the dataset)
``duplicate-judgement``     info      repeated qrels lines (from the loader's warnings)
``no-relevant``             error     judged queries whose every grade is 0
``leakage``                 warning   queries whose text appears inside a relevant document
``lexical-overlap``         info      the share of queries BM25 answers at rank 1; warning at
                                      ``lexical_warn_share`` or more
``topic-coverage``          info      the share of document clusters the queries reach;
                                      warning below ``min_topic_coverage``
``language-mismatch``       info      queries whose stated language is not the detected one
``adequacy``                info      the minimum detectable effect from results; warning when
                                      it exceeds ``target_effect`` or with few queries
==========================  ========  ==========================================================

The loader already notes some of these (`DatasetWarning`). Checks that can be computed from the
dataset (empty and duplicate documents, duplicate queries, queries without a relevant document)
are computed here, from the data, and those loader warnings are not repeated; what the dataset
no longer holds (queries dropped as unjudged, repeated qrels lines) is read from the loader's
warnings. So each defect is reported once.

Anything that needs a model comes in as a callable, because `embedgate.datasets` never imports
`embedgate.models`: ``embed_documents`` and ``embed_queries`` (texts -> vectors) for the
near-duplicate and topic checks, ``lexical_top1`` for the BM25 check (`bm25_top1` by default),
`TokenLimit` with a token counter for the length check. The CLI wires the models and the
embedding cache in.

Example:
    >>> from embedgate.datasets import Document, Query, RetrievalDataset
    >>> ds = RetrievalDataset("toy", None, "test",
    ...     (Document("d1", "", "Money back within 14 days."), Document("d2", "", "")),
    ...     (Query("q1", "refund"),), {"q1": {"d1": 2}})
    >>> report = lint(ds, lexical_top1=None, detect_language=None)
    >>> [(f.check, f.severity, f.ids) for f in report.findings if f.check == "empty-document"]
    [('empty-document', 'warning', ('d2',))]
    >>> report.exit_status("error"), report.exit_status("warning")
    (0, 1)
"""

from __future__ import annotations

import functools
import importlib
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, Protocol

import numpy as np
import numpy.typing as npt

from embedgate.datasets._io import plural, some
from embedgate.datasets.loaders import PathLike, detect_layout, load_dataset
from embedgate.datasets.types import RetrievalDataset
from embedgate.errors import DatasetError, MissingDependency

__all__ = [
    "CHECKS",
    "EmbedFn",
    "Finding",
    "LexicalTop1",
    "LintOptions",
    "LintReport",
    "ScoredResult",
    "Severity",
    "TokenLimit",
    "bm25_top1",
    "detect_languages",
    "document_clusters",
    "failed_report",
    "find_unknown_ids",
    "lint",
    "lint_folder",
    "query_form",
    "word_count",
]

Severity = Literal["error", "warning", "info"]
_RANK: Final = {"info": 0, "warning": 1, "error": 2}

#: Every check id, in report order.
CHECKS: Final = (
    "load-error",
    "unknown-id",
    "empty-document",
    "short-text",
    "duplicate-document",
    "near-duplicate-document",
    "duplicate-query",
    "near-duplicate-query",
    "too-long",
    "unjudged-query",
    "duplicate-judgement",
    "no-relevant",
    "leakage",
    "lexical-overlap",
    "topic-coverage",
    "language-mismatch",
    "adequacy",
)

#: texts -> ``(len(texts), dim)`` vectors (normalized here, so any scale will do).
EmbedFn = Callable[[Sequence[str]], npt.NDArray[np.float32]]
#: dataset -> ``{query id: the id of the document ranked first, or None}``.
LexicalTop1 = Callable[[RetrievalDataset], Mapping[str, str | None]]
#: texts -> ``[(language code, confidence)]``.
DetectLanguage = Callable[[Sequence[str]], Sequence[tuple[str, float]]]

# Han, kana, hangul: each character counts as one word (these scripts do not space words).
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_WORD = re.compile(rf"[{_CJK}]|[^\W{_CJK}]+")
# en, de, es, fr and zh question words; a query opening with one is a question.
_QUESTION_WORD_TEXT: Final = (
    "what which who whom whose when where why how is are was were do does did can could "
    "should would will shall may might has have had am "
    "wer wen wem wessen wann wo woher wohin warum weshalb wieso wie welche welcher welches "
    "kann können darf muss gibt ist sind hat haben "
    "qué que quién quiénes cuál cuáles cuándo dónde por cómo cuánto cuánta cuántos cuántas "
    "puedo puede hay es son "
    "quoi quel quelle quels quelles qui quand où pourquoi comment combien est puis peut "
    "什么 哪 谁 何 为什么 怎么 怎样 如何 多少 几"
)
_QUESTION_WORDS: Final = frozenset(_QUESTION_WORD_TEXT.split())
_ZH_QUESTION = re.compile(r"(吗|呢|什么|哪|谁|为什么|怎么|如何|多少|几)")


class ScoredResult(Protocol):
    """What the adequacy check reads of an evaluation (`embedgate.evaluation.Evaluation`)."""

    @property
    def model(self) -> str: ...

    @property
    def fingerprint(self) -> str: ...

    @property
    def per_query(self) -> Mapping[str, Mapping[str, float]]: ...


@dataclass(frozen=True, slots=True)
class TokenLimit:
    """A model's input window, for the ``too-long`` check.

    Attributes:
        model: the model's name, as reports show it.
        max_tokens: tokens the model reads; the rest of a text is cut off.
        count: texts -> token counts with the model's own tokenizer (special tokens
            included). ``None`` estimates 4/3 tokens a word (a WordPiece or BPE tokenizer's
            usual rate on English; each CJK character is one word), and reports say so.
    """

    model: str
    max_tokens: int
    count: Callable[[Sequence[str]], Sequence[int]] | None = None


@dataclass(frozen=True, slots=True)
class LintOptions:
    """Thresholds of the checks; the defaults suit a retrieval golden set.

    Attributes:
        near_duplicate: cosine similarity at or above which two texts are near duplicates.
        min_document_words: documents with fewer words are reported as short (info).
        min_query_chars: queries with fewer non-space characters are reported as short.
        leakage_min_words: a query must have this many words before its text inside a
            relevant document counts as leakage (a one-word keyword query is meant to match).
        lexical_warn_share: the BM25-at-rank-1 share at which the set is called too easy for
            word overlap (it cannot then tell a semantic model from BM25).
        topic_clusters: k-means clusters of the documents; ``None`` picks
            ``clamp(round(sqrt(n_documents / 2)), 2, 50)`` (a common rule of thumb).
        min_topic_coverage: the share of clusters the queries must reach to pass quietly.
        min_queries: fewer evaluated queries is a warning (30 is where a paired test's
            normal approximation starts to hold).
        target_effect: the difference in the main metric the set should detect at ``power``.
        alpha: significance level for the minimum detectable effect.
        power: target power for the minimum detectable effect.
        seed: seeds k-means and every sample, so a report is reproducible.
        max_language_documents: documents sampled (seeded) for language identification.
        memory_budget: bytes a block of the near-duplicate similarity may take.
        examples: ids or pairs quoted per finding.
    """

    near_duplicate: float = 0.95
    min_document_words: int = 5
    min_query_chars: int = 3
    leakage_min_words: int = 4
    lexical_warn_share: float = 0.9
    topic_clusters: int | None = None
    min_topic_coverage: float = 0.5
    min_queries: int = 30
    target_effect: float = 0.02
    alpha: float = 0.05
    power: float = 0.8
    seed: int = 0
    max_language_documents: int = 2000
    memory_budget: int = 64 * 2**20
    examples: int = 5

    def __post_init__(self) -> None:
        if not 0.0 < self.near_duplicate <= 1.0:
            raise DatasetError(
                f"near_duplicate {self.near_duplicate!r} is not a cosine similarity in (0, 1]; "
                "use e.g. 0.95."
            )
        for name in ("lexical_warn_share", "min_topic_coverage"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise DatasetError(f"{name} {value!r} is not a share in [0, 1].")
        if not self.target_effect > 0:
            raise DatasetError(
                f"target_effect {self.target_effect!r} must be a difference > 0, e.g. 0.02."
            )
        if self.topic_clusters is not None and self.topic_clusters < 2:
            raise DatasetError(f"topic_clusters {self.topic_clusters!r} must be at least 2.")


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing the lint found.

    Attributes:
        check: the check id (see `CHECKS`).
        severity: ``"error"`` (verdicts on this set are wrong until fixed), ``"warning"``
            (they may be weaker than they look), ``"info"`` (know this about your set).
        message: what was found, naming ids, and the fix.
        count: how many items (documents, queries, pairs) it concerns.
        ids: every id concerned (pairs as ``"a~b"``).
        examples: a few illustrations (texts, pairs with their similarity).
    """

    check: str
    severity: Severity
    message: str
    count: int = 1
    ids: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "severity": self.severity,
            "count": self.count,
            "message": self.message,
            "ids": list(self.ids),
            "examples": list(self.examples),
        }


@dataclass(frozen=True, slots=True)
class LintReport:
    """The result of `lint`: findings, distributions, and what was not checked.

    Attributes:
        dataset: the dataset's name; ``split`` and ``fingerprint`` identify the content.
        counts: documents, queries (evaluated), judgements.
        findings: in `CHECKS` order, most severe first within a check.
        diversity: the distributions (lengths, query forms, languages, topics, relevant
            documents per query), JSON-ready.
        notes: checks that were skipped and why.
    """

    dataset: str
    split: str
    fingerprint: str
    counts: Mapping[str, int]
    findings: tuple[Finding, ...]
    diversity: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def exit_status(self, fail_on: Literal["error", "warning"] = "error") -> int:
        """1 when a finding is at least as severe as ``fail_on``, else 0."""
        if fail_on not in ("error", "warning"):
            raise DatasetError(f"fail_on {fail_on!r} must be 'error' or 'warning'.")
        return int(any(_RANK[f.severity] >= _RANK[fail_on] for f in self.findings))

    def by_check(self) -> dict[str, list[Finding]]:
        out: dict[str, list[Finding]] = {}
        for f in self.findings:
            out.setdefault(f.check, []).append(f)
        return out

    def summary(self) -> dict[str, dict[str, int]]:
        """``{check: {severity: items}}``: the counts per check."""
        out: dict[str, dict[str, int]] = {}
        for f in self.findings:
            per = out.setdefault(f.check, {})
            per[f.severity] = per.get(f.severity, 0) + f.count
        return out

    def severities(self) -> dict[str, int]:
        """Findings per severity."""
        counts = Counter(f.severity for f in self.findings)
        return {s: counts.get(s, 0) for s in ("error", "warning", "info")}

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (``embedgate.lint/1``)."""
        return {
            "schema": "embedgate.lint/1",
            "dataset": {"name": self.dataset, "split": self.split, "fingerprint": self.fingerprint},
            "counts": dict(self.counts),
            "severities": self.severities(),
            "summary": self.summary(),
            "findings": [f.to_dict() for f in self.findings],
            "diversity": self.diversity,
            "notes": list(self.notes),
        }

    def _headline(self) -> str:
        s = self.severities()
        counts = ", ".join(f"{v} {k}" for k, v in self.counts.items())
        return (
            f"{self.dataset} ({self.split}; {counts}; fingerprint {self.fingerprint[:12]}): "
            f"{plural(s['error'], 'error')}, {plural(s['warning'], 'warning')}, {s['info']} info"
        )

    def to_text(self) -> str:
        """The terminal report."""
        lines = [f"golden lint: {self._headline()}", ""]
        for f in self.findings:
            lines.append(f"{f.severity.upper():<8}{f.check} ({f.count}): {f.message}")
            lines.extend(f"          e.g. {x}" for x in f.examples)
        lines += ["", "diversity:"]
        lines += [f"  {line}" for line in _diversity_lines(self.diversity)]
        if self.notes:
            lines += ["", "not checked:"]
            lines += [f"  {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        """The report as markdown: a findings table, then the distributions."""
        lines = [f"# golden lint: {self.dataset}", "", self._headline(), ""]
        if self.findings:
            lines += ["| severity | check | count | finding |", "| --- | --- | ---: | --- |"]
            for f in self.findings:
                text = f.message + "".join(f"<br>e.g. {x}" for x in f.examples)
                lines.append(f"| {f.severity} | `{f.check}` | {f.count} | {_md_cell(text)} |")
        else:
            lines.append("No findings.")
        lines += ["", "## Diversity", ""]
        lines += [f"- {_md_cell(line)}" for line in _diversity_lines(self.diversity)]
        if self.notes:
            lines += ["", "## Not checked", ""]
            lines += [f"- {_md_cell(n)}" for n in self.notes]
        return "\n".join(lines) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _diversity_lines(d: Mapping[str, Any]) -> list[str]:
    lines = []
    for key in ("query_words", "document_words"):
        if key in d:
            q = d[key]
            lines.append(
                f"{key.replace('_', ' ')}: min {q['min']}, p10 {q['p10']}, median {q['p50']}, "
                f"p90 {q['p90']}, max {q['max']}, mean {q['mean']}"
            )
    if "query_forms" in d:
        lines.append("query forms: " + _shares(d["query_forms"]))
    if "relevant_per_query" in d:
        r = d["relevant_per_query"]
        lines.append(f"relevant documents per query: {_shares(r['histogram'])} (mean {r['mean']})")
    for key in ("query_languages", "document_languages", "stated_query_languages"):
        if key in d:
            lines.append(f"{key.replace('_', ' ')}: {_shares(d[key])}")
    if "topics" in d:
        t = d["topics"]
        lines.append(
            f"topics: queries reach {t['reached']} of {t['clusters']} document clusters "
            f"({t['share']:.0%}; k-means on document embeddings, seed {t['seed']})"
        )
    return lines


def _shares(counts: Mapping[str, int]) -> str:
    total = sum(counts.values()) or 1
    return ", ".join(f"{k} {v} ({v / total:.0%})" for k, v in counts.items())


# ---------------------------------------------------------------------------------------------
# Text helpers


def word_count(text: str) -> int:
    """Words in ``text``: runs of letters or digits, each CJK character one word.

    Example:
        >>> word_count("Can I get my money back?"), word_count("如何重置密码")
        (6, 6)
    """
    return len(_WORD.findall(text))


def _normalized(text: str) -> str:
    """Case and spacing folded, punctuation dropped: what "the same text" means here."""
    return " ".join(_WORD.findall(text.casefold()))


def query_form(text: str) -> Literal["question", "keyword", "statement"]:
    """A heuristic: ``question`` ends with ``?`` or opens with a question word (en, de, es, fr,
    zh); ``keyword`` is up to 4 words without final punctuation; the rest is ``statement``.

    Example:
        >>> query_form("how do I delete a project"), query_form("refund annual plan")
        ('question', 'keyword')
        >>> query_form("my invoice shows the wrong VAT number.")
        'statement'
    """
    stripped = text.strip()
    if stripped.endswith(("?", "\uff1f")) or stripped.startswith("¿"):
        return "question"
    words = _WORD.findall(stripped.casefold())
    if words and words[0] in _QUESTION_WORDS:
        return "question"
    if _ZH_QUESTION.search(stripped):
        return "question"
    if len(words) <= 4 and not stripped.endswith((".", "!", "。")):
        return "keyword"
    return "statement"


def _quantiles(values: Sequence[int]) -> dict[str, float]:
    if not values:
        return {"min": 0, "p10": 0, "p50": 0, "p90": 0, "max": 0, "mean": 0}
    a = np.asarray(values, dtype=np.float64)
    p10, p50, p90 = np.percentile(a, [10, 50, 90])
    return {
        "min": int(a.min()),
        "p10": round(float(p10), 1),
        "p50": round(float(p50), 1),
        "p90": round(float(p90), 1),
        "max": int(a.max()),
        "mean": round(float(a.mean()), 2),
    }


@functools.cache
def _language_identifier() -> Any:
    from embedgate._optional import import_optional

    langid = import_optional("py3langid.langid", "golden", package="py3langid")
    # An own instance: py3langid's module-level classifier is shared global state.
    return langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)


def detect_languages(texts: Sequence[str]) -> list[tuple[str, float]]:
    """``(ISO 639-1 code, probability)`` per text, with py3langid (offline, 97 languages).

    ``("und", 0.0)`` for a text without letters.

    Raises:
        MissingDependency: py3langid is not installed (``pip install 'embedgate[golden]'``).

    Example:
        >>> [lang for lang, _ in detect_languages(["Wie setze ich mein Passwort zurück?"])]
        ['de']
    """
    identifier = _language_identifier()
    out: list[tuple[str, float]] = []
    for text in texts:
        if not _WORD.search(text):
            out.append(("und", 0.0))
            continue
        lang, conf = identifier.classify(text)
        out.append((str(lang), float(conf)))
    return out


def bm25_top1(dataset: RetrievalDataset) -> dict[str, str | None]:
    """The document BM25 ranks first for each query (Anserini's BEIR settings), or None.

    Raises:
        MissingDependency: bm25s or PyStemmer is not installed.
    """
    from embedgate.retrieval.lexical import BM25Retriever

    run = BM25Retriever().search(
        dataset.doc_texts, dataset.doc_ids, dataset.query_texts, dataset.query_ids, k=1
    )
    top: dict[str, str | None] = {}
    for row, qid in enumerate(run.query_ids):
        i = int(run.indices[row, 0])
        top[qid] = run.doc_ids[i] if i >= 0 else None
    return top


# ---------------------------------------------------------------------------------------------
# The lint


def lint(
    dataset: RetrievalDataset,
    *,
    embed_documents: EmbedFn | None = None,
    embed_queries: EmbedFn | None = None,
    lexical_top1: LexicalTop1 | None = bm25_top1,
    token_limits: Sequence[TokenLimit] = (),
    results: Sequence[ScoredResult] = (),
    detect_language: DetectLanguage | None = detect_languages,
    options: LintOptions | None = None,
) -> LintReport:
    """Run every check on ``dataset``.

    Args:
        dataset: the loaded dataset; its loader warnings are read for what it no longer holds.
        embed_documents: document texts -> vectors, for the near-duplicate and topic checks;
            ``None`` skips them (a note says so).
        embed_queries: query texts -> vectors, for near-duplicate queries.
        lexical_top1: the BM25 check; ``None`` skips it.
        token_limits: one per model whose window the texts must fit.
        results: evaluations of models on this dataset (same fingerprint) for the adequacy
            check; the first is the baseline.
        detect_language: the language identifier (`detect_languages`); ``None`` skips it.
        options: thresholds; `LintOptions` defaults when ``None``.

    Returns:
        The `LintReport`.
    """
    opts = options or LintOptions()
    linter = _Linter(dataset, opts)
    linter.loader_warnings()
    linter.texts()
    linter.exact_duplicates()
    linter.judgements()
    linter.leakage()
    doc_vectors = None
    if embed_documents is not None:
        doc_vectors = _unit(embed_documents(dataset.doc_texts), len(dataset.corpus), "documents")
        linter.near_duplicates("document", dataset.doc_ids, doc_vectors)
        linter.topics(doc_vectors)
    else:
        linter.notes.append(
            "near-duplicate-document, topic-coverage: no document embeddings (pass a model)."
        )
    if embed_queries is not None:
        query_vectors = _unit(embed_queries(dataset.query_texts), len(dataset.queries), "queries")
        linter.near_duplicates("query", dataset.query_ids, query_vectors)
    else:
        linter.notes.append("near-duplicate-query: no query embeddings (pass a model).")
    for limit in token_limits:
        linter.too_long(limit)
    if lexical_top1 is not None:
        try:
            linter.lexical(lexical_top1(dataset))
        except MissingDependency as exc:  # bm25s is an optional extra
            linter.notes.append(f"lexical-overlap: {exc}.")
    else:
        linter.notes.append("lexical-overlap: no lexical retriever given.")
    if detect_language is not None:
        try:
            linter.languages(detect_language)
        except MissingDependency as exc:  # py3langid is an optional extra
            linter.notes.append(f"languages, language-mismatch: {exc}.")
    else:
        linter.notes.append("languages, language-mismatch: no language identifier given.")
    linter.adequacy(results)
    linter.distributions()
    return linter.report()


def _unit(vectors: npt.ArrayLike, n: int, what: str) -> npt.NDArray[np.float32]:
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] != n:
        raise DatasetError(
            f"the embedding function returned shape {x.shape} for {n} {what}; it must return "
            "one vector (row) per text."
        )
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: npt.NDArray[np.float32] = (x / norms).astype(np.float32)
    return out


class _Linter:
    """Runs the checks one by one, collecting findings and distributions."""

    def __init__(self, dataset: RetrievalDataset, opts: LintOptions) -> None:
        self.ds = dataset
        self.opts = opts
        self.findings: list[Finding] = []
        self.notes: list[str] = []
        self.diversity: dict[str, Any] = {}
        self.duplicate_docs: set[frozenset[str]] = set()
        self.duplicate_queries: set[frozenset[str]] = set()
        self.doc_words = [word_count(t) for t in dataset.doc_texts]
        self.judged_by: dict[str, list[str]] = {}
        self.query_index = {q: i for i, q in enumerate(dataset.query_ids)}

    def add(
        self,
        check: str,
        severity: Severity,
        message: str,
        ids: Sequence[str] = (),
        examples: Sequence[str] = (),
        count: int | None = None,
    ) -> None:
        self.findings.append(
            Finding(
                check,
                severity,
                message,
                len(ids) if count is None else count,
                tuple(ids),
                tuple(examples[: self.opts.examples]),
            )
        )

    def report(self) -> LintReport:
        order = {c: i for i, c in enumerate(CHECKS)}
        findings = sorted(
            self.findings, key=lambda f: (order.get(f.check, len(order)), -_RANK[f.severity])
        )
        return LintReport(
            dataset=self.ds.name,
            split=self.ds.split,
            fingerprint=self.ds.fingerprint,
            counts={
                "documents": len(self.ds.corpus),
                "queries": len(self.ds.queries),
                "judgements": self.ds.n_judgements,
            },
            findings=tuple(findings),
            diversity=self.diversity,
            notes=tuple(self.notes),
        )

    # -- what only the loader saw -----------------------------------------------------------

    def loader_warnings(self) -> None:
        for w in self.ds.warnings:
            if w.code == "unjudged-query":
                self.add("unjudged-query", "warning", str(w), count=w.count)
            elif w.code == "duplicate-judgement":
                self.add("duplicate-judgement", "info", str(w), count=w.count)
            # empty-document, duplicate-text, duplicate-query-text, query-without-relevant:
            # computed below from the data, so a dataset built in memory gets them too.

    # -- clean --------------------------------------------------------------------------------

    def texts(self) -> None:
        ds, opts = self.ds, self.opts
        empty = [d.id for d in ds.corpus if not d.full_text.strip()]
        if empty:
            self.add(
                "empty-document",
                "warning",
                f"{plural(len(empty), 'document has', 'documents have')} no title and no text: "
                f"{_ids(empty)}. A model embeds an empty string for them, which lands near "
                "every short query; fill them in or drop them.",
                empty,
            )
        short_docs = [
            d.id
            for d, n in zip(ds.corpus, self.doc_words, strict=True)
            if d.full_text.strip() and n < opts.min_document_words
        ]
        if short_docs:
            self.add(
                "short-text",
                "info",
                f"{plural(len(short_docs), 'document has', 'documents have')} fewer than "
                f"{opts.min_document_words} words: {_ids(short_docs)}. Check that they are "
                "whole passages, not fragments of a failed conversion.",
                short_docs,
                [f"{d}: {ds.document(d).full_text!r}" for d in short_docs],
            )
        short_queries = [
            q.id for q in ds.queries if len("".join(q.text.split())) < opts.min_query_chars
        ]
        if short_queries:
            self.add(
                "short-text",
                "warning",
                f"{plural(len(short_queries), 'query has', 'queries have')} fewer than "
                f"{opts.min_query_chars} characters: {_ids(short_queries)}. Such a query "
                "rarely says what it wants; rewrite it as a user would type it.",
                short_queries,
                [f"{q.id}: {q.text!r}" for q in ds.queries if q.id in set(short_queries)],
            )

    def exact_duplicates(self) -> None:
        ds = self.ds
        groups = _groups((d.id, _normalized(d.full_text)) for d in ds.corpus if d.full_text.strip())
        if groups:
            self.duplicate_docs = {frozenset(g) for g in groups}
            inconsistent = self._judged_differently(groups)
            copies = [doc for g in groups for doc in g[1:]]
            text = (
                f"{plural(len(copies), 'document repeats', 'documents repeat')} the text of "
                f"another (case and spacing ignored), in {plural(len(groups), 'group')}: "
                f"{some(['='.join(g) for g in groups], self.opts.examples)}. A model cannot "
                "tell copies apart, so which one ranks first is chance"
            )
            if inconsistent:
                self.add(
                    "duplicate-document",
                    "error",
                    f"{text}; {plural(len(inconsistent), 'query grades', 'queries grade')} "
                    f"copies differently ({some(inconsistent, self.opts.examples)}; unjudged "
                    "counts as 0), so "
                    "their scores depend on that chance. Drop the copies, or grade every "
                    "copy alike.",
                    copies,
                    [f"{q}" for q in inconsistent],
                )
            else:
                self.add(
                    "duplicate-document",
                    "warning",
                    f"{text}. Drop the copies (keep one id) so the corpus size is honest.",
                    copies,
                )
        qgroups = _groups((q.id, _normalized(q.text)) for q in ds.queries)
        if qgroups:
            self.duplicate_queries = {frozenset(g) for g in qgroups}
            copies = [q for g in qgroups for q in g[1:]]
            self.add(
                "duplicate-query",
                "warning",
                f"{plural(len(copies), 'query repeats', 'queries repeat')} the text of another: "
                f"{some(['='.join(g) for g in qgroups], self.opts.examples)}. Each copy "
                "counts again in every mean and test; drop them or merge their judgements.",
                copies,
            )

    def _judged_differently(self, groups: Sequence[Sequence[str]]) -> list[str]:
        """``"q (d1=2, d2=0)"`` for each query that grades copies of one document apart."""
        out = []
        for group in groups:
            for qid in self._judging(group):
                grades = self.ds.qrels[qid]
                seen = {d: grades.get(d, 0) for d in group}
                if len(set(seen.values())) > 1:
                    shown = ", ".join(f"{d}={g}" for d, g in seen.items())
                    out.append(f"{qid!r} ({shown})")
        return out

    def _judging(self, docs: Sequence[str]) -> list[str]:
        """Queries that judge any of ``docs``, in dataset order."""
        if not self.judged_by:
            for qid, grades in self.ds.qrels.items():
                for d in grades:
                    self.judged_by.setdefault(d, []).append(qid)
        found = {q for d in docs for q in self.judged_by.get(d, ())}
        return sorted(found, key=self.query_index.__getitem__)

    def judgements(self) -> None:
        ds = self.ds
        none = [q for q in ds.query_ids if ds.n_relevant(q) == 0]
        if none:
            self.add(
                "no-relevant",
                "error",
                f"{plural(len(none), 'judged query has', 'judged queries have')} no relevant "
                f"document (every grade is 0): {_ids(none)}. Every model scores 0 on them, "
                "which shrinks every difference; judge a relevant document or drop the query.",
                none,
            )

    def leakage(self) -> None:
        ds, opts = self.ds, self.opts
        leaked: list[str] = []
        examples = []
        for q in ds.queries:
            norm = _normalized(q.text)
            if len(norm.split()) < opts.leakage_min_words:
                continue
            for doc_id in ds.relevant(q.id):
                if f" {norm} " in f" {_normalized(ds.document(doc_id).full_text)} ":
                    leaked.append(q.id)
                    examples.append(f"{q.id} in {doc_id}: {q.text!r}")
                    break
        if leaked:
            self.add(
                "leakage",
                "warning",
                f"{plural(len(leaked), 'query appears', 'queries appear')} word for word in a "
                f"relevant document: {_ids(leaked)}. Any model finds them by copying, so they "
                "measure nothing; rephrase them as a user would ask.",
                leaked,
                examples,
            )

    def near_duplicates(
        self, kind: Literal["document", "query"], ids: Sequence[str], vectors: np.ndarray
    ) -> None:
        opts = self.opts
        exact = self.duplicate_docs if kind == "document" else self.duplicate_queries
        texts = self.ds.doc_texts if kind == "document" else self.ds.query_texts
        keep = [i for i, t in enumerate(texts) if t.strip()]
        pairs = _similar_pairs(vectors[keep], opts.near_duplicate, opts.memory_budget)
        found = []
        for a, b, sim in pairs:
            ia, ib = ids[keep[a]], ids[keep[b]]
            if any(ia in g and ib in g for g in exact):
                continue
            found.append((ia, ib, sim))
        check = f"near-duplicate-{kind}"
        if not found:
            return
        found.sort(key=lambda p: -p[2])
        pair_ids = [f"{a}~{b}" for a, b, _ in found]
        extra = ""
        if kind == "document":
            qrels = self.ds.qrels
            apart = [
                f"{qid!r} ({a}={qrels[qid].get(a, 0)}, {b}={qrels[qid].get(b, 0)})"
                for a, b, _ in found
                for qid in self._judging((a, b))
                if qrels[qid].get(a, 0) != qrels[qid].get(b, 0)
            ]
            if apart:
                extra = (
                    f" {plural(len(apart), 'judgement differs', 'judgements differ')} within "
                    f"such pairs ({some(apart, opts.examples)}): check that it is meant."
                )
        what = "document" if kind == "document" else "query"
        if len(found) > 0.1 * len(keep):
            extra += (
                f" {len(found)} pairs among {len(keep)} texts usually means the model cannot "
                "tell these texts apart (a language it was not trained on): read a few, and "
                "lint with a model that reads them (--model)."
            )
        self.add(
            check,
            "warning",
            f"{plural(len(found), f'{what} pair has', f'{what} pairs have')} cosine similarity >= "
            f"{opts.near_duplicate:g}: {some(pair_ids, opts.examples)}. Near copies inflate "
            f"the set without adding evidence; keep one of each pair or make them differ, unless "
            f"they differ on purpose (a negated claim, another product).{extra}",
            pair_ids,
            [f"{a} ~ {b}: {s:.3f}" for a, b, s in found],
        )

    def too_long(self, limit: TokenLimit) -> None:
        for kind, ids, texts in (
            ("documents", self.ds.doc_ids, self.ds.doc_texts),
            ("queries", self.ds.query_ids, self.ds.query_texts),
        ):
            if limit.count is not None:
                counts = [int(c) for c in limit.count(texts)]
                how = "tokens"
            else:
                counts = [math.ceil(word_count(t) * 4 / 3) for t in texts]
                how = "tokens (estimated at 4/3 a word; no tokenizer was given)"
            over = [(i, c) for i, c in zip(ids, counts, strict=True) if c > limit.max_tokens]
            if not over:
                continue
            over.sort(key=lambda p: -p[1])
            advice = (
                "Split long documents into passages, or choose a model with a longer window."
                if kind == "documents"
                else "Shorten the queries to what a user would type."
            )
            self.add(
                "too-long",
                "warning",
                f"{len(over)} of {len(ids)} {kind} ({len(over) / len(ids):.0%}) are longer than "
                f"{limit.model}'s {limit.max_tokens} {how}; the model reads only the start "
                f"of them: {_ids([i for i, _ in over])}. {advice}",
                [i for i, _ in over],
                [f"{i}: {c} tokens" for i, c in over],
            )

    def lexical(self, top1: Mapping[str, str | None]) -> None:
        ds, opts = self.ds, self.opts
        hit = [q for q in ds.query_ids if top1.get(q) in ds.relevant(q)]
        n = len(ds.queries)
        share = len(hit) / n if n else 0.0
        self.diversity["lexical_top1_share"] = round(share, 4)
        severity: Severity = "warning" if share >= opts.lexical_warn_share else "info"
        advice = (
            "The set is too easy for word overlap to tell a semantic model from BM25; add "
            "paraphrases and queries in other words."
            if severity == "warning"
            else "That many are answerable by word overlap alone; the rest need meaning."
        )
        self.add(
            "lexical-overlap",
            severity,
            f"BM25 ranks a relevant document first for {len(hit)} of {n} queries "
            f"({share:.0%}). {advice}",
            hit,
        )

    def topics(self, doc_vectors: npt.NDArray[np.float32]) -> None:
        ds, opts = self.ds, self.opts
        keep = [i for i, d in enumerate(ds.corpus) if d.full_text.strip()]
        if len(keep) < 4:
            self.notes.append("topic-coverage: fewer than 4 non-empty documents to cluster.")
            return
        cluster_of = document_clusters(ds, doc_vectors, k=opts.topic_clusters, seed=opts.seed)
        k = max(cluster_of.values()) + 1
        reached = {cluster_of[d] for q in ds.query_ids for d in ds.relevant(q) if d in cluster_of}
        sizes = Counter(cluster_of.values())
        share = len(reached) / k
        covered_docs = sum(sizes[c] for c in reached) / len(keep)
        self.diversity["topics"] = {
            "clusters": k,
            "reached": len(reached),
            "share": round(share, 4),
            "documents_in_reached_share": round(covered_docs, 4),
            "seed": opts.seed,
        }
        missed = sorted(set(range(k)) - reached, key=lambda c: -sizes[c])
        examples = []
        for c in missed:
            members = [d for d, cc in cluster_of.items() if cc == c]
            title = ds.document(members[0]).full_text[:60]
            examples.append(f"cluster of {len(members)} documents, e.g. {members[0]}: {title!r}")
        severity: Severity = "warning" if share < opts.min_topic_coverage else "info"
        self.add(
            "topic-coverage",
            severity,
            f"the queries' relevant documents fall in {len(reached)} of {k} document clusters "
            f"({share:.0%}; those clusters hold {covered_docs:.0%} of the documents). "
            + (
                "Write queries for the clusters no query reaches (examples below), or the "
                "verdicts speak only for part of the corpus."
                if missed
                else "Every cluster is reached."
            ),
            [str(c) for c in missed],
            examples,
            count=len(missed),
        )

    def languages(self, detect: DetectLanguage) -> None:
        ds, opts = self.ds, self.opts
        detected = list(detect(ds.query_texts))
        self.diversity["query_languages"] = _counts(lang for lang, _ in detected)
        stated = [q.language for q in ds.queries]
        if any(stated):
            self.diversity["stated_query_languages"] = _counts(s or "none" for s in stated)
            mismatch = [
                (q, lang)
                for q, (lang, conf) in zip(ds.queries, detected, strict=True)
                if q.language and lang != "und" and _base(q.language) != lang and conf >= 0.9
            ]
            if mismatch:
                self.add(
                    "language-mismatch",
                    "info",
                    f"{plural(len(mismatch), 'query states', 'queries state')} a language the "
                    f"identifier (py3langid) reads otherwise with >= 90% confidence: "
                    f"{_ids([q.id for q, _ in mismatch])}. Short queries fool identifiers, "
                    "so check these by eye; a wrong tag skews per-language tables.",
                    [q.id for q, _ in mismatch],
                    [f"{q.id} ({q.language}, read as {lang}): {q.text!r}" for q, lang in mismatch],
                )
        rng = np.random.default_rng(opts.seed)
        idx = [i for i, d in enumerate(ds.corpus) if d.full_text.strip()]
        sampled = len(idx) > opts.max_language_documents
        if sampled:
            idx = sorted(rng.choice(idx, opts.max_language_documents, replace=False).tolist())
        doc_langs = detect([ds.corpus[i].full_text for i in idx])
        self.diversity["document_languages"] = _counts(lang for lang, _ in doc_langs)
        if sampled:
            self.diversity["document_languages_sample"] = len(idx)

    def adequacy(self, results: Sequence[ScoredResult]) -> None:
        from embedgate.stats import minimum_detectable_effect, power_report, queries_needed

        ds, opts = self.ds, self.opts
        n = len(ds.queries)
        if n < opts.min_queries:
            self.add(
                "adequacy",
                "warning",
                f"only {n} evaluated queries (fewer than {opts.min_queries}): paired tests "
                "on so few detect only large differences. Add queries.",
                count=n,
            )
        usable = [r for r in results if r.fingerprint == ds.fingerprint]
        stale = [r.model for r in results if r.fingerprint != ds.fingerprint]
        if stale:
            self.add(
                "adequacy",
                "warning",
                f"results of {', '.join(stale)} were computed on other data (fingerprint "
                f"differs from {ds.fingerprint[:12]}) and are ignored. Rerun them on this set.",
                stale,
            )
        if not usable:
            if n >= opts.min_queries:
                self.notes.append(
                    "adequacy: no results given; pass results.json files to estimate the "
                    "minimum detectable effect."
                )
            return
        metric = _main_metric(usable[0])
        base = usable[0]
        a = np.array([base.per_query[metric].get(q, 0.0) for q in ds.query_ids])
        if len(usable) == 1:
            sd = float(np.std(a, ddof=1)) if n > 1 else math.nan
            # Two models' per-query scores correlate; at r = 0.5 the SD of differences equals
            # the SD of one model's scores, a stated assumption until a second model is run.
            mde = minimum_detectable_effect(sd, n, alpha=opts.alpha, power=opts.power)
            self._adequacy_verdict(
                f"with {n} queries and {base.model}'s per-query {metric} SD {sd:.3f} (taken as "
                "the SD of differences, which assumes two models correlate at r = 0.5), a "
                f"one-sided paired t-test at α={opts.alpha:g} has {opts.power:.0%} power for "  # noqa: RUF001
                f"a difference of {mde:.3f}",
                mde,
                sd,
                queries_needed,
            )
            return
        for other in usable[1:]:
            b = np.array([other.per_query.get(metric, {}).get(q, 0.0) for q in ds.query_ids])
            rep = power_report(
                a, b, alpha=opts.alpha, power=opts.power, dataset=ds.name, metric=metric
            )
            self._adequacy_verdict(
                f"{base.model} vs {other.model}: {rep.sentence()}",
                rep.mde,
                rep.sd_diff,
                queries_needed,
            )

    def _adequacy_verdict(
        self, text: str, mde: float, sd: float, needed: Callable[..., int]
    ) -> None:
        opts = self.opts
        if math.isfinite(mde) and mde > opts.target_effect and math.isfinite(sd) and sd > 0:
            more = needed(opts.target_effect, sd, alpha=opts.alpha, power=opts.power)
            self.add(
                "adequacy",
                "warning",
                f"{text.rstrip('.')}, above the target {opts.target_effect:g}; detecting "
                f"{opts.target_effect:g} needs about {more:,} queries.",
                count=len(self.ds.queries),
            )
        else:
            self.add("adequacy", "info", text.rstrip(".") + ".", count=len(self.ds.queries))

    # -- diverse ------------------------------------------------------------------------------

    def distributions(self) -> None:
        ds = self.ds
        self.diversity["query_words"] = _quantiles([word_count(t) for t in ds.query_texts])
        self.diversity["document_words"] = _quantiles(self.doc_words)
        self.diversity["query_forms"] = _counts(query_form(t) for t in ds.query_texts)
        rel = [ds.n_relevant(q) for q in ds.query_ids]
        hist = Counter(min(r, 5) for r in rel)
        self.diversity["relevant_per_query"] = {
            "histogram": {("5+" if r == 5 else str(r)): hist[r] for r in sorted(hist)},
            "mean": round(float(np.mean(rel)), 2) if rel else 0.0,
        }


def _main_metric(result: ScoredResult) -> str:
    return "ndcg@10" if "ndcg@10" in result.per_query else next(iter(result.per_query))


def _base(tag: str) -> str:
    return tag.replace("_", "-").split("-")[0].lower()


def _counts(items: Any) -> dict[str, int]:
    return dict(Counter(items).most_common())


def _ids(ids: Sequence[str]) -> str:
    return some([repr(i) for i in ids])


def _groups(pairs: Any) -> list[list[str]]:
    """Ids grouped by equal key, groups of two or more, in first-appearance order."""
    by_key: dict[str, list[str]] = {}
    for item_id, key in pairs:
        by_key.setdefault(key, []).append(item_id)
    return [g for g in by_key.values() if len(g) > 1]


def _similar_pairs(
    x: npt.NDArray[np.float32], threshold: float, memory_budget: int
) -> list[tuple[int, int, float]]:
    """Pairs ``(i, j, cos)`` with ``i < j`` and ``cos >= threshold``, rows of unit vectors.

    Walks blocks of rows against the rows after them, so memory stays at about
    ``memory_budget`` bytes whatever the corpus size, never an n x n matrix.
    """
    n = x.shape[0]
    if n < 2:
        return []
    rows = max(1, min(n, memory_budget // (8 * n)))
    out: list[tuple[int, int, float]] = []
    for start in range(0, n, rows):
        stop = min(start + rows, n)
        s = x[start:stop] @ x[start:].T
        # Only pairs after the diagonal: column c is row start + c.
        r_idx, c_idx = np.nonzero(s >= threshold - 1e-6)
        for r, c in zip(r_idx.tolist(), c_idx.tolist(), strict=True):
            i, j = start + r, start + c
            if j > i:
                out.append((i, j, float(s[r, c])))
    return out


def document_clusters(
    dataset: RetrievalDataset,
    doc_vectors: npt.ArrayLike,
    *,
    k: int | None = None,
    seed: int = 0,
) -> dict[str, int]:
    """``{doc id: cluster}`` by k-means over the non-empty documents' embeddings, seeded.

    Args:
        dataset: the dataset whose corpus the vectors embed, row for row.
        doc_vectors: ``(n_documents, dim)``; rows are L2-normalized here, so clusters follow
            cosine similarity.
        k: clusters; ``None`` picks ``clamp(round(sqrt(n / 2)), 2, 50)``.
        seed: seeds k-means (scikit-learn, 3 initializations, fitted on at most 20,000 rows).

    Raises:
        DatasetError: fewer than 4 non-empty documents, or vectors that do not match the corpus.
    """
    vectors = _unit(doc_vectors, len(dataset.corpus), "documents")
    keep = [i for i, d in enumerate(dataset.corpus) if d.full_text.strip()]
    if len(keep) < 4:
        raise DatasetError(
            f"dataset {dataset.name!r} has {len(keep)} non-empty documents; clustering needs 4."
        )
    k = k or min(50, max(2, round(math.sqrt(len(keep) / 2))))
    k = min(k, len(keep) - 1)
    labels = _kmeans(vectors[keep], k, seed)
    # Renumber by first appearance so labels do not depend on the solver's numbering.
    first: dict[int, int] = {}
    for c in labels.tolist():
        first.setdefault(c, len(first))
    return {dataset.corpus[i].id: first[int(c)] for i, c in zip(keep, labels, strict=True)}


def _kmeans(x: npt.NDArray[np.float32], k: int, seed: int) -> npt.NDArray[np.int64]:
    """Cluster labels by k-means (scikit-learn), fitted on at most 20,000 rows, seeded."""
    # Through importlib: scikit-learn ships no type information, and its result is Any anyway.
    kmeans: Any = importlib.import_module("sklearn.cluster").KMeans

    rng = np.random.default_rng(seed)
    fit = x if x.shape[0] <= 20_000 else x[rng.choice(x.shape[0], 20_000, replace=False)]
    model = kmeans(n_clusters=k, n_init=3, random_state=seed).fit(fit)
    labels: npt.NDArray[np.int64] = model.predict(x).astype(np.int64)
    return labels


# ---------------------------------------------------------------------------------------------
# Folders that do not load


def find_unknown_ids(folder: PathLike, split: str = "test") -> list[str]:
    """Every judgement naming a query or document id that does not exist, tolerantly read.

    The loader stops at the first bad line; this lists them all, so one lint run shows the
    whole problem. Lines that are not a judgement (headers, malformed rows) are skipped.

    Returns:
        ``["qrels/test.tsv line 7: doc id 'D9'", ...]``.
    """
    import json

    p = Path(folder)
    layout = detect_layout(p)

    def ids_of(path: Path, keys: tuple[str, ...]) -> set[str]:
        out: set[str] = set()
        if not path.is_file():
            return out
        for line in path.read_text("utf-8", errors="replace").splitlines():
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(obj, dict):
                out.update(str(obj[k]) for k in keys if k in obj)
        return out

    docs = ids_of(p / "corpus.jsonl", ("_id", "id"))
    bad: list[str] = []
    if layout == "golden":
        lines = (p / "golden.jsonl").read_text("utf-8", errors="replace").splitlines()
        for n, line in enumerate(lines, 1):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                continue
            relevant = obj.get("relevant") if isinstance(obj, dict) else None
            if isinstance(relevant, dict):
                bad += [f"golden.jsonl line {n}: doc id {d!r}" for d in relevant if d not in docs]
        return bad
    queries = ids_of(p / "queries.jsonl", ("_id", "id"))
    qrels = p / "qrels" / f"{split}.tsv"
    if not qrels.is_file():
        return bad
    for n, line in enumerate(qrels.read_text("utf-8", errors="replace").splitlines(), 1):
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) != 3 or n == 1:
            continue
        if cells[0] not in queries:
            bad.append(f"qrels/{split}.tsv line {n}: query id {cells[0]!r}")
        if cells[1] not in docs:
            bad.append(f"qrels/{split}.tsv line {n}: doc id {cells[1]!r}")
    return bad


def lint_folder(
    folder: PathLike, *, split: str = "test", name: str | None = None, **kwargs: Any
) -> tuple[RetrievalDataset | None, LintReport]:
    """Load a dataset folder and `lint` it; a folder that does not load is an error finding.

    Args:
        folder: a BEIR or golden dataset folder.
        split: the qrels split.
        name: the dataset's name (default: from the folder).
        **kwargs: passed on to `lint` (``embed_documents`` and the rest may need the loaded
            dataset, so front ends usually call `load_dataset` and `lint` themselves).

    Returns:
        ``(dataset, report)``; ``dataset`` is None when it could not be loaded.

    Raises:
        DatasetError: no dataset is in the folder at all (that is bad input, not a finding).
    """
    detect_layout(folder)
    try:
        dataset = load_dataset(folder, split=split, name=name)
    except DatasetError as exc:
        return None, failed_report(folder, split, exc, name=name)
    return dataset, lint(dataset, **kwargs)


def failed_report(
    folder: PathLike, split: str, error: DatasetError, *, name: str | None = None
) -> LintReport:
    """The report of a folder the loader refused: the error, plus every unknown id."""
    from embedgate.datasets.loaders import default_name

    findings = [
        Finding(
            "load-error",
            "error",
            f"the dataset does not load: {error}",
        )
    ]
    unknown = find_unknown_ids(folder, split)
    if unknown:
        findings.append(
            Finding(
                "unknown-id",
                "error",
                f"{plural(len(unknown), 'judgement names', 'judgements name')} an id that does "
                f"not exist: {some(unknown)}. Fix the ids or drop those lines.",
                len(unknown),
                tuple(unknown),
                tuple(unknown[:5]),
            )
        )
    return LintReport(
        dataset=name or default_name(folder),
        split=split,
        fingerprint="",
        counts={},
        findings=tuple(findings),
        notes=("every other check: the dataset did not load.",),
    )
