"""The leaderboard: an MTEB-style table of models on your own datasets, with significance.

Rows are models; the columns are those of the MTEB leaderboard (rank by Borda count, model,
parameters, memory, embedding dimensions, max tokens, mean over datasets, mean over task
types, one column per task type) plus what the public leaderboard lacks: a significance mark
against the baseline on every score, the price per million tokens and the measured
throughput. Each dataset is scored by its evaluation's main metric
(`embedgate.evaluation.MAIN_METRICS`: nDCG@10 for retrieval, Spearman for STS, ...).

**The Borda rule** (MTEB's ``_get_borda_rank``, ``mteb/leaderboard/table.py``): with ``n``
models in the table, on each dataset the models that have a result are ranked by score, best
first, tied scores sharing the average of their ranks (pandas ``rank(method="average")``);
a model at rank ``r`` gets ``n - r`` points and a model with no result on that dataset gets 0.
A model's Borda count is the sum of its points over the datasets, and the final rank orders
the counts, best first, tied counts sharing the best of their ranks (``method="min"``:
1, 2, 2, 4). So a missing result counts below the worst present one, which is MTEB's choice;
scores within 1e-9 of each other tie (the tolerance our metrics match trec_eval at), so
rounding noise between machines cannot reorder the table.

**Means** follow MTEB too: the mean over datasets and the mean over task types (the mean of
the per-type means) are only shown for a model with a result on every dataset, because a mean
over a different set of datasets is not comparable; such a model still gets a Borda rank.

**Marks**: with a baseline, each score of each other model carries ``▲`` (significantly
higher than the baseline) or ``▼`` (lower) from a two-sided paired randomization test on the
per-query scores (sign flips; exact up to 30 non-zero differences, else seeded Monte Carlo).
A mean over several datasets is tested with sign flips within each dataset on the differences
weighted by ``w_d / queries of the dataset``, with ``w_d`` the dataset's weight in the mean
(``1 / datasets`` for the mean over datasets, ``1 / (task types x datasets of its type)`` for
the mean over task types), whose sum is exactly the difference of the two means, so each mean
is tested as the table shows it. The family is every distinct (candidate, weighting of
datasets) comparison the table shows, and the decisions use
Holm-adjusted p-values over that family at ``alpha``; the legend states all of this.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from embedgate.errors import MetricError, ResultsError
from embedgate.evaluation import Evaluation
from embedgate.metrics import metric_label, parse_metric
from embedgate.models.base import ModelInfo
from embedgate.models.pricing import price_per_million
from embedgate.report.tables import format_score, markdown_table
from embedgate.stats import holm_adjust, randomization_test

__all__ = [
    "MEAN",
    "MEAN_TASK_TYPES",
    "Leaderboard",
    "LeaderboardRow",
    "Significance",
    "borda_ranks",
    "build_leaderboard",
    "detail_columns",
    "format_bytes",
    "format_count",
    "leaderboard_markdown",
    "model_text",
    "price_text",
    "rank_rule",
    "render_markdown",
    "summary_columns",
    "throughput_text",
]

#: The column key of the mean over datasets in `LeaderboardRow.marks`.
MEAN = "mean"
#: The column key of the mean over task types in `LeaderboardRow.marks`.
MEAN_TASK_TYPES = "mean_task_types"
_API_PROVIDERS = frozenset({"openai", "gemini"})
#: Scores closer than this tie in the Borda count.
_TIE_DECIMALS = 9


def _higher_is_better(key: str) -> bool:
    try:
        return parse_metric(key).greater_is_better
    except MetricError:
        # Every main score of MAIN_METRICS outside the retrieval registry (spearman, accuracy,
        # v_measure, map) is higher-is-better, as MTEB's main_score always is.
        return True


def borda_ranks(
    scores: Mapping[str, Mapping[str, float | None]],
    models: Sequence[str] | None = None,
) -> tuple[dict[str, int], dict[str, float]]:
    """Borda ranks of models over datasets, as the MTEB leaderboard computes them.

    On each dataset, with ``n`` models in the table, the models that have a score are ranked
    best first (higher is better), tied scores sharing the average of their ranks; rank ``r``
    earns ``n - r`` points and a missing score (absent or ``None``) earns 0. The Borda count is
    the sum over datasets; the rank orders the counts, best first, ties sharing the smallest
    rank (1, 2, 2, 4). Scores equal to 9 decimals tie.

    Args:
        scores: ``{model: {dataset: score or None}}``.
        models: the models of the table, in order; default the keys of ``scores``. A model
            listed here with no scores at all ranks last with 0 points.

    Returns:
        ``(ranks, points)``: ``{model: rank}`` and ``{model: Borda count}``, in model order.

    Example:
        >>> ranks, points = borda_ranks({"a": {"x": 0.9, "y": 0.2}, "b": {"x": 0.5},
        ...                              "c": {"x": 0.5, "y": 0.4}})
        >>> ranks, points
        ({'a': 1, 'b': 3, 'c': 2}, {'a': 3.0, 'b': 0.5, 'c': 2.5})
    """
    names = list(scores) if models is None else list(models)
    n = len(names)
    datasets = list(dict.fromkeys(d for m in names for d in scores.get(m, {})))
    points = dict.fromkeys(names, 0.0)
    for dataset in datasets:
        present = {
            m: round(float(v), _TIE_DECIMALS)
            for m in names
            if (v := scores.get(m, {}).get(dataset)) is not None and math.isfinite(v)
        }
        values = list(present.values())
        for model, value in present.items():
            better = sum(1 for v in values if v > value)
            equal = sum(1 for v in values if v == value)
            rank = better + (equal + 1) / 2.0
            points[model] += n - rank
    ranks = {m: 1 + sum(1 for other in points.values() if other > points[m]) for m in names}
    return ranks, points


def format_count(value: int | None) -> str:
    """Parameters as ``"22.7M"``, ``"1.5B"``, ``"950K"``; ``"unknown"`` for None."""
    if value is None:
        return "unknown"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if value >= size:
            return f"{value / size:.1f}{suffix}"
    return str(value)


def format_bytes(value: int | None) -> str:
    """Memory as ``"86.6 MB"`` (10**6 bytes), ``"1.2 GB"``; ``"unknown"`` for None."""
    if value is None:
        return "unknown"
    if value >= 1e9:
        return f"{value / 1e9:.1f} GB"
    return f"{value / 1e6:.1f} MB"


@dataclass(frozen=True, slots=True)
class Significance:
    """How the marks of a leaderboard were decided, for its legend.

    Attributes:
        baseline: the model every other is compared with.
        alpha: the family-wise level.
        family_size: how many comparisons the Holm correction is over.
        seed: the seed of the Monte Carlo p-values.
        resamples: Monte Carlo sign vectors when a test is not exact.
        p_values: ``{(candidate, column): (raw p, Holm-adjusted p)}`` for every marked cell.
    """

    baseline: str
    alpha: float
    family_size: int
    seed: int
    resamples: int
    p_values: Mapping[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    def legend(self) -> str:
        """The sentence under the table that says what a mark means."""
        if self.family_size == 0:
            return f"Baseline: {self.baseline}; no comparison could be tested."
        return (
            f"▲/▼: significantly better/worse than the baseline {self.baseline} "
            "(two-sided paired randomization test on per-query scores, sign flips within "
            f"each dataset for means; α = {self.alpha:g}, Holm-corrected over the "  # noqa: RUF001
            f"{self.family_size} comparisons of this table; exact up to 30 non-zero "
            f"differences, else {self.resamples} resamples, seed {self.seed})."
        )


@dataclass(frozen=True, slots=True)
class LeaderboardRow:
    """One model's line of the leaderboard.

    Attributes:
        model: the model's short name.
        info: what the model is (parameters, memory, dimensions, max tokens).
        rank: the Borda rank (1 is best).
        borda: the Borda count.
        scores: ``{dataset: main score}``; a dataset without a result is absent.
        task_scores: ``{task type: mean over its datasets}``; absent when one is missing.
        mean: the mean over every dataset of the table, None when one is missing.
        mean_task_types: the mean of the per-type means, None when one is missing.
        price_per_million: USD per 1M input tokens, None when unknown or local.
        local: True when the model ran on this machine (no per-token price applies).
        cost_usd: the estimated cost of these evaluations (API models), None when unknown.
        throughput: texts embedded per second of embedding, None when nothing was embedded.
        marks: ``{column: "▲" or "▼"}``; columns are dataset names, ``"task:<type>"``,
            ``"mean"`` and ``"mean_task_types"``.
    """

    model: str
    info: ModelInfo
    rank: int
    borda: float
    scores: Mapping[str, float]
    task_scores: Mapping[str, float]
    mean: float | None
    mean_task_types: float | None
    price_per_million: float | None
    local: bool
    cost_usd: float | None
    throughput: float | None
    marks: Mapping[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "borda": self.borda,
            "model": self.model,
            "info": self.info.to_dict(),
            "scores": dict(self.scores),
            "task_scores": dict(self.task_scores),
            "mean": self.mean,
            "mean_task_types": self.mean_task_types,
            "price_per_million_usd": self.price_per_million,
            "local": self.local,
            "cost_usd": self.cost_usd,
            "throughput_texts_per_s": self.throughput,
            "marks": dict(self.marks),
        }


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """Models ranked over datasets; build it with `build_leaderboard`.

    Attributes:
        rows: one per model, by rank, tied ranks in the order the models were given.
        datasets: the dataset columns, in the order first seen.
        dataset_tasks: ``{dataset: task type}``.
        metrics: ``{dataset: main metric key}``.
        task_types: the task type columns, in the order first seen.
        significance: how marks were decided, None without a baseline.
    """

    rows: tuple[LeaderboardRow, ...]
    datasets: tuple[str, ...]
    dataset_tasks: Mapping[str, str]
    metrics: Mapping[str, str]
    task_types: tuple[str, ...]
    significance: Significance | None = None

    @property
    def baseline(self) -> str | None:
        return None if self.significance is None else self.significance.baseline

    def row(self, model: str) -> LeaderboardRow:
        for r in self.rows:
            if r.model == model:
                return r
        raise KeyError(model)

    def dataset_label(self, dataset: str) -> str:
        """``"scifact (nDCG@10)"``: the dataset and the metric its column shows."""
        return f"{dataset} ({metric_label(self.metrics[dataset])})"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready document of the whole table (timings included)."""
        sig = self.significance
        return {
            "datasets": [
                {"name": d, "task": self.dataset_tasks[d], "metric": self.metrics[d]}
                for d in self.datasets
            ],
            "task_types": list(self.task_types),
            "significance": None
            if sig is None
            else {
                "baseline": sig.baseline,
                "test": "two-sided paired randomization test",
                "alpha": sig.alpha,
                "correction": "holm",
                "family_size": sig.family_size,
                "seed": sig.seed,
                "resamples": sig.resamples,
                "legend": sig.legend(),
                "p_values": [
                    {"model": m, "column": c, "p": p, "p_holm": ph}
                    for (m, c), (p, ph) in sig.p_values.items()
                ],
            },
            "rows": [r.to_dict() for r in self.rows],
        }


