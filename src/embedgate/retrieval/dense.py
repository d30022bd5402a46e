"""Exact top-k search by inner product, in blocks, ranked exactly as trec_eval ranks.

For L2-normalized vectors the inner product is the cosine similarity. The search never holds
the full ``(n_queries, n_docs)`` score matrix: it walks query blocks and, inside each, document
blocks, and keeps a running top-k per query. So 10,000 queries over 1,000,000 documents of 384
dimensions (a 40 GB score matrix) run in the memory of the vectors plus a fixed working set.

How one query block is searched:

1. ``S = Q_block @ D_block.T`` (one BLAS call into a reused buffer).
2. A per-query threshold ``t``, a lower bound of the query's final k-th score (first the k-th
   score of the first block, then the k-th best kept so far), filters the block: only cells
   with ``S >= t`` are candidates. After the first few blocks few cells pass, so selection
   costs one comparison per cell, not a partition. ``>=`` keeps every document tied with the
   threshold, so ties at the k-th place are never dropped before they are compared.
3. Candidates wait in a per-query buffer; when it is full it is merged into the running top-k
   with ``np.partition`` and the threshold rises.
4. At the end each row is sorted.

Ties follow trec_eval (``trec_eval/form_res_rels.c``): score descending, then document id
descending in string order, also at the k-th place: among documents tied there, those with the
larger id are kept. Ids are compared only where scores actually tie, so a search with few ties
pays almost nothing for this.

Scores are the float32 products that BLAS returns, widened to float64 in the `Run`.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from embedgate.retrieval.run import Run, unique_ids

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["DEFAULT_MEMORY_BUDGET", "exact_search", "normalize", "plan_blocks"]

DEFAULT_MEMORY_BUDGET: Final = 512 * 2**20
"""Bytes of working memory `exact_search` plans for, on top of its inputs and its output."""

# Preferred block shape: a 1024 x 4096 float32 score block (16 MiB) keeps the BLAS call
# efficient while the threshold pass over it still runs largely from cache.
_QUERY_BLOCK: Final = 1024
_DOC_BLOCK: Final = 4096

# Worst-case bytes of working memory per score cell: the float32 score (4), the bool mask (1),
# a float32 partition copy while the threshold is unset (4), the candidates' positions, values
# and their temporaries (about 40) and the candidate buffer's float32 + int64 (12), reached
# only when every cell of a block is a candidate (all scores tied). Typical use needs ~10.
_BYTES_PER_CELL: Final = 64


def normalize(vectors: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """L2-normalize each row (or a single vector) into a new float32 array.

    Norms are accumulated in float64; zero vectors stay zero. The input is not modified.

    Args:
        vectors: a ``(n, dim)`` matrix or a ``(dim,)`` vector of finite numbers.

    Returns:
        A float32 array of the same shape whose non-zero rows have unit L2 norm.

    Raises:
        ValueError: the input is not 1-d or 2-d, or holds NaN or infinity.

    Example:
        >>> normalize([[3.0, 4.0], [0.0, 0.0]]).tolist()
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    x = np.asarray(vectors, dtype=np.float32)
    if x.ndim not in (1, 2):
        raise ValueError(f"normalize takes a (n, dim) matrix or a (dim,) vector, got {x.shape}")
    rows = x.reshape(1, -1) if x.ndim == 1 else x
    norms = np.sqrt(np.einsum("ij,ij->i", rows, rows, dtype=np.float64))
    bad = ~np.isfinite(norms)
    if bad.any():
        raise ValueError(
            f"row {int(np.flatnonzero(bad)[0])} holds NaN or infinity (or overflows float64); "
            "vectors must be finite to be normalized"
        )
    norms[norms == 0.0] = 1.0
    out: npt.NDArray[np.float32] = np.divide(rows, norms.astype(np.float32)[:, None])
    return out.reshape(x.shape)


def plan_blocks(
    n_queries: int, n_docs: int, dim: int, k: int, *, memory_budget: int = DEFAULT_MEMORY_BUDGET
) -> tuple[int, int]:
    """The ``(query_rows, doc_rows)`` block shape `exact_search` uses within ``memory_budget``.

    Starts from 1024 x 4096 and halves the larger side until the worst-case working set (score
    block, mask, candidates, the query block's running top-k) fits the budget.

    Example:
        >>> plan_blocks(10_000, 1_000_000, 384, 100)
        (1024, 4096)
        >>> plan_blocks(10_000, 1_000_000, 384, 100, memory_budget=16 * 2**20)
        (512, 256)
    """
    bq = max(1, min(n_queries, _QUERY_BLOCK))
    bd = max(1, min(n_docs, _DOC_BLOCK))

    def cost(bq: int, bd: int) -> int:
        return bq * bd * _BYTES_PER_CELL + bq * (k * 12 + dim * 4)

    while cost(bq, bd) > memory_budget and (bq > 1 or bd > 1):
        if bd >= bq and bd > 1:
            bd = (bd + 1) // 2
        else:
            bq = (bq + 1) // 2
    return bq, bd


