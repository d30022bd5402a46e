"""Retrieval datasets: typed values, loaders for the BEIR layout and the golden format.

See `embedgate.datasets.loaders` for both file formats and the decisions the loaders share.
"""

from __future__ import annotations

from embedgate.datasets.loaders import (
    Layout,
    default_name,
    detect_layout,
    load_beir,
    load_dataset,
    load_golden,
)
from embedgate.datasets.types import (
    DatasetWarning,
    DatasetWarningCode,
    Document,
    EmbedgateDatasetWarning,
    Query,
    RetrievalDataset,
    fingerprint_content,
)

__all__ = [
    "DatasetWarning",
    "DatasetWarningCode",
    "Document",
    "EmbedgateDatasetWarning",
    "Layout",
    "Query",
    "RetrievalDataset",
    "default_name",
    "detect_layout",
    "fingerprint_content",
    "load_beir",
    "load_dataset",
    "load_golden",
]
