"""Markdown tables with fixed rounding and a stable order.

Snapshot files hold these tables, so they must not change on a rerun: numbers are rounded to a
fixed number of decimals, rows and columns come in the order given (configuration order), and
nothing timed or dated appears in them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from embedgate.evaluation import Evaluation
from embedgate.metrics import metric_key, metric_label
from embedgate.stats import PowerReport, Verdict

__all__ = [
    "dataset_table",
    "format_score",
    "markdown_table",
    "results_table",
    "significance_mark",
    "swap_table",
]


def format_score(value: float, decimals: int = 4) -> str:
    """Fixed-point with ``decimals`` places; ``-0.0000`` is written ``0.0000``."""
    text = f"{value:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def markdown_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, numeric_from: int = 1
) -> str:
    """A GitHub-flavoured markdown table, padded so that it also reads well as plain text.

    Columns from ``numeric_from`` on are right-aligned.
    """
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(cell))

    def line(cells: Sequence[str]) -> str:
        padded = [
            c.rjust(w) if i >= numeric_from else c.ljust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(padded) + " |"

    rule = ["-" * (w - 1) + ":" if i >= numeric_from else "-" * w for i, w in enumerate(widths)]
    return "\n".join([line(headers), line(rule), *(line(r) for r in rows)]) + "\n"


def results_table(
    evaluations: Sequence[Evaluation],
    metrics: Sequence[str] | None = None,
    *,
    decimals: int = 4,
    marks: Mapping[tuple[str, str], str] | None = None,
) -> str:
    """Models as rows, metric means as columns, in the order given.

    ``marks`` maps ``(model, metric key)`` to a mark put after the score (``▲``, ``▼``).

    Example:
        | model  | nDCG@10 | Recall@100 |
        | ------ | ------: | ---------: |
        | minilm |  0.6451 |     0.9250 |
    """
    if not evaluations:
        return "(no results)\n"
    keys = list(metrics) if metrics is not None else list(evaluations[0].metrics)
    marks = marks or {}

    def cell(e: Evaluation, key: str) -> str:
        mark = marks.get((e.model, key), "")
        return f"{format_score(e.mean(key), decimals)} {mark}".rstrip()

    rows = [[e.model, *(cell(e, m) for m in keys)] for e in evaluations]
    return markdown_table(["model", *(metric_label(m) for m in keys)], rows)


def dataset_table(
    dataset: str,
    evaluations: Sequence[Evaluation],
    metrics: Sequence[str] | None,
    *,
    swaps: Sequence[tuple[Verdict, PowerReport]] = (),
    decimals: int = 4,
) -> str:
    """The snapshot of one dataset: a heading that pins the data, the scores, the swap verdicts.

    The heading names the split, the query and document counts and the dataset fingerprint, so
    a change of data shows in the diff as plainly as a change of model. With ``swaps``, the
    compared metric's column carries ``▲``/``▼`` marks and `swap_table` follows.
    """
    first = evaluations[0]
    counts = first.counts
    if first.task == "retrieval":
        size = (
            f"{counts.get('queries', 0)} queries, {counts.get('documents', 0)} documents, "
            f"fingerprint {first.fingerprint[:16]}, depth k = {first.k}."
        )
        heading = f"## {dataset} ({first.split})\n\n{size}\n\n"
    else:
        size = f"{counts.get('items', 0)} items, fingerprint {first.fingerprint[:16]}."
        heading = f"## {dataset} ({first.task}, {first.split})\n\n{size}\n\n"
    marks = {(v.candidate, metric_key(v.metric or "")): significance_mark(v) for v, _ in swaps}
    table = results_table(evaluations, metrics, decimals=decimals, marks=marks)
    if not swaps:
        return heading + table
    return heading + table + "\n" + swap_table(swaps, decimals=decimals)


def significance_mark(verdict: Verdict) -> str:
    """``▲`` when the interval of Δ lies above 0, ``▼`` below, ``""`` when it straddles 0."""
    if verdict.interval.low > 0:
        return "▲" if verdict.higher_is_better else "▼"
    if verdict.interval.high < 0:
        return "▼" if verdict.higher_is_better else "▲"
    return ""


def swap_table(verdicts: Sequence[tuple[Verdict, PowerReport]], *, decimals: int = 4) -> str:
    """Each candidate against the baseline on one dataset: Δ, its interval, p and the MDE.

    Deterministic: the statistics are seeded. The p-value is the raw one-sided
    non-inferiority p; the Holm-corrected decision belongs to the swap tests, whose family
    depends on which models and datasets a session runs.
    """
    if not verdicts:
        return ""
    first = verdicts[0][0]
    iv = first.interval
    legend = (
        f"Non-inferiority against {first.baseline} on {first.metric}: H1 Δ > "
        f"-{first.margin:g} (Δ = candidate - baseline), {first.test_description}, "
        f"seed {first.seed}; {iv.description}; MDE: the claim has "
        f"{verdicts[0][1].power:.0%} power at α = {first.alpha:g} only when the true Δ is at "  # noqa: RUF001
        f"least -{first.margin:g} + MDE. "
        "▲/▼: the interval lies above/below 0.\n\n"
    )
    rows = [
        [
            v.candidate,
            str(v.n),
            format_score(v.mean_baseline, decimals),
            format_score(v.mean_candidate, decimals),
            f"{format_score(v.mean_diff, decimals)} {significance_mark(v)}".rstrip(),
            f"[{format_score(v.interval.low, decimals)}, "
            f"{format_score(v.interval.high, decimals)}]",
            f"{v.p_value:.4f}",
            format_score(p.mde, decimals),
        ]
        for v, p in verdicts
    ]
    headers = ["candidate", "n", first.baseline, "candidate mean", "Δ", "interval", "p", "MDE"]
    return legend + markdown_table(headers, rows)
