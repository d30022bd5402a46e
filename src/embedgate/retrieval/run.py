"""The `Run`: ranked documents per query, in the order trec_eval ranks them.

trec_eval ignores the rank column of a run file: it sorts each query's documents by score,
descending, and breaks ties by document id, *descending* in byte order
(``trec_eval/form_res_rels.c``, ``comp_sim_docno``). A `Run` keeps every row in exactly that
order, so rank ``i`` here is rank ``i`` for trec_eval, and metrics can read ranks directly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from embedgate.errors import DatasetError

__all__ = ["Run", "trec_order", "unique_ids"]


def unique_ids(label: str, ids: Sequence[str]) -> tuple[str, ...]:
    """``ids`` as a tuple; a repeated id is a ValueError naming it (``label`` says which ids)."""
    out = tuple(ids)
    if len(set(out)) != len(out):
        seen: set[str] = set()
        for x in out:
            if x in seen:
                raise ValueError(f"{label} repeats {x!r}; ids must be unique")
            seen.add(x)
    return out


def trec_order(doc_ids: Sequence[str], scores: npt.ArrayLike) -> npt.NDArray[np.intp]:
    """Positions of ``doc_ids`` sorted as trec_eval sorts them: score desc, then doc id desc.

    Example:
        >>> trec_order(["a", "b", "c"], [0.5, 0.9, 0.5]).tolist()
        [1, 2, 0]
    """
    # trec_eval keeps a run's scores as C floats (trec_format.h, TEXT_RESULTS.sim): float64
    # scores equal at float32 precision tie there, so they tie here (1e300 and 1e299 both
    # become inf). The stored scores stay float64.
    with np.errstate(over="ignore"):
        s = np.asarray(scores, dtype=np.float64).astype(np.float32)
    # lexsort sorts by the last key first; negate both keys for descending order.
    id_rank = np.argsort(
        np.argsort(np.asarray(doc_ids, dtype=object), kind="stable"), kind="stable"
    )
    return np.lexsort((-id_rank, -s))


@dataclass(frozen=True, slots=True, eq=False)
class Run:
    """Top-ranked documents for each query.

    Attributes:
        query_ids: one id per row.
        doc_ids: the id table that ``indices`` point into (usually the corpus ids).
        indices: ``(n_queries, depth)`` positions into ``doc_ids``, ``-1`` where a query has
            fewer than ``depth`` results. Each row is in trec_eval order.
        scores: ``(n_queries, depth)`` float64 similarity, ``-inf`` in padded cells.
        name: the run tag written to TREC files.
    """

    query_ids: tuple[str, ...]
    doc_ids: tuple[str, ...]
    indices: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float64]
    name: str = "embedgate"

    def __post_init__(self) -> None:
        if self.indices.shape != self.scores.shape or self.indices.ndim != 2:
            raise ValueError(
                f"indices {self.indices.shape} and scores {self.scores.shape} "
                "must be equal 2-d shapes"
            )
        if self.indices.shape[0] != len(self.query_ids):
            raise ValueError(f"{self.indices.shape[0]} rows for {len(self.query_ids)} query ids")
        self.indices.setflags(write=False)
        self.scores.setflags(write=False)

    @property
    def depth(self) -> int:
        """Columns per row (the k the run was retrieved at)."""
        return int(self.indices.shape[1])

    def ranked(self, row: int) -> list[tuple[str, float]]:
        """The ``(doc_id, score)`` pairs of one row, best first, without padding."""
        idx = self.indices[row]
        keep = idx >= 0
        return [
            (self.doc_ids[i], float(s))
            for i, s in zip(idx[keep].tolist(), self.scores[row][keep].tolist(), strict=True)
        ]

    def to_dict(self) -> dict[str, dict[str, float]]:
        """``{query_id: {doc_id: score}}``, the shape pytrec_eval and ranx take."""
        return {qid: dict(self.ranked(row)) for row, qid in enumerate(self.query_ids)}

    @classmethod
    def from_dict(
        cls, results: Mapping[str, Mapping[str, float]], *, name: str = "embedgate"
    ) -> Run:
        """A run from ``{query_id: {doc_id: score}}``, each query sorted as trec_eval sorts."""
        query_ids = tuple(results)
        table: dict[str, int] = {}
        for docs in results.values():
            for doc_id in docs:
                table.setdefault(doc_id, len(table))
        depth = max((len(docs) for docs in results.values()), default=0)
        indices = np.full((len(query_ids), depth), -1, dtype=np.int64)
        scores = np.full((len(query_ids), depth), -np.inf, dtype=np.float64)
        for row, qid in enumerate(query_ids):
            docs = results[qid]
            ids = list(docs)
            order = trec_order(ids, [docs[d] for d in ids])
            for col, pos in enumerate(order.tolist()):
                indices[row, col] = table[ids[pos]]
                scores[row, col] = docs[ids[pos]]
        return cls(query_ids, tuple(table), indices, scores, name)

    def write_trec(self, path: Path | str) -> Path:
        """Write the run as a TREC run file (``qid Q0 docid rank score tag``).

        Scores are written with 17 significant digits, so a float64 score (and so any float32
        one) reads back as the same number and the file ranks exactly as this run does.
        """
        for kind, values in (("query id", self.query_ids), ("doc id", self.doc_ids)):
            bad = next((v for v in values if not v or any(c.isspace() for c in v)), None)
            if bad is not None:
                raise ValueError(
                    f"{kind} {bad!r} contains whitespace or is empty; "
                    "TREC files are space-separated"
                )
        if not self.name or any(c.isspace() for c in self.name):
            raise ValueError(f"run name {self.name!r} must be one word for a TREC file")
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w", encoding="utf-8") as fh:
            for row, qid in enumerate(self.query_ids):
                for rank, (doc_id, score) in enumerate(self.ranked(row), start=1):
                    fh.write(f"{qid} Q0 {doc_id} {rank} {score:.17g} {self.name}\n")
        return path

    @classmethod
    def read_trec(cls, path: Path | str) -> Run:
        """Read a TREC run file; rows are re-sorted as trec_eval would sort them."""
        path = Path(path)
        results: dict[str, dict[str, float]] = {}
        name = "embedgate"
        with path.open("r", encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, start=1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 6:
                    raise DatasetError(
                        f"expected 6 columns 'qid Q0 docid rank score tag', found {len(parts)}. "
                        "Fix the line or regenerate the run file.",
                        path=path,
                        line=lineno,
                    )
                qid, _, doc_id, _, score, name = parts
                docs = results.setdefault(qid, {})
                if doc_id in docs:
                    raise DatasetError(
                        f"doc {doc_id!r} appears twice for query {qid!r} (trec_eval refuses "
                        "such files). Keep one line per query and document.",
                        path=path,
                        line=lineno,
                    )
                try:
                    docs[doc_id] = float(score)
                except ValueError:
                    raise DatasetError(
                        f"score {score!r} is not a number. "
                        "Fix the line or regenerate the run file.",
                        path=path,
                        line=lineno,
                    ) from None
        return cls.from_dict(results, name=name)
