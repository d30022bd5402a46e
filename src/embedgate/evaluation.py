"""One (model, dataset) evaluation: embed through the cache, search, score every query.

This is the pipeline both front ends call (the CLI's ``run`` and the pytest plugin's
session store). Each step is a plain function call on typed values::

    dataset + model --embed (cache)--> vectors --exact_search--> Run --metrics--> Evaluation

`Evaluation` is what ``results.json`` holds; `Evaluation.to_dict` and `read_results` are the
two ends of that file (its schema is in the README).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from embedgate import __version__
from embedgate.cache import EmbeddingCache, embed_with_cache
from embedgate.datasets import RetrievalDataset
from embedgate.errors import ConfigError, ResultsError
from embedgate.metrics import MetricSpec, evaluate, parse_metric
from embedgate.models import Embedder, LexicalModel, ModelInfo, Role, fingerprint_identity
from embedgate.retrieval import Run
from embedgate.retrieval.dense import exact_search

if TYPE_CHECKING:
    from embedgate.datasets.tasks import TaskDataset

__all__ = [
    "DEFAULT_METRICS",
    "MAIN_METRICS",
    "RESULTS_SCHEMA",
    "CachedEmbedding",
    "Evaluation",
    "Progress",
    "evaluate_model",
    "evaluate_task_model",
    "read_results",
]

RESULTS_SCHEMA = "embedgate.results/1"
DEFAULT_METRICS: tuple[str, ...] = (
    "ndcg@10",
    "recall@10",
    "recall@100",
    "mrr@10",
    "map@100",
    "p@10",
    "success@1",
)

#: The score each task type is ranked by (as MTEB's ``main_score``), when it was computed.
MAIN_METRICS: Mapping[str, str] = MappingProxyType(
    {
        "retrieval": "ndcg@10",
        "reranking": "map",
        "sts": "spearman",
        "classification": "accuracy",
        "clustering": "v_measure",
        "bitext": "accuracy",
    }
)

#: ``progress(stage, done, total)``; stages are ``"documents"`` and ``"queries"``.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True, slots=True)
class Evaluation:
    """The result of one model on one dataset.

    Attributes:
        model: the model's short name.
        info: what the model is (dimensions, parameters, ...).
        dataset: the dataset's name; ``fingerprint`` identifies its content.
        per_query: ``{metric key: {item id: score}}`` (keys like ``"ndcg@10"``) for every
            evaluated item (a query; for other task types a pair, a text or a seeded run), in
            dataset order. Means are derived from it, never stored apart, and each metric's mean
            is its value on the dataset, so paired tests apply to every task type.
        task: the task type (``"retrieval"``, ``"sts"``, ...; see `MAIN_METRICS`).
        summary: whole-set figures that are not a mean of per-item scores (macro-F1, the
            spread over seeds, ...); reported, never tested.
        k: the search depth.
        counts: documents, queries, judgements.
        timings: seconds per stage (never in snapshots).
        cache: embedding cache hits and misses per role.
        usage: what an API model was sent in this evaluation (requests, tokens, retries,
            estimated cost); empty for local models.
        run: the ranked results (not written to results.json; ``run.trec`` holds them).
    """

    model: str
    info: ModelInfo
    dataset: str
    fingerprint: str
    split: str
    per_query: Mapping[str, Mapping[str, float]]
    k: int
    counts: Mapping[str, int] = field(default_factory=dict)
    timings: Mapping[str, float] = field(default_factory=dict)
    cache: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    run: Run | None = field(default=None, repr=False, compare=False)
    created: str = ""
    usage: Mapping[str, Any] = field(default_factory=dict)
    task: str = "retrieval"
    summary: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frozen = {m: MappingProxyType(dict(s)) for m, s in self.per_query.items()}
        object.__setattr__(self, "per_query", MappingProxyType(frozen))

    @property
    def metrics(self) -> tuple[str, ...]:
        return tuple(self.per_query)

    @property
    def main_metric(self) -> str:
        """The metric this evaluation is ranked by: its task's, else the first computed."""
        main = MAIN_METRICS.get(self.task, "")
        return main if main in self.per_query else next(iter(self.per_query))

    @property
    def query_ids(self) -> tuple[str, ...]:
        first = next(iter(self.per_query.values()), {})
        return tuple(first)

    def scores(self, metric: str) -> np.ndarray:
        """Per-query scores of one metric as a float64 array in query order."""
        key = metric if metric in self.per_query else parse_metric(metric).key
        if key not in self.per_query:
            raise ResultsError(
                f"metric {metric!r} was not computed for {self.model} on {self.dataset}; "
                f"computed: {', '.join(self.per_query)}."
            )
        return np.fromiter(self.per_query[key].values(), dtype=np.float64)

    def mean(self, metric: str) -> float:
        scores = self.scores(metric)
        return float(scores.mean()) if scores.size else 0.0

    @property
    def means(self) -> dict[str, float]:
        return {m: self.mean(m) for m in self.per_query}

    def embedded(self) -> int:
        """Texts sent to the model in this evaluation (0 when the cache answered everything)."""
        return sum(c.get("embedded", 0) for c in self.cache.values())

    def to_dict(self) -> dict[str, Any]:
        """The ``results.json`` document (schema ``embedgate.results/1``)."""
        return {
            "schema": RESULTS_SCHEMA,
            "embedgate_version": __version__,
            "created": self.created,
            "task": self.task,
            "model": {"name": self.model, "info": self.info.to_dict()},
            "dataset": {"name": self.dataset, "fingerprint": self.fingerprint, "split": self.split},
            "k": self.k,
            "counts": dict(self.counts),
            "metrics": {
                m: {"mean": self.mean(m), "per_query": dict(scores)}
                for m, scores in self.per_query.items()
            },
            "timings": dict(self.timings),
            "cache": {role: dict(c) for role, c in self.cache.items()},
            "usage": dict(self.usage),
            "summary": dict(self.summary),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = "results") -> Evaluation:
        if data.get("schema") != RESULTS_SCHEMA:
            raise ResultsError(
                f"{source}: schema {data.get('schema')!r} is not {RESULTS_SCHEMA!r}. "
                "Regenerate it with this version of 'embedgate run'."
            )
        try:
            info = dict(data["model"]["info"])
            return cls(
                model=data["model"]["name"],
                info=ModelInfo(**info),
                dataset=data["dataset"]["name"],
                fingerprint=data["dataset"]["fingerprint"],
                split=data["dataset"]["split"],
                per_query={m: v["per_query"] for m, v in data["metrics"].items()},
                k=int(data["k"]),
                counts=data.get("counts", {}),
                timings=data.get("timings", {}),
                cache=data.get("cache", {}),
                created=data.get("created", ""),
                usage=data.get("usage", {}),
                task=data.get("task", "retrieval"),
                summary=data.get("summary", {}),
            )
        except (KeyError, TypeError) as exc:
            raise ResultsError(
                f"{source}: missing or malformed field {exc}. Regenerate it with 'embedgate run'."
            ) from exc

    def write(self, folder: Path | str) -> Path:
        """Write ``results.json`` (and ``run.trec`` when the run is held) into ``folder``."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        if self.run is not None:
            self.run.write_trec(folder / "run.trec")
        path = folder / "results.json"
        path.write_text(json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", "utf-8")
        return path


def read_results(path: Path | str) -> Evaluation:
    """Read a ``results.json`` written by `Evaluation.write` (or a folder holding one)."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    try:
        data = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such results file. Run 'embedgate run' first.") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg}).") from exc
    return Evaluation.from_dict(data, source=str(path))


