"""Tables of results: markdown for snapshots and terminals, the leaderboard, per-query diffs,
CSV, JSON, LaTeX and a self-contained HTML report."""

from __future__ import annotations

from embedgate.report.diff import QueryChange, QueryDiff, Slice, diff_markdown, query_diff
from embedgate.report.formats import (
    leaderboard_csv,
    leaderboard_latex,
    report_document,
    report_json,
)
from embedgate.report.html import report_html
from embedgate.report.leaderboard import (
    Leaderboard,
    LeaderboardRow,
    Significance,
    borda_ranks,
    build_leaderboard,
    leaderboard_markdown,
    render_markdown,
)
from embedgate.report.tables import (
    dataset_table,
    format_score,
    markdown_table,
    results_table,
)

__all__ = [
    "Leaderboard",
    "LeaderboardRow",
    "QueryChange",
    "QueryDiff",
    "Significance",
    "Slice",
    "borda_ranks",
    "build_leaderboard",
    "dataset_table",
    "diff_markdown",
    "format_score",
    "leaderboard_csv",
    "leaderboard_latex",
    "leaderboard_markdown",
    "markdown_table",
    "query_diff",
    "render_markdown",
    "report_document",
    "report_html",
    "report_json",
    "results_table",
]
