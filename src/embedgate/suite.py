"""The suite's session store: each (model, dataset) evaluated once, then shared read-only.

`SuiteStore` is what the pytest plugin's session fixture holds and what a notebook can use on
its own: it loads each dataset and model once, evaluates each case once through the embedding
cache, writes ``results.json`` and ``run.trec`` per case, and answers later requests from
memory. It knows nothing of pytest: the plugin turns its answers and errors into passes,
failures and skips.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from embedgate.cache import EmbeddingCache
from embedgate.config import CompareSpec, DatasetSpec, SuiteConfig, Threshold
from embedgate.datasets import RetrievalDataset, load_dataset
from embedgate.datasets.tasks import (
    BitextDataset,
    ClassificationDataset,
    RerankingDataset,
    STSDataset,
    TaskDataset,
    load_task_dataset,
)
from embedgate.errors import MissingCredentials, MissingDependency
from embedgate.evaluation import Evaluation, Progress, evaluate_model, evaluate_task_model
from embedgate.metrics import metric_label, parse_metric
from embedgate.models import Embedder, LexicalModel, load_model
from embedgate.report.leaderboard import leaderboard_markdown
from embedgate.report.tables import format_score
from embedgate.specs import ModelSpec
from embedgate.stats import PowerReport, Verdict, correct, non_inferiority, power_report

__all__ = [
    "Case",
    "SuiteStore",
    "SwapVerdict",
    "item_texts",
    "leaderboard",
    "lost_most",
    "swap_verdict",
    "threshold_failure",
]


@dataclass(frozen=True, slots=True)
class Case:
    """One model on one dataset: the unit of work, one pytest case."""

    model: ModelSpec
    dataset: DatasetSpec

    @property
    def id(self) -> str:
        return f"{self.model.name}-{self.dataset.name}"


@dataclass(frozen=True, slots=True)
class SwapVerdict:
    """A candidate against the baseline on one dataset: the verdict and what the data can show."""

    verdict: Verdict
    power: PowerReport


def swap_verdict(
    baseline: Evaluation, candidate: Evaluation, compare: CompareSpec, *, seed: int
) -> SwapVerdict:
    """Non-inferiority of ``candidate`` against ``baseline`` as ``compare`` states it.

    Uncorrected: `SuiteStore.swaps` corrects the session's family with Holm.
    """
    # Retrieval is judged on the configured metric; other task types on their main metric.
    key = parse_metric(compare.metric).key if baseline.task == "retrieval" else baseline.main_metric
    label = metric_label(key)
    a, b = baseline.scores(key), candidate.scores(key)
    if baseline.query_ids != candidate.query_ids:
        raise ValueError(
            f"{candidate.model} and {baseline.model} on {candidate.dataset} scored different "
            "queries; evaluate both on the same dataset version."
        )
    verdict = non_inferiority(
        a,
        b,
        margin=compare.margin,
        baseline=baseline.model,
        candidate=candidate.model,
        metric=label,
        dataset=candidate.dataset,
        test=compare.test,  # type: ignore[arg-type]
        alpha=compare.alpha,
        resamples=compare.resamples,
        seed=seed,
    )
    power = power_report(
        a,
        b,
        kind="non-inferiority",
        margin=compare.margin,
        assumed_difference=0.0,
        alpha=compare.alpha,
        dataset=candidate.dataset,
        metric=label,
    )
    return SwapVerdict(verdict, power)


class SuiteStore:
    """Evaluations of a configured suite, computed on first request and kept.

    Args:
        config: the suite configuration.
        results_dir: where each case's ``results.json`` and ``run.trec`` are written
            (``<results_dir>/<dataset>/<model>/``); ``None`` writes nothing.
        progress: passed on to `evaluate_model`.
    """

    def __init__(
        self,
        config: SuiteConfig,
        *,
        results_dir: Path | None = None,
        progress: Progress | None = None,
    ) -> None:
        self.config = config
        self.results_dir = results_dir
        self._progress = progress
        self._cache: EmbeddingCache | None = None
        self._models: dict[str, Embedder | LexicalModel] = {}
        self._datasets: dict[str, RetrievalDataset | TaskDataset] = {}
        self._evaluations: dict[tuple[str, str], Evaluation] = {}
        self._swaps: dict[tuple[str, str], SwapVerdict] | None = None
        #: cases this machine cannot evaluate (a missing extra or key) and why
        self.unavailable: dict[tuple[str, str], MissingDependency | MissingCredentials] = {}

    @property
    def cache(self) -> EmbeddingCache:
        if self._cache is None:
            self._cache = EmbeddingCache(self.config.cache)
        return self._cache

    def dataset(self, name: str) -> RetrievalDataset | TaskDataset:
        """The loaded dataset: a `RetrievalDataset`, or for other task types a `TaskDataset`."""
        if name not in self._datasets:
            spec = self.config.dataset(name)
            if spec.task == "retrieval":
                self._datasets[name] = load_dataset(spec.path, split=spec.split, name=name)
            else:
                self._datasets[name] = load_task_dataset(
                    spec.path, spec.task, split=spec.split, name=name
                )
        return self._datasets[name]

    def model(self, name: str) -> Embedder | LexicalModel:
        if name not in self._models:
            spec = self.config.model(name)
            self._models[name] = load_model(spec, models_dir=self.config.models_dir)
        return self._models[name]

    def evaluation(self, model: str, dataset: str) -> Evaluation:
        """The evaluation of one case, computed once per store.

        Raises:
            MissingDependency, MissingCredentials: the case cannot run here; the reason is
                also kept in `unavailable`, so later requests fail fast with it.
        """
        key = (model, dataset)
        if key in self.unavailable:
            raise self.unavailable[key]
        if key not in self._evaluations:
            data = self.dataset(dataset)
            try:
                if isinstance(data, RetrievalDataset):
                    evaluation = evaluate_model(
                        model,
                        self.model(model),
                        data,
                        cache=self.cache,
                        metrics=self.config.metrics,
                        k=self.config.k,
                        progress=self._progress,
                    )
                else:
                    evaluation = evaluate_task_model(
                        model,
                        self.model(model),
                        data,
                        cache=self.cache,
                        seed=self.config.seed,
                        progress=self._progress,
                    )
            except (MissingDependency, MissingCredentials) as exc:
                self.unavailable[key] = exc
                raise
            if self.results_dir is not None:
                evaluation.write(self.results_dir / dataset / model)
            self._evaluations[key] = evaluation
        return self._evaluations[key]

    def evaluations(self, dataset: str, models: Sequence[str] | None = None) -> list[Evaluation]:
        """Every configured model (or those named) on one dataset, in configuration order.

        Models this machine cannot evaluate (a missing extra, or an API model with neither a
        key nor cached embeddings) are left out; `unavailable` says why.
        """
        names = self.config.model_names if models is None else models
        task = self.config.dataset(dataset).task
        found = []
        for name in (n for n in names if self.config.model(n).supports(task)):
            try:
                found.append(self.evaluation(name, dataset))
            except (MissingDependency, MissingCredentials):
                continue
        return found

    def swaps(self) -> dict[tuple[str, str], SwapVerdict]:
        """Every candidate against the baseline on every available dataset, as one family.

        The family is declared by the configuration, not by the tests that happen to run:
        Holm's correction spans all of it, so selecting one test does not make its verdict
        easier to pass. Computed once per store; keys are ``(candidate, dataset)``.
        """
        if self._swaps is None:
            config = self.config
            if config.baseline is None:
                raise ValueError("no baseline is configured to compare candidates against")
            raw: dict[tuple[str, str], SwapVerdict] = {}
            for dataset in (d for d in config.datasets if d.available):
                for model in (m.name for m in config.candidates if m.supports(dataset.task)):
                    try:
                        base = self.evaluation(config.baseline, dataset.name)
                        cand = self.evaluation(model, dataset.name)
                    except (MissingDependency, MissingCredentials):
                        continue  # outside the family; its test skips with the reason
                    raw[(model, dataset.name)] = swap_verdict(
                        base, cand, config.compare, seed=config.seed
                    )
            corrected = correct([v.verdict for v in raw.values()]) if raw else ()
            self._swaps = {
                key: SwapVerdict(verdict, swap.power)
                for (key, swap), verdict in zip(raw.items(), corrected, strict=True)
            }
        return self._swaps

    @property
    def computed(self) -> list[Evaluation]:
        """The evaluations this store has computed so far."""
        return list(self._evaluations.values())

    def close(self) -> None:
        if self._cache is not None:
            self._cache.close()
            self._cache = None


def leaderboard(config: SuiteConfig, evaluations: Sequence[Evaluation]) -> str:
    """The suite's leaderboard: marks against its baseline at its alpha, seeded by its seed.

    Without the baseline's results (a selection left it out) the scores carry no marks.
    """
    baseline = config.baseline if any(e.model == config.baseline for e in evaluations) else None
    return leaderboard_markdown(
        evaluations, baseline=baseline, alpha=config.compare.alpha, seed=config.seed
    )


def threshold_failure(
    evaluation: Evaluation,
    threshold: Threshold,
    dataset: RetrievalDataset | TaskDataset,
    *,
    baseline: Evaluation | None = None,
    worst: int = 5,
) -> str | None:
    """A reviewer's comment when ``evaluation`` misses ``threshold``; ``None`` when it clears it.

    Names the model, dataset, metric, value, threshold and shortfall, then the queries that
    lost most: against the baseline when one is given (and is another model), else the
    lowest-scoring queries.
    """
    value = evaluation.mean(threshold.metric)
    if value >= threshold.min:
        return None
    items = "queries" if evaluation.task in ("retrieval", "reranking") else "items"
    lines = [
        f"{evaluation.model} on {evaluation.dataset}: {metric_label(threshold.metric)} = "
        f"{format_score(value)} is below its threshold {format_score(threshold.min)} "
        f"(short by {format_score(threshold.min - value)}; "
        f"n = {len(evaluation.query_ids)} {items}).",
    ]
    lines.extend(
        lost_most(evaluation, threshold.metric, dataset, baseline, worst=worst, below=threshold.min)
    )
    return "\n".join(lines)


def lost_most(
    evaluation: Evaluation,
    metric: str,
    dataset: RetrievalDataset | TaskDataset,
    baseline: Evaluation | None = None,
    *,
    worst: int = 5,
    below: float = float("inf"),
) -> list[str]:
    """Lines naming the queries that lost most against ``baseline``.

    Without a baseline (or when the model is the baseline): the lowest-scoring queries, those
    under ``below`` only.
    """
    label = metric_label(metric)
    ids = list(evaluation.query_ids)
    scores = evaluation.scores(metric)
    texts = item_texts(dataset)
    what = "queries" if isinstance(dataset, RetrievalDataset | RerankingDataset) else "items"
    if baseline is not None and baseline.model != evaluation.model:
        base = baseline.scores(metric)
        diff = scores - base
        lines = [
            f"{what.capitalize()} that lost most against the baseline {baseline.model} "
            f"({label}: {evaluation.model} vs {baseline.model}):"
        ]
        lines.extend(
            f"  {ids[i]}: {format_score(scores[i])} vs {format_score(base[i])} "
            f"({format_score(diff[i])})  {_clip(texts.get(ids[i], ''))}"
            for i in np.argsort(diff, kind="stable")[:worst].tolist()
            if diff[i] < 0
        )
        return lines
    lines = [f"Lowest-scoring {what} ({label}):"]
    lines.extend(
        f"  {ids[i]}: {format_score(scores[i])}  {_clip(texts.get(ids[i], ''))}"
        for i in np.argsort(scores, kind="stable")[:worst].tolist()
        if scores[i] < below
    )
    return lines


def item_texts(dataset: RetrievalDataset | TaskDataset) -> dict[str, str]:
    """``{item id: text}`` for messages: a query, a text, a pair; empty for clustering runs."""
    if isinstance(dataset, RetrievalDataset):
        return {q.id: q.text for q in dataset.queries}
    if isinstance(dataset, STSDataset):
        return {p.id: f"{p.sentence1} | {p.sentence2}" for p in dataset.pairs}
    if isinstance(dataset, ClassificationDataset):
        return {t.id: t.text for t in dataset.test}
    if isinstance(dataset, BitextDataset):
        return {p.id: p.source for p in dataset.pairs}
    if isinstance(dataset, RerankingDataset):
        return {q.id: q.query for q in dataset.queries}
    return {}


def _clip(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= width else text[: width - 1] + "…")