class CachedEmbedding:
    """One model's embeddings through the cache, with what was asked, sent and found.

    Called as ``embedding(texts, role)``: vectors are keyed by the model's identity, the role
    and the text, so every front end that embeds through it (evaluation, the golden-set lint
    and builder) shares what the others paid for. It keeps the cache counts per role
    (cumulative over calls) and the distinct texts asked for and sent, from which `savings`
    prices what the cache answered.
    """

    def __init__(self, model: Embedder, cache: EmbeddingCache, progress: Progress | None) -> None:
        self.model = model
        self.cache = cache
        self.progress = progress
        self.identity = model.identity()
        self.fingerprint = fingerprint_identity(self.identity)
        self.asked: dict[Role, set[str]] = {Role.DOCUMENT: set(), Role.QUERY: set()}
        self.sent: dict[Role, set[str]] = {Role.DOCUMENT: set(), Role.QUERY: set()}
        self.counts: dict[str, dict[str, int]] = {}
        self.seconds = 0.0

    def __call__(self, texts: Sequence[str], role: Role) -> np.ndarray:
        progress = self.progress
        report = (
            None if progress is None else (lambda done, total: progress(role.value, done, total))
        )

        def send(batch: Sequence[str]) -> np.ndarray:
            self.sent[role].update(batch)
            return self.model.embed(batch, role)

        start = time.perf_counter()
        vectors, stats = embed_with_cache(
            send,
            texts,
            cache=self.cache,
            fingerprint=self.fingerprint,
            role=role.value,
            batch_size=getattr(self.model, "batch_size", 64),
            identity=self.identity,
            progress=report,
            plan=getattr(self.model, "plan_batches", None),  # API adapters: one request per batch
        )
        self.seconds += time.perf_counter() - start
        self.asked[role].update(texts)
        counts = self.counts.setdefault(_ROLE_NAMES[role], {"hits": 0, "misses": 0, "embedded": 0})
        counts["hits"] += stats.hits
        counts["misses"] += stats.misses
        counts["embedded"] += stats.embedded
        return vectors

    def for_role(self, role: Role) -> Callable[[Sequence[str]], np.ndarray]:
        """``texts -> vectors`` in one role, for code that embeds one kind of text."""
        return lambda texts: self(texts, role)

    def savings(self, price: float | None) -> dict[str, Any]:
        """What the cache saved an API model: the distinct texts it answered, priced.

        Each distinct text is paid for once without a cache too, so the saving is the
        distinct texts of each role that were not sent, counted as the adapter counts them.
        """
        estimate = getattr(self.model, "estimate_tokens", None)
        if not callable(estimate):
            return {}
        tokens = texts = 0
        method = ""
        for role, asked in self.asked.items():
            answered = sorted(asked - self.sent[role])
            counted, method = estimate(answered)
            tokens += counted
            texts += len(answered)
        return {
            "cache_saved_texts": texts,
            "cache_saved_tokens": tokens,
            "cache_saved_tokens_counted_as": method,
            "cache_saved_cost_usd": None if price is None else tokens / 1e6 * price,
        }


