"""Per-query diff: which queries a swap from the baseline to a candidate helped or hurt.

A mean hides the queries a user will complain about. For one dataset, `query_diff` pairs the
two models' per-query scores on one metric (the main metric by default), lists the queries
that gained and lost most with their texts, and follows each query's **answer document** from
the baseline's ranking to the candidate's: the relevant document of the highest grade (ties
broken by the baseline's ranking, then by id), so "d001: 2 → 17" says where the document that
answered the query went. `rank_before`/`rank_after` are 1-based; None means it was not in the
top ``k`` retrieved. Slices group the differences by the query's language and by every tag key
the dataset's queries carry (`embedgate.datasets.Query.tags`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from embedgate.datasets import RetrievalDataset
from embedgate.errors import ResultsError
from embedgate.evaluation import Evaluation
from embedgate.metrics import metric_label
from embedgate.report.tables import format_score, markdown_table
from embedgate.retrieval import Run

__all__ = [
    "CHANGE_HEADERS",
    "SLICE_HEADERS",
    "QueryChange",
    "QueryDiff",
    "Slice",
    "change_rows",
    "change_table",
    "clip",
    "diff_markdown",
    "load_run",
    "query_diff",
    "rank_move",
    "slice_rows",
]


@dataclass(frozen=True, slots=True)
class QueryChange:
    """One query, before (baseline) and after (candidate).

    Attributes:
        query_id: the query's id.
        text: the query text, ``""`` without the dataset.
        before: the baseline's score; ``after``: the candidate's; ``delta = after - before``.
        answer: the tracked answer document (see the module docstring), None when unknown.
        rank_before: its 1-based rank in the baseline's run, None when not retrieved or
            unknown; ``rank_after`` likewise in the candidate's run.
        language: the query's language tag, None when absent.
        tags: the query's tags.
    """

    query_id: str
    text: str
    before: float
    after: float
    delta: float
    answer: str | None = None
    rank_before: int | None = None
    rank_after: int | None = None
    language: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "query_id": self.query_id,
            "text": self.text,
            "before": self.before,
            "after": self.after,
            "delta": self.delta,
            "answer": self.answer,
            "rank_before": self.rank_before,
            "rank_after": self.rank_after,
            "language": self.language,
            "tags": dict(self.tags),
        }


@dataclass(frozen=True, slots=True)
class Slice:
    """The queries sharing one value of one key (``language = de``, ``topic = billing``).

    Attributes:
        key: ``"language"`` or a tag key; value: its value.
        n: number of queries; gained/lost: how many went up/down.
        mean_before, mean_after, mean_delta: means over the slice.
    """

    key: str
    value: str
    n: int
    mean_before: float
    mean_after: float
    mean_delta: float
    gained: int
    lost: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "value": self.value,
            "n": self.n,
            "mean_before": self.mean_before,
            "mean_after": self.mean_after,
            "mean_delta": self.mean_delta,
            "gained": self.gained,
            "lost": self.lost,
        }


@dataclass(frozen=True, slots=True)
class QueryDiff:
    """A candidate against the baseline on one dataset, query by query.

    Attributes:
        baseline, candidate, dataset: names; metric: the metric key compared.
        changes: every query, in dataset order.
        top: how many queries `gained` and `lost` list.
        slices: by language, then by tag key, values sorted.
    """

    baseline: str
    candidate: str
    dataset: str
    metric: str
    changes: tuple[QueryChange, ...]
    top: int = 10
    slices: tuple[Slice, ...] = ()

    @property
    def deltas(self) -> np.ndarray:
        return np.array([c.delta for c in self.changes], dtype=np.float64)

    @property
    def gained(self) -> tuple[QueryChange, ...]:
        """The queries that gained most (delta > 0), largest first, ties by dataset order."""
        ups = [c for c in self.changes if c.delta > 0]
        return tuple(sorted(ups, key=lambda c: -c.delta)[: self.top])

    @property
    def lost(self) -> tuple[QueryChange, ...]:
        """The queries that lost most (delta < 0), largest loss first."""
        downs = [c for c in self.changes if c.delta < 0]
        return tuple(sorted(downs, key=lambda c: c.delta)[: self.top])

    @property
    def counts(self) -> dict[str, int]:
        d = self.deltas
        return {
            "gained": int((d > 0).sum()),
            "lost": int((d < 0).sum()),
            "unchanged": int((d == 0).sum()),
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "candidate": self.candidate,
            "dataset": self.dataset,
            "metric": self.metric,
            "mean_delta": float(self.deltas.mean()) if self.changes else 0.0,
            "counts": self.counts,
            "gained": [c.to_dict() for c in self.gained],
            "lost": [c.to_dict() for c in self.lost],
            "slices": [s.to_dict() for s in self.slices],
        }


def load_run(results: Path | str) -> Run | None:
    """The ``run.trec`` beside a ``results.json`` (or in its folder), None when absent."""
    path = Path(results)
    folder = path if path.is_dir() else path.parent
    trec = folder / "run.trec"
    return Run.read_trec(trec) if trec.is_file() else None


def _ranks(run: Run | None) -> dict[str, dict[str, int]]:
    if run is None:
        return {}
    return {
        qid: {doc: rank for rank, (doc, _) in enumerate(run.ranked(row), start=1)}
        for row, qid in enumerate(run.query_ids)
    }


def _answer(relevant: Mapping[str, int], before: Mapping[str, int]) -> str | None:
    if not relevant:
        return None
    far = 1 << 62
    return min(relevant, key=lambda d: (-relevant[d], before.get(d, far), d))


def _slices(changes: Sequence[QueryChange]) -> tuple[Slice, ...]:
    groups: dict[tuple[str, str], list[QueryChange]] = {}
    for c in changes:
        if c.language is not None:
            groups.setdefault(("language", c.language), []).append(c)
    tag_keys = sorted({k for c in changes for k in c.tags})
    for key in tag_keys:
        for c in changes:
            if key in c.tags:
                groups.setdefault((key, c.tags[key]), []).append(c)
    out = []
    for (key, value), members in groups.items():
        before = np.array([c.before for c in members])
        after = np.array([c.after for c in members])
        delta = after - before
        out.append(
            Slice(
                key=key,
                value=value,
                n=len(members),
                mean_before=float(before.mean()),
                mean_after=float(after.mean()),
                mean_delta=float(delta.mean()),
                gained=int((delta > 0).sum()),
                lost=int((delta < 0).sum()),
            )
        )
    keys = ["language", *tag_keys]
    out.sort(key=lambda s: (keys.index(s.key), s.value))
    return tuple(out)


def query_diff(
    baseline: Evaluation,
    candidate: Evaluation,
    dataset: RetrievalDataset | None = None,
    *,
    metric: str | None = None,
    baseline_run: Run | None = None,
    candidate_run: Run | None = None,
    top: int = 10,
) -> QueryDiff:
    """Compare ``candidate`` with ``baseline`` query by query on one dataset.

    Args:
        baseline: the baseline's evaluation.
        candidate: the candidate's evaluation on the same data.
        dataset: the dataset, for texts, answer documents and slices; without it only ids and
            scores are known.
        metric: the metric key; default the baseline's main metric.
        baseline_run: the baseline's ranking (default ``baseline.run``); with the dataset it
            gives the answer document's rank before. ``candidate_run`` likewise, after.
        top: how many queries the gained and lost lists hold.

    Raises:
        ResultsError: the evaluations are of different datasets or data, the metric was not
            computed, the query ids differ, or the dataset is another version.
    """
    if top < 1:
        raise ResultsError(f"top must be at least 1, not {top}.")
    if (baseline.dataset, baseline.fingerprint) != (candidate.dataset, candidate.fingerprint):
        raise ResultsError(
            f"{candidate.model} ({candidate.dataset}, fingerprint {candidate.fingerprint[:12]}) "
            f"and {baseline.model} ({baseline.dataset}, fingerprint {baseline.fingerprint[:12]}) "
            "were not scored on the same data; diff results of one dataset version."
        )
    if dataset is not None and dataset.fingerprint != baseline.fingerprint:
        raise ResultsError(
            f"dataset {dataset.name} at {dataset.path} has fingerprint "
            f"{dataset.fingerprint[:12]} but the results were computed on "
            f"{baseline.fingerprint[:12]}; pass the dataset version the results came from."
        )
    key = metric or baseline.main_metric
    for e in (baseline, candidate):
        if key not in e.per_query:
            raise ResultsError(
                f"metric {key!r} was not computed for {e.model} on {e.dataset}; "
                f"computed: {', '.join(e.per_query)}."
            )
    before_scores, after_scores = baseline.per_query[key], candidate.per_query[key]
    if set(before_scores) != set(after_scores):
        raise ResultsError(
            f"{candidate.model} and {baseline.model} on {baseline.dataset} scored different "
            "query ids; evaluate both on the same dataset version."
        )
    queries = {q.id: q for q in dataset.queries} if dataset is not None else {}
    ranks_before = _ranks(baseline_run if baseline_run is not None else baseline.run)
    ranks_after = _ranks(candidate_run if candidate_run is not None else candidate.run)
    have_runs = bool(ranks_before) and bool(ranks_after)
    changes = []
    for qid, before in before_scores.items():
        after = after_scores[qid]
        q = queries.get(qid)
        answer = None
        rank_before = rank_after = None
        if dataset is not None and have_runs:
            rb, ra = ranks_before.get(qid, {}), ranks_after.get(qid, {})
            answer = _answer(dataset.relevant(qid), rb)
            if answer is not None:
                rank_before, rank_after = rb.get(answer), ra.get(answer)
        changes.append(
            QueryChange(
                query_id=qid,
                text="" if q is None else q.text,
                before=float(before),
                after=float(after),
                delta=float(after) - float(before),
                answer=answer,
                rank_before=rank_before,
                rank_after=rank_after,
                language=None if q is None else q.language,
                tags={} if q is None else dict(q.tags),
            )
        )
    return QueryDiff(
        baseline=baseline.model,
        candidate=candidate.model,
        dataset=baseline.dataset,
        metric=key,
        changes=tuple(changes),
        top=top,
        slices=_slices(changes),
    )


def _rank(value: int | None, k: int | None) -> str:
    if value is not None:
        return str(value)
    return f">{k}" if k else "-"


def rank_move(change: QueryChange, k: int | None = None) -> str:
    """``"d001: 2 → 17"``; ``""`` when the answer document is unknown."""
    if change.answer is None:
        return ""
    return f"{change.answer}: {_rank(change.rank_before, k)} → {_rank(change.rank_after, k)}"


def clip(text: str, width: int = 60) -> str:
    """One line, at most ``width`` characters; pipes escaped for markdown tables."""
    text = " ".join(text.split()).replace("|", "\\|")
    return text if len(text) <= width else text[: width - 1] + "…"


def change_rows(
    changes: Sequence[QueryChange], *, k: int | None = None, decimals: int = 4, width: int = 60
) -> list[list[str]]:
    """Text cells in the order of `CHANGE_HEADERS`."""
    return [
        [
            c.query_id,
            c.language or "",
            clip(c.text, width),
            rank_move(c, k),
            format_score(c.delta, decimals),
            format_score(c.before, decimals),
            format_score(c.after, decimals),
        ]
        for c in changes
    ]


CHANGE_HEADERS = ["query", "lang", "text", "answer rank", "Δ", "before", "after"]


def change_table(
    changes: Sequence[QueryChange], *, k: int | None = None, decimals: int = 4, width: int = 60
) -> tuple[list[str], list[list[str]], int]:
    """Headers, cells and the first numeric column of a gained/lost table.

    The language, text and answer-rank columns are left out when every cell of theirs is
    empty (results diffed without their dataset, or a dataset without languages).
    """
    rows = change_rows(changes, k=k, decimals=decimals, width=width)
    keep = [i for i in range(len(CHANGE_HEADERS)) if i == 0 or i >= 4 or any(r[i] for r in rows)]
    headers = [CHANGE_HEADERS[i] for i in keep]
    return headers, [[r[i] for i in keep] for r in rows], len([i for i in keep if i < 3])


SLICE_HEADERS = ["slice", "n", "before", "after", "mean Δ", "gained", "lost"]


def slice_rows(diff: QueryDiff, *, decimals: int = 4) -> list[list[str]]:
    return [
        [
            f"{s.key} = {s.value}",
            str(s.n),
            format_score(s.mean_before, decimals),
            format_score(s.mean_after, decimals),
            format_score(s.mean_delta, decimals),
            str(s.gained),
            str(s.lost),
        ]
        for s in diff.slices
    ]


def diff_markdown(diff: QueryDiff, *, k: int | None = None, decimals: int = 4) -> str:
    """The diff as markdown: counts, the queries that lost and gained most, the slices."""
    label = metric_label(diff.metric)
    counts = diff.counts
    mean = float(diff.deltas.mean()) if diff.changes else 0.0
    parts = [
        f"## {diff.candidate} vs {diff.baseline} on {diff.dataset} ({label}, per query)\n\n",
        f"{len(diff.changes)} queries: {counts['gained']} gained, {counts['lost']} lost, "
        f"{counts['unchanged']} unchanged; mean Δ {format_score(mean, decimals)} "
        f"(Δ = {diff.candidate} - {diff.baseline}). Answer rank: the best-graded relevant "
        "document's rank in the baseline's run → in the candidate's.\n\n",
    ]
    if not any(c.text for c in diff.changes):
        parts.append(
            "Query texts, answer ranks and slices need the dataset "
            f"(`--dataset` with the folder of {diff.dataset}).\n\n"
        )
    for title, changes in (("Lost most", diff.lost), ("Gained most", diff.gained)):
        parts.append(f"### {title}\n\n")
        if changes:
            headers, rows, numeric_from = change_table(changes, k=k, decimals=decimals)
            parts.append(markdown_table(headers, rows, numeric_from=numeric_from))
        else:
            parts.append("(none)\n")
        parts.append("\n")
    if diff.slices:
        parts.append("### By slice\n\n")
        parts.append(markdown_table(SLICE_HEADERS, slice_rows(diff, decimals=decimals)))
    return "".join(parts)
