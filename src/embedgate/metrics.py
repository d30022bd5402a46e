"""Ranking metrics, one score per query, computed as trec_eval computes them.

Every metric reads a `RelevanceMatrix`: the grade of the document at each rank of each
query, gathered once from a `Run` and the qrels. The metrics are then a few vectorized numpy
operations over that matrix, so evaluating 10,000 queries takes milliseconds. To score many
runs against one set of qrels (every model of a suite on one dataset), compile the qrels once
with `CompiledQrels` and pass that instead of the dict.

Conventions (all of them trec_eval's, checked against pytrec_eval by the conformance tests):

- A `Run` row is already in trec_eval order: score descending, ties by document id descending
  (byte order). trec_eval holds scores as C ``float``, so float64 scores equal in float32 are
  a tie; rows are checked for falling scores at that precision.
- *Relevant* means grade >= 1 (trec_eval's default ``relevance_level``). Grade 0, negative
  grades and unjudged documents are not relevant and have gain 0.
- nDCG uses the grade itself as gain (linear gain) and the discount ``log2(rank + 1)``.
- Recall and MAP divide by *all* relevant documents in the qrels, retrieved or not.
- A query without relevant documents scores 0 on every metric, and so does a judged query
  that the run has no results for (trec_eval ``-c``). (trec_eval itself reads uninitialized
  memory for a query whose judgements are all negative or absent; 0 is what it means.)
- MRR@k is trec_eval ``recip_rank`` on the run cut at k: trec_eval has no cutoff for it.
- Per-query scores are numpy ``float64`` arrays aligned with ``RelevanceMatrix.query_ids``:
  by default the queries of the qrels, in the qrels' order. Means are the caller's to take.

Metric names (parsed once into a `MetricSpec`, case-insensitive):

=============  ================================  =========================================
name           trec_eval measure                 meaning
=============  ================================  =========================================
``ndcg@k``     ``ndcg_cut.k``                    normalized discounted cumulative gain
``ndcg``       ``ndcg``                          the same over the whole run, ideal uncut
``recall@k``   ``recall.k``                      share of the relevant documents in top k
``p@k``        ``P.k``                           relevant documents in the top k, over k
``success@k``  ``success.k``                     1 if any relevant document is in the top k
``mrr@k``      ``recip_rank`` on the run cut at  1 / rank of the first relevant document
               k                                 within the top k
``mrr``        ``recip_rank``                    the same over the whole run
``map@k``      ``map_cut.k``                     average precision cut at rank k
``map``        ``map``                           average precision over the whole run
=============  ================================  =========================================

``precision@k`` and ``recip_rank`` are accepted as aliases. "The whole run" is the run's
depth: a run retrieved at 100 gives ``map`` equal to ``map@100``.

References:
    NIST trec_eval 9.0.8, https://github.com/usnistgov/trec_eval (``m_*.c``, ``form_res_rels.c``).
    K. Järvelin and J. Kekäläinen, "Cumulated gain-based evaluation of IR techniques",
    ACM TOIS 20(4), 2002 (nDCG).

Example:
    >>> from embedgate.retrieval.run import Run
    >>> run = Run.from_dict({"q1": {"d1": 0.9, "d2": 0.8, "d3": 0.7}})
    >>> scores = evaluate(run, {"q1": {"d2": 1, "d9": 1}}, ["mrr@10", "recall@2"])
    >>> {name: s.tolist() for name, s in scores.items()}
    {'mrr@10': [0.5], 'recall@2': [0.5]}
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain, compress, repeat
from operator import methodcaller
from types import MappingProxyType
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt

from embedgate.errors import MetricError

if TYPE_CHECKING:
    from embedgate.retrieval.run import Run

__all__ = [
    "TASK_METRICS",
    "CompiledQrels",
    "MetricSpec",
    "RelevanceMatrix",
    "average_precision",
    "evaluate",
    "metric_key",
    "metric_label",
    "ndcg",
    "parse_metric",
    "precision",
    "recall",
    "reciprocal_rank",
    "relevance_matrix",
    "success",
    "supported_metrics",
    "task_metrics",
]

Scores = npt.NDArray[np.float64]
Qrels = Mapping[str, Mapping[str, int]]

# trec_eval's default relevance_level: binary metrics count a document as relevant from here.
_RELEVANT = 1
_NO_JUDGEMENTS: Mapping[str, int] = MappingProxyType({})
_T = TypeVar("_T", bound=np.generic)
# Odd 32-bit constants of multiplicative hashing for the (query row, document) Bloom filter.
_ROW_MIX = np.uint32(0x9E3779B1)
_DOC_MIX = np.uint32(0x85EBCA77)


# --------------------------------------------------------------------------------------------
# The relevance matrix


@dataclass(frozen=True, slots=True, eq=False)
class RelevanceMatrix:
    """The grade of the document at every rank of every evaluated query, plus the ideal ranking.

    Build it with `relevance_matrix` (or `CompiledQrels.relevance_matrix`); every metric
    function takes one. Arrays are read-only.

    Attributes:
        query_ids: the evaluated queries; row ``i`` of every array (and of every metric's
            scores) belongs to ``query_ids[i]``.
        grades: ``(n_queries, depth)`` int32, the qrels grade of the document at each rank,
            0 where the document is unjudged, not positive, or a padding cell, and on every row
            of a query that the run has no results for.
        num_relevant: ``(n_queries,)`` int64, judged documents with grade >= 1 in the qrels,
            retrieved or not (trec_eval ``num_rel``).
        ideal_row: ``(n_positive,)`` query row of every positive judgement, sorted by row.
        ideal_grade: ``(n_positive,)`` float64 grade of each, descending within a row.
        ideal_rank: ``(n_positive,)`` 0-based rank of each in its query's ideal ranking.
        run_depth: the depth of the run the matrix was read from; ``grades`` may hold fewer
            columns when it was built with a ``depth``.
    """

    query_ids: tuple[str, ...]
    grades: npt.NDArray[np.int32]
    num_relevant: npt.NDArray[np.int64]
    ideal_row: npt.NDArray[np.intp]
    ideal_grade: npt.NDArray[np.float64]
    ideal_rank: npt.NDArray[np.intp]
    run_depth: int

    def __post_init__(self) -> None:
        for array in (
            self.grades,
            self.num_relevant,
            self.ideal_row,
            self.ideal_grade,
            self.ideal_rank,
        ):
            array.setflags(write=False)

    @property
    def depth(self) -> int:
        """Columns of ``grades``: the deepest rank any metric on this matrix can look at."""
        return int(self.grades.shape[1])

    def cut(self, k: int | None) -> npt.NDArray[np.int32]:
        """``grades`` restricted to the top ``k`` ranks (all of them for ``None``).

        Raises:
            ValueError: if the matrix was built shallower than ``k`` ranks of the run.
        """
        want = self.run_depth if k is None else min(k, self.run_depth)
        if want > self.depth:
            asked = "the whole run" if k is None else f"rank {k}"
            raise ValueError(
                f"this relevance matrix keeps {self.depth} of the run's {self.run_depth} ranks "
                f"and cannot score {asked}; build it with relevance_matrix(..., depth={k})."
            )
        return self.grades[:, :want]


class CompiledQrels:
    """Qrels compiled once into arrays, to score many runs against them quickly.

    Scoring a run needs every judgement in numeric form and each judged document's position
    in the run's id table. A plain qrels dict is compiled on every call; build this once per
    dataset and pass it instead of the dict to score several runs (every model of a suite)
    without redoing that work. It snapshots the qrels when built, so later changes to the
    dict do not reach it. It also remembers the id tables of the last two runs it scored, by
    identity: runs built over the very same ``doc_ids`` tuple (pass one corpus id tuple to
    every search) scan that table once, not once per run.

    Args:
        qrels: ``{query_id: {doc_id: grade}}`` with integer grades; grades >= 1 are
            relevant, grade 0 and negative grades judged non-relevant.
        query_ids: the queries to evaluate, in the order scores come back. ``None`` means
            every query of ``qrels``, in its order. A query absent from ``qrels`` has no
            relevant documents and scores 0.

    Raises:
        ValueError: a query id appears twice in ``query_ids``, or a grade is not an integer.

    Example:
        >>> from embedgate.retrieval.run import Run
        >>> compiled = CompiledQrels({"q1": {"b": 2, "c": 1}})
        >>> run = Run.from_dict({"q1": {"a": 3.0, "b": 2.0}})
        >>> evaluate(run, compiled, ["recall@2"])["recall@2"].tolist()
        [0.5]
    """

    __slots__ = (
        "_bits",
        "_bloom",
        "_grade",
        "_ideal_grade",
        "_ideal_rank",
        "_ideal_row",
        "_number",
        "_sorted_keys",
        "_stride",
        "_tables",
        "num_relevant",
        "query_ids",
    )

    # How many id tables to remember, and the largest one worth remembering (its lookup array
    # holds 4 bytes an id).
    _TABLES_KEPT = 2
    _TABLE_MAX_IDS = 10_000_000

    def __init__(self, qrels: Qrels, query_ids: Sequence[str] | None = None) -> None:
        qids = tuple(qrels) if query_ids is None else tuple(query_ids)
        n = len(qids)
        if len(set(qids)) != n:
            raise ValueError(
                f"query ids to evaluate repeat {_first_duplicate(qids)!r}; list each once."
            )
        self.query_ids: tuple[str, ...] = qids

        # Flatten the judgements, iterating in C (map, chain) rather than per query in Python.
        judged = list(map(qrels.get, qids, repeat(_NO_JUDGEMENTS)))
        counts = np.fromiter(map(len, judged), dtype=np.intp, count=n)
        docs = list(chain.from_iterable(judged))
        all_grades = np.fromiter(
            chain.from_iterable(map(methodcaller("values"), judged)),
            dtype=np.float64,
            count=len(docs),
        )
        integral = np.abs(all_grades) < 2**31  # False for nan
        integral &= all_grades == np.trunc(all_grades)
        if not integral.all():
            bad = int(np.argmin(integral))
            qid = qids[int(np.searchsorted(np.cumsum(counts), bad, side="right"))]
            raise ValueError(
                f"grade {all_grades[bad]!r} of query {qid!r}, doc {docs[bad]!r} is not an "
                "integer; trec_eval reads integer grades. Map graded labels to integers."
            )
        # Only positive grades can add anything: gain, relevance and the ideal ranking all
        # ignore grade 0 and negative grades (trec_eval gives them gain 0 too).
        positive = all_grades > 0
        row = np.repeat(np.arange(n, dtype=np.int64), counts)[positive]
        grade = all_grades[positive]
        docs_pos = list(compress(docs, positive.tolist()))

        relevant = np.bincount(row[grade >= _RELEVANT], minlength=n).astype(np.int64)
        order = np.lexsort((-grade, row))
        ideal_row = row[order].astype(np.intp)
        starts = np.concatenate(([0], np.cumsum(np.bincount(ideal_row, minlength=n))[:-1]))
        ideal_rank = np.arange(len(ideal_row), dtype=np.intp) - starts[ideal_row]
        self.num_relevant: npt.NDArray[np.int64] = _frozen(relevant)
        self._ideal_row = _frozen(ideal_row)
        self._ideal_grade = _frozen(grade[order])
        self._ideal_rank = _frozen(ideal_rank.astype(np.intp))

        # Number the positively judged documents 0..D-1; a (query row, document) pair is then
        # the int64 key row * stride + number + 1, and "unjudged" (number -1) never matches.
        self._number: dict[str, int] = {}
        assign = self._number.setdefault  # a new id gets the count before it: 0, 1, 2, ...
        doc_num = np.array([assign(doc, len(self._number)) for doc in docs_pos], dtype=np.int64)
        self._stride = len(self._number) + 1
        keys = row * self._stride + doc_num + 1
        by_key = np.argsort(keys)
        self._sorted_keys = _frozen(keys[by_key])
        self._grade = _frozen(grade[by_key].astype(np.int32))
        # A one-hash Bloom filter over the (row, number) pairs, ~16 slots a pair: a few 32-bit
        # integer passes discard most run cells, so the exact lookup (a binary search over
        # the keys) runs on few candidates.
        self._bits = min(27, max(10, (len(keys) * 16).bit_length()))
        bloom = np.zeros(1 << self._bits, dtype=bool)
        row_mix = (row.astype(np.uint32) * _ROW_MIX)[by_key]
        hashes = doc_num.astype(np.int32)[by_key].view(np.uint32) * _DOC_MIX
        bloom[(hashes ^ row_mix) >> np.uint32(32 - self._bits)] = True
        self._bloom = _frozen(bloom)
        self._tables: list[tuple[tuple[str, ...], npt.NDArray[np.int32]]] = []

    def __repr__(self) -> str:
        return (
            f"CompiledQrels({len(self.query_ids)} queries, {len(self._sorted_keys)} positive "
            f"judgements of {len(self._number)} documents)"
        )

    def relevance_matrix(self, run: Run, *, depth: int | None = None) -> RelevanceMatrix:
        """The grade at every rank of ``run`` for the compiled queries; see `relevance_matrix`."""
        if depth is not None and (isinstance(depth, bool) or depth < 1):
            raise ValueError(f"depth must be a positive number of ranks or None, got {depth!r}.")
        n = len(self.query_ids)
        width = run.depth if depth is None else min(depth, run.depth)
        row_of = dict(zip(run.query_ids, range(len(run.query_ids)), strict=True))
        if len(row_of) != len(run.query_ids):
            raise ValueError(
                f"the run has query {_first_duplicate(run.query_ids)!r} on two rows; "
                "merge them before evaluating (trec_eval would treat them as one ranking)."
            )
        rows = np.fromiter(map(row_of.get, self.query_ids, repeat(-1)), dtype=np.intp, count=n)
        present = np.flatnonzero(rows >= 0)
        run_rows = rows[present]
        _check_sorted(run, run_rows, width)

        grades = np.zeros((n, width), dtype=np.int32)
        if len(self._sorted_keys) and width and len(present):
            cells = _rows_of(run.indices, run_rows, width)
            numbers = self._table_numbers(run.doc_ids, cells)
            # The number of each cell's document, hashed in place with its row (no other
            # cell-sized temporaries: each one costs page faults on every call).
            hashes = numbers[cells].view(np.uint32)
            hashes *= _DOC_MIX
            hashes ^= (present.astype(np.uint32) * _ROW_MIX)[:, None]
            hashes >>= np.uint32(32 - self._bits)
            candidates = np.flatnonzero(self._bloom[hashes.ravel()])
            hit_row, hit_col = np.divmod(candidates, width)
            query_row = present[hit_row]
            cell_num = numbers[cells[hit_row, hit_col]]
            keys = query_row.astype(np.int64) * self._stride + cell_num + 1
            at = np.searchsorted(self._sorted_keys, keys)
            at[at == len(self._sorted_keys)] = 0
            match = self._sorted_keys[at] == keys
            grades[query_row[match], hit_col[match]] = self._grade[at[match]]

        return RelevanceMatrix(
            query_ids=self.query_ids,
            grades=grades,
            num_relevant=self.num_relevant,
            ideal_row=self._ideal_row,
            ideal_grade=self._ideal_grade,
            ideal_rank=self._ideal_rank,
            run_depth=run.depth,
        )

    def _table_numbers(
        self, table: tuple[str, ...], cells: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int32]:
        """Judged-document number of each table position (-1 if none); index -1 gives -1."""
        for seen, numbers in self._tables:
            if seen is table:
                return numbers
        # One sequential scan of the table's strings, probing the small ``_number`` dict,
        # beats hashing the whole table into a dict and probing that with the judged ids
        # (random access into a big dict). When the table is a corpus much larger than the
        # run, only the positions the run uses are scanned, and not remembered.
        n_table = len(table)
        numbers = np.full(n_table + 1, -1, dtype=np.int32)  # [-1]: padding cells
        if n_table > 4 * cells.size:
            used = np.zeros(n_table + 1, dtype=bool)
            used[cells] = True
            used[-1] = False
            where = np.flatnonzero(used)
            names = [table[p] for p in where.tolist()]
            numbers[where] = np.fromiter(
                map(self._number.get, names, repeat(-1)), dtype=np.int32, count=len(names)
            )
            return numbers
        numbers[:-1] = np.fromiter(
            map(self._number.get, table, repeat(-1)), dtype=np.int32, count=n_table
        )
        numbers.setflags(write=False)
        if n_table <= self._TABLE_MAX_IDS:
            self._tables.insert(0, (table, numbers))
            del self._tables[self._TABLES_KEPT :]
        return numbers


def relevance_matrix(
    run: Run,
    qrels: Qrels | CompiledQrels,
    query_ids: Sequence[str] | None = None,
    *,
    depth: int | None = None,
) -> RelevanceMatrix:
    """Gather the qrels grade of every ranked document of ``run``, for the queries evaluated.

    Args:
        run: ranked results, each row in trec_eval order (as every `Run` is).
        qrels: ``{query_id: {doc_id: grade}}`` with integer grades (grades >= 1 relevant,
            grade 0 and negative grades judged non-relevant), or a `CompiledQrels`.
        query_ids: the queries to evaluate, in the order the scores come back. ``None``
            means every query of ``qrels``, in its order (for a `CompiledQrels`, the
            queries it was compiled for). A query absent from the run scores 0; one absent
            from the qrels has no relevant documents and scores 0 too.
        depth: keep only the top ``depth`` ranks (a speed-up when every metric is cut
            shallower than the run); ``None`` keeps all of them.

    Returns:
        The `RelevanceMatrix`.

    Raises:
        ValueError: a query id appears twice in ``query_ids`` or in the run; a grade is not
            an integer; ``query_ids`` differ from those a `CompiledQrels` was compiled for;
            ``depth`` is not positive; or a run row is not sorted by descending score.

    Example:
        >>> from embedgate.retrieval.run import Run
        >>> run = Run.from_dict({"q1": {"a": 3.0, "b": 2.0, "c": 1.0}})
        >>> relevance_matrix(run, {"q1": {"b": 2, "c": -1}}).grades.tolist()
        [[0, 2, 0]]
    """
    if isinstance(qrels, CompiledQrels):
        if query_ids is not None and tuple(query_ids) != qrels.query_ids:
            raise ValueError(
                "query_ids differ from the ones these qrels were compiled for; build "
                "CompiledQrels(qrels, query_ids) with them, or pass query_ids=None."
            )
        compiled = qrels
    else:
        compiled = CompiledQrels(qrels, query_ids)
    return compiled.relevance_matrix(run, depth=depth)


def _frozen(array: npt.NDArray[_T]) -> npt.NDArray[_T]:
    array.setflags(write=False)
    return array


def _rows_of(array: npt.NDArray[_T], rows: npt.NDArray[np.intp], width: int) -> npt.NDArray[_T]:
    """``array[rows, :width]``, without the copy when ``rows`` is every row in order."""
    if len(rows) == array.shape[0] and (rows == np.arange(len(rows))).all():
        return array[:, :width]
    return array[rows, :width]


def _check_sorted(run: Run, rows: npt.NDArray[np.intp], width: int) -> None:
    """Refuse rows whose scores rise: metrics read ranks straight from the row order.

    trec_eval keeps scores as C ``float``, so it ranks by float32 values: float64 scores
    that round to the same float32 are a tie, broken by doc id. Compare at that precision.
    """
    if width < 2 or not len(rows):
        return
    scores = _rows_of(run.scores, rows, width)
    rising = scores[:, 1:] > scores[:, :-1]
    if not rising.any():
        return
    # Rising in float64 may still be a float32 tie; only rows with a rise need the float32 look.
    suspects = np.flatnonzero(rising.any(axis=1))
    with np.errstate(over="ignore"):  # beyond float32 range is +-inf, as in trec_eval
        as_trec_eval = scores[suspects].astype(np.float32)
    rising = as_trec_eval[:, 1:] > as_trec_eval[:, :-1]
    if rising.any():
        r, c = (int(i) for i in np.argwhere(rising)[0])
        r = int(suspects[r])
        raise ValueError(
            f"run row for query {run.query_ids[rows[r]]!r} is not in trec_eval order: rank "
            f"{c + 2} scores {float(scores[r, c + 1])!r} above rank {c + 1} "
            f"({float(scores[r, c])!r}). Build runs with Run.from_dict or sort rows with "
            "trec_order (higher scores rank first)."
        )


def _first_duplicate(ids: Sequence[str]) -> str:
    seen: set[str] = set()
    for qid in ids:
        if qid in seen:
            return qid
        seen.add(qid)
    return ""  # pragma: no cover - only called when a duplicate exists


# --------------------------------------------------------------------------------------------
# The metrics


def _relevant(m: RelevanceMatrix, k: int | None) -> npt.NDArray[np.bool_]:
    return m.cut(k) >= _RELEVANT


def _over_num_relevant(m: RelevanceMatrix, values: npt.NDArray[np.float64]) -> Scores:
    out = np.zeros(len(m.query_ids), dtype=np.float64)
    np.divide(values, m.num_relevant, out=out, where=m.num_relevant > 0)
    return out


def ndcg(m: RelevanceMatrix, k: int | None) -> Scores:
    """Normalized discounted cumulative gain at ``k`` (trec_eval ``ndcg_cut.k``), per query.

    ``nDCG@k = DCG@k / IDCG@k`` with ``DCG@k = sum_{r=1..min(k, n)} g_r / log2(r + 1)``,
    ``g_r`` the grade of the document at rank ``r`` (linear gain; 0 for unjudged and
    non-positive grades) and ``IDCG@k`` the same sum over the judged documents with positive
    grade sorted by grade, cut at ``k``. The ideal ranking comes from the qrels, so relevant
    documents the run missed lower the score.

    Args:
        m: the relevance matrix.
        k: the cutoff; ``None`` means trec_eval ``ndcg``: DCG over the whole run and an
            ideal ranking of *all* positive judgements, uncut.

    Edge cases: ``k`` beyond the run's depth sums the ranks there are while the ideal keeps
    ``k`` ranks; no positively judged document gives 0.

    Reference: Järvelin & Kekäläinen, ACM TOIS 20(4), 2002; trec_eval ``m_ndcg_cut.c``.

    Example:
        >>> from embedgate.retrieval.run import Run
        >>> m = relevance_matrix(Run.from_dict({"q": {"a": 3.0, "b": 2.0, "c": 1.0}}),
        ...                      {"q": {"b": 2, "c": 1, "z": 1}})
        >>> {k: round(float(ndcg(m, k)[0]), 4) for k in (1, 2, 3)}
        {1: 0.0, 2: 0.4796, 3: 0.5627}
    """
    gains = m.cut(k)
    # Only positive gains add, summed in rank order as trec_eval does: gain / log2(rank + 1).
    where = np.flatnonzero(gains)
    row, col = np.divmod(where, max(gains.shape[1], 1))
    dcg = np.bincount(row, weights=gains[row, col] / np.log2(col + 2.0), minlength=len(m.query_ids))
    keep = m.ideal_rank < k if k is not None else np.ones(len(m.ideal_rank), dtype=bool)
    idcg = np.bincount(
        m.ideal_row[keep],
        weights=m.ideal_grade[keep] / np.log2(m.ideal_rank[keep] + 2.0),
        minlength=len(m.query_ids),
    )
    out = np.zeros(len(m.query_ids), dtype=np.float64)
    np.divide(dcg, idcg, out=out, where=idcg > 0)
    return out


def recall(m: RelevanceMatrix, k: int | None) -> Scores:
    """Recall at ``k`` (trec_eval ``recall.k``), per query.

    ``Recall@k = |relevant in top k| / |relevant in qrels|``, binary relevance (grade >= 1).

    Edge cases: a query without relevant documents scores 0; ``k`` beyond the run's depth
    counts the documents there are. ``k=None`` is recall over the whole run.

    Reference: trec_eval ``m_recall.c``.

    Example:
        >>> from embedgate.retrieval.run import Run
        >>> m = relevance_matrix(Run.from_dict({"q": {"a": 3.0, "b": 2.0, "c": 1.0}}),
        ...                      {"q": {"b": 2, "c": 1, "z": 1}})
        >>> {k: round(float(recall(m, k)[0]), 4) for k in (1, 2, 3)}
        {1: 0.0, 2: 0.3333, 3: 0.6667}
    """
    return _over_num_relevant(m, _relevant(m, k).sum(axis=1, dtype=np.float64))


def precision(m: RelevanceMatrix, k: int | None) -> Scores:
    """Precision at ``k`` (trec_eval ``P.k``), per query.

    ``P@k = |relevant in top k| / k``, binary relevance (grade >= 1).

    Edge cases: the divisor stays ``k`` when the run holds fewer than ``k`` documents, as in
    trec_eval (so a short run is penalized); no relevant documents gives 0. ``k=None``
    divides by the run's depth.

    Reference: trec_eval ``m_P.c``.

    Example:
        >>> from embedgate.retrieval.run import Run
        >>> m = relevance_matrix(Run.from_dict({"q": {"a": 3.0, "b": 2.0, "c": 1.0}}),
        ...                      {"q": {"b": 2, "c": 1, "z": 1}})
        >>> {k: round(float(precision(m, k)[0]), 4) for k in (1, 2, 3)}
        {1: 0.0, 2: 0.5, 3: 0.6667}
    """
    divisor = m.run_depth if k is None else k
    hits: Scores = _relevant(m, k).sum(axis=1, dtype=np.float64)
    return hits / divisor if divisor else hits


def success(m: RelevanceMatrix, k: int | None) -> Scores:
    """Success at ``k`` (trec_eval ``success.k``): 1 if any relevant document is in the top k.

    Binary relevance (grade >= 1). Edge cases: no relevant documents, or none retrieved in
    the top ``k``, gives 0; ``k`` beyond the run's depth looks at the documents there are.

    Reference: trec_eval ``m_success.c``.

    Example:
        >>> from embedgate.retrieval.run import Run
        >>> m = relevance_matrix(Run.from_dict({"q": {"a": 3.0, "b": 2.0, "c": 1.0}}),
        ...                      {"q": {"b": 2, "c": 1, "z": 1}})
        >>> {k: round(float(success(m, k)[0]), 4) for k in (1, 2, 3)}
        {1: 0.0, 2: 1.0, 3: 1.0}
    """
    return np.asarray(_relevant(m, k).any(axis=1), dtype=np.float64)


def reciprocal_rank(m: RelevanceMatrix, k: int | None) -> Scores:
    """Reciprocal rank of the first relevant document within the top ``k``, per query.

    ``RR@k = 1 / r`` for ``r`` the rank of the first document with grade >= 1 if ``r <= k``,
    else 0; the mean over queries is MRR@k. trec_eval's ``recip_rank`` has no cutoff: this
    equals ``recip_rank`` on the run cut to its top ``k`` rows (``k=None``: the whole run).

    Edge cases: no relevant document in the top ``k`` (or none at all) gives 0.

    Reference: trec_eval ``m_recip_rank.c``; E. Voorhees, TREC-8 QA track overview, 1999.

    Example:
        >>> from embedgate.retrieval.run import Run
        >>> m = relevance_matrix(Run.from_dict({"q": {"a": 3.0, "b": 2.0, "c": 1.0}}),
        ...                      {"q": {"b": 2, "c": 1, "z": 1}})
        >>> {k: round(float(reciprocal_rank(m, k)[0]), 4) for k in (1, 2, 3)}
        {1: 0.0, 2: 0.5, 3: 0.5}
    """
    rel = _relevant(m, k)
    if rel.shape[1] == 0:
        return np.zeros(len(m.query_ids), dtype=np.float64)
    first = rel.argmax(axis=1)
    found = rel[np.arange(len(first)), first]
    return np.where(found, 1.0 / (first + 1.0), 0.0)


def average_precision(m: RelevanceMatrix, k: int | None) -> Scores:
    """Average precision cut at ``k`` (trec_eval ``map_cut.k``; ``map`` for ``k=None``).

    ``AP@k = sum_{r <= k, doc r relevant} P@r / |relevant in qrels|``, binary relevance
    (grade >= 1); the mean over queries is MAP@k. The divisor counts every relevant document
    in the qrels, retrieved or not, so missing ones lower the score.

    Edge cases: no relevant documents gives 0; ``k`` beyond the run's depth sums the ranks
    there are.

    Reference: trec_eval ``m_map.c`` and ``m_map_cut.c``.

    Example:
        >>> from embedgate.retrieval.run import Run
        >>> m = relevance_matrix(Run.from_dict({"q": {"a": 3.0, "b": 2.0, "c": 1.0}}),
        ...                      {"q": {"b": 2, "c": 1, "z": 1}})
        >>> {k: round(float(average_precision(m, k)[0]), 4) for k in (1, 2, 3)}
        {1: 0.0, 2: 0.1667, 3: 0.3889}
    """
    rel = _relevant(m, k)
    # Only relevant ranks contribute, so work on their positions (row-major, ranks ascending
    # within a row) instead of a cumulative sum over every cell.
    hits = np.flatnonzero(rel)
    row, col = np.divmod(hits, max(rel.shape[1], 1))
    first_of_row = np.searchsorted(row, row)
    nth_relevant = np.arange(1, len(hits) + 1) - first_of_row
    total = np.bincount(row, weights=nth_relevant / (col + 1.0), minlength=len(m.query_ids))
    return _over_num_relevant(m, total.astype(np.float64, copy=False))


# --------------------------------------------------------------------------------------------
# The registry


@dataclass(frozen=True, slots=True)
class _Family:
    label: str
    compute: Callable[[RelevanceMatrix, int | None], Scores]
    cut_required: bool
    trec_eval: str
    trec_eval_uncut: str


_REGISTRY: dict[str, _Family] = {
    "ndcg": _Family("nDCG", ndcg, False, "ndcg_cut_{k}", "ndcg"),
    "recall": _Family("Recall", recall, True, "recall_{k}", ""),
    "mrr": _Family("MRR", reciprocal_rank, False, "recip_rank", "recip_rank"),
    "map": _Family("MAP", average_precision, False, "map_cut_{k}", "map"),
    "p": _Family("P", precision, True, "P_{k}", ""),
    "success": _Family("Success", success, True, "success_{k}", ""),
}
_ALIASES = {"precision": "p", "recip_rank": "mrr"}

_NAME = re.compile(r"(?P<name>[a-z_]+)(?:@(?P<k>.*))?", re.DOTALL)


def supported_metrics() -> tuple[str, ...]:
    """Every metric form `parse_metric` accepts, sorted, from the registry.

    Example:
        >>> supported_metrics()
        ('map', 'map@k', 'mrr', 'mrr@k', 'ndcg', 'ndcg@k', 'p@k', 'recall@k', 'success@k')
    """
    forms = [f"{name}@k" for name in _REGISTRY]
    forms += [name for name, family in _REGISTRY.items() if not family.cut_required]
    return tuple(sorted(forms))


def _supported_text() -> str:
    aliases = ", ".join(f"{alias} = {name}" for alias, name in sorted(_ALIASES.items()))
    return f"{', '.join(supported_metrics())} (k a positive integer; aliases: {aliases})"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One metric at one cutoff, e.g. nDCG@10. Build it with `parse_metric` or directly.

    Attributes:
        name: the registry name: ``ndcg``, ``recall``, ``mrr``, ``map``, ``p`` or ``success``.
        k: the cutoff rank, or ``None`` for the whole run (``ndcg``, ``mrr``, ``map`` only).
        label: the display name, e.g. ``"nDCG@10"``, ``"MAP"``.
        greater_is_better: the direction a regression check compares in (True for all).

    Raises:
        MetricError: unknown name, a cutoff that is not a positive integer, or no cutoff for
            a metric that needs one.

    Example:
        >>> MetricSpec("ndcg", 10)
        MetricSpec(name='ndcg', k=10, label='nDCG@10', greater_is_better=True)
    """

    name: str
    k: int | None = None
    label: str = field(init=False)
    greater_is_better: bool = field(init=False, default=True)

    def __post_init__(self) -> None:
        family = _REGISTRY.get(self.name)
        if family is None:
            raise MetricError(f"unknown metric {self.name!r}; supported: {_supported_text()}.")
        if self.k is None:
            if family.cut_required:
                raise MetricError(
                    f"metric {self.name!r} needs a cutoff: write '{self.name}@k', "
                    f"e.g. '{self.name}@10'."
                )
        elif isinstance(self.k, bool) or not isinstance(self.k, int) or self.k < 1:
            raise MetricError(
                f"metric {self.name!r}: k must be a positive integer, got {self.k!r}. "
                f"Write e.g. '{self.name}@10'."
            )
        label = family.label if self.k is None else f"{family.label}@{self.k}"
        object.__setattr__(self, "label", label)

    @property
    def key(self) -> str:
        """The canonical name, ``"ndcg@10"`` or ``"map"``; `parse_metric` reads it back."""
        return self.name if self.k is None else f"{self.name}@{self.k}"

    @property
    def trec_eval_measure(self) -> str:
        """The pytrec_eval result key this metric equals, e.g. ``"ndcg_cut_10"``.

        ``mrr@k`` gives ``"recip_rank"``, which equals it on the run cut at ``k``.
        """
        family = _REGISTRY[self.name]
        if self.k is None:
            return family.trec_eval_uncut
        return family.trec_eval.format(k=self.k)

    def __str__(self) -> str:
        return self.label