_ROLE_NAMES = {Role.DOCUMENT: "documents", Role.QUERY: "queries"}


def evaluate_model(
    name: str,
    model: Embedder | LexicalModel,
    dataset: RetrievalDataset,
    *,
    cache: EmbeddingCache | None,
    metrics: Sequence[str | MetricSpec] = DEFAULT_METRICS,
    k: int = 100,
    progress: Progress | None = None,
) -> Evaluation:
    """Evaluate one model on one dataset.

    Args:
        name: the model's short name (tables, ids, folders).
        model: a dense `Embedder` (vectors go through ``cache``) or a `LexicalModel` (BM25).
        dataset: the loaded dataset; every judged query is scored, retrieved or not.
        cache: the embedding cache; required for dense models.
        metrics: metric names (``"ndcg@10"``) or specs.
        k: search depth; metrics with a larger cutoff see at most ``k`` results.
        progress: called after each embedded batch.

    Returns:
        The `Evaluation`, with the `Run` attached.
    """
    specs = [parse_metric(m) if isinstance(m, str) else m for m in metrics]
    usage_before = _usage(model)
    timings: dict[str, float] = {}
    start = time.perf_counter()
    embedding = None
    if isinstance(model, LexicalModel):
        run = model.search(
            dataset.doc_texts, dataset.doc_ids, dataset.query_texts, dataset.query_ids, k=k
        )
        timings["search_s"] = time.perf_counter() - start
    else:
        if cache is None:
            raise ValueError("a dense model needs an embedding cache")
        embedding = CachedEmbedding(model, cache, progress)
        doc_vectors = embedding(dataset.doc_texts, Role.DOCUMENT)
        timings["embed_documents_s"] = time.perf_counter() - start
        mark = time.perf_counter()
        query_vectors = embedding(dataset.query_texts, Role.QUERY)
        timings["embed_queries_s"] = time.perf_counter() - mark
        mark = time.perf_counter()
        run = exact_search(
            query_vectors,
            doc_vectors,
            query_ids=dataset.query_ids,
            doc_ids=dataset.doc_ids,
            k=k,
            name=name,
        )
        timings["search_s"] = time.perf_counter() - mark
    usage = _usage_since(usage_before, _usage(model))
    if usage and embedding is not None:
        usage |= embedding.savings(usage.get("price_per_million_usd"))
    mark = time.perf_counter()
    per_query = evaluate(run, dataset.qrels, specs, query_ids=dataset.query_ids)
    timings["metrics_s"] = time.perf_counter() - mark
    timings["total_s"] = time.perf_counter() - start
    return Evaluation(
        model=name,
        info=model.info,
        dataset=dataset.name,
        fingerprint=dataset.fingerprint,
        split=dataset.split,
        per_query={
            spec.key: dict(zip(dataset.query_ids, per_query[spec.key].tolist(), strict=True))
            for spec in specs
        },
        k=k,
        counts={
            "documents": len(dataset.corpus),
            "queries": len(dataset.queries),
            "judgements": dataset.n_judgements,
        },
        timings=timings,
        cache={} if embedding is None else embedding.counts,
        run=run,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        usage=usage,
    )