def _price(evaluations: Sequence[Evaluation]) -> tuple[float | None, bool, float | None]:
    """(USD per 1M tokens, ran locally, estimated cost of these evaluations)."""
    usages = [e.usage for e in evaluations if e.usage]
    info = evaluations[0].info
    if not usages:
        # Local adapters report no usage; an API model read from an older file may not either.
        listed = price_per_million(info.provider, info.model)
        return listed, listed is None and info.provider not in _API_PROVIDERS, None
    price = next(
        (
            float(u["price_per_million_usd"])
            for u in usages
            if u.get("price_per_million_usd") is not None
        ),
        None,
    )
    if price is None:
        price = price_per_million(info.provider, info.model)
    costs: list[float] = []
    for u in usages:
        value = u.get("estimated_cost_usd")
        if value is None:
            return price, False, None
        costs.append(float(value))
    return price, False, sum(costs)


def _throughput(evaluations: Sequence[Evaluation]) -> float | None:
    """Texts embedded per second of embedding, over the evaluations that embedded something.

    Cache hits cost next to nothing and are not counted as texts; their lookup time is part
    of the stage time, so a partly cached run slightly understates the model's speed.
    """
    texts = 0
    seconds = 0.0
    for e in evaluations:
        embedded = e.embedded()
        if embedded:
            texts += embedded
            seconds += e.timings.get("embed_documents_s", 0.0) + e.timings.get(
                "embed_queries_s", 0.0
            )
    return texts / seconds if texts and seconds > 0 else None