def exact_search(
    query_vectors: npt.NDArray[np.float32],
    doc_vectors: npt.NDArray[np.float32],
    *,
    query_ids: Sequence[str],
    doc_ids: Sequence[str],
    k: int,
    block_size: tuple[int, int] | None = None,
    memory_budget: int = DEFAULT_MEMORY_BUDGET,
    name: str = "dense",
) -> Run:
    """Exact top-k documents per query by inner product, tie-broken as trec_eval does.

    Rank order within each row: score descending, then document id descending (string order),
    so the `Run` ranks exactly as trec_eval will. The k-th place obeys the same rule: among
    documents tied at the k-th score, those with the larger ids are the ones kept.

    Args:
        query_vectors: ``(n_queries, dim)`` float32, L2-normalized for cosine similarity.
        doc_vectors: ``(n_docs, dim)`` float32, likewise. A ``np.memmap`` works: it is read in
            row blocks.
        query_ids: one id per query row, unique.
        doc_ids: one id per document row, unique.
        k: documents to keep per query (>= 1). The run's depth is ``min(k, n_docs)``.
        block_size: ``(query_rows, doc_rows)`` per block; by default `plan_blocks` picks it
            from ``memory_budget``.
        memory_budget: bytes of working memory to plan the blocks for (inputs and the output
            are not counted).
        name: the run tag.

    Returns:
        A `Run` with ``doc_ids`` as its id table, indices ``(n_queries, min(k, n_docs))`` and
        float64 scores (the float32 products, widened).

    Raises:
        ValueError: a matrix is not 2-d float32, the dimensions differ, a vector holds NaN or
            infinity, the id counts do not match the rows, ids repeat, or k or a block size is
            not a positive integer.

    Example:
        >>> q = normalize([[1.0, 0.0]])
        >>> d = normalize([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]])
        >>> run = exact_search(q, d, query_ids=["q1"], doc_ids=["a", "b", "c"], k=2)
        >>> run.ranked(0)
        [('c', 1.0), ('a', 1.0)]
    """
    _check_matrix("query_vectors", query_vectors)
    _check_matrix("doc_vectors", doc_vectors)
    n_queries, dim = query_vectors.shape
    n_docs = doc_vectors.shape[0]
    if doc_vectors.shape[1] != dim:
        raise ValueError(
            f"query_vectors {query_vectors.shape} and doc_vectors {doc_vectors.shape} have "
            "different dimensions; embed queries and documents with the same model"
        )
    if n_docs == 0:
        raise ValueError(f"doc_vectors {doc_vectors.shape} holds no documents to search")
    k = _positive_int("k", k)
    q_ids = _check_ids("query_ids", query_ids, n_queries, "query_vectors", query_vectors.shape)
    d_ids = _check_ids("doc_ids", doc_ids, n_docs, "doc_vectors", doc_vectors.shape)
    if block_size is None:
        bq, bd = plan_blocks(n_queries, n_docs, dim, k, memory_budget=memory_budget)
    else:
        if len(block_size) != 2:
            raise ValueError(f"block_size must be (query_rows, doc_rows), got {block_size!r}")
        bq = _positive_int("block_size[0]", block_size[0])
        bd = _positive_int("block_size[1]", block_size[1])
    if not _all_finite(query_vectors):
        raise ValueError("query_vectors holds NaN or infinity; embeddings must be finite")

    depth = min(k, n_docs)
    indices = np.empty((n_queries, depth), dtype=np.int64)
    scores = np.empty((n_queries, depth), dtype=np.float64)
    ranks = _IdRanks(d_ids)
    for start in range(0, n_queries, bq):
        stop = min(start + bq, n_queries)
        top_s, top_i = _search_query_block(
            query_vectors[start:stop], doc_vectors, depth, bd, ranks, check_finite=start == 0
        )
        indices[start:stop] = top_i
        scores[start:stop] = top_s
    return Run(q_ids, d_ids, indices, scores, name)


