"""One self-contained HTML report: the leaderboard, plots and the per-query diffs.

A single file with its CSS and its plots (inline SVG, `embedgate.report.plots`) inside: no
script, no font, no image or stylesheet fetched, so it opens offline, attaches to a pull
request or an e-mail, and prints. Every text from the data (model names, query texts) is
HTML-escaped.

The score plot shows each model's mean on each dataset with a 95% BCa bootstrap interval
over queries (`embedgate.stats.paired_bootstrap`, seeded), coloured by its significance mark
against the baseline; the diff plots show the distribution of per-query differences and the
mean difference per slice (language, tags).
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

import numpy as np

from embedgate.evaluation import Evaluation
from embedgate.metrics import metric_label
from embedgate.report.diff import (
    SLICE_HEADERS,
    QueryDiff,
    change_table,
    slice_rows,
)
from embedgate.report.leaderboard import (
    Leaderboard,
    detail_columns,
    rank_rule,
    summary_columns,
)
from embedgate.report.plots import IntervalPoint, diverging_bars, histogram, interval_plot
from embedgate.report.tables import format_score
from embedgate.stats import paired_bootstrap

__all__ = ["report_html", "score_intervals"]

_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; color: #24292f;
  margin: 0 auto; max-width: 1320px; padding: 24px 28px 48px; line-height: 1.45; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 1px solid #d0d7de;
  padding-bottom: 4px; }
h3 { font-size: 16px; margin: 22px 0 6px; }
p.note, p.legend { color: #57606a; font-size: 13px; max-width: 1000px; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { padding: 5px 8px; border-bottom: 1px solid #d8dee4; white-space: nowrap; }
th { background: #f6f8fa; text-align: left; font-weight: 600; white-space: normal;
  vertical-align: bottom; max-width: 120px; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.text { white-space: normal; min-width: 260px; max-width: 460px; }
tr:nth-child(even) td { background: #fbfcfd; }
tr.baseline td { background: #f1f8ff; }
.up { color: #1a7f37; font-weight: 600; }
.down { color: #cf222e; font-weight: 600; }
.plots { display: flex; flex-wrap: wrap; gap: 12px 28px; }
.eg-plot { background: #fff; border: 1px solid #eaeef2; border-radius: 6px; }
.cards { display: flex; gap: 14px; flex-wrap: wrap; margin: 14px 0 4px; }
.card { border: 1px solid #d0d7de; border-radius: 8px; padding: 10px 16px; min-width: 150px; }
.card b { display: block; font-size: 22px; }
.card span { color: #57606a; font-size: 12px; }
"""


def score_intervals(
    evaluation: Evaluation, *, level: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """``(mean, low, high)`` of the main metric, with a BCa bootstrap interval over queries.

    The interval of one model's mean is the ``candidate`` interval of `paired_bootstrap`
    against a zero baseline: the same seeded resampler the verdicts use.
    """
    scores = evaluation.scores(evaluation.main_metric)
    mean = float(scores.mean()) if scores.size else 0.0
    if scores.size < 2:
        return mean, mean, mean
    boot = paired_bootstrap(
        np.zeros_like(scores), scores, level=level, resamples=resamples, seed=seed
    )
    return mean, boot.candidate.low, boot.candidate.high


def _cell(text: str, numeric: bool) -> str:
    content = escape(text)
    content = content.replace("▲", '<span class="up">▲</span>')
    content = content.replace("▼", '<span class="down">▼</span>')
    cls = ' class="num"' if numeric else ""
    return f"<td{cls}>{content}</td>"


def _table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric_from: int,
    highlight: Sequence[bool] = (),
    text_column: int | None = None,
) -> str:
    head = "".join(
        f"<th{' class=num' if i >= numeric_from else ''}>{escape(h)}</th>"
        for i, h in enumerate(headers)
    )
    body = []
    for r, row in enumerate(rows):
        cls = ' class="baseline"' if r < len(highlight) and highlight[r] else ""
        cells = []
        for i, c in enumerate(row):
            if i == text_column:
                cells.append(f'<td class="text">{escape(c)}</td>')
            else:
                cells.append(_cell(c, i >= numeric_from))
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _diff_section(diff: QueryDiff, k: int | None) -> str:
    label = metric_label(diff.metric)
    counts = diff.counts
    deltas = diff.deltas
    mean = float(deltas.mean()) if deltas.size else 0.0
    parts = [
        f"<h3>{escape(diff.candidate)} vs {escape(diff.baseline)} on {escape(diff.dataset)}"
        f" ({escape(label)})</h3>",
        f'<p class="note">{len(diff.changes)} queries: {counts["gained"]} gained, '
        f"{counts['lost']} lost, {counts['unchanged']} unchanged; mean Δ "
        f"{format_score(mean)} (Δ = {escape(diff.candidate)} - {escape(diff.baseline)}). "
        "Answer rank: the best-graded relevant document's rank in the baseline's run → in "
        "the candidate's. In the histogram, green bars count queries the candidate improved "
        "and red ones queries it made worse; unchanged queries are counted in its title.</p>",
        '<div class="plots">',
        histogram(
            deltas,
            title=f"Per-query Δ {label}: {diff.candidate} - {diff.baseline}",
            axis_label=f"Δ {label} (left: worse than {diff.baseline}, right: better)",
        ),
    ]
    if diff.slices:
        items = [(f"{s.key}={s.value}", s.mean_delta, s.n) for s in diff.slices]
        parts.append(
            diverging_bars(
                items,
                title=f"Mean Δ {label} by slice",
                axis_label=f"mean Δ {label}",
            )
        )
    parts.append("</div>")
    if not any(c.text for c in diff.changes):
        parts.append(
            '<p class="note">Query texts, answer ranks and slices need the dataset: pass '
            f"--dataset with the folder of {escape(diff.dataset)}.</p>"
        )
    for title, changes in (("Lost most", diff.lost), ("Gained most", diff.gained)):
        parts.append(f"<h3>{title}</h3>")
        if changes:
            headers, rows, numeric_from = change_table(changes, k=k, width=200)
            text_column = headers.index("text") if "text" in headers else None
            parts.append(_table(headers, rows, numeric_from=numeric_from, text_column=text_column))
        else:
            parts.append('<p class="note">(none)</p>')
    if diff.slices:
        parts.append("<h3>By slice</h3>")
        parts.append(_table(SLICE_HEADERS, slice_rows(diff), numeric_from=1))
    return "".join(parts)


