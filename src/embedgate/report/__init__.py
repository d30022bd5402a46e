"""Tables of results: markdown for snapshots and terminals (more formats with the report issue)."""

from __future__ import annotations

from embedgate.report.tables import (
    dataset_table,
    format_score,
    markdown_table,
    overall_table,
    results_table,
)

__all__ = ["dataset_table", "format_score", "markdown_table", "overall_table", "results_table"]