class _IdRanks:
    """Ranks that order doc indices by doc id string, for breaking ties.

    Ties are rare, so each call sorts just the ids it is given; the ranks it returns compare
    only with each other. Once the ids sorted that way add up to the corpus size, the ranks of
    the whole corpus are computed once and used from then on.
    """

    __slots__ = ("_doc_ids", "_ranks", "_sorted")

    def __init__(self, doc_ids: tuple[str, ...]) -> None:
        self._doc_ids = doc_ids
        self._ranks: npt.NDArray[np.int64] | None = None
        self._sorted = 0

    def __getitem__(self, idx: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        if self._ranks is None:
            self._sorted += idx.size
            if self._sorted <= len(self._doc_ids):
                return _string_ranks([self._doc_ids[j] for j in idx.tolist()])
            self._ranks = _string_ranks(self._doc_ids)
        return self._ranks[idx]


def _string_ranks(ids: Sequence[str]) -> npt.NDArray[np.int64]:
    order = sorted(range(len(ids)), key=ids.__getitem__)
    ranks = np.empty(len(ids), dtype=np.int64)
    ranks[order] = np.arange(len(ids), dtype=np.int64)
    return ranks


def _search_query_block(
    qb: npt.NDArray[np.float32],
    docs: npt.NDArray[np.float32],
    k: int,
    bd: int,
    ranks: _IdRanks,
    *,
    check_finite: bool,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    m = qb.shape[0]
    n_docs = docs.shape[0]
    top = _TopK(m, k, ranks)
    primed = False
    score_buf = np.empty(m * min(bd, n_docs), dtype=np.float32)
    mask_buf = np.empty(m * min(bd, n_docs), dtype=np.bool_)
    for b0 in range(0, n_docs, bd):
        db = docs[b0 : b0 + bd]
        if check_finite and not _all_finite(db):
            raise ValueError(
                f"doc_vectors rows {b0}..{b0 + len(db) - 1} hold NaN or infinity; "
                "embeddings must be finite"
            )
        nb = db.shape[0]
        s = score_buf[: m * nb].reshape(m, nb)
        np.matmul(qb, db.T, out=s)
        mask = mask_buf[: m * nb].reshape(m, nb)
        if nb > k and not primed:
            # Thresholds start at -inf, which would make the whole first block candidates.
            _raise_to_block_kth(s, k, top.threshold)
            primed = True
        np.greater_equal(s, top.threshold[:, None], out=mask)
        flat = np.flatnonzero(mask)
        if nb > k and flat.size > (m * nb) // 4:
            # Thresholds far too low (scores rising through the corpus): raise them first.
            _raise_to_block_kth(s, k, top.threshold)
            np.greater_equal(s, top.threshold[:, None], out=mask)
            flat = np.flatnonzero(mask)
        if flat.size == 0:
            continue
        rows = flat // nb
        top.add(rows, flat - rows * nb + b0, s.reshape(-1)[flat])
    return top.result()


def _raise_to_block_kth(
    s: npt.NDArray[np.float32], k: int, threshold: npt.NDArray[np.float32]
) -> None:
    # The k-th best score of any k documents is a lower bound of a row's final k-th score.
    kth = np.partition(s, s.shape[1] - k, axis=1)[:, s.shape[1] - k]
    np.maximum(threshold, kth, out=threshold)


class _TopK:
    """A running top-k per row: ``k`` kept columns, then a buffer of pending candidates."""

    def __init__(self, m: int, k: int, ranks: _IdRanks) -> None:
        self.m = m
        self.k = k
        self.ranks = ranks
        self.cap = max(k, 16)
        self.s = np.full((m, k + self.cap), -np.inf, dtype=np.float32)
        self.i = np.full((m, k + self.cap), -1, dtype=np.int64)
        self.fill = np.zeros(m, dtype=np.int64)
        # Every row holds k real documents once a merge has seen k of them; from then on a
        # document scoring below the row's k-th score can never enter its top k.
        self.threshold = np.full(m, -np.inf, dtype=np.float32)

    def add(
        self, rows: npt.NDArray[np.intp], cols: npt.NDArray[np.intp], vals: npt.NDArray[np.float32]
    ) -> None:
        """Queue candidates; ``rows`` must be ascending (as np.flatnonzero yields them)."""
        counts = np.bincount(rows, minlength=self.m)
        if int((self.fill + counts).max()) > self.cap:
            self.merge()
            most = int(counts.max())
            if most > self.cap:
                self._grow(most)
        starts = np.cumsum(counts) - counts
        width = self.s.shape[1]
        flat = rows * width + (self.k + self.fill[rows] + (np.arange(rows.size) - starts[rows]))
        self.s.reshape(-1)[flat] = vals
        self.i.reshape(-1)[flat] = cols
        self.fill += counts

    def _grow(self, cap: int) -> None:
        s = np.full((self.m, self.k + cap), -np.inf, dtype=np.float32)
        i = np.full((self.m, self.k + cap), -1, dtype=np.int64)
        s[:, : self.k] = self.s[:, : self.k]
        i[:, : self.k] = self.i[:, : self.k]
        self.s, self.i, self.cap = s, i, cap

    def merge(self) -> None:
        """Move the best k of (kept + pending) into the kept columns and raise the thresholds."""
        k = self.k
        width = k + int(self.fill.max())
        if width == k:
            return
        s = self.s[:, :width]
        i = self.i[:, :width]
        kth = np.partition(s, width - k, axis=1)[:, width - k]
        keep = s >= kth[:, None]
        # Rows with more scores tied at the k-th place than places left choose by doc id.
        for r in np.flatnonzero(np.count_nonzero(keep, axis=1) > k).tolist():
            keep[r] = self._keep_tied(s[r], i[r], kth[r])
        top_s = s[keep].reshape(self.m, k)
        top_i = i[keep].reshape(self.m, k)
        s[:, :k] = top_s
        i[:, :k] = top_i
        s[:, k:] = -np.inf
        i[:, k:] = -1
        self.fill[:] = 0
        np.maximum(self.threshold, kth, out=self.threshold)

    def _keep_tied(
        self, s: npt.NDArray[np.float32], i: npt.NDArray[np.int64], kth: np.float32
    ) -> npt.NDArray[np.bool_]:
        keep = s > kth
        tied = np.flatnonzero(s == kth)
        need = self.k - int(np.count_nonzero(keep))
        if np.isneginf(kth):  # fewer than k documents seen: pad with empty cells
            keep[tied[:need]] = True
        else:  # trec_eval keeps the larger doc ids among equal scores
            keep[tied[np.argsort(self.ranks[i[tied]])[-need:]]] = True
        return keep

    def result(self) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
        """The kept columns, each row sorted in trec_eval order."""
        self.merge()
        k = self.k
        order = np.argsort(-self.s[:, :k], axis=1, kind="stable")
        top_s = np.take_along_axis(self.s[:, :k], order, axis=1)
        top_i = np.take_along_axis(self.i[:, :k], order, axis=1)
        tied_rows = np.flatnonzero(
            np.any((top_s[:, 1:] == top_s[:, :-1]) & (top_i[:, 1:] >= 0), axis=1)
        )
        for r in tied_rows.tolist():
            real = top_i[r] >= 0
            idx = top_i[r][real]
            row_order = np.lexsort((-self.ranks[idx], -top_s[r][real]))
            top_s[r][real] = top_s[r][real][row_order]
            top_i[r][real] = idx[row_order]
        return top_s, top_i


def _all_finite(x: npt.NDArray[np.float32]) -> bool:
    # A sum is finite iff every element is, unless finite values overflow it: confirm then.
    total = np.einsum("ij->", x)
    return bool(np.isfinite(total)) or bool(np.isfinite(x).all())


def _check_matrix(label: str, x: object) -> None:
    if not isinstance(x, np.ndarray):
        raise ValueError(
            f"{label} must be a numpy float32 array, got {type(x).__name__}; "
            "use embedgate.retrieval.dense.normalize() to make one"
        )
    if x.ndim != 2:
        raise ValueError(f"{label} must be 2-d (rows, dimensions), got shape {x.shape}")
    if x.dtype != np.float32:
        raise ValueError(
            f"{label} {x.shape} has dtype {x.dtype}, expected float32; "
            "use embedgate.retrieval.dense.normalize() to convert and normalize"
        )


def _check_ids(
    label: str, ids: Sequence[str], n: int, matrix: str, shape: tuple[int, ...]
) -> tuple[str, ...]:
    out = tuple(ids)
    if len(out) != n:
        raise ValueError(f"{len(out)} {label} for {matrix} {shape}; give one id per row")
    return unique_ids(label, out)


def _positive_int(label: str, value: object) -> int:
    try:
        n = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        raise ValueError(f"{label} must be a positive integer, got {value!r}") from None
    if isinstance(value, bool) or n < 1:
        raise ValueError(f"{label} must be a positive integer, got {value!r}")
    return n
