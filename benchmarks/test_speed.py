"""Speed of each configured model and of the exact search, measured with pytest-benchmark.

These record numbers (``--benchmark-json`` keeps them); they assert nothing about seconds,
because a timed assertion fails on a busy machine without any regression. Encoding is measured
without the cache: what a cold run pays per text.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from embedgate.config import SuiteConfig
from embedgate.datasets import RetrievalDataset
from embedgate.models import LexicalModel, Role
from embedgate.retrieval.dense import exact_search, normalize
from embedgate.specs import ModelSpec
from embedgate.suite import SuiteStore

SAMPLE = 256


def _sample_dataset(config: SuiteConfig) -> str:
    """The first available retrieval dataset of the suite (the fixture golden set here)."""
    return next(d.name for d in config.datasets if d.available and d.task == "retrieval")


def test_encoding_throughput(
    embedgate_model: ModelSpec,
    embedgate_store: SuiteStore,
    embedgate_config: SuiteConfig,
    benchmark: Any,
) -> None:
    dataset = embedgate_store.dataset(_sample_dataset(embedgate_config))
    assert isinstance(dataset, RetrievalDataset)
    texts = list(dataset.doc_texts[:SAMPLE])
    if embedgate_model.is_api:
        pytest.skip("an API model's throughput is the provider's and costs money to measure")
    model = embedgate_store.model(embedgate_model.name)
    benchmark.group = "encode documents (texts/round)"
    benchmark.extra_info["texts"] = len(texts)
    if isinstance(model, LexicalModel):
        queries = list(dataset.query_texts)
        run = benchmark(
            model.search, texts, dataset.doc_ids[:SAMPLE], queries, dataset.query_ids, k=10
        )
        assert len(run.query_ids) == len(queries)
        return
    vectors = benchmark.pedantic(model.embed, args=(texts, Role.DOCUMENT), rounds=3, iterations=1)
    assert vectors.shape[0] == len(texts)
    assert np.isfinite(vectors).all()


def test_search_latency(benchmark: Any) -> None:
    rng = np.random.default_rng(7)
    docs = normalize(rng.standard_normal((50_000, 384), dtype=np.float32))
    queries = normalize(rng.standard_normal((100, 384), dtype=np.float32))
    doc_ids = [f"d{i}" for i in range(len(docs))]
    query_ids = [f"q{i}" for i in range(len(queries))]
    benchmark.group = "exact search, 100 queries x 50,000 docs x 384"
    run = benchmark(exact_search, queries, docs, query_ids=query_ids, doc_ids=doc_ids, k=100)
    assert run.depth == 100
