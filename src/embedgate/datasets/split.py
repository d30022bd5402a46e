"""A seeded, stratified dev/test split of a golden set's queries.

Thresholds tuned on the queries that verdicts are later taken on are overfitted to them. So
the queries are split once: tune on ``dev``, decide on ``test``. The split is stratified, so
each language and each topic keeps its share in both halves (a dev set without the German
queries would tune nothing for German), and seeded, so the same seed gives the same split on
every machine.

How queries are allotted: each query has a stratum (``"de|billing"``: its language and its
topic). The dev set gets ``round(n * dev)`` queries in all; each stratum's exact share
``n_s * dev`` is floored, and the queries still owed go to the strata with the largest
remainders (Hamilton's largest-remainder method; ties broken by a seeded shuffle). Within a
stratum, a seeded permutation of its query ids (sorted, so file order does not matter) picks
which. The documents are not split: both halves search the whole corpus.

`write_split` writes the result in the BEIR layout (``qrels/dev.tsv`` and
``qrels/test.tsv``), which `embedgate.datasets.load_dataset` reads with ``split="dev"`` or
``split="test"``.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from embedgate.datasets.loaders import PathLike
from embedgate.datasets.types import RetrievalDataset
from embedgate.errors import DatasetError

__all__ = ["QuerySplit", "query_strata", "split_queries", "write_split"]


@dataclass(frozen=True, slots=True)
class QuerySplit:
    """Which queries are dev and which are test.

    Attributes:
        dev: dev query ids, in dataset order.
        test: test query ids, in dataset order.
        strata: ``{query id: stratum}`` the split was stratified by.
        seed: the seed.
        dev_share: the share asked for.
    """

    dev: tuple[str, ...]
    test: tuple[str, ...]
    strata: Mapping[str, str] = field(repr=False)
    seed: int
    dev_share: float

    def table(self) -> dict[str, dict[str, int]]:
        """``{stratum: {"dev": n, "test": n}}``, strata sorted."""
        dev = set(self.dev)
        out: dict[str, dict[str, int]] = {}
        for qid, stratum in sorted(self.strata.items(), key=lambda kv: kv[1]):
            cell = out.setdefault(stratum, {"dev": 0, "test": 0})
            cell["dev" if qid in dev else "test"] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "dev_share": self.dev_share,
            "dev": len(self.dev),
            "test": len(self.test),
            "strata": self.table(),
        }


def query_strata(
    dataset: RetrievalDataset,
    *,
    languages: Mapping[str, str] | None = None,
    topics: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """``{query id: "language|topic"}`` for stratifying.

    Args:
        dataset: the dataset.
        languages: ``{query id: language}`` (detected, say); a query's stated ``lang`` wins.
        topics: ``{query id: topic}`` (a document cluster, say); a query's ``tags["topic"]``
            wins.

    Queries with neither get ``"und"`` and ``"-"``.

    Example:
        >>> from embedgate.datasets import Document, Query
        >>> ds = RetrievalDataset("t", None, "test", (Document("d1", "", "x"),),
        ...     (Query("q1", "a", "de", {"topic": "billing"}), Query("q2", "b")),
        ...     {"q1": {"d1": 1}, "q2": {"d1": 1}})
        >>> query_strata(ds, topics={"q2": "c3"})
        {'q1': 'de|billing', 'q2': 'und|c3'}
    """
    languages = languages or {}
    topics = topics or {}
    out = {}
    for q in dataset.queries:
        lang = q.language or languages.get(q.id) or "und"
        topic = q.tags.get("topic") or topics.get(q.id) or "-"
        out[q.id] = f"{lang}|{topic}"
    return out


def split_queries(
    dataset: RetrievalDataset,
    *,
    dev: float = 0.3,
    seed: int = 0,
    strata: Mapping[str, str] | None = None,
) -> QuerySplit:
    """Split the evaluated queries into dev and test, stratified and seeded.

    Args:
        dataset: the dataset; its evaluated queries are split.
        dev: the share of queries for dev, in (0, 1).
        seed: the seed of every random choice.
        strata: ``{query id: stratum}`` (see `query_strata`); ``None`` stratifies by the
            queries' stated language and topic tag.

    Returns:
        The `QuerySplit`; every query is in exactly one half.

    Raises:
        DatasetError: ``dev`` is not in (0, 1), a half would be empty, or ``strata`` misses a
            query.

    Example:
        >>> from embedgate.datasets import Document, Query
        >>> qs = tuple(Query(f"q{i}", "x", "en" if i < 6 else "de") for i in range(10))
        >>> ds = RetrievalDataset("t", None, "test", (Document("d1", "", "x"),), qs,
        ...                       {q.id: {"d1": 1} for q in qs})
        >>> s = split_queries(ds, dev=0.5, seed=1)
        >>> s.table()
        {'de|-': {'dev': 2, 'test': 2}, 'en|-': {'dev': 3, 'test': 3}}
    """
    if not isinstance(dev, float | int) or not 0.0 < dev < 1.0:
        raise DatasetError(f"dev share {dev!r} must lie strictly between 0 and 1, e.g. 0.3.")
    ids = dataset.query_ids
    n = len(ids)
    n_dev = round(n * dev)
    if n_dev == 0 or n_dev == n:
        raise DatasetError(
            f"a dev share of {dev:g} of {n} queries leaves "
            f"{'dev' if n_dev == 0 else 'test'} empty. Choose a share between "
            f"{1 / n:.3g} and {1 - 1 / n:.3g}, or add queries."
        )
    labels = dict(strata) if strata is not None else query_strata(dataset)
    missing = [q for q in ids if q not in labels]
    if missing:
        raise DatasetError(f"strata give no stratum for queries {missing[:5]}. Give one each.")
    rng = np.random.default_rng(seed)
    members: dict[str, list[str]] = {}
    for qid in sorted(ids):
        members.setdefault(labels[qid], []).append(qid)
    names = sorted(members)
    exact = {s: len(members[s]) * n_dev / n for s in names}
    quota = {s: math.floor(exact[s]) for s in names}
    owed = n_dev - sum(quota.values())
    tiebreak = {s: float(r) for s, r in zip(names, rng.random(len(names)), strict=True)}
    by_remainder = sorted(names, key=lambda s: (-(exact[s] - quota[s]), tiebreak[s]))
    for s in by_remainder[:owed]:
        quota[s] += 1
    chosen: set[str] = set()
    for s in names:
        order = rng.permutation(len(members[s]))
        chosen.update(members[s][i] for i in order[: quota[s]].tolist())
    return QuerySplit(
        dev=tuple(q for q in ids if q in chosen),
        test=tuple(q for q in ids if q not in chosen),
        strata=MappingProxyType({q: labels[q] for q in ids}),
        seed=seed,
        dev_share=float(dev),
    )


def write_split(dataset: RetrievalDataset, split: QuerySplit, out: PathLike) -> Path:
    """Write the dataset with its split in the BEIR layout.

    Writes ``corpus.jsonl`` (every document), ``queries.jsonl`` (the split queries with their
    ``lang`` and ``tags``), ``qrels/dev.tsv``, ``qrels/test.tsv`` (every judgement, grade 0
    included) and ``split.json`` (seed, share, counts per stratum, the source fingerprint).

    Raises:
        DatasetError: ``out`` exists and is not an empty folder (nothing is overwritten), or
            the split names a query the dataset does not hold.
    """
    folder = Path(out)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise DatasetError(
            "exists and is not an empty folder; the split is written only into a new or empty "
            "folder, so nothing is overwritten. Choose another --out.",
            path=folder,
        )
    unknown = [q for q in (*split.dev, *split.test) if q not in dataset.qrels]
    if unknown or len(set(split.dev) & set(split.test)):
        raise DatasetError(
            f"the split does not match dataset {dataset.name!r} (unknown or repeated query ids "
            f"{unknown[:5]}). Split this dataset again."
        )
    (folder / "qrels").mkdir(parents=True, exist_ok=True)

    def jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
        path.write_text(text, encoding="utf-8")

    jsonl(
        folder / "corpus.jsonl",
        [{"_id": d.id, "title": d.title, "text": d.text} for d in dataset.corpus],
    )
    keep = set(split.dev) | set(split.test)
    rows = []
    for q in dataset.queries:
        if q.id not in keep:
            continue
        row: dict[str, Any] = {"_id": q.id, "text": q.text}
        if q.language:
            row["lang"] = q.language
        if q.tags:
            row["tags"] = dict(q.tags)
        rows.append(row)
    jsonl(folder / "queries.jsonl", rows)
    for name, qids in (("dev", split.dev), ("test", split.test)):
        lines = ["query-id\tcorpus-id\tscore"]
        lines += [f"{q}\t{d}\t{g}" for q in qids for d, g in dataset.qrels[q].items()]
        (folder / "qrels" / f"{name}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    manifest = {
        "source": {
            "name": dataset.name,
            "split": dataset.split,
            "fingerprint": dataset.fingerprint,
        },
        **split.to_dict(),
        "stratum_sizes": dict(Counter(split.strata.values()).most_common()),
    }
    (folder / "split.json").write_text(
        json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    return folder
