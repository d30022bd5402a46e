"""Retrieval datasets: typed values, loaders for the BEIR layout and the golden format.

See `embedgate.datasets.loaders` for both file formats and the decisions the loaders share,
`embedgate.datasets.lint` for the golden-set lint (its `lint` function is not re-exported here,
so the name ``embedgate.datasets.lint`` stays the module) and `embedgate.datasets.split` for the
dev/test split. The other task types (STS, classification, clustering, bitext, reranking) load
through `load_task_dataset` (see `embedgate.datasets.tasks`).
"""

from __future__ import annotations

from embedgate.datasets.lint import (
    Finding,
    LintOptions,
    LintReport,
    TokenLimit,
    lint_folder,
)
from embedgate.datasets.loaders import (
    Layout,
    default_name,
    detect_layout,
    load_beir,
    load_dataset,
    load_golden,
)
from embedgate.datasets.split import QuerySplit, query_strata, split_queries, write_split
from embedgate.datasets.tasks import (
    BitextDataset,
    BitextPair,
    ClassificationDataset,
    ClusteringDataset,
    LabelledText,
    RerankingDataset,
    RerankingQuery,
    STSDataset,
    STSPair,
    TaskDataset,
    TaskName,
    load_task_dataset,
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
    "BitextDataset",
    "BitextPair",
    "ClassificationDataset",
    "ClusteringDataset",
    "DatasetWarning",
    "DatasetWarningCode",
    "Document",
    "EmbedgateDatasetWarning",
    "Finding",
    "LabelledText",
    "Layout",
    "LintOptions",
    "LintReport",
    "Query",
    "QuerySplit",
    "RerankingDataset",
    "RerankingQuery",
    "RetrievalDataset",
    "STSDataset",
    "STSPair",
    "TaskDataset",
    "TaskName",
    "TokenLimit",
    "default_name",
    "detect_layout",
    "fingerprint_content",
    "lint_folder",
    "load_beir",
    "load_dataset",
    "load_golden",
    "load_task_dataset",
    "query_strata",
    "split_queries",
    "write_split",
]
