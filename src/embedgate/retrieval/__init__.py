"""Exact dense search, BM25 and the `Run` type."""

from __future__ import annotations

from embedgate.retrieval.run import Run, trec_order

__all__ = ["Run", "trec_order"]