def _aligned(baseline: Evaluation, candidate: Evaluation, metric: str) -> tuple[Any, Any]:
    base = baseline.per_query[metric]
    cand = candidate.per_query[metric]
    if set(base) != set(cand):
        raise ResultsError(
            f"{candidate.model} and {baseline.model} on {candidate.dataset} scored different "
            f"queries ({len(cand)} and {len(base)}); evaluate both on the same dataset version "
            "(the fingerprints must match)."
        )
    ids = list(base)
    return (
        np.array([base[q] for q in ids], dtype=np.float64),
        np.array([cand[q] for q in ids], dtype=np.float64),
    )


#: A score column as the datasets it averages, each with its weight (the weights sum to 1).
_Weights = tuple[tuple[str, float], ...]


def _weighted_differences(
    base: Mapping[str, Evaluation], cand: Mapping[str, Evaluation], weights: _Weights
) -> np.ndarray:
    """Per-query differences weighted so that their sum is the difference of the column."""
    parts = []
    for d, w in weights:
        b = base[d]
        a_scores, b_scores = _aligned(b, cand[d], b.main_metric)
        sign = 1.0 if _higher_is_better(b.main_metric) else -1.0
        parts.append(sign * (b_scores - a_scores) * w / max(1, a_scores.size))
    return np.concatenate(parts)


