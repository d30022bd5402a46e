"""Snapshot tables: a model swap shows in a pull request as a diff of these markdown files.

Run ``pytest benchmarks/ --snapshot-update`` after an intended change and commit the files
under ``benchmarks/__snapshots__/test_tables/``.
"""

from __future__ import annotations

from typing import Any

import pytest

from embedgate.config import DatasetSpec, SuiteConfig
from embedgate.report.tables import dataset_table, overall_table
from embedgate.suite import SuiteStore


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
    table = dataset_table(
        embedgate_dataset.name, evaluations, embedgate_config.metrics, swaps=swaps
    )
    assert table == table_snapshot


def test_overall_table(
    embedgate_store: SuiteStore, embedgate_config: SuiteConfig, table_snapshot: Any
) -> None:
    if not embedgate_config.complete:
        pytest.skip("the overall table covers the whole suite; models or datasets were selected")
    absent = [d.name for d in embedgate_config.datasets if not d.available]
    if absent:
        pytest.skip(f"the overall table needs every dataset; absent here: {', '.join(absent)}")
    by_dataset = {d.name: embedgate_store.evaluations(d.name) for d in embedgate_config.datasets}
    table = overall_table(by_dataset, embedgate_config.metrics[0])
    assert table == table_snapshot