def parse_metric(text: str) -> MetricSpec:
    """Parse a metric name such as ``"ndcg@10"``, ``"MAP"`` or ``"Recall@100"``.

    Names are case-insensitive and surrounding spaces are ignored. ``ndcg``, ``mrr`` and
    ``map`` may omit the cutoff (the whole run); ``recall``, ``p`` and ``success`` need one.

    Raises:
        MetricError: the name is unknown (the message lists the supported ones) or the
            cutoff is missing, zero, negative or not an integer.

    Example:
        >>> parse_metric("NDCG@10").label
        'nDCG@10'
        >>> parse_metric("map")
        MetricSpec(name='map', k=None, label='MAP', greater_is_better=True)
    """
    if not isinstance(text, str):
        raise MetricError(f"a metric name must be a string like 'ndcg@10', got {text!r}.")
    cleaned = text.strip().lower()
    match = _NAME.fullmatch(cleaned)
    name = match["name"] if match else cleaned
    name = _ALIASES.get(name, name)
    if match is None or name not in _REGISTRY:
        raise MetricError(f"unknown metric {text!r}; supported: {_supported_text()}.")
    raw_k = match["k"]
    if raw_k is None:
        return MetricSpec(name)
    raw_k = raw_k.strip()
    if not re.fullmatch(r"[0-9]+", raw_k) or int(raw_k) == 0:
        raise MetricError(
            f"metric {text!r}: the cutoff after '@' must be a positive integer, got "
            f"{raw_k!r}. Write e.g. '{name}@10'."
        )
    return MetricSpec(name, int(raw_k))


