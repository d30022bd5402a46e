"""The one seam every embedding model goes through.

An adapter turns texts into float32 vectors for a `Role` (query or document) and describes
itself with `ModelInfo`. `identity()` is the full request identity that the cache keys on:
change any of it (model, revision, dimensions, prompt, normalization, truncation) and every
cached vector of the old identity is a miss.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from embedgate.retrieval.run import Run

__all__ = ["Embedder", "LexicalModel", "ModelInfo", "Role", "fingerprint_identity"]


class Role(StrEnum):
    """What a text is: a query or a document. Asymmetric models embed them differently."""

    QUERY = "query"
    DOCUMENT = "document"


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What the leaderboard and the reports say about a model.

    ``None`` means unknown (an API model's parameter count, say), never zero.
    """

    name: str
    provider: str
    model: str
    dimensions: int | None = None
    max_tokens: int | None = None
    parameters: int | None = None
    memory_bytes: int | None = None
    kind: str = "dense"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["extra"] = dict(self.extra)
        return d


@runtime_checkable
class Embedder(Protocol):
    """``embed(texts, role) -> float32 (len(texts), dimensions)``; rows L2-normalized or not as
    the identity says."""

    @property
    def info(self) -> ModelInfo: ...

    def identity(self) -> Mapping[str, Any]:
        """Everything that changes the vectors: provider, model, revision, dimensions, prompts,
        normalization, truncation. JSON-serializable; never holds a secret."""
        ...

    def embed(self, texts: Sequence[str], role: Role) -> npt.NDArray[np.float32]: ...


def fingerprint_identity(identity: Mapping[str, Any]) -> str:
    """A stable sha256 of an identity mapping (sorted keys, compact JSON)."""
    blob = json.dumps(identity, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@runtime_checkable
class LexicalModel(Protocol):
    """A retriever that ranks documents without vectors (BM25): it searches, it does not embed."""

    @property
    def info(self) -> ModelInfo: ...

    def identity(self) -> Mapping[str, Any]: ...

    def search(
        self,
        doc_texts: Sequence[str],
        doc_ids: Sequence[str],
        query_texts: Sequence[str],
        query_ids: Sequence[str],
        *,
        k: int,
    ) -> Run: ...