def report_html(
    board: Leaderboard,
    evaluations: Sequence[Evaluation],
    diffs: Sequence[QueryDiff] = (),
    *,
    title: str = "embedgate report",
    seed: int = 0,
    resamples: int = 2000,
) -> str:
    """The whole report as one HTML document (a string; write it with UTF-8).

    Args:
        board: the leaderboard (`build_leaderboard`).
        evaluations: the evaluations it was built from (for the score intervals).
        diffs: per-query diffs to show (`query_diff`).
        title: the page title.
        seed: seed of the bootstrap intervals.
        resamples: bootstrap resamples per interval.
    """
    by_key = {(e.model, e.dataset): e for e in evaluations}
    depth = {e.dataset: e.k for e in evaluations}
    first = [r.model for r in board.rows if r.rank == 1]
    cards = [
        ("models", str(len(board.rows))),
        ("datasets", str(len(board.datasets))),
        ("rank 1" if len(first) == 1 else "rank 1 (tied)", ", ".join(first)),
    ]
    if board.baseline:
        cards.append(("baseline", board.baseline))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        '<div class="cards">',
        *(f"<div class=card><span>{escape(k)}</span><b>{escape(v)}</b></div>" for k, v in cards),
        "</div>",
        "<h2>Leaderboard</h2>",
        f'<p class="note">{escape(rank_rule(board))}</p>',
    ]
    highlight = [r.model == board.baseline for r in board.rows]
    headers, rows = summary_columns(board, timings=True)
    parts.append(_table(headers, rows, numeric_from=2, highlight=highlight))
    if board.significance is not None:
        parts.append(f'<p class="legend">{escape(board.significance.legend())}</p>')
    parts.append(
        '<p class="note">Memory: the size of the weights in memory, measured when the model '
        "was loaded (unknown for API models). $ / 1M tokens: the provider's list price "
        "(local: no per-token price). texts/s: texts embedded per second of embedding in "
        "these runs, unknown when every vector came from the cache.</p>"
    )
    headers, rows = detail_columns(board)
    parts += ["<h3>By dataset</h3>", _table(headers, rows, numeric_from=2, highlight=highlight)]
    parts.append("<h2>Scores with 95% confidence intervals</h2>")
    parts.append(
        f'<p class="note">Each dot is a model\'s mean over the queries of a dataset; the line is '
        f"its 95% BCa bootstrap interval over queries ({resamples} resamples, seed {seed}). "
        "Green: significantly better than the baseline, red: worse (see the legend above); "
        "overlapping intervals do not mean no difference: the paired tests are more "
        "sensitive.</p>"
    )
    parts.append('<div class="plots">')
    for dataset in board.datasets:
        points = []
        for r in board.rows:
            e = by_key.get((r.model, dataset))
            if e is None:
                continue
            mean, low, high = score_intervals(e, resamples=resamples, seed=seed)
            name = f"{r.model} (baseline)" if r.model == board.baseline else r.model
            points.append(IntervalPoint(name, mean, low, high, r.marks.get(dataset, "")))
        label = metric_label(board.metrics[dataset])
        parts.append(
            interval_plot(points, title=f"{dataset}: {label}", axis_label=label, domain=(0, 1))
        )
    parts.append("</div>")
    if diffs:
        parts.append("<h2>Per-query changes against the baseline</h2>")
        parts.extend(_diff_section(d, depth.get(d.dataset)) for d in diffs)
    parts.append(
        '<p class="note">Generated by embedgate. Self-contained: no script, no network.</p>'
        "</body></html>"
    )
    return "\n".join(parts) + "\n"