def _to_spec(metric: MetricSpec | str) -> MetricSpec:
    if isinstance(metric, MetricSpec):
        return metric
    return parse_metric(metric)


def evaluate(
    run: Run,
    qrels: Qrels | CompiledQrels,
    metrics: Sequence[MetricSpec | str],
    query_ids: Sequence[str] | None = None,
) -> dict[str, Scores]:
    """Score ``run`` against ``qrels`` with each metric, one score per query.

    Args:
        run: ranked results; each row in trec_eval order (as every `Run` is).
        qrels: ``{query_id: {doc_id: grade}}``, integer grades, relevant from 1; or a
            `CompiledQrels`, to score many runs against the same qrels faster.
        metrics: names such as ``"ndcg@10"`` or parsed `MetricSpec` values.
        query_ids: the queries to score, in order. ``None`` means every query of ``qrels``
            in its order (of a `CompiledQrels`: the queries it was compiled for), which
            includes judged queries with no results in the run (they score 0, like trec_eval
            ``-c``) and leaves out run queries without judgements.

    Returns:
        ``{spec.key: scores}``, keys in the order given (``"ndcg@10"``, ``"map"``), each
        value a read-only float64 array aligned with ``query_ids`` (or ``tuple(qrels)``).

    Raises:
        MetricError: a metric name is unknown or malformed.
        ValueError: see `relevance_matrix`.

    Example:
        >>> from embedgate.retrieval.run import Run
        >>> run = Run.from_dict({"q1": {"a": 0.9, "b": 0.5}, "q2": {"a": 0.3}})
        >>> qrels = {"q1": {"b": 1}, "q2": {"a": 2, "c": 1}}
        >>> {k: v.round(4).tolist() for k, v in evaluate(run, qrels, ["P@1", "ndcg@2"]).items()}
        {'p@1': [0.0, 1.0], 'ndcg@2': [0.6309, 0.7602]}
    """
    specs = [_to_spec(metric) for metric in metrics]
    cutoffs = [spec.k for spec in specs]
    depth = None if not specs or None in cutoffs else max(k for k in cutoffs if k is not None)
    matrix = relevance_matrix(run, qrels, query_ids, depth=depth)
    results: dict[str, Scores] = {}
    for spec in specs:
        if spec.key not in results:
            scores = _REGISTRY[spec.name].compute(matrix, spec.k)
            scores.setflags(write=False)
            results[spec.key] = scores
    return results