def evaluate_task_model(
    name: str,
    model: Embedder | LexicalModel,
    dataset: TaskDataset,
    *,
    cache: EmbeddingCache,
    seed: int,
    progress: Progress | None = None,
) -> Evaluation:
    """Evaluate one embedding model on a dataset of another task type (STS, bitext, ...).

    Texts are embedded through the cache in the query role (symmetric tasks embed every text
    alike; the query side is E5's convention for them), reranking candidates in the document
    role; the evaluator of ``dataset.task`` (see `embedgate.tasks`) scores every item, seeded
    by ``seed``.

    Raises:
        ConfigError: ``model`` is lexical (BM25 has no vectors for these tasks).
    """
    from embedgate.tasks import evaluate_task

    if isinstance(model, LexicalModel):
        raise ConfigError(
            f"{name} is a lexical model; it ranks documents and has no embeddings for the "
            f"{dataset.task} dataset {dataset.name}. Use it on retrieval datasets only."
        )
    usage_before = _usage(model)
    embedding = CachedEmbedding(model, cache, progress)
    start = time.perf_counter()
    scores = evaluate_task(
        dataset,
        embedding.for_role(Role.QUERY),
        seed=seed,
        embed_candidates=embedding.for_role(Role.DOCUMENT),  # reranking: asymmetric, as search
    )
    total = time.perf_counter() - start
    usage = _usage_since(usage_before, _usage(model))
    if usage:
        usage |= embedding.savings(usage.get("price_per_million_usd"))
    return Evaluation(
        model=name,
        info=model.info,
        dataset=dataset.name,
        fingerprint=dataset.fingerprint,
        split=getattr(dataset, "split", ""),
        per_query=scores.per_item,
        k=0,
        counts={"items": len(dataset.item_ids)},
        timings={
            "embed_s": embedding.seconds,
            "evaluate_s": total - embedding.seconds,
            "total_s": total,
        },
        cache=embedding.counts,
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        usage=usage,
        task=dataset.task,
        summary=dict(scores.summary),
    )


def _usage(model: object) -> dict[str, Any]:
    usage = getattr(model, "usage", None)
    return dict(usage()) if callable(usage) else {}


def _usage_since(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """An adapter's counters grow over its life; one evaluation owns the difference.

    Prices are settings, not counters, and are copied as they are.
    """

    def counter(key: str, value: Any) -> bool:
        number = isinstance(value, int | float) and not isinstance(value, bool)
        return number and not key.startswith("price") and isinstance(before.get(key), int | float)

    return {
        key: value - before[key] if counter(key, value) else value for key, value in after.items()
    }
