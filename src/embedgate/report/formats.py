"""The leaderboard and the per-query diffs as CSV, JSON and LaTeX.

* **CSV**: one row per model with raw numbers (full precision, empty cell for unknown), for a
  spreadsheet or pandas. The per-query diffs are not in it: a CSV file holds one table.
* **JSON**: everything (the leaderboard with its significance p-values, the diffs), schema
  ``embedgate.report/1``; no NaN (unknown is ``null``), so any JSON parser reads it.
* **LaTeX**: the two leaderboard tables as ``booktabs`` tabulars for a paper or a design
  document; needs ``\\usepackage{booktabs,amssymb}``. Text is escaped, so model and dataset
  names with ``_``, ``%`` or ``&`` compile.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from embedgate import __version__
from embedgate.report.diff import QueryDiff
from embedgate.report.leaderboard import (
    MEAN,
    MEAN_TASK_TYPES,
    Leaderboard,
    detail_columns,
    rank_rule,
    summary_columns,
)

__all__ = [
    "REPORT_SCHEMA",
    "latex_escape",
    "leaderboard_csv",
    "leaderboard_latex",
    "report_document",
    "report_json",
]

REPORT_SCHEMA = "embedgate.report/1"


def _num(value: float | int | None) -> str:
    return "" if value is None else repr(value)


def leaderboard_csv(board: Leaderboard, *, timings: bool = True) -> str:
    """One row per model, raw numbers; a ``<column> mark`` column per marked score column.

    Columns: rank, model, borda, parameters, memory_bytes, dimensions, max_tokens, mean,
    mean_task_types, ``type:<task>`` per task type, one per dataset (named by the dataset),
    price_per_million_usd, local, cost_usd and (with ``timings``) texts_per_s.
    """
    score_columns = [
        MEAN,
        MEAN_TASK_TYPES,
        *(f"task:{t}" for t in board.task_types),
        *board.datasets,
    ]
    headers = [
        "rank",
        "model",
        "borda",
        "parameters",
        "memory_bytes",
        "dimensions",
        "max_tokens",
        "mean",
        "mean_task_types",
        *(f"type:{t}" for t in board.task_types),
        *board.datasets,
        "price_per_million_usd",
        "local",
        "cost_usd",
    ]
    if timings:
        headers.append("texts_per_s")
    if board.significance is not None:
        headers += [f"{c} mark" for c in score_columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(headers)
    for r in board.rows:
        row = [
            str(r.rank),
            r.model,
            _num(r.borda),
            _num(r.info.parameters),
            _num(r.info.memory_bytes),
            _num(r.info.dimensions),
            _num(r.info.max_tokens),
            _num(r.mean),
            _num(r.mean_task_types),
            *(_num(r.task_scores.get(t)) for t in board.task_types),
            *(_num(r.scores.get(d)) for d in board.datasets),
            _num(r.price_per_million),
            "true" if r.local else "false",
            _num(r.cost_usd),
        ]
        if timings:
            row.append(_num(r.throughput))
        if board.significance is not None:
            row += [r.marks.get(c, "") for c in score_columns]
        writer.writerow(row)
    return out.getvalue()


def report_document(
    board: Leaderboard, diffs: Sequence[QueryDiff] = (), *, timings: bool = True
) -> dict[str, Any]:
    """The JSON-ready report: schema, version, leaderboard, diffs."""
    leaderboard = board.to_dict()
    if not timings:
        for row in leaderboard["rows"]:
            row.pop("throughput_texts_per_s", None)
    return {
        "schema": REPORT_SCHEMA,
        "embedgate_version": __version__,
        "leaderboard": leaderboard,
        "diffs": [d.to_dict() for d in diffs],
    }


def report_json(
    board: Leaderboard, diffs: Sequence[QueryDiff] = (), *, timings: bool = True
) -> str:
    """`report_document` as JSON text (strict: no NaN or infinity)."""
    document = report_document(board, diffs, timings=timings)
    return json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False) + "\n"


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "▲": r"$\blacktriangle$",
    "▼": r"$\blacktriangledown$",
    "α": r"$\alpha$",  # noqa: RUF001
    "Δ": r"$\Delta$",
    "→": r"$\rightarrow$",
}


def latex_escape(text: str) -> str:
    """``text`` with LaTeX's special characters escaped (marks, Greek letters and arrows as math).

    Example:
        >>> latex_escape("support_faq 50% & more")
        'support\\\\_faq 50\\\\% \\\\& more'
    """
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _tabular(headers: Sequence[str], rows: Sequence[Sequence[str]], left: int) -> str:
    spec = "l" * left + "r" * (len(headers) - left)
    lines = [
        f"\\begin{{tabular}}{{{spec}}}",
        "\\toprule",
        " & ".join(latex_escape(h) for h in headers) + r" \\",
        "\\midrule",
        *(" & ".join(latex_escape(c) for c in row) + r" \\" for row in rows),
        "\\bottomrule",
        "\\end{tabular}",
    ]
    return "\n".join(lines)


def leaderboard_latex(board: Leaderboard, *, timings: bool = False, decimals: int = 4) -> str:
    """The leaderboard and the per-dataset table as two ``table`` floats (booktabs)."""
    headers, rows = summary_columns(board, timings=timings, decimals=decimals)
    caption = rank_rule(board)
    if board.significance is not None:
        caption += " " + board.significance.legend()
    detail_headers, detail_rows = detail_columns(board, decimals=decimals)
    parts = [
        "% embedgate leaderboard; needs \\usepackage{booktabs,amssymb}",
        "\\begin{table}[ht]",
        "\\centering",
        "\\small",
        _tabular(headers, rows, 2),
        f"\\caption{{{latex_escape(caption)}}}",
        "\\end{table}",
        "",
        "\\begin{table}[ht]",
        "\\centering",
        "\\small",
        _tabular(detail_headers, detail_rows, 2),
        f"\\caption{{{latex_escape('Main score by dataset.')}}}",
        "\\end{table}",
    ]
    return "\n".join(parts) + "\n"