#: The per-item metrics of the other task types (computed by `embedgate.tasks`), main metric
#: first; all greater-is-better. Reranking's are ranking metrics over each query's candidates.
TASK_METRICS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "reranking": ("map", "mrr@10"),
        "sts": ("spearman", "pearson"),
        "classification": ("accuracy", "knn_accuracy"),
        "clustering": ("v_measure",),
        "bitext": ("accuracy",),
    }
)

_TASK_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "spearman": "Spearman",
        "pearson": "Pearson",
        "accuracy": "Accuracy",
        "knn_accuracy": "k-NN accuracy",
        "v_measure": "V-measure",
    }
)


def task_metrics(task: str) -> tuple[str, ...] | None:
    """The metric keys a task type computes; ``None`` for retrieval (any ranking metric)."""
    return TASK_METRICS.get(task)


def metric_label(key: str) -> str:
    """The display name of any metric key: ``"ndcg@10" -> "nDCG@10"``, ``"v_measure" ->
    "V-measure"``; an unknown key is shown as it is.

    Example:
        >>> metric_label("ndcg@10"), metric_label("spearman")
        ('nDCG@10', 'Spearman')
    """
    if key in _TASK_LABELS:
        return _TASK_LABELS[key]
    try:
        return parse_metric(key).label
    except MetricError:
        return key


def metric_key(name: str) -> str:
    """The key of a metric given by key or label: ``"nDCG@10" -> "ndcg@10"``,
    ``"V-measure" -> "v_measure"``; an unknown name is returned as it is."""
    folded = name.strip().lower()
    for key, label in _TASK_LABELS.items():
        if folded in (key, label.lower()):
            return key
    try:
        return parse_metric(name).key
    except MetricError:
        return name
