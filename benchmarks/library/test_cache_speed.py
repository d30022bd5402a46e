"""How fast the embedding cache answers a dataset-sized lookup and stores a batch.

Run with ``pytest benchmarks/library/test_cache_speed.py``; the numbers are for review, no
threshold fails the run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from embedgate.cache import EmbeddingCache, embed_with_cache

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

    import numpy.typing as npt
    from pytest_benchmark.fixture import BenchmarkFixture

N = 5_000
DIMS = 384  # all-MiniLM-L6-v2
FP = "a" * 64
TEXTS = [f"support article {i}: how to reset a password on device model {i % 97}" for i in range(N)]


def never_called(texts: Sequence[str]) -> npt.NDArray[np.float32]:
    raise AssertionError(f"embed was called for {len(texts)} texts; all should be cached")


@pytest.fixture
def filled(tmp_path: Path) -> Iterator[EmbeddingCache]:
    rng = np.random.default_rng(0)
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:
        cache.put_many(FP, "document", TEXTS, rng.standard_normal((N, DIMS), dtype=np.float32))
        yield cache


def test_looking_up_5000_cached_texts(benchmark: BenchmarkFixture, filled: EmbeddingCache) -> None:
    vectors, found = benchmark(filled.get_many, FP, "document", TEXTS)

    assert found.all()
    assert vectors.shape == (N, DIMS)


def test_embedding_5000_fully_cached_texts(
    benchmark: BenchmarkFixture, filled: EmbeddingCache
) -> None:
    vectors, stats = benchmark(
        embed_with_cache, never_called, TEXTS, cache=filled, fingerprint=FP, role="document"
    )

    assert stats.hits == N
    assert vectors.shape == (N, DIMS)


def test_storing_one_batch_of_64(benchmark: BenchmarkFixture, tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    batches = iter(range(10**9))
    vectors = rng.standard_normal((64, DIMS), dtype=np.float32)
    with EmbeddingCache(tmp_path / "embeddings.sqlite") as cache:

        def put_fresh_batch() -> int:
            b = next(batches)
            return cache.put_many(FP, "document", [f"{b}-{i}" for i in range(64)], vectors)

        added = benchmark(put_fresh_batch)

    assert added == 64