def _key(weights: _Weights) -> _Weights:
    # Columns that weigh the same datasets alike (a task type with one dataset and that
    # dataset, or both means with a single task type) are one hypothesis, tested once.
    return tuple(sorted((d, round(w, 12)) for d, w in weights))


def _significance(
    by_model: Mapping[str, Mapping[str, Evaluation]],
    baseline: str,
    columns: Mapping[str, _Weights],
    *,
    alpha: float,
    seed: int,
    resamples: int,
) -> tuple[Significance, dict[str, dict[str, str]]]:
    base = by_model[baseline]
    tests: dict[tuple[str, _Weights], tuple[float, float]] = {}
    for model, evals in by_model.items():
        if model == baseline:
            continue
        for weights in columns.values():
            key = (model, _key(weights))
            if key in tests or not all(d in evals and d in base for d, _ in weights):
                continue
            x = _weighted_differences(base, evals, weights)
            res = randomization_test(
                np.zeros_like(x), x, alternative="two-sided", resamples=resamples, seed=seed
            )
            tests[key] = (res.p_value, float(x.sum()))
    keys = list(tests)
    adjusted = holm_adjust([tests[k][0] for k in keys]).tolist() if keys else []
    decided = {k: (tests[k][0], p, tests[k][1]) for k, p in zip(keys, adjusted, strict=True)}
    marks: dict[str, dict[str, str]] = {}
    p_values: dict[tuple[str, str], tuple[float, float]] = {}
    for model in by_model:
        for column, weights in columns.items():
            found = decided.get((model, _key(weights)))
            if found is None:
                continue
            raw, holm, better_by = found
            p_values[(model, column)] = (raw, holm)
            if holm <= alpha and better_by != 0:
                marks.setdefault(model, {})[column] = "▲" if better_by > 0 else "▼"
    sig = Significance(baseline, alpha, len(keys), seed, resamples, MappingProxyType(p_values))
    return sig, marks


