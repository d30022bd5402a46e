"""Snapshot tables: a model swap shows in a pull request as a diff of these markdown files.

Run ``pytest benchmarks/ --snapshot-update`` after an intended change and commit the files
under ``benchmarks/__snapshots__/test_tables/``.
"""

from __future__ import annotations

from typing import Any

import pytest

from embedgate.config import DatasetSpec, SuiteConfig
from embedgate.report.tables import dataset_table
from embedgate.suite import SuiteStore, leaderboard


def test_dataset_table(
    embedgate_dataset: DatasetSpec,
    embedgate_store: SuiteStore,
    embedgate_config: SuiteConfig,
    table_snapshot: Any,
) -> None:
    evaluations = embedgate_store.evaluations(embedgate_dataset.name)
    swaps = [
        (swap.verdict, swap.power)
        for (_, dataset), swap in embedgate_store.swaps().items()
        if dataset == embedgate_dataset.name
    ]
    # Retrieval datasets show the configured metrics; others every metric their task computes.
    metrics = embedgate_config.metrics if embedgate_dataset.task == "retrieval" else None
    table = dataset_table(embedgate_dataset.name, evaluations, metrics, swaps=swaps)
    assert table == table_snapshot


def test_leaderboard(
    embedgate_store: SuiteStore, embedgate_config: SuiteConfig, table_snapshot: Any
) -> None:
    """The MTEB-style leaderboard over every dataset of the suite (Borda rank, means, marks)."""
    if not embedgate_config.complete:
        pytest.skip("the leaderboard covers the whole suite; models or datasets were selected")
    absent = [d.name for d in embedgate_config.datasets if not d.available]
    if absent:
        pytest.skip(f"the leaderboard needs every dataset; absent here: {', '.join(absent)}")
    evaluations = [
        e for d in embedgate_config.datasets for e in embedgate_store.evaluations(d.name)
    ]
    assert leaderboard(embedgate_config, evaluations) == table_snapshot
