"""BM25 as a model of the suite: the lexical baseline every dense model should beat."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from embedgate.errors import ConfigError
from embedgate.models.base import ModelInfo
from embedgate.retrieval.lexical import BM25Retriever
from embedgate.retrieval.run import Run

__all__ = ["BM25Model"]


class BM25Model:
    """The `LexicalModel` for BM25 (bm25s); defaults are Anserini's BEIR settings.

    Args:
        name: the short name for tables and ids.
        k1, b, method, stemmer, stopwords: see `BM25Retriever`; TOML has no null, so
            ``"none"`` turns stemming or the stop list off.
    """

    def __init__(
        self,
        *,
        name: str = "bm25",
        k1: float = 0.9,
        b: float = 0.4,
        method: str = "lucene",
        stemmer: str | None = "porter",
        stopwords: str | None = "en",
    ) -> None:
        try:
            self._retriever = BM25Retriever(
                k1=k1,
                b=b,
                method=method,  # type: ignore[arg-type]
                stemmer=None if stemmer in (None, "none") else stemmer,
                stopwords=None if stopwords in (None, "none") else stopwords,
            )
        except ValueError as exc:
            raise ConfigError(f"model {name!r} (bm25): {exc}") from exc
        self._name = name
        self._info = ModelInfo(name=name, provider="bm25s", model="bm25", kind="lexical")

    @property
    def info(self) -> ModelInfo:
        return self._info

    def identity(self) -> Mapping[str, Any]:
        return self._retriever.identity()

    def search(
        self,
        doc_texts: Sequence[str],
        doc_ids: Sequence[str],
        query_texts: Sequence[str],
        query_ids: Sequence[str],
        *,
        k: int,
    ) -> Run:
        return self._retriever.search(
            doc_texts, doc_ids, query_texts, query_ids, k, name=self._name
        )