def build_leaderboard(
    evaluations: Sequence[Evaluation],
    *,
    baseline: str | None = None,
    alpha: float = 0.05,
    seed: int = 0,
    resamples: int = 10_000,
) -> Leaderboard:
    """The leaderboard of ``evaluations`` (any models on any datasets).

    Args:
        evaluations: one per (model, dataset); rows keep the order models first appear in.
        baseline: the model the others are tested against; None for no marks.
        alpha: the family-wise significance level of the marks.
        seed: seed of the Monte Carlo p-values (used when a test is not exact).
        resamples: Monte Carlo sign vectors per test.

    Raises:
        ResultsError: no evaluations, two for the same (model, dataset), one dataset scored
            on different data (fingerprints differ) or with different main metrics, or a
            baseline that has no results.
    """
    if not evaluations:
        raise ResultsError("no results to rank; run 'embedgate run' first.")
    by_model: dict[str, dict[str, Evaluation]] = {}
    dataset_tasks: dict[str, str] = {}
    metrics: dict[str, str] = {}
    fingerprints: dict[str, tuple[str, str]] = {}
    for e in evaluations:
        evals = by_model.setdefault(e.model, {})
        if e.dataset in evals:
            raise ResultsError(
                f"two results of {e.model} on {e.dataset}; keep one results.json per model "
                "and dataset (pass each results folder once)."
            )
        evals[e.dataset] = e
        seen = fingerprints.setdefault(e.dataset, (e.fingerprint, e.model))
        if seen[0] != e.fingerprint:
            raise ResultsError(
                f"{e.model} and {seen[1]} were scored on different versions of {e.dataset} "
                f"(fingerprints {e.fingerprint[:12]} and {seen[0][:12]}); rerun both on the "
                "same data."
            )
        metric = metrics.setdefault(e.dataset, e.main_metric)
        if metric != e.main_metric:
            raise ResultsError(
                f"{e.dataset}: {e.model} is ranked by {e.main_metric} but another model by "
                f"{metric}; compute the same metrics for every model."
            )
        dataset_tasks.setdefault(e.dataset, e.task)
    if baseline is not None and baseline not in by_model:
        raise ResultsError(
            f"baseline {baseline!r} has no results; choose one of {', '.join(by_model)}."
        )
    datasets = tuple(dataset_tasks)
    task_types = tuple(dict.fromkeys(dataset_tasks.values()))
    scores = {m: {d: e.mean(metrics[d]) for d, e in evals.items()} for m, evals in by_model.items()}
    ranks, points = borda_ranks(scores, list(by_model))
    members = {t: tuple(d for d in datasets if dataset_tasks[d] == t) for t in task_types}
    columns: dict[str, _Weights] = {d: ((d, 1.0),) for d in datasets}
    for t in task_types:
        columns[f"task:{t}"] = tuple((d, 1.0 / len(members[t])) for d in members[t])
    columns[MEAN] = tuple((d, 1.0 / len(datasets)) for d in datasets)
    columns[MEAN_TASK_TYPES] = tuple(
        (d, 1.0 / (len(task_types) * len(members[t]))) for t in task_types for d in members[t]
    )
    sig: Significance | None = None
    marks: dict[str, dict[str, str]] = {}
    if baseline is not None:
        sig, marks = _significance(
            by_model, baseline, columns, alpha=alpha, seed=seed, resamples=resamples
        )
    rows = []
    for model, evals in by_model.items():
        s = scores[model]
        task_scores = {}
        for t in task_types:
            if all(d in s for d in members[t]):
                task_scores[t] = float(np.mean([s[d] for d in members[t]]))
        complete = all(d in s for d in datasets)
        mean = float(np.mean([s[d] for d in datasets])) if complete else None
        mean_types = (
            float(np.mean([task_scores[t] for t in task_types]))
            if len(task_scores) == len(task_types)
            else None
        )
        ordered = [evals[d] for d in datasets if d in evals]
        price, local, cost = _price(ordered)
        rows.append(
            LeaderboardRow(
                model=model,
                info=ordered[0].info,
                rank=ranks[model],
                borda=points[model],
                scores=MappingProxyType({d: s[d] for d in datasets if d in s}),
                task_scores=MappingProxyType(task_scores),
                mean=mean,
                mean_task_types=mean_types,
                price_per_million=price,
                local=local,
                cost_usd=cost,
                throughput=_throughput(ordered),
                marks=MappingProxyType(marks.get(model, {})),
            )
        )
    order = {m: i for i, m in enumerate(by_model)}
    rows.sort(key=lambda r: (r.rank, order[r.model]))
    return Leaderboard(
        rows=tuple(rows),
        datasets=datasets,
        dataset_tasks=MappingProxyType(dataset_tasks),
        metrics=MappingProxyType(metrics),
        task_types=task_types,
        significance=sig,
    )


# --------------------------------------------------------------------------- rendering


def _cell(value: float | None, mark: str = "", decimals: int = 4) -> str:
    if value is None:
        return "-"
    return f"{format_score(value, decimals)} {mark}".rstrip()


def price_text(row: LeaderboardRow) -> str:
    """``"$0.020"``, ``"local"`` or ``"unknown"``."""
    if row.price_per_million is not None:
        return f"${row.price_per_million:.3f}"
    return "local" if row.local else "unknown"


def throughput_text(row: LeaderboardRow) -> str:
    """``"1,234/s"``; ``"n/a"`` for a lexical model; ``"unknown"`` when nothing was embedded."""
    if row.throughput is not None:
        return f"{row.throughput:,.0f}/s"
    return "n/a" if row.info.kind == "lexical" else "unknown"


def _size_text(row: LeaderboardRow, value: int | None) -> str:
    if value is not None:
        return str(value)
    return "n/a" if row.info.kind == "lexical" else "unknown"


def model_text(board: Leaderboard, row: LeaderboardRow) -> str:
    return f"{row.model} (baseline)" if row.model == board.baseline else row.model


def summary_columns(
    board: Leaderboard, *, timings: bool = False, decimals: int = 4
) -> tuple[list[str], list[list[str]]]:
    """Headers and text cells of the main table (shared by markdown, LaTeX and HTML)."""
    headers = [
        "rank",
        "model",
        "parameters",
        "memory",
        "dimensions",
        "max tokens",
        "mean (datasets)",
        "mean (task types)",
        *board.task_types,
        "$ / 1M tokens",
    ]
    if timings:
        headers.append("texts/s")
    rows = []
    for r in board.rows:
        cells = [
            str(r.rank),
            model_text(board, r),
            format_count(r.info.parameters),
            format_bytes(r.info.memory_bytes),
            _size_text(r, r.info.dimensions),
            _size_text(r, r.info.max_tokens),
            _cell(r.mean, r.marks.get(MEAN, ""), decimals),
            _cell(r.mean_task_types, r.marks.get(MEAN_TASK_TYPES, ""), decimals),
            *(
                _cell(r.task_scores.get(t), r.marks.get(f"task:{t}", ""), decimals)
                for t in board.task_types
            ),
            price_text(r),
        ]
        if timings:
            cells.append(throughput_text(r))
        rows.append(cells)
    return headers, rows


def detail_columns(board: Leaderboard, *, decimals: int = 4) -> tuple[list[str], list[list[str]]]:
    """Headers and cells of the per-dataset table."""
    headers = ["rank", "model", "Borda", *(board.dataset_label(d) for d in board.datasets)]
    rows = [
        [
            str(r.rank),
            model_text(board, r),
            f"{r.borda:g}",
            *(_cell(r.scores.get(d), r.marks.get(d, ""), decimals) for d in board.datasets),
        ]
        for r in board.rows
    ]
    return headers, rows


def rank_rule(board: Leaderboard) -> str:
    """One sentence: how the rank column was computed."""
    return (
        f"Rank: Borda count over {len(board.datasets)} dataset(s), as the MTEB leaderboard "
        f"computes it: on each dataset the model at rank r of {len(board.rows)} gets "
        f"{len(board.rows)} - r points (ties share the average rank), a missing result 0; "
        "tied counts share a rank. Means are shown only for models with every result. "
        "Scores are each dataset's main metric."
    )


def render_markdown(
    board: Leaderboard, *, timings: bool = False, decimals: int = 4, title: str = "Leaderboard"
) -> str:
    """The leaderboard as markdown: the main table, the legend, the per-dataset table."""
    headers, rows = summary_columns(board, timings=timings, decimals=decimals)
    parts = [
        f"## {title}\n\n",
        rank_rule(board),
        "\n\n",
        markdown_table(headers, rows, numeric_from=2),
    ]
    if board.significance is not None:
        parts += ["\n", board.significance.legend(), "\n"]
    headers, rows = detail_columns(board, decimals=decimals)
    parts += ["\n### By dataset\n\n", markdown_table(headers, rows, numeric_from=2)]
    return "".join(parts)


def leaderboard_markdown(
    evaluations: Sequence[Evaluation],
    *,
    baseline: str | None = None,
    alpha: float = 0.05,
    seed: int = 0,
    resamples: int = 10_000,
    decimals: int = 4,
) -> str:
    """The leaderboard as a deterministic markdown snapshot.

    Fixed rounding, rows by rank (ties in the order given), columns in the order datasets
    first appear, seeded statistics, and no timings, throughput or dates: the same results
    give the same bytes on every machine. The suite's snapshot and terminal summary use it.

    Example:
        >>> print(leaderboard_markdown(evaluations, baseline="minilm"))  # doctest: +SKIP
        ## Leaderboard
        ...
        | rank | model             | parameters | memory  | ... | retrieval | $ / 1M tokens |
        | ---- | ----------------- | ---------: | ------: | ... | --------: | ------------: |
        |    1 | minilm (baseline) |      22.7M | 90.9 MB | ... |    0.6001 |         local |
        |    2 | bm25              |    unknown | unknown | ... |  0.5268 ▼ |         local |
    """
    board = build_leaderboard(
        evaluations, baseline=baseline, alpha=alpha, seed=seed, resamples=resamples
    )
    return render_markdown(board, timings=False, decimals=decimals)
